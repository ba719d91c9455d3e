"""Inbound handlers for the core activities: follows, content from followed actors, reactions."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import FedihubError, RemoteUnavailable
from fedihub.federation.actors import find_actor, host_of, store_remote_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.follows import accept_follow, find_follow
from fedihub.federation.objects import apply_object, fetch_original, store_remote_object
from fedihub.federation.processing import Dispatcher, Inbound
from fedihub.protocol import fetch
from fedihub.protocol.reader import id_of, read_object, unwrap_announced
from fedihub.protocol.vocab import ACTOR_TYPES, OBJECT_TYPES
from fedihub.storage.models import Actor, Follow, Reaction, StoredObject

log = logging.getLogger(__name__)


def _embedded(inbound: Inbound) -> dict | None:
    obj = inbound.activity.object
    return obj if isinstance(obj, dict) else None


async def _local_target(session: AsyncSession, uri: str | None) -> Actor | None:
    if uri is None:
        return None
    actor = await find_actor(session, uri)
    if actor is None or not actor.is_local or actor.deleted_at is not None:
        return None
    return actor


# --- Follow, Accept, Reject, Undo ----------------------------------------------------------------


async def handle_follow(ctx: FederationContext, inbound: Inbound) -> None:
    """Record the follow; accept at once unless the target approves followers manually."""
    activity = inbound.activity
    async with ctx.sessions.begin() as session:
        target = await _local_target(session, activity.object_id)
        if target is None or target.type == "Application":
            return
        follower = await session.get(Actor, inbound.actor.id)
        assert follower is not None
        row = await find_follow(session, follower.id, target.id)
        now = ctx.clock()
        follow_doc = {
            "id": activity.id, "type": "Follow", "actor": follower.uri, "object": target.uri,
        }
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


async def _our_follow(session: AsyncSession, inbound: Inbound) -> Follow | None:
    """The follow of ours that an Accept or Reject answers: by Follow id, else by its parties."""
    embedded = _embedded(inbound)
    if embedded is not None and embedded.get("type") not in (None, "Follow"):
        # An answer to a Join (a pledge, a hub membership request) is not about any follow.
        return None
    follow_id = inbound.activity.object_id
    if follow_id:
        row = await session.scalar(select(Follow).where(Follow.uri == follow_id))
        if row is not None:
            return row if row.target_id == inbound.actor.id else None
    follower_uri = id_of(embedded.get("actor")) if embedded else None
    follower = await _local_target(session, follower_uri)
    if follower is None:
        return None
    return await find_follow(session, follower.id, inbound.actor.id)


async def handle_accept(ctx: FederationContext, inbound: Inbound) -> None:
    async with ctx.sessions.begin() as session:
        row = await _our_follow(session, inbound)
        if row is not None and row.follower.is_local:
            row.state = "accepted"
            row.updated_at = ctx.clock()


async def handle_reject(ctx: FederationContext, inbound: Inbound) -> None:
    async with ctx.sessions.begin() as session:
        row = await _our_follow(session, inbound)
        if row is not None and row.follower.is_local:
            await session.delete(row)


async def handle_undo(ctx: FederationContext, inbound: Inbound) -> None:
    """Undo of a Follow, Like or Announce; the undone activity must be the same actor's."""
    inner = _embedded(inbound)
    inner_id = inbound.activity.object_id
    inner_type = inner.get("type") if inner else None
    if inner is not None and id_of(inner.get("actor")) != inbound.actor.uri:
        return
    async with ctx.sessions.begin() as session:
        if inner_type in (None, "Follow"):
            row = await session.scalar(
                select(Follow).where(Follow.uri == inner_id, Follow.follower_id == inbound.actor.id)
            ) if inner_id else None
            if row is None and inner is not None:
                target = await _local_target(session, id_of(inner.get("object")))
                row = await find_follow(session, inbound.actor.id, target.id) if target else None
            if row is not None:
                await session.delete(row)
                return
        if inner_id:
            await session.execute(
                delete(Reaction).where(Reaction.uri == inner_id, Reaction.actor_id == inbound.actor.id)
            )


# --- Content: Create, Update, Delete ------------------------------------------------------------


async def _is_followed_by_local(session: AsyncSession, actor_id: int) -> bool:
    follow = await session.scalar(
        select(Follow.id)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.target_id == actor_id, Follow.state == "accepted", Actor.is_local.is_(True))
        .limit(1)
    )
    return follow is not None


async def _object_document(ctx: FederationContext, inbound: Inbound) -> dict | None:
    """The object of a Create or Update: embedded when same-origin as the actor, else fetched."""
    embedded = _embedded(inbound)
    object_id = inbound.activity.object_id
    if object_id is None:
        return None
    if embedded is not None and host_of(object_id) == host_of(inbound.actor.uri):
        return embedded
    # A copy embedded by someone else is not trusted (FEP-fe34): fetch it from its origin.
    return await fetch.fetch_activitypub_document(ctx.http, object_id, auth=ctx.instance_auth)


