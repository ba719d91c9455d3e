"""Organizer pages: dashboard, overview, profile, announcements and calls to action (and all routes)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedihub.accounts.service import role_rank
from fedihub.coalitions import calls, service
from fedihub.coalitions.avatars import MAX_UPLOAD_BYTES, AvatarImage, build_avatar, find_media
from fedihub.coalitions.movements import SUGGESTED_MOVEMENTS, movement_form_values, parse_movements
from fedihub.coalitions.profile import (
    parse_profile_form,
    profile_form_fields,
    save_profile,
)
from fedihub.errors import FedihubError, InvalidInput, NotFound, PayloadTooLarge
from fedihub.storage.models import Actor, Follow, Reaction, StoredObject
from fedihub.storage.queries import count_follows
from fedihub.web import manage_network as network
from fedihub.web.auth import coalitions_of, read_form, require_account
from fedihub.web.manage_common import Page, done, errors_of, form_fields, page, render
from fedihub.web.state import runtime_of
from fedihub.web.views import actor_view, call_view, post_view, remote_call_path, zones_with

# Each upload has its own random key, so the bytes behind a URL never change.
MEDIA_CACHE = "public, max-age=31536000, immutable"
TIMELINE = 40
OWN_ITEMS = 30


# --- Dashboard and overview -----------------------------------------------------------------------


async def dashboard(request: Request) -> Response:
    account = await require_account(request)
    async with runtime_of(request).ctx.sessions() as session:
        items = []
        for actor, role in await coalitions_of(session, account):
            followers = await count_follows(session, Follow.target_id == actor.id, Follow.state == "accepted")
            waiting = await count_follows(session, Follow.target_id == actor.id, Follow.state == "pending")
            can_admin = role_rank(role) >= role_rank("admin")
            items.append(
                {"actor": actor, "role": role, "followers": followers, "requests": waiting if can_admin else 0}
            )
    domain = runtime_of(request).settings.domain
    return render(request, "manage/dashboard.html", {"account": account, "coalitions": items, "domain": domain})


def object_key(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


async def overview(request: Request) -> Response:
    p = await page(request, "editor")
    ctx = runtime_of(request).ctx
    domain = runtime_of(request).settings.domain
    now = ctx.clock()
    actor_id = p.coalition.id
    async with ctx.sessions() as session:
        upcoming = await calls.upcoming_calls(session, now=now, actor_id=actor_id, limit=OWN_ITEMS)
        past = await calls.past_calls(session, now=now, actor_id=actor_id, limit=OWN_ITEMS)
        notes = (
            await session.scalars(
                select(StoredObject).where(
                    StoredObject.attributed_to_id == actor_id, StoredObject.type == "Note",
                    StoredObject.in_reply_to.is_(None), StoredObject.deleted_at.is_(None),
                ).order_by(StoredObject.id.desc()).limit(10)
            )
        ).all()
        followed = select(Follow.target_id).where(Follow.follower_id == actor_id, Follow.state == "accepted")
        # What followed actors boosted too: that is how calls carried by a hub reach its followers.
        boosted = select(Reaction.object_uri).where(Reaction.type == "Announce", Reaction.actor_id.in_(followed))
        timeline = (
            await session.scalars(
                select(StoredObject).where(
                    or_(StoredObject.attributed_to_id.in_(followed), StoredObject.uri.in_(boosted)),
                    StoredObject.deleted_at.is_(None), StoredObject.visibility.in_(("public", "unlisted")),
                )
                .order_by(func.coalesce(StoredObject.published, StoredObject.created_at).desc(), StoredObject.id.desc())
                .limit(TIMELINE)
            )
        ).all()
        boosters = await _boosters(session, followed, [row.uri for row in timeline])
        followers = await count_follows(session, Follow.target_id == actor_id, Follow.state == "accepted")
        following = await count_follows(session, Follow.follower_id == actor_id, Follow.state == "accepted")
        waiting = await count_follows(session, Follow.target_id == actor_id, Follow.state == "pending")
    own_calls = [
        {**_call_row(row, domain), "past": False} for row in upcoming
    ] + [{**_call_row(row, domain), "past": True} for row in past]
    note_views = [{"key": object_key(n.uri), **vars(post_view(n, domain))} for n in notes]
    items = [
        {"kind": "call", "view": call_view(row, domain), "author": actor_view(row.author, domain),
         "href": row.uri if row.is_local else remote_call_path(row.uri), "boosted_by": boosters.get(row.uri, [])}
        if row.type == "Event" and row.start_time is not None
        else {"kind": "post", "view": post_view(row, domain), "author": actor_view(row.author, domain),
              "boosted_by": boosters.get(row.uri, [])}
        for row in timeline
    ]
    return render(
        request, "manage/overview.html",
        p.context("overview", "Overview", calls=own_calls, notes=note_views, timeline=items, followers=followers,
                  following=following, requests=waiting),
    )


async def _boosters(session: AsyncSession, followed: Select[tuple[int]], uris: list[str]) -> dict[str, list[str]]:
    """Names of the followed actors (hubs, mostly) that boosted each of ``uris``."""
    if not uris:
        return {}
    rows = await session.execute(
        select(Reaction.object_uri, Actor.name, Actor.username)
        .join(Actor, Actor.id == Reaction.actor_id)
        .where(Reaction.type == "Announce", Reaction.object_uri.in_(uris), Reaction.actor_id.in_(followed))
        .order_by(Reaction.id)
    )
    found: dict[str, list[str]] = {}
    for uri, name, username in rows:
        found.setdefault(uri, []).append(name or username or "")
    return found


def _call_row(row: StoredObject, domain: str) -> dict[str, Any]:
    view = call_view(row, domain)
    return {"key": object_key(row.uri), "url": row.uri, "title": view.title, "when": view.when,
            "cancelled": view.cancelled}


# --- Profile --------------------------------------------------------------------------------------

PROFILE_FIELDS = (
    "name", "summary", "movements", "tags", "region_city", "region_state", "region_country", "latitude", "longitude",
    "website", "manually_approves_followers", "avatar",
)


async def profile_page(request: Request) -> Response:
    p = await page(request, "admin")
    if request.method == "GET":
        return _profile_form(p, profile_form_fields(p.coalition), {})
    form = await read_form(request)
    values = form_fields(form)
    try:
        data = parse_profile_form(values)
        avatar = await _read_avatar(form.get("avatar"))
        _, changed = await save_profile(
            runtime_of(request).ctx, p.handle, data, avatar=avatar, drop_avatar=bool(form.get("remove_avatar")),
        )
    except InvalidInput as exc:
        return _profile_form(p, values, errors_of(exc, PROFILE_FIELDS), exc.status_code)
    return done(f"{p.base}/profile", "profile" if changed else "profile-unchanged")


def _profile_form(p: Page, values: Mapping[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    context = p.context("profile", "Profile", values=values, errors=errors, suggested=SUGGESTED_MOVEMENTS)
    return render(p.request, "manage/profile.html", context, status)


async def _read_avatar(upload: Any) -> AvatarImage | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None  # no file chosen: the avatar stays as it is
    data = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the image is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB", field="avatar")
    return build_avatar(data)


# --- Announcements and deletion -------------------------------------------------------------------


async def announce(request: Request) -> Response:
    p = await page(request, "editor")
    if request.method == "GET":
        return render(request, "manage/announce.html", p.context("announce", "Announce", values={}, errors={}))
    values = form_fields(await read_form(request))
    try:
        await service.post_note(runtime_of(request).ctx, p.handle, str(values.get("text", "")))
    except InvalidInput as exc:
        context = p.context("announce", "Announce", values=values, errors=errors_of(exc, ("text",), "text"))
        return render(request, "manage/announce.html", context, exc.status_code)
    return done(p.base, "announced")


async def _own_object(p: Page, *, event: bool) -> StoredObject:
    """One of this coalition's own posts or calls, named by the uuid in the path; 404 otherwise."""
    key = p.request.path_params["object_id"]
    try:
        uuid.UUID(key)
    except ValueError:
        raise NotFound("no such call to action or post") from None
    ctx = runtime_of(p.request).ctx
    uri = f"{ctx.base_url}/o/{key}"
    async with ctx.sessions() as session:
        row = await session.scalar(select(StoredObject).where(StoredObject.uri == uri))
    if (
        row is None or not row.is_local or row.deleted_at is not None or row.attributed_to_id != p.coalition.id
        or (event and row.type != "Event")
    ):
        raise NotFound(f"{p.coalition.name} has no such call to action or post")
    return row


