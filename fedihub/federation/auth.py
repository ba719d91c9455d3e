"""Authenticating signed requests from peers: key lookup with cache, refetch and owner checks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urldefrag

from sqlalchemy import select

from fedihub.errors import RemoteError
from fedihub.federation.actors import fetch_remote_actor, find_actor, host_of
from fedihub.federation.context import FederationContext
from fedihub.protocol.signatures import KeyLookup, PublicKeyInfo, verify_request
from fedihub.storage.models import Actor

log = logging.getLogger(__name__)


def _key_info(actor: Actor) -> PublicKeyInfo | None:
    if actor.public_key_id is None or actor.public_key_pem is None or actor.deleted_at is not None:
        return None
    return PublicKeyInfo(key_id=actor.public_key_id, owner=actor.uri, public_key_pem=actor.public_key_pem)


def make_key_lookup(ctx: FederationContext, *, claimed_actor: str | None = None) -> KeyLookup:
    """A key lookup for ``verify_request``: cache first, then the claimed actor, then the key URL.

    Fetching the claimed actor first covers keyIds that are not ``<actor>#fragment``
    (GoToSocial's ``/main-key``), as long as the actor document lists that exact key id.
    """

    async def lookup(key_id: str, refresh: bool) -> PublicKeyInfo | None:
        if not refresh:
            async with ctx.sessions() as session:
                cached = await session.scalar(select(Actor).where(Actor.public_key_id == key_id))
            if cached is not None:
                return _key_info(cached)
        candidates = []
        if claimed_actor and host_of(claimed_actor) == host_of(key_id):
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
                try:
                    info = _key_info(await fetch_remote_actor(ctx, uri))
                except RemoteError as exc:
                    log.info("key %s: could not fetch %s: %s", key_id, uri, exc)
                    continue
            if info is not None and info.key_id == key_id:
                return info
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
    """Verify the request's signature (draft-cavage or RFC 9421) and return the signing key."""
    return await verify_request(
        method=method,
        path=path,
        query=query,
        headers=headers,
        body=body,
        lookup=make_key_lookup(ctx, claimed_actor=claimed_actor),
        now=ctx.clock(),
    )
