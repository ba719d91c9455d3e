"""Actors: create and serialise local ones, resolve, cache and refresh remote ones."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import ConfigurationError, Conflict, InvalidInput, NotFound, RemoteInvalid
from fedihub.federation.context import FederationContext
from fedihub.protocol import builders, fetch, webfinger
from fedihub.protocol.hosts import host_of as host_of  # where federation code has always found it
from fedihub.protocol.hosts import normalise_host
from fedihub.protocol.httpauth import HttpSignatureAuth
from fedihub.protocol.keys import generate_key_pair
from fedihub.protocol.movements import build_hashtags
from fedihub.protocol.profile_reader import HUB_NAMESPACE, ActorProfile, read_actor_profile
from fedihub.protocol.reader import ActorView, parse_datetime, read_actor
from fedihub.protocol.urls import has_http_scheme
from fedihub.storage.directory_index import mark_discovered, set_movements
from fedihub.storage.models import Actor

log = logging.getLogger(__name__)

# Mastodon refetches accounts older than a day when they act (app/models/account.rb STALE_THRESHOLD).
REFRESH_AFTER = timedelta(days=1)
USERNAME_MAX = 64


async def find_actor(session: AsyncSession, uri: str) -> Actor | None:
    return await session.scalar(select(Actor).where(Actor.uri == uri))


async def find_local_actor(session: AsyncSession, username: str) -> Actor | None:
    return await session.scalar(
        select(Actor).where(Actor.local_username == username.lower(), Actor.is_local.is_(True))
    )


async def get_local_actor(session: AsyncSession, username: str) -> Actor:
    actor = await find_local_actor(session, username)
    if actor is None or actor.deleted_at is not None:
        raise NotFound(f"no coalition called {username!r} on this server")
    return actor


async def create_local_actor(
    ctx: FederationContext,
    session: AsyncSession,
    *,
    username: str,
    actor_type: str,
    name: str,
    summary: str | None = None,
    manually_approves_followers: bool = False,
    uri: str | None = None,
) -> Actor:
    """Create a local actor with a fresh RSA key; the caller commits."""
    username = username.lower()
    webfinger.parse_handle(f"{username}@{ctx.host}")  # same grammar as Mastodon's
    if len(username) > USERNAME_MAX:
        raise InvalidInput(f"a handle has at most {USERNAME_MAX} characters")
    if await find_local_actor(session, username) is not None:
        raise Conflict(f"the handle {username!r} is already taken on this server")
    keys = await asyncio.to_thread(generate_key_pair)
    uri = uri or ctx.urls.actor(username)
    now = ctx.clock()
    actor = Actor(
        uri=uri,
        type=actor_type,
        username=username,
        local_username=username,
        domain=ctx.host,
        is_local=True,
        name=name,
        summary=summary,
        url=uri,
        inbox=ctx.urls.inbox(uri),
        shared_inbox=ctx.urls.shared_inbox(),
        outbox=ctx.urls.outbox(uri),
        followers_uri=ctx.urls.followers(uri),
        following_uri=ctx.urls.following(uri),
        featured_uri=ctx.urls.featured(uri),
        public_key_id=ctx.urls.key_id(uri),
        public_key_pem=keys.public_pem,
        private_key_pem=keys.private_pem,
        manually_approves_followers=manually_approves_followers,
        discoverable=True,
        discovered_via="local",
        discovered_at=now,
        published=now,
        created_at=now,
        updated_at=now,
    )
    session.add(actor)
    await session.flush()
    return actor


async def ensure_instance_actor(ctx: FederationContext) -> Actor:
    """The instance's Application actor (FEP-2677), used to sign background fetches."""
    uri = ctx.urls.instance_actor()
    async with ctx.sessions.begin() as session:
        actor = await find_actor(session, uri)
        other = await session.scalar(
            select(Actor).where(Actor.is_local.is_(True), Actor.type == "Application", Actor.uri != uri)
        )
        if other is not None:
            # Every id is under the base URL forever; a second base URL would split the instance.
            raise ConfigurationError(
                f"this database belongs to {other.uri.rsplit('/actor', 1)[0]}; "
                f"set FEDIHUB_BASE_URL to that (it is {ctx.base_url} now)"
            )
        if actor is None:
            actor = await create_local_actor(
                ctx,
                session,
                username=urlsplit(ctx.base_url).hostname or "instance",
                actor_type="Application",
                name=ctx.host,
                summary="The server's own actor: it signs fetches on behalf of this instance.",
                uri=uri,
            )
            # Its inbox is the shared inbox: it never follows anyone individually. Like Mastodon's
            # instance actor it is not listed in directories or search (instance_actors_controller.rb).
            actor.inbox = ctx.urls.shared_inbox()
            actor.discoverable = False
    ctx.instance_auth = signing_auth(actor, ctx.clock)
    return actor


