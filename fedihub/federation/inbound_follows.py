"""Inbound routes for follows: a Follow of a local actor, the Accept or Reject of our Follow, its Undo."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.actors import find_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.events import InboundEvents
from fedihub.federation.follows import accept_follow, find_follow
from fedihub.federation.routing import Apply, Inbound, Route
from fedihub.protocol.reader import id_of
from fedihub.storage.models import Actor, Follow, Reaction


async def find_local_target(session: AsyncSession, uri: str | None) -> Actor | None:
    """A live local actor with this id, or None."""
    if uri is None:
        return None
    actor = await find_actor(session, uri)
    if actor is None or not actor.is_local or actor.deleted_at is not None:
        return None
    return actor


# --- Follow ----------------------------------------------------------------------------------------


async def match_follow(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    target = await find_local_target(session, inbound.activity.object_id)
    if target is None or target.type == "Application":
        return None
    return target.id


def handle_follow(events: InboundEvents) -> Apply:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, target_id: int) -> None:
        """Record the follow; accept at once unless the target approves followers by hand."""
        activity = inbound.activity
        target = await session.get(Actor, target_id)
        follower = await session.get(Actor, inbound.actor.id)
        assert target is not None and follower is not None
        row = await find_follow(session, follower.id, target.id)
        now = ctx.clock()
        follow_doc = {"id": activity.id, "type": "Follow", "actor": follower.uri, "object": target.uri}
        if row is None:
            row = Follow(
                uri=activity.id, follower_id=follower.id, target_id=target.id, state="pending",
                data=follow_doc, created_at=now, updated_at=now,
            )
            session.add(row)
            await session.flush()
            await session.refresh(row)
        else:
            # A repeated Follow (say, after the follower lost its state) gets a fresh Accept
            # that embeds the new Follow id, which is what the follower will match on.
            row.uri = activity.id
            row.data = follow_doc
        if row.state == "accepted" or not target.manually_approves_followers:
            await accept_follow(ctx, session, row)
        await events.follow_received.send(ctx, session, row)

    return apply


# --- Accept and Reject of our Follow ---------------------------------------------------------------


async def match_answered_follow(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    """Our follow that an Accept or Reject answers: by the Follow's id, else by its parties."""
    if inbound.embedded_type not in (None, "Follow"):
        return None  # an answer to a Join (a pledge, a hub membership request) is not about a follow
    follow_id = inbound.activity.object_id
    row = await session.scalar(select(Follow).where(Follow.uri == follow_id)) if follow_id else None
    if row is None and inbound.embedded is not None:
        follower = await find_local_target(session, id_of(inbound.embedded.get("actor")))
        row = await find_follow(session, follower.id, inbound.actor.id) if follower is not None else None
    if row is None or row.target_id != inbound.actor.id or not row.follower.is_local:
        return None
    return row.id


def handle_accept(events: InboundEvents) -> Apply:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, follow_id: int) -> None:
        row = await session.get(Follow, follow_id)
        if row is not None and row.state != "accepted":
            row.state = "accepted"
            row.updated_at = ctx.clock()
            await events.follow_accepted.send(ctx, session, row)

    return apply


async def handle_reject(ctx: FederationContext, session: AsyncSession, inbound: Inbound, follow_id: int) -> None:
    row = await session.get(Follow, follow_id)
    if row is not None:
        await session.delete(row)


# --- Undo of a Follow ------------------------------------------------------------------------------


async def match_undone_follow(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> bool | None:
    """Undo{Follow}, or an Undo naming by id a Follow this actor sent us."""
    if not inbound.inner_is_own():
        return None
    if inbound.embedded_type == "Follow":
        return True
    inner_id = inbound.activity.object_id
    if inbound.embedded is None and inner_id:
        found = await session.scalar(
            select(Follow.id).where(Follow.uri == inner_id, Follow.follower_id == inbound.actor.id)
        )
        return True if found is not None else None
    return None


def handle_undo_follow(events: InboundEvents) -> Apply:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, _: bool) -> None:
        inner_id = inbound.activity.object_id
        row = await session.scalar(
            select(Follow).where(Follow.uri == inner_id, Follow.follower_id == inbound.actor.id)
        ) if inner_id else None
        target = row.target if row is not None else None
        if row is None and inbound.embedded is not None:
            target = await find_local_target(session, id_of(inbound.embedded.get("object")))
            row = await find_follow(session, inbound.actor.id, target.id) if target else None
        if row is not None:
            await session.delete(row)
        elif inner_id:
            # An Undo whose Follow we never stored may still name a reaction by that id.
            await session.execute(
                delete(Reaction).where(Reaction.uri == inner_id, Reaction.actor_id == inbound.actor.id)
            )
        if target is not None and target.is_local:
            follower = await session.get(Actor, inbound.actor.id)
            assert follower is not None
            await events.follow_undone.send(ctx, session, follower, target)

    return apply


def follow_routes(events: InboundEvents) -> list[Route]:
    return [
        Route("Follow", "local actor", match_follow, handle_follow(events)),
        Route("Accept", "our Follow", match_answered_follow, handle_accept(events)),
        Route("Reject", "our Follow", match_answered_follow, handle_reject),
        Route("Undo", "Follow", match_undone_follow, handle_undo_follow(events)),
    ]