async def delete_object(request: Request) -> Response:
    p = await page(request, "editor")
    row = await _own_object(p, event=request.url.path.split("/")[3] == "calls")
    form = await read_form(request)
    if not form.get("confirm"):
        if row.type != "Event":
            raise InvalidInput("confirm the deletion first")
        return await _call_form(p, row, delete_errors={"confirm": "tick the box to confirm"})
    await service.delete_object(runtime_of(request).ctx, row.uri)
    return done(p.base, "deleted")


# --- Calls to action ------------------------------------------------------------------------------

CALL_FIELDS = (
    "title", "description", "start", "end", "timezone", "place_name", "address", "online_url", "movements", "tags",
    "region_city", "region_state", "region_country", "latitude", "longitude", "location",
)


async def _default_zone(p: Page) -> str:
    """The zone of the coalition's latest call (a coalition mostly acts in one place), else of the
    latest call on this server (an instance usually serves one region), else UTC."""
    latest = (
        select(StoredObject.timezone)
        .where(StoredObject.is_local.is_(True), StoredObject.type == "Event", StoredObject.timezone.is_not(None))
        .order_by(StoredObject.id.desc())
        .limit(1)
    )
    async with runtime_of(p.request).ctx.sessions() as session:
        zone = await session.scalar(latest.where(StoredObject.attributed_to_id == p.coalition.id))
        zone = zone or await session.scalar(latest)
    return zone or "UTC"


