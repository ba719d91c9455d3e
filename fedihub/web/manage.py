"""Organizer pages: dashboard, overview, profile, announcements and calls to action (and all routes)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedihub.coalitions import StoredObject, calls, service
from fedihub.coalitions.actor_profile import profile_of
from fedihub.coalitions.avatars import MAX_UPLOAD_BYTES, AvatarImage, build_avatar, find_media
from fedihub.coalitions.call_places import PAST_DATE, check_not_past
from fedihub.coalitions.movement_list import active_movements
from fedihub.coalitions.movements import movement_form_values, parse_movements
from fedihub.coalitions.profile import (
    parse_profile_form,
    profile_form_fields,
    save_profile,
)
from fedihub.coalitions.queries import latest_call_zone, own_notes
from fedihub.coalitions.timeline import TimelineEntry, organizer_timeline
from fedihub.errors import FedihubError, InvalidInput, NotFound
from fedihub.federation.collections import count_followers, count_following
from fedihub.federation.objects import find_object
from fedihub.i18n.active import N_, gettext
from fedihub.web import call_place_form as places
from fedihub.web import dashboard as dashboard_page
from fedihub.web import manage_network as network
from fedihub.web.forms import PostedForm, read_form
from fedihub.web.images import IMAGE_FIELDS, local_banner, read_image_fields
from fedihub.web.manage_common import Page, done, errors_of, page, render
from fedihub.web.state import runtime_of
from fedihub.web.views import actor_view, call_languages, call_view, post_view, remote_call_path, zones_with

# Each upload has its own random key, so the bytes behind a URL never change.
MEDIA_CACHE = "public, max-age=31536000, immutable"
OWN_ITEMS = 30
OWN_NOTES = 10
# The form fields that repeat (ticked movements); every other field has one value.
MULTI = ("movements",)


# --- Overview -----------------------------------------------------------------------


def object_key(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


async def overview(request: Request) -> Response:
    p = await page(request, "editor")
    ctx = runtime_of(request).ctx
    domain = runtime_of(request).settings.domain
    now = ctx.clock()
    actor_id = p.coalition.id
    async with ctx.reading() as session:
        upcoming = await calls.upcoming_calls(session, now=now, actor_id=actor_id, limit=OWN_ITEMS)
        past = await calls.past_calls(session, now=now, actor_id=actor_id, limit=OWN_ITEMS)
        notes = await own_notes(session, actor_id, limit=OWN_NOTES)
        timeline = await organizer_timeline(session, actor_id)
        followers = await count_followers(session, actor_id)
        following = await count_following(session, actor_id)
        waiting = await count_followers(session, actor_id, state="pending")
    own_calls = [
        {**_call_row(row, domain), "past": False} for row in upcoming
    ] + [{**_call_row(row, domain), "past": True} for row in past]
    note_views = [{"key": object_key(n.uri), **vars(post_view(n, domain))} for n in notes]
    return render(
        request, "manage/overview.html",
        p.context("overview", "Overview", calls=own_calls, notes=note_views,
                  timeline=[_timeline_item(entry, domain) for entry in timeline], followers=followers,
                  following=following, requests=waiting),
    )


def _timeline_item(entry: TimelineEntry, domain: str) -> dict[str, Any]:
    row = entry.row
    if row.type == "Event" and row.start_time is not None:
        return {"kind": "call", "view": call_view(row, domain), "author": actor_view(row.author, domain),
                "href": row.uri if row.is_local else remote_call_path(row.uri), "boosted_by": entry.boosted_by}
    return {"kind": "post", "view": post_view(row, domain), "author": actor_view(row.author, domain),
            "boosted_by": entry.boosted_by}


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
        return _profile_form(p, {**profile_form_fields(p.coalition), "image_alt": p.coalition.image_alt or ""}, {})
    form = await read_form(request)
    values = form.fields(multi=MULTI)
    ctx = runtime_of(request).ctx
    try:
        image = await read_image_fields(request, form, values, current=p.coalition.image_url)
        data = parse_profile_form(values)
        avatar = await _read_avatar(form)
        async with ctx.sessions.begin() as session:
            _, changed = await save_profile(
                ctx, session, p.handle, data, avatar=avatar, drop_avatar=form.flag("remove_avatar"),
                banner=image,
            )
    except InvalidInput as exc:
        return _profile_form(p, values, errors_of(exc, PROFILE_FIELDS + IMAGE_FIELDS), exc.status_code)
    return done(f"{p.base}/profile", "profile" if changed else "profile-unchanged")


def _profile_form(p: Page, values: Mapping[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    context = p.context("profile", "Profile", values=values, errors=errors, suggested=active_movements().choices,
                        banner=local_banner(p.coalition.image_url, p.coalition.image_alt))
    return render(p.request, "manage/profile.html", context, status)


async def _read_avatar(form: PostedForm) -> AvatarImage | None:
    data = await form.upload("avatar", max_bytes=MAX_UPLOAD_BYTES, too_large=N_("the image is larger than %(size)s"))
    if data is None:
        return None  # no file chosen: the avatar stays as it is
    return await anyio.to_thread.run_sync(build_avatar, data)  # decoding a photo must not stall the event loop


# --- Announcements and deletion -------------------------------------------------------------------


async def announce(request: Request) -> Response:
    p = await page(request, "editor")
    if request.method == "GET":
        return render(request, "manage/announce.html", p.context("announce", "Announce", values={}, errors={}))
    form = await read_form(request)
    values = form.fields()
    ctx = runtime_of(request).ctx
    try:
        async with ctx.sessions.begin() as session:
            await service.post_note(ctx, session, p.handle, form.text("text", strip=False))
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
        raise NotFound(gettext("no such call to action or post")) from None
    ctx = runtime_of(p.request).ctx
    uri = f"{ctx.base_url}/o/{key}"
    async with ctx.reading() as session:
        row = await find_object(session, uri)
    if (
        row is None or not row.is_local or row.deleted_at is not None or row.attributed_to_id != p.coalition.id
        or (event and row.type != "Event")
    ):
        raise NotFound(gettext("%(name)s has no such call to action or post", name=p.coalition.name))
    return row


async def delete_object(request: Request) -> Response:
    p = await page(request, "editor")
    row = await _own_object(p, event=request.url.path.split("/")[3] == "calls")
    form = await read_form(request)
    if not form.flag("confirm"):
        if row.type != "Event":
            raise InvalidInput(gettext("confirm the deletion first"))
        return await _call_form(p, row, delete_errors={"confirm": gettext("tick the box to confirm")})
    ctx = runtime_of(request).ctx
    async with ctx.sessions.begin() as session:
        await service.delete_object(ctx, session, row.uri)
    return done(p.base, "deleted")


# --- Calls to action ------------------------------------------------------------------------------

def _asks_past(start_error: str) -> bool:
    # The error as raised (coalitions/call_places.py check_not_past), in English or the reader's language.
    return start_error in (PAST_DATE, gettext(PAST_DATE))


CALL_FIELDS = (
    "title", "description", "start", "end", "timezone", "place_name", "address", "online_url", "movements", "tags",
    "region_city", "region_state", "region_country", "latitude", "longitude", "location", places.PAST_FIELD, "language",
)


async def _default_zone(p: Page) -> str:
    """The zone of the coalition's place, else of its latest call (or this server's), else none.

    Never UTC by default: an empty choice means "found from the place" when the form is sent.
    """
    zone = await places.coalition_zone(profile_of(p.coalition))
    if zone is None:
        async with runtime_of(p.request).ctx.reading() as session:
            zone = await latest_call_zone(session, p.coalition.id)
    return zone or ""


def _with_normalised_movements(values: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
    """Ticked movements and free tags as the same hashtags a coalition profile uses."""
    chosen = values.get("movements", [])
    tags = values.get("tags", "")
    movements = parse_movements(chosen if isinstance(chosen, list) else [chosen], tags if isinstance(tags, str) else "")
    return {**values, "movements": movements, "tags": ""}


async def new_call(request: Request) -> Response:
    p = await page(request, "editor")
    if request.method == "GET":
        profile = profile_of(p.coalition)
        values: dict[str, Any] = {
            "timezone": await _default_zone(p), "region_city": profile.region_city or "",
            "region_state": profile.region_state or "", "region_country": profile.region_country or "",
            "latitude": _coordinate(profile.latitude), "longitude": _coordinate(profile.longitude),
            # Written, most likely, in the language the organizer reads this interface in.
            "language": request.state.language,
            **movement_form_values(profile.movements or []),
        }
        return await _render_call_form(p, None, values, {})
    form = await read_form(request)
    values = form.fields(multi=MULTI)
    ctx = runtime_of(request).ctx
    try:
        image = await read_image_fields(request, form, values, current=None)
        values = (await places.locate_posted(request, values)).fields
        data = calls.parse_call_form(_with_normalised_movements(values))
        check_not_past(data.start, data.end, ctx.clock(), confirmed=places.past_confirmed(values))
        async with ctx.sessions.begin() as session:
            await calls.publish_call(ctx, session, p.handle, data, image=image)
    except InvalidInput as exc:
        return await _render_call_form(p, None, values, errors_of(exc, CALL_FIELDS + IMAGE_FIELDS), exc.status_code)
    return done(p.base, "call-created")


async def edit_call(request: Request) -> Response:
    p = await page(request, "editor")
    row = await _own_object(p, event=True)
    if request.method == "GET":
        return await _call_form(p, row)
    form = await read_form(request)
    values = form.fields(multi=MULTI)
    ctx = runtime_of(request).ctx
    try:
        image = await read_image_fields(request, form, values, current=row.image_url)
        values = (await places.locate_posted(request, values)).fields
        data = calls.parse_call_form(_with_normalised_movements(values))
        if row.start_time is None or data.start != row.start_time:  # moved into the past: ask too
            check_not_past(data.start, data.end, ctx.clock(), confirmed=places.past_confirmed(values))
        async with ctx.sessions.begin() as session:
            await calls.update_call(ctx, session, row.uri, data, image=image)
    except InvalidInput as exc:
        return await _render_call_form(p, row, values, errors_of(exc, CALL_FIELDS + IMAGE_FIELDS), exc.status_code)
    return done(p.base, "call-updated")


async def cancel_call(request: Request) -> Response:
    p = await page(request, "editor")
    row = await _own_object(p, event=True)
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    try:
        async with ctx.sessions.begin() as session:
            await calls.cancel_call(ctx, session, row.uri, form.text("reason", strip=False))
    except FedihubError as exc:
        if exc.status_code >= 500:
            raise
        return await _call_form(p, row, cancel_errors=errors_of(exc, ("reason",), "reason"), status=exc.status_code)
    return done(p.base, "call-cancelled")


async def _call_form(
    p: Page, row: StoredObject, *, cancel_errors: dict[str, str] | None = None,
    delete_errors: dict[str, str] | None = None, status: int | None = None,
) -> Response:
    values: dict[str, Any] = {**calls.to_form_fields(row), "image_alt": row.image_alt or ""}
    values.update(movement_form_values(t.strip() for t in str(values.get("movements", "")).split(",") if t.strip()))
    errors_status = 400 if (cancel_errors or delete_errors) else 200
    return await _render_call_form(p, row, values, {}, status or errors_status, cancel_errors, delete_errors)


def _coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


async def _render_call_form(
    p: Page, row: StoredObject | None, values: Mapping[str, Any], errors: dict[str, str], status: int = 200,
    cancel_errors: dict[str, str] | None = None, delete_errors: dict[str, str] | None = None,
) -> Response:
    key = object_key(row.uri) if row is not None else None
    action = f"{p.base}/calls/{key}/edit" if key else f"{p.base}/calls/new"
    context = p.context(
        "edit-call" if row is not None else "new-call",
        N_("Edit the call to action") if row else N_("New call to action"),
        call=row, key=key, action=action, values=values, errors=errors, zones=zones_with(values.get("timezone")),
        suggested=active_movements().choices, cancelled=bool(row and row.event_status == "CANCELLED"),
        call_languages=call_languages(values.get("language")),
        cancel_errors=cancel_errors or {}, delete_errors=delete_errors or {},
        ask_past=_asks_past(errors.get("start", "")),
        pick_map=await places.pick_map(values, profile_of(p.coalition)),
        banner=local_banner(row.image_url, row.image_alt) if row is not None else None,
    )
    return render(p.request, "manage/call_form.html", context, status)


# --- Media ----------------------------------------------------------------------------------------


async def media(request: Request) -> Response:
    async with runtime_of(request).ctx.reading() as session:
        row = await find_media(session, request.path_params["key"])
    if row is None:
        raise NotFound(N_("no such image"))
    return Response(row.data, media_type=row.content_type, headers={"Cache-Control": MEDIA_CACHE})


def routes() -> list[BaseRoute]:
    both = ["GET", "POST"]
    post = ["POST"]
    base = "/manage/{handle:str}"
    call = base + "/calls/{object_id:str}"
    return [
        Route("/media/{key:str}.png", media, name="media"),
        Route("/dashboard", dashboard_page.dashboard, name="dashboard"),
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
