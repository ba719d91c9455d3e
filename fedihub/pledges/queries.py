"""Reading a call's roll-up as this server knows it: its own list for local calls, the origin's copy
for remote ones (re-read when stale)."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.context import FederationContext
from fedihub.pledges import mirror
from fedihub.pledges.rollup import Rollup, build_rollup
from fedihub.pledges.store import accepted_pledges, carriers_of, item_of
from fedihub.protocol.pledges import read_carriers
from fedihub.storage.models import Pledge, StoredObject

# A person is waiting for the page: a slow origin leaves the copy as it was.
REFRESH_SECONDS = 3.0


async def rollup_of(session: AsyncSession, call: StoredObject) -> Rollup:
    items = [item_of(row) for row in await accepted_pledges(session, call.uri)]
    if call.is_local:
        carriers = await carriers_of(session, call.uri)
    else:
        carriers = read_carriers({"carriedBy": call.pledge_carriers or []})
    return build_rollup(items, carriers)


async def fresh_rollup(ctx: FederationContext, call: StoredObject) -> Rollup:
    """The roll-up for a call page: a remote call's copy is re-read from its origin when stale."""
    if mirror.is_stale(call, ctx.clock()):
        with anyio.move_on_after(REFRESH_SECONDS):
            await mirror.refresh(ctx, call)
    async with ctx.sessions() as session:
        fresh = await session.get(StoredObject, call.id)
        return await rollup_of(session, fresh or call)


async def pledges_of_coalition(session: AsyncSession, coalition_uri: str) -> Sequence[Pledge]:
    """A coalition's own pledges (every state), newest first."""
    return (
        await session.scalars(
            select(Pledge).where(Pledge.coalition_uri == coalition_uri).order_by(Pledge.created_at.desc())
        )
    ).all()