def _with_normalised_movements(values: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
    """Ticked movements and free tags as the same hashtags a coalition profile uses."""
    chosen = values.get("movements", [])
    tags = values.get("tags", "")
    movements = parse_movements(chosen if isinstance(chosen, list) else [chosen], tags if isinstance(tags, str) else "")
    return {**values, "movements": movements, "tags": ""}


async def new_call(request: Request) -> Response:
    p = await page(request, "editor")
    if request.method == "GET":
        c = p.coalition
        values: dict[str, Any] = {
            "timezone": await _default_zone(p), "region_city": c.region_city or "",
            "region_state": c.region_state or "", "region_country": c.region_country or "",
            **movement_form_values(c.movements or []),
        }
        return _render_call_form(p, None, values, {})
    values = form_fields(await read_form(request))
    try:
        data = calls.parse_call_form(_with_normalised_movements(values))
        await calls.create_call(runtime_of(request).ctx, p.handle, data)
    except InvalidInput as exc:
        return _render_call_form(p, None, values, errors_of(exc, CALL_FIELDS), exc.status_code)
    return done(p.base, "call-created")


async def edit_call(request: Request) -> Response:
    p = await page(request, "editor")
    row = await _own_object(p, event=True)
    if request.method == "GET":
        return await _call_form(p, row)
    values = form_fields(await read_form(request))
    try:
        data = calls.parse_call_form(_with_normalised_movements(values))
        await calls.update_call(runtime_of(request).ctx, row.uri, data)
    except InvalidInput as exc:
        return _render_call_form(p, row, values, errors_of(exc, CALL_FIELDS), exc.status_code)
    return done(p.base, "call-updated")


async def cancel_call(request: Request) -> Response:
    p = await page(request, "editor")
    row = await _own_object(p, event=True)
    values = form_fields(await read_form(request))
    try:
        await calls.cancel_call(runtime_of(request).ctx, row.uri, str(values.get("reason", "")))
    except FedihubError as exc:
        if exc.status_code >= 500:
            raise
        return await _call_form(p, row, cancel_errors=errors_of(exc, ("reason",), "reason"), status=exc.status_code)
    return done(p.base, "call-cancelled")


async def _call_form(
    p: Page, row: StoredObject, *, cancel_errors: dict[str, str] | None = None,
    delete_errors: dict[str, str] | None = None, status: int | None = None,
) -> Response:
    values: dict[str, Any] = dict(calls.to_form_fields(row))
    values.update(movement_form_values(t.strip() for t in str(values.get("movements", "")).split(",") if t.strip()))
    errors_status = 400 if (cancel_errors or delete_errors) else 200
    return _render_call_form(p, row, values, {}, status or errors_status, cancel_errors, delete_errors)


def _render_call_form(
    p: Page, row: StoredObject | None, values: Mapping[str, Any], errors: dict[str, str], status: int = 200,
    cancel_errors: dict[str, str] | None = None, delete_errors: dict[str, str] | None = None,
) -> Response:
    key = object_key(row.uri) if row is not None else None
    action = f"{p.base}/calls/{key}/edit" if key else f"{p.base}/calls/new"
    context = p.context(
        "edit-call" if row is not None else "new-call", "Edit the call to action" if row else "New call to action",
        call=row, key=key, action=action, values=values, errors=errors, zones=zones_with(values.get("timezone")),
        suggested=SUGGESTED_MOVEMENTS, cancelled=bool(row and row.event_status == "CANCELLED"),
        cancel_errors=cancel_errors or {}, delete_errors=delete_errors or {},
    )
    return render(p.request, "manage/call_form.html", context, status)


# --- Media ----------------------------------------------------------------------------------------


async def media(request: Request) -> Response:
    async with runtime_of(request).ctx.sessions() as session:
        row = await find_media(session, request.path_params["key"])
    if row is None:
        raise NotFound("no such image")
    return Response(row.data, media_type=row.content_type, headers={"Cache-Control": MEDIA_CACHE})


def routes() -> list[BaseRoute]:
    both = ["GET", "POST"]
    post = ["POST"]
    base = "/manage/{handle:str}"
    call = base + "/calls/{object_id:str}"
    return [
        Route("/media/{key:str}.png", media, name="media"),
        Route("/dashboard", dashboard, name="dashboard"),
        Route(base, overview, name="manage"),
        Route(f"{base}/profile", profile_page, methods=both, name="manage_profile"),
        Route(f"{base}/announce", announce, methods=both, name="manage_announce"),
        Route(f"{base}/calls/new", new_call, methods=both, name="manage_new_call"),
        Route(f"{call}/edit", edit_call, methods=both, name="manage_edit_call"),
        Route(f"{call}/cancel", cancel_call, methods=post, name="manage_cancel_call"),
        Route(f"{call}/delete", delete_object, methods=post, name="manage_delete_call"),
        Route(base + "/posts/{object_id:str}/delete", delete_object, methods=post, name="manage_delete_post"),
        Route(f"{base}/followers", network.followers_page, name="manage_followers"),
        Route(f"{base}/followers/remove", network.remove_follower, methods=post, name="manage_remove_follower"),
        Route(f"{base}/requests", network.requests_page, name="manage_requests"),
        Route(base + "/requests/{decision:str}", network.decide_request, methods=post, name="manage_decide"),
        Route(f"{base}/following", network.following_page, methods=both, name="manage_following"),
        Route(f"{base}/following/remove", network.unfollow, methods=post, name="manage_unfollow"),
        Route(f"{base}/deliveries", network.deliveries_page, name="manage_deliveries"),
    ]
