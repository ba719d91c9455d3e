"""Actors: create and serialise local ones, resolve, cache and refresh remote ones."""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import ConfigurationError, Conflict, InvalidInput, NotFound, RemoteInvalid
from fedihub.federation.actor_parts import Sighting
from fedihub.federation.context import FederationContext
from fedihub.federation.intake_cache import forget_now_and_on_commit
from fedihub.federation.signing import load_signing_keys, store_private_key
from fedihub.i18n.active import N_, gettext
from fedihub.protocol import builders
from fedihub.protocol.handles import parse_handle
from fedihub.protocol.hosts import host_of as host_of  # where federation code has always found it
from fedihub.protocol.hosts import normalise_host
from fedihub.protocol.reader import ActorView, parse_datetime, read_actor
from fedihub.protocol.urls import has_http_scheme
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
        raise NotFound(f"no coalition called {username!r} on this server", public_message=gettext(
            "no coalition called %(username)r on this server", username=username))
    return actor


HANDLE_RULES = N_("letters, digits and _, with . or - only between them")


def suggest_handle(typed: str) -> str | None:
    """A valid handle close to what was typed ("Tenants Union!" → ``tenants-union``), or None.

    Accents are folded (``café`` → ``cafe``) and every run of other characters becomes one ``-``.
    """
    folded = unicodedata.normalize("NFKD", typed).encode("ascii", "ignore").decode().lower()
    suggestion = re.sub(r"[^a-z0-9_]+", "-", folded).strip("-")[:USERNAME_MAX].strip("-")
    return suggestion or None


def local_handle(typed: str, host: str) -> str:
    """The user name of a new local actor as typed: ``tenants``, ``@tenants`` or ``@tenants@<this host>``.

    People copy handles as they see them, with the ``@``; keeping it made a permanent ``@@tenants``.
    An invalid one is answered with the rules and, when one exists, a valid handle to use instead.
    """
    text = typed.strip().removeprefix("@")
    name, sep, rest = text.partition("@")
    if sep and name and rest.lower() not in (host.lower(), host.lower().partition(":")[0]):
        raise InvalidInput(gettext("a new coalition's handle is the part before @%(host)s: type just %(name)r",
                                   host=host, name=name), field="handle")
    try:
        parse_handle(f"{name}@{host}")  # same grammar as Mastodon's
    except InvalidInput:
        suggestion = suggest_handle(name or rest)
        message = (gettext("%(typed)r is not a valid handle; use %(rules)s: try %(suggestion)r", typed=typed.strip(),
                           rules=gettext(HANDLE_RULES), suggestion=suggestion) if suggestion
                   else gettext("%(typed)r is not a valid handle; use %(rules)s", typed=typed.strip(),
                                rules=gettext(HANDLE_RULES)))
        raise InvalidInput(message, field="handle") from None
    return name.lower()


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
    """Create a local actor with a fresh RSA key; the caller commits.

    The packages that make coalitions and hubs add their own rows (profile, listing) to it.
    """
    username = local_handle(username, ctx.host)
    if len(username) > USERNAME_MAX:
        raise InvalidInput(gettext("a handle has at most %(max)d characters", max=USERNAME_MAX), field="handle")
    if await find_local_actor(session, username) is not None:
        raise Conflict(gettext("the handle %(username)r is already taken on this server", username=username),
                       field="handle")
    # Here rather than at the top: only creating an actor needs cryptography's key generation.
    from fedihub.protocol.keys import generate_key_pair

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
        manually_approves_followers=manually_approves_followers,
        discoverable=True,
        published=now,
        created_at=now,
        updated_at=now,
    )
    session.add(actor)
    await session.flush()
    store_private_key(session, actor, keys.private_pem, now)
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
        keys = await load_signing_keys(session, [actor.id])
        if actor.id not in keys:
            raise ConfigurationError(f"the instance actor {uri} has no private key in this database")
        # The signer itself is built at the first signed fetch (FederationContext.instance_auth).
        ctx.use_instance_key(*keys[actor.id])
    return actor


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
        webfinger=f"{username}@{ctx.host}",
        extra=ctx.actor_parts.document_extra(actor),
    )


def _apply_view(actor: Actor, view: ActorView, doc: dict, now: datetime) -> None:
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
    actor.data = doc
    actor.fetched_at = now
    actor.updated_at = now
    actor.deleted_at = None


async def store_remote_actor(
    ctx: FederationContext, session: AsyncSession, doc: dict, *, discovered_via: str = "federation"
) -> Actor:
    """Insert or refresh a remote actor from a document already validated for origin.

    ``discovered_via`` says how the caller met it; the domain's readers (ctx.actor_parts) then
    take what they own from the document, in this same transaction.
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
    if (actor.public_key_id, actor.public_key_pem, actor.deleted_at) != (view.public_key_id, view.public_key_pem, None):
        # A rotated key must not verify anything from now on (the inbox keeps keys in memory).
        keys = ctx.key_cache

        def forget() -> None:
            keys.forget_actor(view.id)
            if view.public_key_id:
                keys.forget_key(view.public_key_id)

        forget_now_and_on_commit(session, forget)
    _apply_view(actor, view, doc, now)
    await session.flush()
    await ctx.actor_parts.read_remote(session, actor, doc, Sighting(discovered_via, now))
    return actor


async def fetch_remote_actor(ctx: FederationContext, uri: str, *, discovered_via: str = "federation") -> Actor:
    """Fetch an actor from its origin (signed by the instance actor), validate and store it."""
    from fedihub.protocol import fetch  # here, not at the top: commands that never fetch skip httpx

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
    name, host = parse_handle(target)
    if host in {normalise_host(name, strict=False) for name in (ctx.host, urlsplit(ctx.base_url).hostname or "")}:
        async with ctx.sessions() as session:
            return await get_local_actor(session, name)
    from fedihub.protocol import webfinger  # here, not at the top: commands that never fetch skip httpx

    actor_url = await webfinger.fetch_actor_url(ctx.http, f"{name}@{host}", scheme=ctx.scheme)
    return await resolve_actor(ctx, actor_url, discovered_via=discovered_via)