def signing_auth(actor: Actor, clock: Callable[[], datetime] | None = None) -> httpx.Auth:
    if actor.private_key_pem is None or actor.public_key_id is None:
        raise InvalidInput(f"{actor.uri} is not a local actor and cannot sign")
    return HttpSignatureAuth(actor.public_key_id, actor.private_key_pem, clock=clock)


def build_local_actor_document(ctx: FederationContext, actor: Actor) -> dict:
    """The AS2 document of a local actor, with every field Mastodon reads (spec §1.2)."""
    username = actor.username or ""
    return builders.build_actor(
        actor_id=actor.uri,
        actor_type=actor.type,
        preferred_username=username,
        name=actor.name or username,
        summary_html=actor.summary or "",
        url=actor.url or actor.uri,
        inbox=actor.inbox or ctx.urls.inbox(actor.uri),
        outbox=actor.outbox or ctx.urls.outbox(actor.uri),
        followers=actor.followers_uri or ctx.urls.followers(actor.uri),
        following=actor.following_uri or ctx.urls.following(actor.uri),
        featured=actor.featured_uri or ctx.urls.featured(actor.uri),
        shared_inbox=ctx.urls.shared_inbox(),
        public_key_id=actor.public_key_id or ctx.urls.key_id(actor.uri),
        public_key_pem=actor.public_key_pem or "",
        published=actor.published or actor.created_at,
        manually_approves_followers=actor.manually_approves_followers,
        discoverable=actor.discoverable,
        indexable=actor.discoverable,
        icon_url=actor.icon_url,
        icon_media_type="image/png" if actor.icon_url and ctx.urls.is_local(actor.icon_url) else None,
        webfinger=f"{username}@{urlsplit(ctx.base_url).hostname}",
        extra={**profile_properties(actor), **hub_properties(actor)},
    )


# Our own extension for hubs (docs/federation/hubs.md "The extension terms"): a Group that says it
# is a hub, its scope, and its public roster (HUB_NAMESPACE). Peers that do not know the terms ignore them.
def hub_properties(actor: Actor) -> dict:
    if not actor.hub_scope:
        return {}
    props: dict = {"fedihub:hubScope": actor.hub_scope, "fedihub:members": f"{actor.uri}/members"}
    if actor.hub_region:
        props["fedihub:hubRegion"] = actor.hub_region
    # A second context entry so the profile context (a dict of its own) is left as it is.
    contexts = [PROFILE_CONTEXT] if actor_has_profile(actor) else []
    return {**props, "@context": contexts + [{"fedihub": HUB_NAMESPACE}]}


def actor_has_profile(actor: Actor) -> bool:
    return bool(profile_properties(actor))


# Terms the profile properties need beyond ACTOR_CONTEXT (which already maps `schema:`,
# PropertyValue and value the way Mastodon does). Place, latitude and longitude are AS terms.
PROFILE_CONTEXT = {
    "Hashtag": "as:Hashtag",
    "PostalAddress": "schema:PostalAddress",
    "address": {"@id": "schema:address", "@type": "schema:PostalAddress"},
    "addressLocality": "schema:addressLocality",
    "addressRegion": "schema:addressRegion",
    "addressCountry": "schema:addressCountry",
}


def profile_properties(actor: Actor) -> dict:
    """A coalition's website, movements and region in the shapes peers read (spec §1.2, §2.7).

    Website: a PropertyValue profile field, which Mastodon shows (and verifies with rel="me").
    Movements: Hashtags in `tag`. Region: a `location` Place with a PostalAddress, as Mobilizon
    groups carry it (fixture mobilizon/group.json). Nothing is added for an empty profile.
    """
    extra: dict = {}
    if actor.website:
        shown = actor.website.split("://", 1)[-1].rstrip("/")
        link = (
            f'<a href="{html.escape(actor.website, quote=True)}" target="_blank" '
            f'rel="nofollow noopener noreferrer me" translate="no">{html.escape(shown)}</a>'
        )
        extra["attachment"] = [{"type": "PropertyValue", "name": "Website", "value": link}]
    if actor.movements:
        extra["tag"] = build_hashtags(actor.movements)
    region = [part for part in (actor.region_city, actor.region_state, actor.region_country) if part]
    if region or actor.latitude is not None:
        place: dict = {"type": "Place", "name": ", ".join(region) or None}
        if region:
            address = {
                "type": "PostalAddress", "addressLocality": actor.region_city,
                "addressRegion": actor.region_state, "addressCountry": actor.region_country,
            }
            place["address"] = {key: value for key, value in address.items() if value}
        if actor.latitude is not None and actor.longitude is not None:
            place.update(latitude=actor.latitude, longitude=actor.longitude)
        extra["location"] = {key: value for key, value in place.items() if value is not None}
    if extra:
        extra["@context"] = PROFILE_CONTEXT
    return extra


