"""ActivityPub endpoints: actors, inboxes, outbox and follow collections, objects and activities."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from fedihub.coalitions import Actor
from fedihub.coalitions.actor_profile import PROFILE_CONTEXT, profile_properties
from fedihub.coalitions.replies import replies_collection
from fedihub.errors import FedihubError, Gone, NotFound, PayloadTooLarge
from fedihub.federation.actors import build_local_actor_document, find_actor, find_local_actor
from fedihub.federation.collections import (
    count_followers,
    count_following,
    count_outbox,
    find_activity,
    follow_collection_page,
    outbox_page,
)
from fedihub.federation.inbox import MAX_ACTIVITY_BYTES, receive_activity
from fedihub.federation.objects import find_object
from fedihub.hubs.service import RosterEntry, roster_page
from fedihub.hubs.settings import hub_region_of, hub_scope_of
from fedihub.i18n.active import N_
from fedihub.metrics import refusal_reason
from fedihub.protocol import builders
from fedihub.protocol.profile_reader import HUB_NAMESPACE
from fedihub.web import pages
from fedihub.web.negotiation import ActivityResponse, raw_path, require_signed_fetch, wants_activitypub
from fedihub.web.state import runtime_of

PAGE_SIZE = 50


def _as2(request: Request, doc: dict, status_code: int = 200) -> ActivityResponse:
    """An AS2 response; under authorized fetch it must never be stored by a shared cache."""
    return ActivityResponse(doc, status_code=status_code, signed_only=runtime_of(request).settings.authorized_fetch)


async def _local_actor(request: Request) -> Actor:
    runtime = runtime_of(request)
    async with runtime.ctx.reading() as session:
        actor = await find_local_actor(session, request.path_params["username"])
    if actor is None or actor.type == "Application":
        raise NotFound(N_("no coalition with that name here"))
    if actor.deleted_at is not None:
        raise Gone(N_("this coalition was deleted"))
    return actor


async def instance_actor(request: Request) -> Response:
    """The instance actor is always public, so peers in authorized-fetch mode can fetch our key."""
    runtime = runtime_of(request)
    async with runtime.ctx.reading() as session:
        actor = await find_actor(session, runtime.ctx.urls.instance_actor())
    if actor is None:
        raise NotFound(N_("no instance actor"))
    return ActivityResponse(build_local_actor_document(runtime.ctx, actor))


async def actor(request: Request) -> Response:
    local = await _local_actor(request)
    if not wants_activitypub(request):
        return await pages.coalition_page(request, local)
    await require_signed_fetch(request)
    runtime = runtime_of(request)
    return _as2(request, build_local_actor_document(runtime.ctx, local))


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_ACTIVITY_BYTES:
        raise PayloadTooLarge(f"activities are limited to {MAX_ACTIVITY_BYTES} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_ACTIVITY_BYTES:
            raise PayloadTooLarge(f"activities are limited to {MAX_ACTIVITY_BYTES} bytes")
    return bytes(body)


async def _receive(request: Request, recipient_id: int | None) -> Response:
    runtime = runtime_of(request)
    try:
        await receive_activity(
            runtime.ctx,
            runtime.inbox_writer,
            method=request.method,
            path=raw_path(request),
            query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=request.headers,
            body=await _read_body(request),
            recipient_id=recipient_id,
        )
    except FedihubError as exc:
        runtime.ctx.telemetry.inbox_answered(refusal_reason(exc))
        raise
    runtime.ctx.telemetry.inbox_answered("accepted")
    return Response(status_code=202)


async def shared_inbox(request: Request) -> Response:
    return await _receive(request, None)


async def actor_inbox(request: Request) -> Response:
    local = await _local_actor(request)
    return await _receive(request, local.id)


def _page_number(request: Request) -> int | None:
    raw = request.query_params.get("page")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise NotFound(N_("no such page"))
    return int(raw)


def _collection(collection_id: str, total: int, page: int | None, items: list) -> dict:
    if page is None:
        return builders.build_ordered_collection(
            collection_id=collection_id, total_items=total, first=f"{collection_id}?page=1"
        )
    next_id = f"{collection_id}?page={page + 1}" if page * PAGE_SIZE < total else None
    prev_id = f"{collection_id}?page={page - 1}" if page > 1 else None
    return builders.build_ordered_collection_page(
        page_id=f"{collection_id}?page={page}", part_of=collection_id, items=items, next_id=next_id,
        prev_id=prev_id, total_items=total,
    )


async def _follow_collection(request: Request, *, followers: bool) -> Response:
    local = await _local_actor(request)
    await require_signed_fetch(request)
    runtime = runtime_of(request)
    page = _page_number(request)
    async with runtime.ctx.reading() as session:
        total = await (count_followers if followers else count_following)(session, local.id)
        items: list = []
        if page is not None:
            items = await follow_collection_page(
                session, local.id, followers=followers, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
            )
    collection_id = local.followers_uri if followers else local.following_uri
    return _as2(request, _collection(collection_id or "", total, page, items))


async def followers(request: Request) -> Response:
    return await _follow_collection(request, followers=True)


async def following(request: Request) -> Response:
    return await _follow_collection(request, followers=False)


async def outbox(request: Request) -> Response:
    """Public Create and Announce activities, newest first."""
    local = await _local_actor(request)
    await require_signed_fetch(request)
    runtime = runtime_of(request)
    page = _page_number(request)
    async with runtime.ctx.reading() as session:
        total = await count_outbox(session, local.id)
        items: list = []
        if page is not None:
            items = await outbox_page(session, local.id, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    return _as2(request, _collection(local.outbox or "", total, page, items))


async def instance_collection(request: Request) -> Response:
    """The instance actor's collections exist (peers fetch them) but it never posts or follows."""
    runtime = runtime_of(request)
    name = request.path_params["collection"]
    if name not in ("outbox", "followers", "following", "featured"):
        raise NotFound(N_("no such collection"))
    doc = builders.build_ordered_collection(
        collection_id=f"{runtime.ctx.urls.instance_actor()}/{name}", total_items=0
    )
    doc["orderedItems"] = []
    return ActivityResponse(doc)


