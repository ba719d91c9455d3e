"""Inbound handlers of hubs: boost members' public objects once, undo the boost when the origin retracts."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import FedihubError, RemoteGone, RemoteNotFound
from fedihub.federation.actors import host_of, resolve_actor
from fedihub.federation.blocks import is_blocked
from fedihub.federation.context import FederationContext
from fedihub.federation.outbox import follower_inboxes, publish
from fedihub.federation.processing import Dispatcher, Inbound
from fedihub.hubs.rules import Candidate, HubRules, refusal_reason
from fedihub.protocol import builders, fetch
from fedihub.protocol.reader import as_list, read_object, unwrap_announced
from fedihub.storage.models import Activity, Actor, Boost, Follow, StoredObject

log = logging.getLogger(__name__)
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


async def _member_hubs(session: AsyncSession, member_id: int) -> Sequence[Actor]:
    """Local hubs whose follow of ``member_id`` was accepted: consent on both sides."""
    return (
        await session.scalars(
            select(Actor)
            .join(Follow, Follow.follower_id == Actor.id)
            .where(
                Follow.target_id == member_id, Follow.state == "accepted",
                Actor.is_local.is_(True), Actor.hub_scope.is_not(None), Actor.deleted_at.is_(None),
            )
        )
    ).all()


def _rules(hub: Actor) -> HubRules:
    return HubRules(
        hub_uri=hub.uri, movements=tuple(hub.hub_movements or ()), regions=tuple(hub.hub_regions or ()),
        calls_only=bool(hub.hub_calls_only),
    )


def _regions(*actors_or_rows: Any) -> tuple[str, ...]:
    found = []
    for item in actors_or_rows:
        found += [getattr(item, key, None) for key in ("region_city", "region_state", "region_country")]
    return tuple(value for value in found if value)


def _doc_movements(doc: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(
        str(tag.get("name", "")).lstrip("#") for tag in as_list(doc.get("tag"))
        if isinstance(tag, Mapping) and tag.get("type") == "Hashtag" and tag.get("name")
    )


async def _boost(ctx: FederationContext, hub: Actor, candidate: Candidate, author: Actor) -> None:
    """Send the hub's one Announce of the original object (spec §3.8 R1, R4)."""
    reason = refusal_reason(_rules(hub), candidate)
    if reason is not None:
        log.debug("hub %s does not boost %s: %s", hub.uri, candidate.object_id, reason)
        return
    try:
        async with ctx.sessions.begin() as session:
            now = ctx.clock()
            uri = ctx.urls.new_activity()
            # The unique (hub, object) row is the loop guard: a second receipt fails here.
            session.add(Boost(hub_id=hub.id, object_uri=candidate.object_id, activity_uri=uri, created_at=now))
            await session.flush()
            followers = hub.followers_uri or ctx.urls.followers(hub.uri)
            announce = builders.build_announce(
                activity_id=uri, actor=hub.uri, object_id=candidate.object_id, published=now,
                to=[PUBLIC], cc=[followers, author.uri],
            )
            inboxes = await follower_inboxes(session, hub.id) | {author.delivery_inbox or ""}
            await publish(ctx, session, actor=hub, activity=announce, inboxes=inboxes)
    except IntegrityError:
        log.debug("hub %s already boosted %s", hub.uri, candidate.object_id)


async def _already_boosted(session: AsyncSession, hub_id: int, object_id: str) -> bool:
    found = await session.scalar(select(Boost.id).where(Boost.hub_id == hub_id, Boost.object_uri == object_id))
    return found is not None


async def handle_create(ctx: FederationContext, inbound: Inbound) -> None:
    """A member published something: each accepting hub boosts it if its rules say so."""
    object_id = inbound.activity.object_id
    if object_id is None:
        return
    async with ctx.sessions() as session:
        hubs = await _member_hubs(session, inbound.actor.id)
        row = await session.scalar(select(StoredObject).where(StoredObject.uri == object_id))
        if not hubs or row is None or row.attributed_to_id != inbound.actor.id or row.deleted_at is not None:
            return
        blocked = await is_blocked(session, inbound.actor.domain)
        candidates = [
            (hub, Candidate(
                object_id=row.uri, type=row.type, author_uri=inbound.actor.uri,
                is_public=row.visibility in ("public", "unlisted"), in_reply_to=row.in_reply_to,
                movements=tuple(row.movements or inbound.actor.movements or ()),
                regions=_regions(row, inbound.actor), via_accepted_member=True, author_blocked=blocked,
                already_boosted=await _already_boosted(session, hub.id, row.uri),
            ))
            for hub in hubs
        ]
    for hub, candidate in candidates:
        await _boost(ctx, hub, candidate, inbound.actor)


async def _fetch_original(ctx: FederationContext, object_id: str) -> dict | None:
    """X from its origin, never a relayed copy (§3.8 R3); local objects are read from the database."""
    if ctx.urls.is_local(object_id):
        async with ctx.sessions() as session:
            row = await session.scalar(select(StoredObject).where(StoredObject.uri == object_id))
        return dict(row.data) if row is not None and row.deleted_at is None and row.data else None
    try:
        return await fetch.fetch_activitypub_document(ctx.http, object_id, auth=ctx.instance_auth)
    except FedihubError as exc:
        log.info("could not fetch %s boosted by a member hub: %s", object_id, exc)
        return None


