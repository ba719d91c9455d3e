"""Receiving activities: authenticate, persist, answer 202; processing happens in the worker."""

from __future__ import annotations

from collections.abc import Mapping

from fedihub.errors import AuthenticationFailed, DomainBlocked, MalformedActivity, PayloadTooLarge, UnsupportedMediaType
from fedihub.federation.actors import find_actor, host_of
from fedihub.federation.auth import authenticate
from fedihub.federation.blocks import is_refused_domain
from fedihub.federation.context import FederationContext
from fedihub.federation.inbox_writer import InboxWriter, Receipt, VerifiedActivity
from fedihub.protocol.hosts import bare_host, has_userinfo
from fedihub.protocol.jsonld import canonical_document
from fedihub.protocol.limits import MAX_DOCUMENT_BYTES
from fedihub.protocol.media_types import media_type_of
from fedihub.protocol.reader import ActivityView, as_list, decode_json, id_of, read_activity

# Mastodon rejects serialized JSON above 1 MB (docs/federation/delivery.md "Limits"); so do we.
MAX_ACTIVITY_BYTES = MAX_DOCUMENT_BYTES
_JSON_TYPES = ("application/activity+json", "application/ld+json", "application/json")


def parse_activity_body(body: bytes, content_type: str | None) -> ActivityView:
    """The activity a POST carries, read from the one document we both verify and process: the body
    as plain JSON, or, when its @context defines terms we do not know, that body expanded and
    compacted against our contexts (protocol/jsonld.py). Raises the 4xx errors of the error tree."""
    if len(body) > MAX_ACTIVITY_BYTES:
        raise PayloadTooLarge(f"activities are limited to {MAX_ACTIVITY_BYTES} bytes")
    media_type = media_type_of(content_type)
    if media_type and media_type not in _JSON_TYPES:
        raise UnsupportedMediaType(f"expected application/activity+json, got {media_type}")
    doc = decode_json(body)  # MalformedActivity for invalid or too deeply nested JSON
    if not isinstance(doc, dict):
        raise MalformedActivity("the body must be a JSON object")
    return read_activity(canonical_document(doc))


async def receive_activity(
    ctx: FederationContext,
    writer: InboxWriter,
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    recipient_id: int | None = None,
) -> Receipt:
    """Authenticate one inbox POST and have ``writer`` store it for the worker.

    Raises the 4xx errors of the error tree (503 when it could not be stored); nothing is stored
    unless the activity is authentic, and an activity id seen before is acknowledged without
    storing it again. The blocks and keys come from this process's copies (intake_cache.py).
    """
    activity = parse_activity_body(body, headers.get("content-type"))
    refuse_userinfo_ids(activity)
    actor_host = host_of(activity.actor)
    # Before the signature and the database: a flood costs neither a key fetch nor a write.
    ctx.intake_limits.admit(
        host=bare_host(actor_host), actor=activity.actor, size=len(body), now=ctx.clock().timestamp()
    )
    if await is_refused_domain(ctx, actor_host):
        raise DomainBlocked(f"{actor_host} is blocked on this server")
    if activity.type == "Delete" and activity.object_id == activity.actor:
        # Mastodon answers 202 to the Delete of an actor it never knew without verifying: the
        # actor's key is gone by then (inboxes_controller.rb; SWICG report "Handling Deletes of actors").
        async with ctx.reading() as session:
            if await find_actor(session, activity.actor) is None:
                return Receipt.IGNORED
    key = await authenticate(
        ctx, method=method, path=path, query=query, headers=headers, body=body, claimed_actor=activity.actor
    )
    if key.owner != activity.actor:
        raise AuthenticationFailed(
            f"signed by {key.owner}, but the activity's actor is {activity.actor}",
            public_message="the signing key does not belong to the activity's actor",
        )
    if host_of(activity.id) != actor_host:
        raise AuthenticationFailed("the activity id is not on the actor's server")
    return await writer.store(VerifiedActivity(activity, key, recipient_id))


def refuse_userinfo_ids(activity: ActivityView) -> None:
    """No server mints ids like ``http://x@blocked.example/…``; they only served to slip past domain
    blocks (whose check saw the host ``x@blocked.example``), so they are refused outright."""
    ids: list[object] = [activity.id, activity.actor, activity.target_id]
    for item in as_list(activity.raw.get("object")):
        ids.append(item)
        if isinstance(item, Mapping):
            ids += [value for key in ("actor", "attributedTo") for value in as_list(item.get(key))]
    for value in ids:
        uri = id_of(value)
        if uri and has_userinfo(uri):
            raise MalformedActivity(
                f"{activity.id}: {uri} has user-info",
                public_message="ids with a user name before the host (http://name@host/…) are not accepted",
            )
