"""Hub membership on request: a coalition's Join of a hub, the hub's Accept or Reject, and Leave.

Mobilizon-style group membership (interop-spec §2.4): the member sends ``Join{object: hub}``; the
hub's admins approve (the hub answers ``Accept`` with the Join embedded and follows the member) or
refuse (``Reject``); either side ends it (the member with ``Leave``, the hub with ``Undo`` of its
Follow). One ``hub_requests`` row per (hub, member) on each instance; on a single instance hosting
both, the two sides share that row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import Conflict, InvalidInput, NotFound
from fedihub.federation import follows
from fedihub.federation.actors import get_local_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.outbox import publish
from fedihub.hubs import two_way
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import gettext
from fedihub.protocol import builders
from fedihub.protocol.limits import MAX_MESSAGE
from fedihub.storage.models import Actor, Follow, HubRequest, HubSettings

OPEN = ("pending", "approved")


async def find_request(session: AsyncSession, hub_id: int, member_id: int) -> HubRequest | None:
    return await session.scalar(
        select(HubRequest).where(HubRequest.hub_id == hub_id, HubRequest.member_id == member_id)
    )


async def get_local_hub(session: AsyncSession, username: str) -> Actor:
    actor = await get_local_actor(session, username)
    if hub_scope_of(actor) is None:
        raise InvalidInput(gettext("%(name)s is not a hub", name=username))
    return actor


def join_document(row: HubRequest) -> dict:
    """The Join as the member sent it, to embed in the hub's Accept or Reject (spec §1.7, P7)."""
    return {"id": row.uri, "type": "Join", "actor": row.member.uri, "object": row.hub.uri}


def clean_message(message: str | None) -> str | None:
    text = (message or "").strip()
    if len(text) > MAX_MESSAGE:
        raise InvalidInput(gettext("the message has at most %(limit)s characters", limit=MAX_MESSAGE), field="message")
    return text or None


# --- The member's side ----------------------------------------------------------------------------


async def ask_to_join(
    ctx: FederationContext, session: AsyncSession, member_username: str, hub: Actor, message: str | None = None
) -> HubRequest:
    """Send the member's Join to ``hub`` (resolved by the caller); its admins decide. Returns the (pending) request."""
    message = clean_message(message)
    member = await get_local_actor(session, member_username)
    if hub.id == member.id:
        raise InvalidInput(gettext("a hub cannot join itself"), field="hub")
    if hub_scope_of(hub) is None or hub.deleted_at is not None:
        raise InvalidInput(gettext("%(name)s is not a hub", name=hub.handle), field="hub")
    follow = await follows.find_follow(session, hub.id, member.id)
    if follow is not None and follow.state == "accepted":
        raise Conflict(
            gettext("%(member)s is already a member of %(hub)s", member=member.username, hub=hub.handle), field="hub"
        )
    row = await find_request(session, hub.id, member.id)
    if row is not None and row.state == "pending":
        raise Conflict(gettext("%(member)s already asked to join %(hub)s; its admins have not decided yet",
                               member=member.username, hub=hub.handle),
                       field="hub")
    now = ctx.clock()
    uri = ctx.urls.new_activity()
    if row is None:
        row = HubRequest(uri=uri, hub_id=hub.id, member_id=member.id, message=message, state="pending",
                         created_at=now)
        session.add(row)
    else:  # asking again after a refusal or after leaving: a new Join, the same row
        row.uri, row.message, row.state, row.created_at, row.decided_at = uri, message, "pending", now, None
    join = builders.build_join(activity_id=uri, actor=member.uri, object_id=hub.uri, to=[hub.uri], message=message)
    await publish(ctx, session, actor=member, activity=join, inboxes=[hub.inbox or ""])
    if follow is not None:
        # The hub already asked to follow (an admin added us): asking to join is our consent.
        await follows.accept_follow(ctx, session, follow)
    await session.flush()
    await session.refresh(row)
    return row


