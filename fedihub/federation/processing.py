"""Processing one stored inbox item: resolve its actor once, route it once, apply it in one transaction.

The route's state change, the rows it causes (deliveries, jobs) and the item's own "done" are one
commit: a handler that fails halfway leaves nothing behind, and its retry starts from scratch, so a
retry never sends a second answer. Network reads happen before that transaction, never inside it.

Several items may be processed at once (the worker's inbox lane), but within one processor their
database phases (classify, apply) take turns: handlers that recount something (a call's roll-up)
see every earlier item's commit, as when items were processed one by one; only the network reads
(the actor, a route's ``prepare``) overlap, which is what a slow origin would otherwise block.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import LeaseLost, RemoteGone, RemoteNotFound
from fedihub.federation.actors import find_actor, resolve_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.objects import find_object
from fedihub.federation.routing import Inbound, Route, RouteTable
from fedihub.protocol.reader import ActivityView, read_activity
from fedihub.storage.models import InboxItem

# What only takes something back is never refused: a blocked actor may still delete its posts and
# undo its follows (what it retracts stops mattering, and our copies go).
RETRACTIONS = frozenset({"Delete", "Undo"})

log = logging.getLogger(__name__)


class Outcome(enum.Enum):
    HANDLED = "handled"
    IGNORED = "ignored"  # nothing here is about it: an unsupported type, or not ours
    REFUSED = "refused"  # its actor is blocked here, or by the local actor it is about


class InboundProcessor:
    """Runs inbox items through the route table assembled in the composition root."""

    def __init__(self, routes: RouteTable) -> None:
        self.routes = routes
        self._turns = asyncio.Lock()  # one item's database phase at a time, see the module docstring

    async def process(self, ctx: FederationContext, item: InboxItem, *, owner: str | None = None) -> Outcome:
        """Handle ``item`` and mark it done in the same transaction (only while ``owner`` holds its lease).

        Raises what the route raises; the caller records the failure and decides on a retry.
        """
        activity = read_activity(item.payload)
        if not self.routes.handles(activity.type):
            await self._finish_alone(ctx, item, owner)
            return Outcome.IGNORED
        if activity.type not in RETRACTIONS and await self._refused(ctx, activity):
            # Checked before the actor is resolved: a blocked actor costs no fetch (landscape §D 13).
            log.info("refused %s from %s: the actor is blocked", activity.id, activity.actor)
            await self._finish_alone(ctx, item, owner)
            return Outcome.REFUSED
        try:
            actor = await resolve_actor(ctx, activity.actor)
        except (RemoteGone, RemoteNotFound):
            if activity.type != "Delete":
                raise
            # Mastodon does the same: the Delete of an actor whose server no longer knows it.
            await self._finish_alone(ctx, item, owner)
            return Outcome.IGNORED
        inbound = Inbound(activity=activity, actor=actor, recipient_id=item.recipient_id)
        async with self._turns:
            async with ctx.sessions() as session:
                routed = await self.routes.classify(ctx, session, inbound)
            if routed is None:
                await self._finish_alone(ctx, item, owner)
                return Outcome.IGNORED
            route, found = routed.route, routed.found
            if route.prepare is None:
                await self._apply(ctx, item, owner, inbound, route, found)
                return Outcome.HANDLED
        prepared = await route.prepare(ctx, inbound, found)  # the network: other items take their turns
        async with self._turns:
            await self._apply(ctx, item, owner, inbound, route, prepared)
        return Outcome.HANDLED

    async def _apply(
        self, ctx: FederationContext, item: InboxItem, owner: str | None, inbound: Inbound, route: Route,
        prepared: Any,
    ) -> None:
        async with ctx.sessions.begin() as session:
            await route.apply(ctx, session, inbound, prepared)
            await mark_done(session, item, owner=owner, now=ctx.clock())
        log.debug("handled %s as %s/%s", inbound.activity.id, route.activity, route.about)

    async def _refused(self, ctx: FederationContext, activity: ActivityView) -> bool:
        """Whether the actor is blocked here, or by the local actor the activity is about (the
        coalition it follows or joins, the author of the call it pledges to)."""
        async with ctx.sessions() as session:
            return await ctx.refuses(session, activity.actor, await _local_party(ctx, session, activity.object_id))

    async def _finish_alone(self, ctx: FederationContext, item: InboxItem, owner: str | None) -> None:
        async with ctx.sessions.begin() as session:
            await mark_done(session, item, owner=owner, now=ctx.clock())


async def _local_party(ctx: FederationContext, session: AsyncSession, object_id: str | None) -> int | None:
    """The local actor an activity's object is, or the local author of the object it names."""
    if not object_id or not ctx.urls.is_local(object_id):
        return None
    actor = await find_actor(session, object_id)
    if actor is not None:
        return actor.id
    row = await find_object(session, object_id)
    return row.attributed_to_id if row is not None and row.is_local else None


async def mark_done(session: AsyncSession, item: InboxItem, *, owner: str | None, now: datetime) -> None:
    """Mark the item processed; raises LeaseLost (rolling back the handler) if another worker owns it now."""
    conditions = [InboxItem.id == item.id]
    if owner is not None:
        conditions.append(InboxItem.locked_by == owner)
    result = await session.execute(
        update(InboxItem)
        .where(*conditions)
        .values(state="done", processed_at=now, attempts=InboxItem.attempts + 1, locked_until=None,
                locked_by=None, last_error=None),
        execution_options={"synchronize_session": False},
    )
    if owner is not None and result.rowcount == 0:  # type: ignore[attr-defined]
        raise LeaseLost(f"inbox item {item.id} is no longer leased by {owner}")
