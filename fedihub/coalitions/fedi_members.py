"""A coalition's fediverse members: accounts on any server its organizers list, whose mentions it announces.

The list is for the organizers only, never published: naming the people in an activist coalition
on a public page could put them at risk, and nothing on the fediverse needs the list to be public
(the coalition's Announce is what its followers see).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import Conflict, InvalidInput
from fedihub.i18n.active import gettext
from fedihub.storage.models import Actor, FediverseMember

MAX_MEMBERS = 2000  # per coalition: a list people keep by hand


async def list_members(session: AsyncSession, coalition_id: int) -> Sequence[Actor]:
    """The coalition's fediverse members, as organizers added them (oldest first)."""
    query = (
        select(Actor).join(FediverseMember, FediverseMember.actor_id == Actor.id)
        .where(FediverseMember.coalition_id == coalition_id).order_by(FediverseMember.added_at, Actor.id)
    )
    return (await session.scalars(query)).all()


async def is_member(session: AsyncSession, coalition_id: int, actor_id: int) -> bool:
    found = await session.scalar(
        select(FediverseMember.actor_id).where(
            FediverseMember.coalition_id == coalition_id, FediverseMember.actor_id == actor_id
        )
    )
    return found is not None


async def add_member(
    session: AsyncSession, coalition: Actor, member: Actor, *, account_id: int | None, now: datetime
) -> None:
    """List ``member`` (an actor already resolved from its own server); the caller commits."""
    if member.is_local:
        raise InvalidInput(
            gettext("list accounts of other fediverse servers here; this server's people are organizers"),
            field="member",
        )
    if member.type == "Group":
        raise InvalidInput(gettext("that is a group; add it as a hub member or follow it instead"), field="member")
    if await is_member(session, coalition.id, member.id):
        raise Conflict(gettext("%(handle)s is already listed as a member", handle=member.handle), field="member")
    total = await session.scalar(
        select(func.count()).select_from(FediverseMember).where(FediverseMember.coalition_id == coalition.id)
    )
    if int(total or 0) >= MAX_MEMBERS:
        raise InvalidInput(
            gettext("a coalition lists at most %(limit)s fediverse members", limit=MAX_MEMBERS), field="member"
        )
    session.add(FediverseMember(coalition_id=coalition.id, actor_id=member.id, added_at=now, added_by_id=account_id))


async def remove_member(session: AsyncSession, coalition: Actor, actor_id: int) -> bool:
    """Take an account off the list; False when it was not on it. Announcements already sent stay."""
    result = await session.execute(
        delete(FediverseMember).where(
            FediverseMember.coalition_id == coalition.id, FediverseMember.actor_id == actor_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