async def handle_announce(ctx: FederationContext, inbound: Inbound) -> None:
    """A member hub boosted X: check X at its origin, then boost X itself (never the Announce)."""
    if inbound.actor.hub_scope is None:
        return
    async with ctx.sessions() as session:
        hubs = [hub for hub in await _member_hubs(session, inbound.actor.id) if hub.uri != inbound.actor.uri]
        object_id, _ = unwrap_announced(inbound.activity.raw)
        if object_id is None:
            return
        # Checked before fetching: in a cycle the boost comes back, and must cost no request.
        pending = [hub for hub in hubs if not await _already_boosted(session, hub.id, object_id)]
    if not pending:
        return
    doc = await _fetch_original(ctx, object_id)
    if doc is None:
        return
    view = read_object(doc)
    if view.id != object_id or not view.attributed_to or host_of(view.attributed_to) != host_of(object_id):
        log.info("%s is not attributed to an actor of its own origin; not boosted", object_id)
        return
    author = await resolve_actor(ctx, view.attributed_to, discovered_via="boost")
    async with ctx.sessions() as session:
        blocked = await is_blocked(session, author.domain)
    for hub in pending:
        candidate = Candidate(
            object_id=object_id, type=view.type, author_uri=author.uri, is_public=view.is_public,
            in_reply_to=doc.get("inReplyTo") if isinstance(doc.get("inReplyTo"), str) else None,
            movements=_doc_movements(doc) or tuple(author.movements or ()), regions=_regions(author),
            via_accepted_member=True, author_blocked=blocked,
        )
        await _boost(ctx, hub, candidate, author)


async def _undo_boosts(ctx: FederationContext, object_id: str) -> None:
    async with ctx.sessions.begin() as session:
        boosts = (
            await session.scalars(select(Boost).where(Boost.object_uri == object_id, Boost.undone_at.is_(None)))
        ).all()
        for boost in boosts:
            hub = await session.get(Actor, boost.hub_id)
            sent = await session.scalar(select(Activity).where(Activity.uri == boost.activity_uri))
            if hub is None or sent is None:
                continue
            boost.undone_at = ctx.clock()
            undo = builders.build_undo(
                activity_id=ctx.urls.new_activity(), actor=hub.uri, activity=sent.data,
                to=[PUBLIC], cc=list(sent.data.get("cc", [])),
            )
            author_inbox = await _author_inbox(session, sent.data)
            inboxes = await follower_inboxes(session, hub.id) | {author_inbox}
            await publish(ctx, session, actor=hub, activity=undo, inboxes=inboxes)


async def _author_inbox(session: AsyncSession, announce: Mapping[str, Any]) -> str:
    for uri in as_list(announce.get("cc")):
        actor = await session.scalar(select(Actor).where(Actor.uri == uri)) if isinstance(uri, str) else None
        if actor is not None and not actor.is_local:
            return actor.delivery_inbox or ""
    return ""


async def handle_delete(ctx: FederationContext, inbound: Inbound) -> None:
    """The origin deleted X: every local hub that boosted X undoes its Announce (§3.8 R8)."""
    object_id = inbound.activity.object_id
    if object_id and host_of(object_id) == host_of(inbound.actor.uri):
        await _undo_boosts(ctx, object_id)


async def handle_update(ctx: FederationContext, inbound: Inbound) -> None:
    """A cancelled call (its stored copy now says so) is no longer boosted."""
    object_id = inbound.activity.object_id
    if not object_id or host_of(object_id) != host_of(inbound.actor.uri):
        return
    async with ctx.sessions() as session:
        row = await session.scalar(select(StoredObject).where(StoredObject.uri == object_id))
    if row is not None and (row.event_status or "").upper() == "CANCELLED":
        await _undo_boosts(ctx, object_id)


async def _is_retracted(ctx: FederationContext, object_id: str) -> bool:
    """Whether the origin deleted or cancelled X; errors other than 404/410 count as "not known"."""
    if ctx.urls.is_local(object_id):
        async with ctx.sessions() as session:
            row = await session.scalar(select(StoredObject).where(StoredObject.uri == object_id))
        return row is None or row.deleted_at is not None or (row.event_status or "").upper() == "CANCELLED"
    try:
        doc = await fetch.fetch_activitypub_document(ctx.http, object_id, auth=ctx.instance_auth)
    except (RemoteGone, RemoteNotFound):
        return True
    except FedihubError:
        return False
    status = " ".join(str(doc.get(key, "")) for key in ("eventStatus", "ical:status")).casefold()
    return doc.get("type") == "Tombstone" or "cancel" in status


async def handle_undo(ctx: FederationContext, inbound: Inbound) -> None:
    """A member hub undid its boost of X: if the origin retracted X, so do we (origins only tell members)."""
    embedded = inbound.activity.object
    if inbound.actor.hub_scope is None or not isinstance(embedded, Mapping) or embedded.get("type") != "Announce":
        return
    object_id, _ = unwrap_announced(embedded)
    if object_id is None:
        return
    async with ctx.sessions() as session:
        boosted = await session.scalar(
            select(Boost.id).where(Boost.object_uri == object_id, Boost.undone_at.is_(None)).limit(1)
        )
    if boosted is not None and await _is_retracted(ctx, object_id):
        await _undo_boosts(ctx, object_id)


def register_hub_handlers(dispatcher: Dispatcher) -> None:
    # Registered after the core handlers, so the object is already stored when these run.
    dispatcher.register("Create", handle_create)
    dispatcher.register("Announce", handle_announce)
    dispatcher.register("Delete", handle_delete)
    dispatcher.register("Update", handle_update)
    dispatcher.register("Undo", handle_undo)
