"""Inbound routes of hub membership: a Join or Leave of one of our hubs (or its Undo), the hub's Accept or
Reject of our request, and what a Follow between a hub and its member means for the request."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation import follows
from fedihub.federation.actors import find_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.events import InboundEvents
from fedihub.federation.routing import Apply, Inbound, Route
from fedihub.hubs import two_way
from fedihub.hubs.membership import MAX_MESSAGE, OPEN, answer_request, find_request
from fedihub.hubs.settings import hub_scope_of
from fedihub.protocol.html import html_to_text
from fedihub.protocol.reader import id_of
from fedihub.storage.models import Actor, Follow, HubRequest


async def find_local_hub(session: AsyncSession, uri: str | None) -> Actor | None:
    actor = await find_actor(session, uri) if uri else None
    if actor is None or not actor.is_local or hub_scope_of(actor) is None or actor.deleted_at is not None:
        return None
    return actor


def _message_of(raw: Mapping) -> str | None:
    # Our Join carries it in `content`; Mobilizon's RSVP uses `participationMessage` (spec §2.3).
    for key in ("content", "participationMessage"):
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            return html_to_text(value)[:MAX_MESSAGE] or None
    return None


# --- A coalition or hub joins or leaves one of our hubs ----------------------------------------------------


async def match_join_of_hub(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    hub = await find_local_hub(session, inbound.activity.object_id)
    return hub.id if hub is not None and hub.id != inbound.actor.id else None


def handle_join(events: InboundEvents) -> Apply:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, hub_id: int) -> None:
        """A coalition or hub asks to join one of our hubs; its admins decide (or it is already wanted)."""
        row = await _take_join(ctx, session, inbound, hub_id)
        if row.state == "pending":
            await events.hub_join_received.send(ctx, session, row)

    return apply


async def _take_join(ctx: FederationContext, session: AsyncSession, inbound: Inbound, hub_id: int) -> HubRequest:
    activity = inbound.activity
    hub = await session.get(Actor, hub_id)
    member = await session.get(Actor, inbound.actor.id)
    assert hub is not None and member is not None
    row = await find_request(session, hub.id, member.id)
    now = ctx.clock()
    if row is None:
        row = HubRequest(uri=activity.id, hub_id=hub.id, member_id=member.id, message=_message_of(activity.raw),
                         state="pending", created_at=now)
        session.add(row)
        await session.flush()
        await session.refresh(row)
    elif row.uri != activity.id:
        # A new Join (after a refusal, after leaving, or a member that lost its state).
        row.uri, row.message, row.state = activity.id, _message_of(activity.raw), "pending"
        row.created_at, row.decided_at = now, None
    # else: the same Join again, or a coalition of this server whose own row this is.
    if row.state == "pending" and await follows.find_follow(session, hub.id, member.id) is not None:
        # The hub already follows them (or asked to): its admins wanted them, so answer at once.
        await answer_request(ctx, session, row, approve=True)
    return row


async def match_leave_of_hub(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    hub = await find_local_hub(session, inbound.activity.object_id)
    return hub.id if hub is not None else None


async def match_undone_join_of_hub(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    """Undo of a Join of one of our hubs is a Leave (Mobilizon sends Leave, others may Undo)."""
    embedded = inbound.embedded
    if embedded is None or inbound.embedded_type != "Join" or not inbound.inner_is_own():
        return None
    hub = await find_local_hub(session, id_of(embedded.get("object")))
    return hub.id if hub is not None else None


async def handle_leave(ctx: FederationContext, session: AsyncSession, inbound: Inbound, hub_id: int) -> None:
    """A member leaves one of our hubs: its request is withdrawn and the hub unfollows it."""
    row = await find_request(session, hub_id, inbound.actor.id)
    if row is not None and row.state in OPEN:
        row.state, row.decided_at = "withdrawn", ctx.clock()
    follow = await follows.find_follow(session, hub_id, inbound.actor.id)
    if follow is not None:
        await follows.undo_follow(ctx, session, follow)
    hub, member = await session.get(Actor, hub_id), await session.get(Actor, inbound.actor.id)
    assert hub is not None and member is not None
    await two_way.drop_member_follow(ctx, session, hub, member)


# --- A hub answers our request -----------------------------------------------------------------------------


async def match_answered_request(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    """Our request that an Accept or Reject from a hub answers, matched by the Join id."""
    if inbound.embedded_type not in (None, "Join") or not inbound.activity.object_id:
        return None
    row = await session.scalar(select(HubRequest).where(HubRequest.uri == inbound.activity.object_id))
    if row is None or row.hub_id != inbound.actor.id or not row.member.is_local:
        return None
    return row.id


async def handle_accept(ctx: FederationContext, session: AsyncSession, inbound: Inbound, request_id: int) -> None:
    """The hub accepted our request: it is approved here too."""
    row = await session.get(HubRequest, request_id)
    if row is None or row.state not in OPEN:
        return  # withdrawn meanwhile: the Leave is on its way
    if row.state == "pending":
        row.state, row.decided_at = "approved", ctx.clock()
    await two_way.follow_hub(ctx, session, row.hub, row.member)
    # A Follow stored while our request was still being written is held for approval; release it.
    follow = await follows.find_follow(session, row.hub_id, row.member_id)
    if follow is not None and follow.state == "pending":
        await follows.accept_follow(ctx, session, follow)


async def handle_reject(ctx: FederationContext, session: AsyncSession, inbound: Inbound, request_id: int) -> None:
    row = await session.get(HubRequest, request_id)
    if row is not None and row.state == "pending":
        row.state, row.decided_at = "refused", ctx.clock()


# --- What follows between a hub and its member mean for the request -------------------------------------


async def accept_hub_we_asked(ctx: FederationContext, session: AsyncSession, follow: Follow) -> None:
    """A hub we asked to join follows us: accepted even when we approve followers by hand."""
    if follow.state != "pending":
        return
    row = await find_request(session, follow.follower_id, follow.target_id)
    if row is not None and row.state in OPEN:
        await follows.accept_follow(ctx, session, follow)


async def end_membership(ctx: FederationContext, session: AsyncSession, follower: Actor, target: Actor) -> None:
    """A hub undid its Follow of us: it removed us, our approved request is over, and we stop following it."""
    row = await find_request(session, follower.id, target.id)
    if row is not None and row.state == "approved":
        row.state, row.decided_at = "withdrawn", ctx.clock()
    await two_way.unfollow_hub(ctx, session, follower, target)


def membership_routes(events: InboundEvents) -> list[Route]:
    events.follow_received.connect(accept_hub_we_asked)
    events.follow_received.connect(two_way.on_follow_received)  # after: it follows back accepted hubs
    events.follow_undone.connect(end_membership)
    return [
        Route("Join", "hub", match_join_of_hub, handle_join(events)),
        Route("Leave", "hub", match_leave_of_hub, handle_leave),
        Route("Undo", "Join of a hub", match_undone_join_of_hub, handle_leave),
        Route("Accept", "our hub join request", match_answered_request, handle_accept),
        Route("Reject", "our hub join request", match_answered_request, handle_reject),
    ]
