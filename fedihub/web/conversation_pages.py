"""Conversation pages: the replies under a call (shown, hidden by its organizers, the `replies`
collection), and a coalition's fediverse members with the mentions waiting for its organizers."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.accounts.service import coalitions_of, role_rank
from fedihub.coalitions import StoredObject, fedi_members, replies
from fedihub.coalitions.calls import get_call
from fedihub.discovery.lookup import look_up
from fedihub.errors import FedihubError, Gone, InvalidInput, NotFound
from fedihub.federation.actors import find_actor
from fedihub.hubs import review
from fedihub.hubs import service as hubs
from fedihub.i18n.active import N_, gettext
from fedihub.protocol import builders
from fedihub.web.forms import read_form
from fedihub.web.manage import _own_object
from fedihub.web.manage_common import Page, done, errors_of, page, render
from fedihub.web.manage_hubs import held_decision, held_views
from fedihub.web.negotiation import ActivityResponse, require_signed_fetch, wants_activitypub
from fedihub.web.state import runtime_of
from fedihub.web.views import actor_view, post_view

PAGE_SIZE = 50
# Who hides and shows replies: the people who run the coalition's calls.
MODERATOR = "editor"


def _key(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def _reply_view(reply: replies.Reply, domain: str, action: str | None, back: str) -> dict[str, Any]:
    return {"id": reply.id, "post": post_view(reply.row, domain, in_thread=True), "hidden": reply.hidden,
            "action": action, "back": back}


def _decide_path(call: StoredObject) -> str:
    return f"/manage/{call.author.username}/calls/{_key(call.uri)}/replies"


# --- Under the call ---------------------------------------------------------------------------------


async def replies_section(request: Request, call: StoredObject) -> dict[str, Any]:
    """What call.html shows of the discussion: the replies to our call, newest last; its organizers
    (editors and up of its coalition) also see the hidden ones, and the Hide and Show buttons."""
    if not call.is_local:
        return {}  # replies to another server's call live on that server
    runtime = runtime_of(request)
    account = getattr(request.state, "account", None)
    async with runtime.ctx.reading() as session:
        can_moderate = account is not None and any(
            actor.id == call.attributed_to_id and role_rank(role) >= role_rank(MODERATOR)
            for actor, role in await coalitions_of(session, account)
        )
        items = await replies.list_replies(session, call, with_hidden=can_moderate)
    action = _decide_path(call) if can_moderate else None
    domain = runtime.settings.domain
    return {"replies": [_reply_view(item, domain, action, "call") for item in items]}


async def manage_replies(request: Request) -> Response:
    """Every reply under one of the coalition's calls, hidden ones too, with Hide and Show."""
    p = await page(request, MODERATOR)
    call = await _own_object(p, event=True)
    ctx = runtime_of(request).ctx
    async with ctx.reading() as session:
        items = await replies.list_replies(session, call, with_hidden=True)
    domain = runtime_of(request).settings.domain
    views = [_reply_view(item, domain, _decide_path(call), "manage") for item in items]
    return render(request, "manage/call_replies.html", p.context(
        "overview", N_("Replies"), call=call, key=_key(call.uri), replies=views,
        hidden=sum(1 for item in items if item.hidden),
    ))


async def decide_reply(request: Request) -> Response:
    """POST …/calls/<uuid>/replies/hide or /show: from the call page (back=call) or the manage page."""
    p = await page(request, MODERATOR)
    form = await read_form(request)  # first: it checks the CSRF token
    decision = request.path_params["decision"]
    if decision not in ("hide", "show"):
        raise NotFound(gettext("hide or show, nothing else"))
    call = await _own_object(p, event=True)
    raw = form.text("reply")
    if not raw.isdigit():
        raise NotFound(N_("there is no such reply under this call"))
    ctx = runtime_of(request).ctx
    account = getattr(request.state, "account", None)
    async with ctx.sessions.begin() as session:
        await replies.set_hidden(session, call, int(raw), hidden=decision == "hide",
                                 account_id=account.id if account else None, now=ctx.clock())
    if form.text("back") == "call":
        return RedirectResponse(f"{call.uri[len(ctx.base_url):]}#reply-{raw}", status_code=303)
    return done(_decide_path(call), f"reply-{'hidden' if decision == 'hide' else 'shown'}")


async def _public_call(request: Request) -> StoredObject:
    ctx = runtime_of(request).ctx
    key = request.path_params["object_id"]
    async with ctx.reading() as session:
        try:
            call = await get_call(session, f"{ctx.base_url}/o/{key}")
        except NotFound:
            raise NotFound(N_("no call to action here")) from None
    if call.visibility not in ("public", "unlisted"):
        raise NotFound(N_("no call to action here"))
    return call


async def replies_collection(request: Request) -> Response:
    """/o/<uuid>/replies: the call's replies as an OrderedCollection of their ids (hidden ones left
    out), oldest first, its first page embedded as Mastodon embeds `first` in its own `replies`."""
    call = await _public_call(request)
    if not wants_activitypub(request):
        return RedirectResponse(f"{call.uri}#replies", status_code=303)
    await require_signed_fetch(request)
    raw = request.query_params.get("page")
    if raw is not None and (not raw.isdigit() or int(raw) < 1):
        raise InvalidInput(N_("page is a number from 1"))
    number = int(raw) if raw is not None else 1
    async with runtime_of(request).ctx.reading() as session:
        items = await replies.list_replies(session, call)
    collection_id = replies.replies_collection(call.uri)
    chunk = items[(number - 1) * PAGE_SIZE:number * PAGE_SIZE]
    first = builders.build_ordered_collection_page(
        page_id=f"{collection_id}?page={number}", part_of=collection_id, items=[item.row.uri for item in chunk],
        total_items=len(items),
        next_id=f"{collection_id}?page={number + 1}" if number * PAGE_SIZE < len(items) else None,
        prev_id=f"{collection_id}?page={number - 1}" if number > 1 else None,
    )
    if raw is not None:
        return ActivityResponse(first)
    doc = builders.build_ordered_collection(
        collection_id=collection_id, total_items=len(items), first=first, extra={"attributedTo": call.author.uri}
    )
    return ActivityResponse(doc)


