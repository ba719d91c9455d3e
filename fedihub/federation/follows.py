"""Follow relationships: follow and unfollow, accept or reject requests, remove followers.

Every operation takes the caller's session and never commits: the edge (web handler, command,
inbound handler) resolves remote actors first, then runs the operation in its one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import Conflict, InvalidInput, NotFound
from fedihub.federation.actors import get_local_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.outbox import publish
from fedihub.i18n.active import N_, gettext
from fedihub.protocol import builders
from fedihub.storage.models import Actor, Follow


def follow_document(follow: Follow) -> dict:
    """The Follow as it was sent, to embed in Accept, Reject and Undo (Mastodon matches on it)."""
    if follow.data:
        return follow.data
    return builders.build_follow(activity_id=follow.uri, actor=follow.follower.uri, target=follow.target.uri)


async def find_follow(session: AsyncSession, follower_id: int, target_id: int) -> Follow | None:
    return await session.scalar(
        select(Follow).where(Follow.follower_id == follower_id, Follow.target_id == target_id)
    )


# Said to the organizer who asks to follow again (marked for the catalogue, shown through gettext).
ALREADY = {
    "accepted": N_("%(local)s already follows %(remote)s (accepted)"),
    "pending": N_("%(local)s already follows %(remote)s (pending)"),
}


async def follow(ctx: FederationContext, session: AsyncSession, local_username: str, remote: Actor) -> Follow:
    """Make a local actor follow ``remote`` (resolved by the caller, before its transaction); returns the follow."""
    local = await get_local_actor(session, local_username)
    if remote.id == local.id:
        raise InvalidInput(gettext("a coalition cannot follow itself"))
    if remote.deleted_at is not None:
        raise NotFound(gettext("%(uri)s has been deleted", uri=remote.uri))
    existing = await find_follow(session, local.id, remote.id)
    if existing is not None:
        said = ALREADY.get(existing.state)
        raise Conflict(gettext(said, local=local.username, remote=remote.handle) if said
                       else f"{local.username} already follows {remote.handle} ({existing.state})")
    uri = ctx.urls.new_activity()
    activity = builders.build_follow(activity_id=uri, actor=local.uri, target=remote.uri)
    now = ctx.clock()
    row = Follow(
        uri=uri, follower_id=local.id, target_id=remote.id, state="pending", data=activity,
        created_at=now, updated_at=now,
    )
    session.add(row)
    await publish(ctx, session, actor=local, activity=activity, inboxes=[remote.inbox or ""])
    await session.flush()
    await session.refresh(row)
    return row


async def unfollow(ctx: FederationContext, session: AsyncSession, local_username: str, remote: Actor) -> None:
    local = await get_local_actor(session, local_username)
    existing = await find_follow(session, local.id, remote.id)
    if existing is None:
        raise NotFound(gettext("%(local)s does not follow %(remote)s", local=local.username, remote=remote.handle))
    await undo_follow(ctx, session, existing)


async def undo_follow(ctx: FederationContext, session: AsyncSession, row: Follow) -> None:
    """A local actor stops following: Undo of the Follow as it was sent, and the row goes; the caller commits."""
    undo = builders.build_undo(
        activity_id=ctx.urls.new_activity(), actor=row.follower.uri, activity=follow_document(row),
        to=[row.target.uri],
    )
    await session.delete(row)
    await publish(ctx, session, actor=row.follower, activity=undo, inboxes=[row.target.inbox or ""])


async def accept_follow(ctx: FederationContext, session: AsyncSession, row: Follow) -> None:
    """Accept a follow of a local actor, with the Follow embedded (spec §1.7, pitfall P7)."""
    row.state = "accepted"
    row.updated_at = ctx.clock()
    accept = builders.build_accept(
        activity_id=ctx.urls.new_activity(), actor=row.target.uri, activity=follow_document(row)
    )
    await publish(ctx, session, actor=row.target, activity=accept, inboxes=[row.follower.inbox or ""])


async def reject_follow(ctx: FederationContext, session: AsyncSession, row: Follow) -> None:
    """Reject a follow request or remove a follower; the follower is told with a Reject."""
    reject = builders.build_reject(
        activity_id=ctx.urls.new_activity(), actor=row.target.uri, activity=follow_document(row)
    )
    await session.delete(row)
    await publish(ctx, session, actor=row.target, activity=reject, inboxes=[row.follower.inbox or ""])


async def remove_follower(ctx: FederationContext, session: AsyncSession, target_id: int, follower_uri: str) -> None:
    """A local actor removes one of its followers: a Reject of the accepted Follow, as Mastodon's
    RemoveFromFollowersService sends."""
    row = await session.scalar(
        select(Follow).join(Actor, Actor.id == Follow.follower_id).where(
            Follow.target_id == target_id, Actor.uri == follower_uri,
        )
    )
    if row is None:
        raise NotFound(gettext("they do not follow this coalition (any more)"))
    await reject_follow(ctx, session, row)


async def pending_requests(session: AsyncSession, local_username: str) -> Sequence[Follow]:
    local = await get_local_actor(session, local_username)
    return (
        await session.scalars(
            select(Follow).where(Follow.target_id == local.id, Follow.state == "pending").order_by(Follow.id)
        )
    ).all()


async def decide_request(
    ctx: FederationContext, session: AsyncSession, local_username: str, follower: Actor, *, approve: bool
) -> Follow:
    """Approve or reject a pending follow request of a local actor that approves followers manually."""
    local = await get_local_actor(session, local_username)
    row = await find_follow(session, follower.id, local.id)
    if row is None or row.state != "pending":
        raise NotFound(gettext("no pending follow request from %(handle)s", handle=follower.handle))
    if approve:
        await accept_follow(ctx, session, row)
    else:
        await reject_follow(ctx, session, row)
    return row


async def list_follows(session: AsyncSession, local_username: str, *, direction: str) -> Sequence[tuple[Actor, str]]:
    """(actor, state) for a local actor's followers or following."""
    local = await get_local_actor(session, local_username)
    if direction == "followers":
        query = select(Follow).where(Follow.target_id == local.id)
        return [(f.follower, f.state) for f in (await session.scalars(query.order_by(Follow.id))).all()]
    query = select(Follow).where(Follow.follower_id == local.id)
    return [(f.target, f.state) for f in (await session.scalars(query.order_by(Follow.id))).all()]
