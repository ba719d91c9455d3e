"""Inbound routes for content: Create, Update and Delete of objects and actors, Announce and Like, and
the Undo of a reaction. What the domain does on top (hubs boosting, pledges counting carriers) it does
through the events these handlers send."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import FedihubError, RemoteUnavailable
from fedihub.federation.actors import host_of, store_remote_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.events import InboundEvents
from fedihub.federation.intake_cache import forget_now_and_on_commit
from fedihub.federation.objects import apply_object, fetch_original, find_object, publish_viewed
from fedihub.federation.routing import Apply, Inbound, Route
from fedihub.protocol import fetch
from fedihub.protocol.reader import ObjectView, has_public, id_of, mention_hrefs, read_object, unwrap_announced
from fedihub.protocol.vocab import ACTOR_TYPES, OBJECT_TYPES
from fedihub.storage.models import Actor, Follow, Reaction, StoredObject

log = logging.getLogger(__name__)


async def is_followed_by_local(session: AsyncSession, actor_id: int) -> bool:
    follow = await session.scalar(
        select(Follow.id)
        .join(Actor, Actor.id == Follow.follower_id)
        .where(Follow.target_id == actor_id, Follow.state == "accepted", Actor.is_local.is_(True))
        .limit(1)
    )
    return follow is not None


async def fetch_object_document(ctx: FederationContext, inbound: Inbound) -> dict | None:
    """The object of a Create or Update: embedded when same-origin as the actor, else fetched."""
    object_id = inbound.activity.object_id
    if object_id is None:
        return None
    if inbound.embedded is not None and host_of(object_id) == host_of(inbound.actor.uri):
        return dict(inbound.embedded)
    # A copy embedded by someone else is not trusted (FEP-fe34): fetch it from its origin.
    return await fetch.fetch_activitypub_document(ctx.http, object_id, auth=ctx.instance_auth)


def _authored_view(doc: dict | None, actor: Actor) -> tuple[ObjectView, dict] | None:
    if doc is None:
        return None
    view = read_object(doc)
    if view.type not in OBJECT_TYPES or view.attributed_to != actor.uri:
        return None
    return view, doc


async def store_object(
    session: AsyncSession, ctx: FederationContext, author: Actor, view: ObjectView, doc: dict
) -> StoredObject:
    """Store ``doc`` as authored by ``author`` in this transaction, or return the copy already stored."""
    row = await find_object(session, view.id)
    if row is None:
        row = StoredObject(uri=view.id, attributed_to_id=author.id, is_local=False, created_at=ctx.clock())
        apply_object(row, view, doc, author.followers_uri)
        session.add(row)
        await session.flush()
    else:
        # It arrived as published things do (a followed author's Create, an Announce).
        publish_viewed(row)
    return row


async def _match_object_id(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> str | None:
    return inbound.activity.object_id


# --- Create --------------------------------------------------------------------------------------------


def speaks_to_us(ctx: FederationContext, doc: Mapping[str, Any] | None) -> bool:
    """A public or unlisted object that replies to one of our objects or mentions one of our actors.

    Mastodon stores a post from someone nobody there follows on the same grounds (a reply to a local
    status, a mention of a local account): that is how replies under a call and mentions of a
    coalition reach us. Followers-only and direct posts are never taken this way.
    """
    if doc is None or not (has_public(doc.get("to")) or has_public(doc.get("cc"))):
        return False
    in_reply_to = id_of(doc.get("inReplyTo"))
    if in_reply_to is not None and ctx.urls.is_local(in_reply_to):
        return True
    return any(ctx.urls.is_local(href) for href in mention_hrefs(doc))


async def prepare_create(ctx: FederationContext, inbound: Inbound, object_id: str) -> tuple[ObjectView, dict] | None:
    """Fetch the object when we will store it, not stored yet: by a remote author one of ours follows,
    or speaking to us (see speaks_to_us), judged on the embedded copy and again on the one we keep."""
    if inbound.actor.is_local:
        return None
    async with ctx.sessions() as session:
        if await find_object(session, object_id):
            return None
        followed = await is_followed_by_local(session, inbound.actor.id)
    if not followed and not speaks_to_us(ctx, inbound.embedded):
        return None
    fetched = _authored_view(await fetch_object_document(ctx, inbound), inbound.actor)
    if fetched is not None and not followed and not speaks_to_us(ctx, fetched[1]):
        return None
    return fetched


def handle_create(events: InboundEvents) -> Apply:
    async def apply(
        ctx: FederationContext, session: AsyncSession, inbound: Inbound, fetched: tuple[ObjectView, dict] | None
    ) -> None:
        """Store a Note, Article, Page or Event from an actor we follow, or one speaking to us; tell the
        domain it arrived."""
        author = await session.get(Actor, inbound.actor.id)
        assert author is not None
        row: StoredObject | None
        if fetched is not None:
            row = await store_object(session, ctx, author, *fetched)
        else:
            row = await find_object(session, inbound.activity.object_id or "")
        if row is not None and row.attributed_to_id == author.id and row.deleted_at is None:
            if fetched is None and await is_followed_by_local(session, author.id):
                publish_viewed(row)
            await events.object_created.send(ctx, session, author, row)

    return apply


# --- Update --------------------------------------------------------------------------------------------


async def match_actor_update(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> bool | None:
    is_self = inbound.activity.object_id == inbound.actor.uri
    return True if is_self and inbound.embedded_type in ACTOR_TYPES else None


async def handle_actor_update(ctx: FederationContext, session: AsyncSession, inbound: Inbound, _: bool) -> None:
    """The actor's own profile changed: refresh our copy from the document it sent."""
    assert inbound.embedded is not None
    if inbound.actor.is_local:
        return  # one of ours, handed over locally: the row is already the truth
    await store_remote_actor(ctx, session, dict(inbound.embedded))


