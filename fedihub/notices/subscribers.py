"""What inbound handling tells organizers: follows, membership, pledges, hubs' new calls, changed calls.

Subscribed to the inbound events in the composition root (app.py). Each subscriber writes notices
(and their at-once e-mail) in the handler's transaction and does no network I/O. Keys make repeats
one notice: a follower is told of once (a hostile server re-sending Follows under new ids cannot
flood the list), a pledge once per Join, a new call once per call.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.actors import find_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.events import InboundEvents
from fedihub.federation.objects import find_object
from fedihub.hubs import two_way
from fedihub.hubs.settings import hub_scope_of
from fedihub.notices import kinds
from fedihub.notices.service import Notices
from fedihub.pledges.day_of_action import not_a_local_action
from fedihub.pledges.store import ACCEPTED, is_over
from fedihub.pledges.vouching import HELD
from fedihub.storage.models import Actor, Follow, HubRequest, Pledge, StoredObject


async def _hub_members_here(session: AsyncSession, hub_id: int) -> Sequence[Actor]:
    """Local actors that follow this hub as its members (two-way membership, hubs/two_way.py)."""
    return (
        await session.scalars(
            select(Actor).join(Follow, Follow.follower_id == Actor.id)
            .where(Follow.target_id == hub_id, Follow.state == "accepted", Follow.of_hub.is_(True),
                   Actor.is_local.is_(True), Actor.deleted_at.is_(None))
            .order_by(Actor.id)
        )
    ).all()


async def _pledged_here(session: AsyncSession, call_uri: str) -> Sequence[Actor]:
    """Local coalitions whose pledge to this call stands (accepted, or waiting for the call's organizers)."""
    return (
        await session.scalars(
            select(Actor).join(Pledge, Pledge.coalition_uri == Actor.uri)
            .where(Pledge.call_uri == call_uri, Pledge.state.in_((ACCEPTED, HELD)), Actor.is_local.is_(True),
                   Actor.deleted_at.is_(None))
            .order_by(Actor.id)
        )
    ).all()


async def _is_local_action(session: AsyncSession, row: StoredObject) -> bool:
    """A coalition's child Event of a call, by the one rule the hub page and the dashboard use too."""
    call = await session.scalar(select(StoredObject.id).where(StoredObject.id == row.id, not_a_local_action()))
    return call is None


class NoticeSubscribers:
    def __init__(self, notices: Notices) -> None:
        self.notices = notices

    def subscribe(self, events: InboundEvents) -> None:
        events.follow_received.connect(self.on_follow)
        events.follow_accepted.connect(self.on_follow_accepted)
        events.hub_join_received.connect(self.on_hub_join)
        events.pledge_received.connect(self.on_pledge)
        events.pledge_withdrawn.connect(self.on_withdrawal)
        events.reply_kept.connect(self.on_reply)
        events.object_created.connect(self.on_created)
        events.object_announced.connect(self.on_announced)
        events.object_updated.connect(self.on_updated)
        events.object_deleted.connect(self.on_deleted)

    # --- Follows and membership ----------------------------------------------------------------------

    async def on_follow(self, ctx: FederationContext, session: AsyncSession, follow: Follow) -> None:
        """A follow of one of ours: a request or a follower; from a hub, a membership asked or made."""
        if follow.of_hub:
            return  # a member following its hub back: the membership is told of on its own
        follower, target = follow.follower, follow.target
        pending = follow.state != "accepted"
        if hub_scope_of(follower) is not None and pending:
            kind, detail = kinds.MEMBERSHIP_REQUEST, "hub-asks"
        elif hub_scope_of(follower) is not None and await two_way.consented(session, follower, target):
            kind, detail = kinds.NEW_MEMBER, "joined-hub"
        else:
            # A "hub" nobody here asked to join that our coalition accepted on its own is a follower,
            # not a membership (hubs/two_way.py, consented).
            kind, detail = (kinds.FOLLOW_REQUEST if pending else kinds.NEW_FOLLOWER), None
        await self.notices.record_notice(ctx, session, recipient=target, kind=kind, key=follower.uri,
                                         party=follower, detail=detail)

    async def on_follow_accepted(self, ctx: FederationContext, session: AsyncSession, follow: Follow) -> None:
        """One of our hubs' follows was accepted: a new member (not a hub following its own hub back)."""
        hub, member = follow.follower, follow.target
        if follow.of_hub or hub_scope_of(hub) is None:
            return
        await self.notices.record_notice(ctx, session, recipient=hub, kind=kinds.NEW_MEMBER, key=member.uri,
                                         party=member)

    async def on_hub_join(self, ctx: FederationContext, session: AsyncSession, request: HubRequest) -> None:
        await self.notices.record_notice(ctx, session, recipient=request.hub, kind=kinds.MEMBERSHIP_REQUEST,
                                         key=request.uri, party=request.member)

    # --- Pledges on our calls ------------------------------------------------------------------------

    async def on_pledge(self, ctx: FederationContext, session: AsyncSession, call: StoredObject, row: Pledge) -> None:
        await self.notices.record_notice(
            ctx, session, recipient=call.author, kind=kinds.PLEDGE, key=row.uri,
            party=await find_actor(session, row.coalition_uri), call=call,
            detail="held" if row.state == HELD else None,
        )

    async def on_reply(
        self, ctx: FederationContext, session: AsyncSession, call: StoredObject, reply: StoredObject
    ) -> None:
        await self.notices.record_notice(ctx, session, recipient=call.author, kind=kinds.REPLY, key=reply.uri,
                                         party=await session.get(Actor, reply.attributed_to_id), call=call)

    async def on_withdrawal(
        self, ctx: FederationContext, session: AsyncSession, call: StoredObject, row: Pledge
    ) -> None:
        await self.notices.record_notice(ctx, session, recipient=call.author, kind=kinds.WITHDRAWAL, key=row.uri,
                                         party=await find_actor(session, row.coalition_uri), call=call)

    # --- Calls coming down from our hubs -------------------------------------------------------------

    async def _new_call(self, ctx: FederationContext, session: AsyncSession, hub: Actor, row: StoredObject) -> None:
        if row.type != "Event" or row.deleted_at is not None or (row.event_status or "").upper() == "CANCELLED":
            return
        if is_over(row.start_time, row.end_time, ctx.clock()) or hub_scope_of(hub) is None:
            return
        if await _is_local_action(session, row):
            return  # a coalition's local action for a call comes down with it: shown under it, no new call
        for member in await _hub_members_here(session, hub.id):
            if member.id != row.attributed_to_id:
                await self.notices.record_notice(ctx, session, recipient=member, kind=kinds.NEW_CALL, key=row.uri,
                                                 party=hub, call=row)

    async def on_announced(
        self, ctx: FederationContext, session: AsyncSession, announcer: Actor, object_id: str,
        row: StoredObject | None,
    ) -> None:
        """A hub we are a member of announced a call to us (its own level's, or passed down from above)."""
        if row is not None:
            await self._new_call(ctx, session, announcer, row)

    async def on_created(self, ctx: FederationContext, session: AsyncSession, author: Actor, row: StoredObject) -> None:
        """A hub we are a member of published a call of its own."""
        await self._new_call(ctx, session, author, row)

    # --- Calls we pledged to -------------------------------------------------------------------------

    async def on_updated(self, ctx: FederationContext, session: AsyncSession, actor: Actor, row: StoredObject) -> None:
        if row.type != "Event" or row.attributed_to_id != actor.id:
            return
        cancelled = (row.event_status or "").upper() == "CANCELLED"
        # One notice per version: the same Update sent again names the same "updated" time.
        version = str((row.data or {}).get("updated") or row.updated or "")
        kind, key = (kinds.CALL_CANCELLED, row.uri) if cancelled else (kinds.CALL_CHANGED, f"{row.uri} {version}")
        for coalition in await _pledged_here(session, row.uri):
            await self.notices.record_notice(ctx, session, recipient=coalition, kind=kind, key=key, party=actor,
                                             call=row)

    async def on_deleted(self, ctx: FederationContext, session: AsyncSession, actor: Actor, object_id: str) -> None:
        row = await find_object(session, object_id)
        if row is None or row.type != "Event" or row.attributed_to_id != actor.id:
            return
        for coalition in await _pledged_here(session, row.uri):
            await self.notices.record_notice(ctx, session, recipient=coalition, kind=kinds.CALL_CANCELLED,
                                             key=row.uri, party=actor, call=row, detail="deleted")