async def leave_hub(ctx: FederationContext, session: AsyncSession, member_username: str, hub: Actor) -> None:
    """Leave a hub (or withdraw a request): Leave to the hub, and the hub is no longer a follower."""
    member = await get_local_actor(session, member_username)
    row = await find_request(session, hub.id, member.id)
    follow = await follows.find_follow(session, hub.id, member.id)
    if follow is None and (row is None or row.state not in OPEN):
        raise NotFound(gettext(
            "%(member)s is not a member of %(hub)s and has not asked to join", member=member.username, hub=hub.handle
        ))
    if row is not None and row.state in OPEN:
        row.state, row.decided_at = "withdrawn", ctx.clock()
    leave = builders.build_leave(
        activity_id=ctx.urls.new_activity(), actor=member.uri, object_id=hub.uri, to=[hub.uri]
    )
    await publish(ctx, session, actor=member, activity=leave, inboxes=[hub.inbox or ""])
    await two_way.unfollow_hub(ctx, session, hub, member)
    if follow is not None:
        # The same Reject that removes any follower: the hub stops boosting at once.
        await follows.reject_follow(ctx, session, follow)


@dataclass(frozen=True)
class HubOfMember:
    hub: Actor
    state: str  # accepted: a member, boosted; pending: the hub asked, the member has not approved yet


async def hubs_of(session: AsyncSession, member_id: int) -> list[HubOfMember]:
    """Hubs (local or remote) that follow this actor: its memberships, and hubs waiting for approval."""
    rows = (
        await session.execute(
            select(Actor, Follow.state)
            .join(Follow, Follow.follower_id == Actor.id)
            .join(HubSettings, HubSettings.actor_id == Actor.id)  # only hubs have a row
            .where(Follow.target_id == member_id, Follow.of_hub.is_(False), Actor.deleted_at.is_(None))
            .order_by(Actor.name, Actor.id)
        )
    ).all()
    return [HubOfMember(hub=actor, state=state) for actor, state in rows]


async def requests_sent(session: AsyncSession, member_id: int) -> Sequence[HubRequest]:
    return (
        await session.scalars(
            select(HubRequest).where(HubRequest.member_id == member_id).order_by(HubRequest.created_at.desc())
        )
    ).all()


# --- The hub's side -------------------------------------------------------------------------------


async def join_requests(session: AsyncSession, hub_id: int) -> Sequence[HubRequest]:
    """Requests to join this hub that wait for its admins, oldest first."""
    return (
        await session.scalars(
            select(HubRequest).where(HubRequest.hub_id == hub_id, HubRequest.state == "pending")
            .order_by(HubRequest.created_at, HubRequest.id)
        )
    ).all()


async def answer_request(ctx: FederationContext, session: AsyncSession, row: HubRequest, *, approve: bool) -> None:
    row.state, row.decided_at = ("approved" if approve else "refused"), ctx.clock()
    build = builders.build_accept if approve else builders.build_reject
    answer = build(activity_id=ctx.urls.new_activity(), actor=row.hub.uri, activity=join_document(row))
    await publish(ctx, session, actor=row.hub, activity=answer, inboxes=[row.member.inbox or ""])


async def decide_join(
    ctx: FederationContext, session: AsyncSession, hub_username: str, member: Actor, *, approve: bool
) -> HubRequest:
    """Approve (Accept, and the hub follows the member) or refuse (Reject) a pending request, in one go."""
    hub = await get_local_hub(session, hub_username)
    row = await find_request(session, hub.id, member.id)
    if row is None or row.state != "pending":
        raise NotFound(gettext(
            "%(member)s has no pending request to join %(hub)s", member=member.handle, hub=hub.username
        ))
    await answer_request(ctx, session, row, approve=approve)
    if approve and await follows.find_follow(session, hub.id, member.id) is None:
        await follows.follow(ctx, session, hub_username, member)
    return row


async def mark_ended(ctx: FederationContext, session: AsyncSession, hub_id: int, member_id: int) -> None:
    """The membership ended (the hub removed the member): an open request is withdrawn."""
    row = await find_request(session, hub_id, member_id)
    if row is not None and row.state in OPEN:
        row.state, row.decided_at = "withdrawn", ctx.clock()


def describe_state(state: str) -> str:
    """A request's state in the words the organizer pages and the CLI use."""
    return {
        "pending": "waiting for the hub's admins", "approved": "accepted", "refused": "refused",
        "withdrawn": "ended",
    }.get(state, state)