async def match_object_update(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    """An Update of an object we store (only its author's Update changes our copy)."""
    object_id = inbound.activity.object_id
    if not object_id or object_id == inbound.actor.uri:
        return None
    if inbound.embedded_type in ("Join", "OrderedCollection"):
        return None  # pledge reports and roll-up summaries are the pledges' routes
    row = await find_object(session, object_id)
    return row.id if row is not None else None


@dataclass(frozen=True)
class _ObjectUpdate:
    row_id: int
    fetched: tuple[ObjectView, dict] | None


async def prepare_object_update(ctx: FederationContext, inbound: Inbound, row_id: int) -> _ObjectUpdate:
    async with ctx.sessions() as session:
        row = await session.get(StoredObject, row_id)
        ours_to_refresh = row is not None and row.attributed_to_id == inbound.actor.id and not row.is_local
    if not ours_to_refresh:
        return _ObjectUpdate(row_id, None)
    return _ObjectUpdate(row_id, _authored_view(await fetch_object_document(ctx, inbound), inbound.actor))


def handle_object_update(events: InboundEvents) -> Apply:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, found: _ObjectUpdate) -> None:
        row = await session.get(StoredObject, found.row_id)
        if row is None:
            return
        if found.fetched is not None:
            view, doc = found.fetched
            if view.id == row.uri and not row.is_local and row.attributed_to_id == inbound.actor.id:
                apply_object(row, view, doc, inbound.actor.followers_uri)
                await session.flush()
        if host_of(row.uri) == host_of(inbound.actor.uri):
            actor = await session.get(Actor, inbound.actor.id)
            assert actor is not None
            await events.object_updated.send(ctx, session, actor, row)

    return apply


# --- Delete --------------------------------------------------------------------------------------------


