"""Receiving activities: authenticate, persist, answer 202; processing happens in the worker."""

from __future__ import annotations

import enum
from collections.abc import Mapping

from sqlalchemy.exc import IntegrityError

from fedihub.errors import AuthenticationFailed, DomainBlocked, MalformedActivity, PayloadTooLarge, UnsupportedMediaType
from fedihub.federation.actors import find_actor, host_of
from fedihub.federation.auth import authenticate
from fedihub.federation.blocks import is_blocked
from fedihub.federation.context import FederationContext
from fedihub.protocol.hosts import bare_host, has_userinfo
from fedihub.protocol.jsonld import canonical_document
from fedihub.protocol.limits import MAX_DOCUMENT_BYTES
from fedihub.protocol.media_types import media_type_of
from fedihub.protocol.reader import ActivityView, as_list, decode_json, id_of, read_activity
from fedihub.storage.models import InboxItem

# Mastodon rejects serialized JSON above 1 MB (docs/federation/delivery.md "Limits"); so do we.
MAX_ACTIVITY_BYTES = MAX_DOCUMENT_BYTES
_JSON_TYPES = ("application/activity+json", "application/ld+json", "application/json")


class Receipt(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


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
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    recipient_id: int | None = None,
) -> Receipt:
    """Authenticate one inbox POST and store it for the worker.

    Raises the 4xx errors of the error tree; nothing is stored unless the activity is
    authentic, and an activity id seen before is acknowledged without storing it again.
    """
    activity = parse_activity_body(body, headers.get("content-type"))
    refuse_userinfo_ids(activity)
    actor_host = host_of(activity.actor)
    # Before the signature and the database: a flood costs neither a key fetch nor a write.
    ctx.intake_limits.admit(
        host=bare_host(actor_host), actor=activity.actor, size=len(body), now=ctx.clock().timestamp()
    )
    async with ctx.sessions() as session:
        if await is_blocked(session, actor_host):
            raise DomainBlocked(f"{actor_host} is blocked on this server")
        known_actor = await find_actor(session, activity.actor)
    # Mastodon answers 202 to the Delete of an actor it never knew without verifying: the
    # actor's key is gone by then (inboxes_controller.rb; SWICG report "Handling Deletes of actors").
    if activity.type == "Delete" and activity.object_id == activity.actor and known_actor is None:
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
    return await store_inbox_item(ctx, activity, recipient_id=recipient_id)


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


async def store_inbox_item(ctx: FederationContext, activity: ActivityView, *, recipient_id: int | None) -> Receipt:
    now = ctx.clock()
    try:
        async with ctx.sessions.begin() as session:
            session.add(
                InboxItem(
                    activity_uri=activity.id,
                    activity_type=activity.type,
                    actor_uri=activity.actor,
                    recipient_id=recipient_id,
                    payload=activity.raw,
                    state="pending",
                    attempts=0,
                    next_attempt_at=now,
                    received_at=now,
                )
            )
    except IntegrityError:
        return Receipt.DUPLICATE
    ctx.notify_work()
    return Receipt.ACCEPTED