async def featured(request: Request) -> Response:
    """Pinned posts; none yet, but Mastodon fetches the collection when it discovers an actor."""
    local = await _local_actor(request)
    doc = builders.build_ordered_collection(collection_id=local.featured_uri or "", total_items=0)
    doc["orderedItems"] = []
    return ActivityResponse(doc)


def _roster_item(member: RosterEntry) -> dict:
    # preferredUsername, hubRegion and the structured `location` let a directory list the member
    # without fetching it (fedihub/directory/rosters.py); `fedihub:region` stays for older readers.
    actor = member.actor
    return {key: value for key, value in {
        "id": member.uri, "type": member.type, "name": member.name,
        "preferredUsername": actor.username if actor is not None else None, "url": member.url,
        "fedihub:hubScope": member.scope, "fedihub:hubRegion": hub_region_of(actor) if actor and member.scope else None,
        "fedihub:region": member.region,
        "location": profile_properties(actor).get("location") if actor is not None else None,
        "tag": [{"type": "Hashtag", "name": f"#{tag}"} for tag in member.movements] or None,
    }.items() if value}


async def hub_members(request: Request) -> Response:
    """A hub's public roster (issue 4): accepted members, with region and movements where known.

    The collection embeds its first page, as Mastodon embeds `first` in `replies`, so a small
    roster costs one request; `?page=N` pages carry `partOf`, `next` and `prev`.
    """
    local = await _local_actor(request)
    if not hub_scope_of(local):
        raise NotFound(N_("this coalition is not a hub"))
    number = _page_number(request)
    ctx = runtime_of(request).ctx
    async with ctx.reading() as session:
        roster = await roster_page(session, local.id, number or 1, PAGE_SIZE)
    collection_id = f"{local.uri}/members"
    extra = {"@context": [{"fedihub": HUB_NAMESPACE}, PROFILE_CONTEXT]}
    page = builders.build_ordered_collection_page(
        page_id=f"{collection_id}?page={roster.number}", part_of=collection_id,
        items=[_roster_item(member) for member in roster.entries], total_items=roster.total,
        next_id=f"{collection_id}?page={roster.number + 1}" if roster.has_next else None,
        prev_id=f"{collection_id}?page={roster.number - 1}" if roster.has_previous else None,
        extra=extra,
    )
    if number is not None:
        return _as2(request, page)
    doc = builders.build_ordered_collection(
        collection_id=collection_id, total_items=roster.total, first=page,
        extra={**extra, "attributedTo": local.uri},
    )
    return _as2(request, doc)


async def stored_object(request: Request) -> Response:
    runtime = runtime_of(request)
    uri = f"{runtime.ctx.base_url}/o/{request.path_params['object_id']}"
    async with runtime.ctx.reading() as session:
        row = await find_object(session, uri)
    if row is None or not row.is_local or row.visibility not in ("public", "unlisted"):
        raise NotFound(N_("no such post here"))
    if row.deleted_at is not None:
        if wants_activitypub(request):
            return ActivityResponse(builders.build_tombstone(row.uri, row.type, row.deleted_at), status_code=410)
        raise Gone(N_("this post was deleted"))
    if not wants_activitypub(request):
        return await pages.object_page(request, row)
    await require_signed_fetch(request)
    doc = row.data
    if row.type == "Event" and "replies" not in doc:  # a call published before replies were kept
        doc = {**doc, "replies": replies_collection(row.uri)}
    return _as2(request, doc)


async def _activity_response(request: Request, uri: str) -> Response:
    runtime = runtime_of(request)
    async with runtime.ctx.reading() as session:
        row = await find_activity(session, uri)
    # A report (Flag) was for the reported server alone; it is not published at its id.
    if row is None or row.type == "Flag":
        raise NotFound(N_("no such activity here"))
    if row.withdrawn_at is not None:
        raise Gone(N_("this activity was withdrawn"))
    await require_signed_fetch(request)
    return _as2(request, row.data)


async def activity(request: Request) -> Response:
    base = runtime_of(request).ctx.base_url
    return await _activity_response(request, f"{base}/a/{request.path_params['activity_id']}")


async def object_activity(request: Request) -> Response:
    """The Create of one of our objects lives at ``<object id>/activity``."""
    base = runtime_of(request).ctx.base_url
    return await _activity_response(request, f"{base}/o/{request.path_params['object_id']}/activity")