async def match_actor_delete(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> bool | None:
    return True if inbound.activity.object_id == inbound.actor.uri else None


async def handle_actor_delete(ctx: FederationContext, session: AsyncSession, inbound: Inbound, _: bool) -> None:
    """The actor deleted itself: its follows go, its objects are marked deleted."""
    actor = await session.get(Actor, inbound.actor.id)
    if actor is None or actor.is_local:
        return
    now = ctx.clock()
    actor.deleted_at = now
    uri, keys = actor.uri, ctx.key_cache
    forget_now_and_on_commit(session, lambda: keys.forget_actor(uri))
    await session.execute(delete(Follow).where((Follow.follower_id == actor.id) | (Follow.target_id == actor.id)))
    await session.execute(
        update(StoredObject)
        .where(StoredObject.attributed_to_id == actor.id, StoredObject.deleted_at.is_(None))
        .values(deleted_at=now)
    )


async def match_object_delete(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> str | None:
    object_id = inbound.activity.object_id
    return object_id if object_id and object_id != inbound.actor.uri else None


def handle_object_delete(events: InboundEvents) -> Apply:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, object_id: str) -> None:
        """Mark our copy deleted (only the author's own Delete counts); the domain retracts its boosts."""
        await session.execute(
            update(StoredObject)
            .where(
                StoredObject.uri == object_id,
                StoredObject.attributed_to_id == inbound.actor.id,
                StoredObject.is_local.is_(False),
            )
            .values(deleted_at=ctx.clock())
        )
        if host_of(object_id) == host_of(inbound.actor.uri):
            actor = await session.get(Actor, inbound.actor.id)
            assert actor is not None
            await events.object_deleted.send(ctx, session, actor, object_id)

    return apply


# --- Reactions: Announce, Like and their Undo ------------------------------------------------------------


async def record_reaction(
    ctx: FederationContext, session: AsyncSession, inbound: Inbound, kind: str, object_id: str | None
) -> None:
    if object_id is None:
        return
    if await session.scalar(select(Reaction.id).where(Reaction.uri == inbound.activity.id)):
        return
    if not ctx.urls.is_local(object_id) and await find_object(session, object_id) is None:
        return
    session.add(
        Reaction(uri=inbound.activity.id, type=kind, actor_id=inbound.actor.id, object_uri=object_id,
                 created_at=ctx.clock())
    )


async def match_announce(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> str | None:
    # Announce(Create(X)) from FEP-1b12 groups and Announce(Announce(X)) relays both name X: the
    # original is what we store and count, never an activity (spec §3.8 R2/R7).
    object_id, _ = unwrap_announced(inbound.activity.raw)
    return object_id


@dataclass(frozen=True)
class _Announced:
    object_id: str
    original: tuple[Actor, ObjectView, dict] | None


async def prepare_announce(ctx: FederationContext, inbound: Inbound, object_id: str) -> _Announced:
    """A boost by an actor one of ours follows brings the original into our timelines.

    The original is fetched from its origin (objects.fetch_original checks id, author host and public
    addressing); so a hub's followers see the calls the hub carries. Failing that, the boost is only
    counted, not shown.
    """
    async with ctx.sessions() as session:
        if ctx.urls.is_local(object_id) or await find_object(session, object_id) is not None:
            return _Announced(object_id, None)
        if not await is_followed_by_local(session, inbound.actor.id):
            return _Announced(object_id, None)
    try:
        return _Announced(object_id, await fetch_original(ctx, object_id, discovered_via="boost"))
    except RemoteUnavailable:
        raise  # the origin may be back later: the worker retries the whole item
    except FedihubError as exc:
        log.info("not storing %s boosted by %s: %s", object_id, inbound.actor.uri, exc)
        return _Announced(object_id, None)


def handle_announce(events: InboundEvents) -> Apply:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, found: _Announced) -> None:
        row: StoredObject | None = None if found.original is not None else await find_object(session, found.object_id)
        author_uri = found.original[0].uri if found.original is not None else (row.author.uri if row else None)
        if author_uri is not None and await ctx.refuses(session, author_uri, None):
            # A blocked author's post boosted by an allowed actor: neither stored, counted nor boosted
            # on (Mastodon CVE-2026-23961 was this bypass; landscape §D 13).
            log.info("not taking %s boosted by %s: its author %s is blocked", found.object_id, inbound.actor.uri,
                     author_uri)
            return
        if found.original is not None:
            author, view, doc = found.original
            row = await store_object(session, ctx, author, view, doc)
        elif row is not None and await is_followed_by_local(session, inbound.actor.id):
            publish_viewed(row)  # a boost by an actor we follow publishes a call only viewed here
        await record_reaction(ctx, session, inbound, "Announce", found.object_id)
        announcer = await session.get(Actor, inbound.actor.id)
        assert announcer is not None
        await events.object_announced.send(ctx, session, announcer, found.object_id, row)

    return apply


async def handle_like(ctx: FederationContext, session: AsyncSession, inbound: Inbound, object_id: str) -> None:
    await record_reaction(ctx, session, inbound, "Like", object_id)


async def match_undone_reaction(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> str | None:
    """Undo{Like} or Undo{Announce} of the same actor, or an Undo naming one of its reactions by id."""
    inner_id = inbound.activity.object_id
    if not inner_id or not inbound.inner_is_own():
        return None
    if inbound.embedded_type in ("Like", "Announce"):
        return inner_id
    if inbound.embedded is None:
        found = await session.scalar(
            select(Reaction.id).where(Reaction.uri == inner_id, Reaction.actor_id == inbound.actor.id)
        )
        return inner_id if found is not None else None
    return None


def handle_undo_reaction(events: InboundEvents) -> Apply:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, inner_id: str) -> None:
        await session.execute(
            delete(Reaction).where(Reaction.uri == inner_id, Reaction.actor_id == inbound.actor.id)
        )
        if inbound.embedded_type == "Announce" and inbound.embedded is not None:
            actor = await session.get(Actor, inbound.actor.id)
            assert actor is not None
            await events.announce_undone.send(ctx, session, actor, inbound.embedded)

    return apply


def content_routes(events: InboundEvents) -> list[Route]:
    return [
        Route("Create", "object", _match_object_id, handle_create(events), prepare=prepare_create),
        Route("Update", "the actor itself", match_actor_update, handle_actor_update),
        Route("Update", "stored object", match_object_update, handle_object_update(events),
              prepare=prepare_object_update),
        Route("Delete", "the actor itself", match_actor_delete, handle_actor_delete),
        Route("Delete", "object", match_object_delete, handle_object_delete(events)),
        Route("Announce", "object", match_announce, handle_announce(events), prepare=prepare_announce),
        Route("Like", "object", _match_object_id, handle_like),
        Route("Undo", "reaction", match_undone_reaction, handle_undo_reaction(events)),
    ]