async def handle_create(ctx: FederationContext, inbound: Inbound) -> None:
    """Store a Note, Article, Page or Event from an actor one of our actors follows."""
    if inbound.actor.is_local:
        return
    async with ctx.sessions() as session:
        if not await _is_followed_by_local(session, inbound.actor.id):
            return
        if inbound.activity.object_id and await session.scalar(
            select(StoredObject.id).where(StoredObject.uri == inbound.activity.object_id)
        ):
            return
    doc = await _object_document(ctx, inbound)
    if doc is None:
        return
    view = read_object(doc)
    if view.type not in OBJECT_TYPES or view.attributed_to != inbound.actor.uri:
        return
    await store_remote_object(ctx, inbound.actor, view, doc)


async def handle_update(ctx: FederationContext, inbound: Inbound) -> None:
    """Update of the actor itself (profile refresh) or of an object it authored that we store."""
    embedded = _embedded(inbound)
    object_id = inbound.activity.object_id
    if object_id == inbound.actor.uri:
        if embedded is not None and embedded.get("type") in ACTOR_TYPES:
            async with ctx.sessions.begin() as session:
                await store_remote_actor(ctx, session, embedded)
        return
    async with ctx.sessions() as session:
        row = await session.scalar(select(StoredObject).where(StoredObject.uri == object_id))
    if row is None or row.attributed_to_id != inbound.actor.id or row.is_local:
        return
    doc = await _object_document(ctx, inbound)
    if doc is None:
        return
    view = read_object(doc)
    if view.id != row.uri or view.attributed_to != inbound.actor.uri or view.type not in OBJECT_TYPES:
        return
    async with ctx.sessions.begin() as session:
        fresh = await session.get(StoredObject, row.id)
        if fresh is not None:
            apply_object(fresh, view, doc, inbound.actor.followers_uri)


async def handle_delete(ctx: FederationContext, inbound: Inbound) -> None:
    """Delete of the actor itself, or of an object it authored."""
    object_id = inbound.activity.object_id
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        if object_id == inbound.actor.uri:
            actor = await session.get(Actor, inbound.actor.id)
            if actor is None or actor.is_local:
                return
            actor.deleted_at = now
            await session.execute(
                delete(Follow).where((Follow.follower_id == actor.id) | (Follow.target_id == actor.id))
            )
            await session.execute(
                update(StoredObject)
                .where(StoredObject.attributed_to_id == actor.id, StoredObject.deleted_at.is_(None))
                .values(deleted_at=now)
            )
            return
        await session.execute(
            update(StoredObject)
            .where(
                StoredObject.uri == object_id,
                StoredObject.attributed_to_id == inbound.actor.id,
                StoredObject.is_local.is_(False),
            )
            .values(deleted_at=now)
        )


# --- Reactions -----------------------------------------------------------------------------------


async def _record_reaction(ctx: FederationContext, inbound: Inbound, kind: str, object_id: str | None) -> None:
    if object_id is None:
        return
    async with ctx.sessions.begin() as session:
        if await session.scalar(select(Reaction.id).where(Reaction.uri == inbound.activity.id)):
            return
        known = ctx.urls.is_local(object_id) or await session.scalar(
            select(StoredObject.id).where(StoredObject.uri == object_id)
        )
        if not known:
            return
        session.add(
            Reaction(
                uri=inbound.activity.id, type=kind, actor_id=inbound.actor.id, object_uri=object_id,
                created_at=ctx.clock(),
            )
        )


async def _store_announced(ctx: FederationContext, inbound: Inbound, object_id: str) -> None:
    """A boost by an actor one of ours follows brings the original into our timelines.

    The original is fetched from its origin and stored as its author's own Create would be
    (objects.fetch_original checks id, author host and public addressing); so a hub's followers
    see the calls the hub carries. Failing that, the boost is simply not shown.
    """
    async with ctx.sessions() as session:
        if ctx.urls.is_local(object_id) or await session.scalar(
            select(StoredObject.id).where(StoredObject.uri == object_id)
        ):
            return
        if not await _is_followed_by_local(session, inbound.actor.id):
            return
    try:
        author, view, doc = await fetch_original(ctx, object_id, discovered_via="boost")
    except RemoteUnavailable:
        raise  # the origin may be back later: the worker retries the whole item
    except FedihubError as exc:
        log.info("not storing %s boosted by %s: %s", object_id, inbound.actor.uri, exc)
        return
    await store_remote_object(ctx, author, view, doc)


async def handle_announce(ctx: FederationContext, inbound: Inbound) -> None:
    # Announce(Create(X)) from FEP-1b12 groups and Announce(Announce(X)) relays both name X: the
    # original is what we store and count, never an activity (spec §3.8 R2/R7).
    object_id, _ = unwrap_announced(inbound.activity.raw)
    if object_id is not None:
        await _store_announced(ctx, inbound, object_id)
    await _record_reaction(ctx, inbound, "Announce", object_id)


async def handle_like(ctx: FederationContext, inbound: Inbound) -> None:
    await _record_reaction(ctx, inbound, "Like", inbound.activity.object_id)


def register_core_handlers(dispatcher: Dispatcher) -> None:
    dispatcher.register("Follow", handle_follow)
    dispatcher.register("Accept", handle_accept)
    dispatcher.register("Reject", handle_reject)
    dispatcher.register("Undo", handle_undo)
    dispatcher.register("Create", handle_create)
    dispatcher.register("Update", handle_update)
    dispatcher.register("Delete", handle_delete)
    dispatcher.register("Announce", handle_announce)
    dispatcher.register("Like", handle_like)