def _apply_view(actor: Actor, view: ActorView, doc: dict, now: datetime) -> ActorProfile:
    actor.type = view.type
    actor.username = view.preferred_username
    actor.domain = host_of(view.id)
    actor.name = view.name
    actor.summary = view.summary
    actor.url = view.url
    actor.inbox = view.inbox
    actor.shared_inbox = view.shared_inbox
    actor.outbox = view.outbox
    actor.followers_uri = view.followers
    actor.following_uri = view.following
    actor.featured_uri = view.featured
    actor.icon_url = view.icon_url
    actor.public_key_id = view.public_key_id
    actor.public_key_pem = view.public_key_pem
    actor.manually_approves_followers = bool(view.manually_approves_followers)
    actor.discoverable = bool(view.discoverable)
    actor.published = parse_datetime(view.published)
    # The profile as profile_properties and hub_properties publish it (Mobilizon groups too).
    profile = read_actor_profile(doc)
    # What an organizer recorded in an import (discovery/importer.py) fills what the actor's own
    # profile leaves out; a refresh that still says nothing must not erase it.
    from_import = actor.discovered_via == "import" or actor.directory_note is not None
    if any((profile.region_city, profile.region_state, profile.region_country)) or not from_import:
        actor.region_city = profile.region_city
        actor.region_state = profile.region_state
        actor.region_country = profile.region_country
    actor.latitude = profile.latitude
    actor.longitude = profile.longitude
    actor.website = profile.website
    actor.hub_scope = profile.hub_scope
    actor.hub_region = profile.hub_region
    actor.data = doc
    actor.fetched_at = now
    actor.updated_at = now
    actor.deleted_at = None
    return profile


async def store_remote_actor(
    ctx: FederationContext, session: AsyncSession, doc: dict, *, discovered_via: str = "federation"
) -> Actor:
    """Insert or refresh a remote actor from a document already validated for origin.

    ``discovered_via`` says how the caller met it; it is kept only the first time (a roster stub
    fetched later in full stays "roster").
    """
    view = read_actor(doc)
    if ctx.urls.is_local(view.id):
        raise RemoteInvalid(f"{view.id} claims to be one of our own actors")
    now = ctx.clock()
    actor = await find_actor(session, view.id)
    if actor is None:
        actor = Actor(uri=view.id, is_local=False, created_at=now, domain=host_of(view.id))
        session.add(actor)
    elif actor.is_local:
        raise RemoteInvalid(f"{view.id} is a local actor")
    kept_movements = list(actor.movements or ())
    profile = _apply_view(actor, view, doc, now)
    mark_discovered(actor, discovered_via, now)
    from_import = actor.discovered_via == "import" or actor.directory_note is not None
    await set_movements(session, actor, profile.movements or (kept_movements if from_import else []))
    return actor


async def fetch_remote_actor(ctx: FederationContext, uri: str, *, discovered_via: str = "federation") -> Actor:
    """Fetch an actor from its origin (signed by the instance actor), validate and store it."""
    doc = await fetch.fetch_actor_document(ctx.http, uri, auth=ctx.instance_auth)
    try:
        async with ctx.sessions.begin() as session:
            return await store_remote_actor(ctx, session, doc, discovered_via=discovered_via)
    except IntegrityError:
        # Two requests from a new actor arrived together and the other one stored it first:
        # the second pass finds that row and refreshes it.
        async with ctx.sessions.begin() as session:
            return await store_remote_actor(ctx, session, doc, discovered_via=discovered_via)


async def resolve_actor(
    ctx: FederationContext, uri: str, *, refresh: bool = False, discovered_via: str = "federation"
) -> Actor:
    """Return the actor for ``uri`` from the cache, fetching it when unknown, stale or asked to."""
    async with ctx.sessions() as session:
        actor = await find_actor(session, uri)
    if actor is not None and (actor.is_local or actor.deleted_at is not None):
        return actor
    stale = actor is None or actor.fetched_at is None or ctx.clock() - actor.fetched_at > REFRESH_AFTER
    if actor is None or refresh or stale:
        try:
            return await fetch_remote_actor(ctx, uri, discovered_via=discovered_via)
        except Exception:
            if actor is None or refresh:
                raise
            log.info("keeping cached copy of %s: refresh failed", uri, exc_info=True)
    return actor


async def resolve_target(ctx: FederationContext, target: str, *, discovered_via: str = "federation") -> Actor:
    """Resolve ``name@host`` (through WebFinger) or an actor URL to a stored actor."""
    target = target.strip()
    if has_http_scheme(target):
        async with ctx.sessions() as session:
            local = await find_actor(session, target)
        if local is not None and local.is_local:
            return local
        return await resolve_actor(ctx, target, discovered_via=discovered_via)
    name, host = webfinger.parse_handle(target)
    if host in {normalise_host(name, strict=False) for name in (ctx.host, urlsplit(ctx.base_url).hostname or "")}:
        async with ctx.sessions() as session:
            return await get_local_actor(session, name)
    actor_url = await webfinger.fetch_actor_url(ctx.http, f"{name}@{host}", scheme=ctx.scheme)
    return await resolve_actor(ctx, actor_url, discovered_via=discovered_via)