async def reply_link(request: Request) -> Response:
    """/o/<uuid>/replies/<n>: one reply's place under the call; a hidden one is not found, a deleted one gone."""
    call = await _public_call(request)
    raw = request.path_params["reply_id"]
    if not raw.isdigit():
        raise NotFound(N_("there is no such reply under this call"))
    async with runtime_of(request).ctx.reading() as session:
        reply = await replies.get_reply(session, call, int(raw))
        shown = {item.id for item in await replies.list_replies(session, call)}
        deleted = reply.reply.deleted_at is not None
    if deleted:
        raise Gone(N_("its author deleted this reply"))
    if reply.id not in shown:
        raise NotFound(N_("there is no such reply under this call"))
    return RedirectResponse(f"{call.uri}#reply-{reply.id}", status_code=303)


# --- A coalition's fediverse members and its held mentions -------------------------------------------

# Marked for the catalogue (N_); shown through gettext.
MEMBER_NOTICES = {
    "member-added": N_("Added: their public posts that mention the coalition are announced to its followers."),
    "member-removed": N_("Removed from the list. What the coalition announced already stays."),
    "held-boosted": N_("Announced: the coalition's followers are getting it now."),
    "held-discarded": N_("Discarded: it will not be announced."),
    "held-retracted": N_("Its author deleted it meanwhile, so it was not announced; it left the list."),
}


async def members_page(request: Request) -> Response:
    p = await page(request, "admin")
    if request.method == "GET":
        return await _members(p, {}, {})
    values = (await read_form(request)).fields()
    target = str(values.get("member", "")).strip()
    runtime = runtime_of(request)
    try:
        if not target:
            raise InvalidInput(gettext("give the handle or the address of the account, like @alice@mastodon.example"),
                               field="member")
        found = await look_up(runtime.ctx, target, allow_private=runtime.settings.allow_private_addresses,
                              field="member")
        account = getattr(request.state, "account", None)
        async with runtime.ctx.sessions.begin() as session:
            await fedi_members.add_member(session, p.coalition, found.actor,
                                          account_id=account.id if account else None, now=runtime.ctx.clock())
    except FedihubError as exc:
        status = exc.status_code if exc.status_code < 500 else 400
        return await _members(p, values, errors_of(exc, ("member",), "member"), status)
    return done(f"{p.base}/fediverse", "member-added")


async def _members(p: Page, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    runtime = runtime_of(p.request)
    domain = runtime.settings.domain
    async with runtime.ctx.reading() as session:
        members = await fedi_members.list_members(session, p.coalition.id)
        held = await review.list_held_posts(session, p.coalition.id)
    context = p.context(
        "fediverse", "Fediverse members", values=values, errors=errors,
        members=[{"actor": actor, "view": actor_view(actor, domain)} for actor in members],
        held=held_views(held, domain), rate=runtime.settings.member_announces_per_hour,
        max_groups=runtime.settings.hub_max_addressed_groups,
    )
    context["notice"] = gettext(MEMBER_NOTICES.get(p.request.query_params.get("done", ""), "")) or context["notice"]
    return render(p.request, "manage/fediverse_members.html", context, status)


async def remove_member(request: Request) -> Response:
    p = await page(request, "admin")
    form = await read_form(request)
    async with runtime_of(request).ctx.sessions.begin() as session:
        actor = await find_actor(session, form.text("actor"))
        if actor is None or not await fedi_members.remove_member(session, p.coalition, actor.id):
            raise NotFound(gettext("that account is not on the list"))
    return done(f"{p.base}/fediverse", "member-removed")


async def decide_mention(request: Request) -> Response:
    p = await page(request, "admin")
    boost, held = await held_decision(request)
    ctx = runtime_of(request).ctx
    async with ctx.sessions.begin() as session:
        outcome = await hubs.decide_held_for(ctx, session, p.coalition, held, boost=boost)
    return done(f"{p.base}/fediverse", f"held-{outcome}")


def routes() -> list[BaseRoute]:
    base = "/manage/{handle:str}"
    call = base + "/calls/{object_id:str}"
    post = ["POST"]
    return [
        Route("/o/{object_id:str}/replies", replies_collection, name="replies_collection"),
        Route("/o/{object_id:str}/replies/{reply_id:str}", reply_link, name="reply_link"),
        Route(f"{call}/replies", manage_replies, name="manage_call_replies"),
        Route(call + "/replies/{decision:str}", decide_reply, methods=post, name="manage_decide_reply"),
        Route(f"{base}/fediverse", members_page, methods=["GET", "POST"], name="manage_fediverse"),
        Route(f"{base}/fediverse/remove", remove_member, methods=post, name="manage_fediverse_remove"),
        Route(base + "/fediverse/mentions/{decision:str}", decide_mention, methods=post,
              name="manage_fediverse_decide"),
    ]
