"""Two-way membership: a local member of a hub also follows the hub, so the hub's Announces reach it.

A membership is the hub's accepted Follow of its member (hubs/service.py, hubs/membership.py). The
member's own Follow of the hub is marked ``of_hub``: between two hubs the two follows look alike, and
only the hub's one makes a member. Each server sends its own members' follows; the hub's server
accepts them as any follower. Leaving, by either side, undoes both.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fedihub.errors import NotFound
from fedihub.federation import follows
from fedihub.federation.actors import get_local_actor
from fedihub.federation.context import FederationContext
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import gettext
from fedihub.storage.models import Actor, Follow, HubRequest, HubSettings

log = logging.getLogger(__name__)

SWEEP_JOB = "hubs.two-way-sweep"
SWEEP_EVERY_HOURS = 6


async def follow_hub(ctx: FederationContext, session: AsyncSession, hub: Actor, member: Actor) -> None:
    """The local ``member`` follows ``hub`` it is a member of (once; a follow made by hand is kept)."""
    if not member.is_local or member.deleted_at is not None or hub.deleted_at is not None or hub.id == member.id:
        return
    existing = await follows.find_follow(session, member.id, hub.id)
    if existing is not None:
        existing.of_hub = True
        return
    assert member.username is not None  # a local actor has one
    row = await follows.follow(ctx, session, member.username, hub)
    row.of_hub = True
    log.info("member=%s follows hub=%s (two-way membership)", member.uri, hub.uri)


async def unfollow_hub(ctx: FederationContext, session: AsyncSession, hub: Actor, member: Actor) -> None:
    """The local ``member`` left ``hub`` (or was removed): its follow of the hub goes too."""
    row = await follows.find_follow(session, member.id, hub.id)
    if row is not None and row.of_hub and member.is_local:
        await follows.undo_follow(ctx, session, row)


async def drop_member_follow(ctx: FederationContext, session: AsyncSession, hub: Actor, member: Actor) -> None:
    """The local ``hub`` ended a membership: the member's follow of it is removed (a Reject tells it)."""
    row = await follows.find_follow(session, member.id, hub.id)
    if row is not None and row.of_hub and hub.is_local:
        await follows.reject_follow(ctx, session, row)


async def _is_members_follow(session: AsyncSession, follow: Follow) -> bool:
    """Whether a follow of a local hub comes from one of its members (or one it is taking in)."""
    if hub_scope_of(follow.target) is None:
        return False
    membership = await follows.find_follow(session, follow.target_id, follow.follower_id)
    if membership is not None and not membership.of_hub:
        # The hub's follow comes first; an older follow by hand of the hub is the member's own.
        return membership.created_at <= follow.created_at
    request = await session.scalar(
        select(HubRequest.id).where(
            HubRequest.hub_id == follow.target_id, HubRequest.member_id == follow.follower_id,
            HubRequest.state.in_(("pending", "approved")),
        )
    )
    return request is not None


async def consented(session: AsyncSession, hub: Actor, member: Actor) -> bool:
    """Whether the membership was a choice of the member's people, so it may follow (and anchor) the hub.

    Coalitions accept followers on their own, so a hub's accepted Follow alone proves nothing: a
    hostile server could declare a "hub", follow every coalition and be followed back, and a hub the
    call's author follows vouches for pledges (docs/security.md, "Which hubs vouch"). The member asked
    to join, its organizers approve followers by hand, follow the hub (they followed it back, or by
    hand: the member's follows are its own people's doing), or the hub is this server's own (its
    admins made it).
    """
    if hub.is_local or member.manually_approves_followers:
        return True
    if member.is_local and await follows.find_follow(session, member.id, hub.id) is not None:
        return True
    request = await session.scalar(
        select(HubRequest.id).where(
            HubRequest.hub_id == hub.id, HubRequest.member_id == member.id,
            HubRequest.state.in_(("pending", "approved")),
        )
    )
    return request is not None


