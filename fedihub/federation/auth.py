"""Authenticating signed requests from peers: key lookup with cache, refetch and owner checks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urldefrag

from sqlalchemy import select

from fedihub.errors import InvalidInput, KeyNotFound, RemoteError
from fedihub.federation.actors import fetch_remote_actor, find_actor, host_of
from fedihub.federation.context import FederationContext
from fedihub.protocol.hosts import bare_host, has_userinfo
from fedihub.protocol.signatures import KeyLookup, PublicKeyInfo, verify_request
from fedihub.storage.models import Actor

log = logging.getLogger(__name__)


def _key_info(actor: Actor) -> PublicKeyInfo | None:
    if actor.public_key_id is None or actor.public_key_pem is None or actor.deleted_at is not None:
        return None
    return PublicKeyInfo(key_id=actor.public_key_id, owner=actor.uri, public_key_pem=actor.public_key_pem)


def check_key_id(key_id: str, claimed_actor: str | None) -> None:
    """Refuse, before anything is fetched, a keyId that cannot belong to the claimed actor.

    A key lives on its actor's server (Mastodon, GoToSocial, Pleroma, Misskey, Lemmy, PeerTube and
    Mobilizon all publish it there); a keyId elsewhere only made us fetch a third party's URL.
    """
    if has_userinfo(key_id):
        raise KeyNotFound(f"keyId {key_id} has user-info", public_message="the keyId has a user name before its host")
    if claimed_actor and host_of(key_id) != host_of(claimed_actor):
        raise KeyNotFound(
            f"keyId {key_id} is not on the server of {claimed_actor}",
            public_message="the signing key is not on the activity's actor's server",
        )


def make_key_lookup(ctx: FederationContext, *, claimed_actor: str | None = None) -> KeyLookup:
    """A key lookup for ``verify_request``: memory (ctx.key_cache), stored actors, the claimed actor, the key URL.

    Fetching the claimed actor first covers keyIds that are not ``<actor>#fragment``
    (GoToSocial's ``/main-key``), as long as the actor document lists that exact key id.
    Fetches go through ``ctx.key_fetches``: a limit per host, and keys and URLs that failed are
    not fetched again for a while; a key that did not verify is refetched at most once per period.
    """
    guard = ctx.key_fetches

    async def lookup(key_id: str, refresh: bool) -> PublicKeyInfo | None:
        check_key_id(key_id, claimed_actor)
        now = ctx.clock().timestamp()
        if not refresh:
            remembered = ctx.key_cache.find(key_id)
            if remembered is not None:
                return remembered
            generation = ctx.key_cache.generation
            async with ctx.reading() as session:
                cached = await session.scalar(select(Actor).where(Actor.public_key_id == key_id))
            if cached is not None:
                info = _key_info(cached)
                if info is not None:
                    ctx.key_cache.remember(info, generation)
                return info
            if guard.key_failed(key_id, now):
                log.info("key %s: not fetched again, it could not be found moments ago", key_id)
                return None
        elif guard.refreshed_recently(key_id, now):
            log.info("key %s: not refetched, it was refetched moments ago", key_id)
            return None
        candidates = []
        if claimed_actor:
            candidates.append(claimed_actor)
        owner_guess = urldefrag(key_id).url
        if owner_guess not in candidates:
            candidates.append(owner_guess)
        for uri in candidates:
            if ctx.urls.is_local(uri):
                async with ctx.sessions() as session:
                    local = await find_actor(session, uri)
                info = _key_info(local) if local is not None else None
            else:
                if guard.url_failed(uri, now):
                    continue
                guard.admit(bare_host(host_of(uri)), now)
                if refresh:
                    guard.remember_refresh(key_id, now)
                try:
                    info = _key_info(await fetch_remote_actor(ctx, uri))
                except (RemoteError, InvalidInput) as exc:
                    log.info("key %s: could not fetch %s: %s", key_id, uri, exc)
                    guard.remember_failed_url(uri, now)
                    continue
            if info is not None and info.key_id == key_id:
                # Stored (and committed) just now: what the next request from this actor is checked against.
                ctx.key_cache.remember(info, ctx.key_cache.generation)
                return info
        if not refresh:
            guard.remember_failed_key(key_id, now)
        return None

    return lookup


async def authenticate(
    ctx: FederationContext,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    claimed_actor: str | None = None,
) -> PublicKeyInfo:
    """Verify the request's signature (draft-cavage or RFC 9421) and return the signing key.

    The signed ``Host`` must be this server's: a delivery captured at another server and replayed
    here is refused before any key is looked up.
    """
    return await verify_request(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        lookup=make_key_lookup(ctx, claimed_actor=claimed_actor),
        now=ctx.clock(),
        expected_host=ctx.host,
    )