async def on_follow_received(ctx: FederationContext, session: AsyncSession, follow: Follow) -> None:
    """A member's follow of our hub is marked; a hub's accepted follow of our actor is followed back."""
    if follow.of_hub:
        return
    if await _is_members_follow(session, follow):
        follow.of_hub = True
        return
    if follow.state == "accepted" and hub_scope_of(follow.follower) is not None and await consented(
        session, follow.follower, follow.target
    ):
        await follow_hub(ctx, session, follow.follower, follow.target)


async def approve_follower(
    ctx: FederationContext, session: AsyncSession, local_username: str, follower: Actor, *, approve: bool
) -> Follow:
    """Approve or reject a follow request by hand; a hub approved so is followed back at once (the
    organizers' approval is the member's consent), not at the next sweep."""
    row = await follows.decide_request(ctx, session, local_username, follower, approve=approve)
    if approve:
        await on_follow_received(ctx, session, row)
    return row


async def hubs_not_followed_back(session: AsyncSession, member_id: int) -> list[Actor]:
    """Hubs whose follow of the local ``member_id`` was accepted (they added it) but that it does not
    follow: their calls do not reach it until its organizers follow back (or leave)."""
    back = aliased(Follow)
    return list(
        (
            await session.scalars(
                select(Actor)
                .join(Follow, Follow.follower_id == Actor.id)
                .join(HubSettings, HubSettings.actor_id == Actor.id)  # only hubs have a row
                .outerjoin(back, and_(back.follower_id == Follow.target_id, back.target_id == Follow.follower_id))
                .where(
                    Follow.target_id == member_id, Follow.state == "accepted", Follow.of_hub.is_(False),
                    Actor.deleted_at.is_(None), back.id.is_(None),
                )
                .order_by(Actor.name, Actor.id)
            )
        ).all()
    )


async def follow_back(ctx: FederationContext, session: AsyncSession, member_username: str, hub: Actor) -> None:
    """The organizers of a local member follow back a hub that added it: its calls reach the member
    from now on, and the follow is their consent (``consented``), so it counts as the membership's."""
    member = await get_local_actor(session, member_username)
    membership = await follows.find_follow(session, hub.id, member.id)
    if hub_scope_of(hub) is None or membership is None or membership.state != "accepted" or membership.of_hub:
        raise NotFound(gettext("%(hub)s is not a hub that %(member)s is a member of", hub=hub.handle,
                               member=member_username))
    if hub.deleted_at is not None:
        raise NotFound(gettext("%(hub)s has been deleted", hub=hub.handle))
    await follow_hub(ctx, session, hub, member)


async def sweep(ctx: FederationContext, session: AsyncSession) -> int:
    """Every local member of a hub that does not follow it yet, and consented, follows it now; returns how many."""
    back = aliased(Follow)
    rows = (
        await session.execute(
            select(Follow.follower_id, Follow.target_id)
            .join(HubSettings, HubSettings.actor_id == Follow.follower_id)  # only hubs have a row
            .join(Actor, Actor.id == Follow.target_id)
            .outerjoin(back, and_(back.follower_id == Follow.target_id, back.target_id == Follow.follower_id))
            .where(
                Follow.state == "accepted", Follow.of_hub.is_(False), Actor.is_local.is_(True),
                Actor.deleted_at.is_(None), back.id.is_(None),
            )
            .order_by(Follow.id)
        )
    ).all()
    made = 0
    for hub_id, member_id in rows:
        hub, member = await session.get(Actor, hub_id), await session.get(Actor, member_id)
        assert hub is not None and member is not None
        if await consented(session, hub, member):
            await follow_hub(ctx, session, hub, member)
            made += 1
    return made


async def run_sweep(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """The backfill job: memberships made before members followed their hubs get the follow."""
    async with ctx.sessions.begin() as session:
        made = await sweep(ctx, session)
    if made:
        log.info("two-way sweep: %s member follows of hubs sent", made)
