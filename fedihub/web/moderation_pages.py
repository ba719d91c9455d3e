"""Moderation pages: the instance admins' reports, blocks and held posts, and a coalition owner's own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.errors import FedihubError, InvalidInput
from fedihub.federation import blocks
from fedihub.federation.actors import resolve_target
from fedihub.federation.context import FederationContext
from fedihub.hubs import service as hub_service
from fedihub.hubs.unboosting import unboost_author
from fedihub.i18n.active import N_, gettext
from fedihub.moderation import actor_blocks, reports
from fedihub.pledges.blocked import refuse_blocked
from fedihub.web.auth import require_instance_admin
from fedihub.web.forms import PostedForm, read_form
from fedihub.web.manage_common import Page, date_text, page
from fedihub.web.state import runtime_of

ADMIN = "/admin/moderation"
# What just happened, shown once after a redirect (?done=…); fixed texts, nothing reflected.
# Marked for the catalogue (N_); shown through gettext.
NOTICES = {
    "reported": N_("The report is on its way to that server, sent by this server's own actor: it does not name you."),
    "resolved": N_("The report's state is changed."),
    "blocked": N_("Blocked. Follows with that actor are gone and what it sent before is no longer shown."),
    "already-blocked": N_("That was already blocked."),
    "unblocked": N_("The block is lifted."),
    "domain-blocked": N_("The server is blocked."),
    "domain-unblocked": N_("The server is no longer blocked."),
}
FORMS = ("report", "block", "domain")


async def held_hub_posts(request: Request) -> list[dict[str, Any]]:
    """The posts every hub here holds back for its admins (hubs/review.py), with a link to decide them.

    Each item is shown with its ``hub``, ``author``, ``object`` (id), ``reason``, ``held_at`` and
    ``review_url`` keys.
    """
    async with runtime_of(request).ctx.reading() as session:
        items = await hub_service.held_posts(session, None)
    return [
        {
            "hub": item.hub.name or item.hub.username or item.hub.uri,
            "author": item.member.name or item.member.uri,
            "object": item.object_uri,
            "reason": item.reason_text,
            "held_at": date_text(item.held_at),
            "review_url": f"/manage/{item.hub.username}/review",
        }
        for item in items
    ]


def _render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    context.setdefault("errors", {})
    context.setdefault("values", {})
    context.setdefault("forms", "")
    context["notice"] = context.get("notice") or gettext(NOTICES.get(request.query_params.get("done", ""), "")) or None
    response = request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _done(path: str, what: str) -> Response:
    return RedirectResponse(f"{path}?done={what}", status_code=303)


def _report_view(report: Any, coalition_uri: str | None = None) -> dict[str, Any]:
    """What the page shows of a report; for a coalition's owners, of an inbound report only what is
    the coalition's (a report may also name another coalition's posts, which are not theirs to read)."""
    inbound = report.direction == "inbound"
    snapshot = report.snapshot or []
    objects = report.object_uris or []
    if coalition_uri is not None and inbound:
        snapshot = [item for item in snapshot if coalition_uri in (item.get("uri"), item.get("author"))]
        objects = []
    return {
        "id": report.id, "inbound": inbound,
        "server": report.origin_host if inbound else report.target_host,
        "reporter": report.reporter_uri, "when": date_text(report.received_at),
        "when_iso": report.received_at.isoformat(), "comment": report.comment or "",
        "objects": objects, "snapshot": snapshot, "resolved": report.resolved_at is not None,
    }


def _block_view(block: Any) -> dict[str, Any]:
    actor = block.actor
    return {"id": block.id, "uri": actor.uri, "handle": actor.handle if actor.username else actor.uri,
            "name": actor.name or "", "reason": block.reason or "", "when": date_text(block.created_at)}


async def _lists(ctx: FederationContext, coalition: Any | None) -> dict[str, Any]:
    coalition_id = coalition.id if coalition is not None else None
    async with ctx.reading() as session:
        found = await reports.list_reports(session, coalition_id=coalition_id)
        blocked = await actor_blocks.list_actor_blocks(session, coalition_id=coalition_id)
        domains = await blocks.list_blocks(session) if coalition is None else []
    coalition_uri = coalition.uri if coalition is not None else None
    return {"reports": [_report_view(r, coalition_uri) for r in found],
            "actor_blocks": [_block_view(b) for b in blocked], "domain_blocks": domains}


def _report_values(form: PostedForm) -> dict[str, str]:
    return {"actor": form.text("actor"), "objects": form.text("objects"), "comment": form.text("comment")}


async def _send_report(request: Request, form: PostedForm, account_id: int, coalition: Any | None) -> None:
    values = _report_values(form)
    if not values["actor"]:
        raise InvalidInput(gettext("give the handle or address of the actor to report"), field="actor")
    ctx = runtime_of(request).ctx
    reported = await resolve_target(ctx, values["actor"])
    async with ctx.sessions.begin() as session:
        await reports.send_report(
            ctx, session, reported=reported, object_uris=values["objects"].split(), comment=values["comment"],
            sent_by=account_id, coalition=coalition,
        )


async def _block(request: Request, form: PostedForm, coalition: Any | None) -> bool:
    target = form.text("actor")
    if not target:
        raise InvalidInput(gettext("give the handle or address of the actor to block"), field="actor")
    ctx = runtime_of(request).ctx
    actor = await resolve_target(ctx, target)
    if coalition is not None and actor.id == coalition.id:
        raise InvalidInput(gettext("a coalition cannot block itself"), field="actor")
    async with ctx.sessions.begin() as session:
        added = await actor_blocks.block_actor(ctx, session, actor, coalition=coalition, reason=form.text("reason"))
        if added:
            # One transaction: the block, and what it ends in the hubs and pledges: "never boost it"
            # holds for what our hubs boosted before, and its pledges are refused as organizers refuse.
            scope = coalition.id if coalition is not None else None
            await unboost_author(ctx, session, actor, hub_id=scope)
            await refuse_blocked(ctx, session, actor.uri, author_id=scope)
    return added


def _field_error(exc: FedihubError, default: str) -> dict[str, str]:
    text = exc.public_message
    return {exc.field or default: text[:1].upper() + text[1:]}


# --- Instance admins ------------------------------------------------------------------------------


async def admin_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    ctx = runtime_of(request).ctx
    context = {**await _lists(ctx, None), "held": await held_hub_posts(request), **extra}
    return _render(request, "admin/moderation.html", context, status_code)


async def admin_moderation(request: Request) -> Response:
    await require_instance_admin(request)
    # A call page's "Report it" link fills the report form in (nothing is sent until it is submitted).
    prefill = {name: request.query_params.get(name, "")[:2048] for name in ("actor", "objects")}
    if any(prefill.values()):
        return await admin_page(request, forms="report", values={**prefill, "comment": ""})
    return await admin_page(request)


async def admin_report(request: Request) -> Response:
    account = await require_instance_admin(request)
    form = await read_form(request)
    try:
        await _send_report(request, form, account.id, None)
    except FedihubError as exc:
        return await admin_page(request, exc.status_code, forms="report", values=_report_values(form),
                                errors=_field_error(exc, "actor"))
    return _done(ADMIN, "reported")


async def admin_resolve(request: Request) -> Response:
    account = await require_instance_admin(request)
    await read_form(request)
    ctx = runtime_of(request).ctx
    async with ctx.sessions.begin() as session:
        await reports.resolve_report(ctx, session, int(request.path_params["report_id"]), account_id=account.id)
    return _done(ADMIN, "resolved")


async def admin_block_actor(request: Request) -> Response:
    await require_instance_admin(request)
    form = await read_form(request)
    try:
        added = await _block(request, form, None)
    except FedihubError as exc:
        values = {"actor": form.text("actor"), "reason": form.text("reason")}
        return await admin_page(request, exc.status_code, forms="block", values=values,
                                errors=_field_error(exc, "actor"))
    return _done(ADMIN, "blocked" if added else "already-blocked")


async def admin_unblock_actor(request: Request) -> Response:
    await require_instance_admin(request)
    await read_form(request)
    async with runtime_of(request).ctx.sessions.begin() as session:
        await actor_blocks.unblock_actor(session, int(request.path_params["block_id"]), coalition_id=None)
    return _done(ADMIN, "unblocked")


async def admin_block_domain(request: Request) -> Response:
    await require_instance_admin(request)
    form = await read_form(request)
    ctx = runtime_of(request).ctx
    try:
        async with ctx.sessions.begin() as session:
            added = await blocks.block_domain(ctx, session, form.text("domain"), form.text("reason") or None)
    except FedihubError as exc:
        values = {"domain": form.text("domain"), "reason": form.text("reason")}
        return await admin_page(request, exc.status_code, forms="domain", values=values,
                                errors=_field_error(exc, "domain"))
    return _done(ADMIN, "domain-blocked" if added else "already-blocked")


async def admin_unblock_domain(request: Request) -> Response:
    await require_instance_admin(request)
    form = await read_form(request)
    async with runtime_of(request).ctx.sessions.begin() as session:
        await blocks.unblock_domain(runtime_of(request).ctx, session, form.text("domain"))
    return _done(ADMIN, "domain-unblocked")


# --- A coalition's owners --------------------------------------------------------------------------


async def _coalition_page(p: Page, status_code: int = 200, **extra: Any) -> Response:
    ctx = runtime_of(p.request).ctx
    context = p.context("moderation", "Moderation", **await _lists(ctx, p.coalition), **extra)
    return _render(p.request, "manage/moderation.html", context, status_code)


async def coalition_moderation(request: Request) -> Response:
    return await _coalition_page(await page(request, "owner"))


async def coalition_report(request: Request) -> Response:
    p = await page(request, "owner")
    form = await read_form(request)
    account = request.state.account
    try:
        await _send_report(request, form, account.id, p.coalition)
    except FedihubError as exc:
        return await _coalition_page(p, exc.status_code, forms="report", values=_report_values(form),
                                     errors=_field_error(exc, "actor"))
    return _done(f"{p.base}/moderation", "reported")


async def coalition_resolve(request: Request) -> Response:
    p = await page(request, "owner")
    await read_form(request)
    ctx = runtime_of(request).ctx
    async with ctx.sessions.begin() as session:
        await reports.resolve_report(ctx, session, int(request.path_params["report_id"]),
                                     account_id=request.state.account.id, coalition_id=p.coalition.id)
    return _done(f"{p.base}/moderation", "resolved")


async def coalition_block(request: Request) -> Response:
    p = await page(request, "owner")
    form = await read_form(request)
    try:
        added = await _block(request, form, p.coalition)
    except FedihubError as exc:
        values = {"actor": form.text("actor"), "reason": form.text("reason")}
        return await _coalition_page(p, exc.status_code, forms="block", values=values,
                                     errors=_field_error(exc, "actor"))
    return _done(f"{p.base}/moderation", "blocked" if added else "already-blocked")


async def coalition_unblock(request: Request) -> Response:
    p = await page(request, "owner")
    await read_form(request)
    async with runtime_of(request).ctx.sessions.begin() as session:
        await actor_blocks.unblock_actor(session, int(request.path_params["block_id"]), coalition_id=p.coalition.id)
    return _done(f"{p.base}/moderation", "unblocked")


def routes() -> Sequence[BaseRoute]:
    post = ["POST"]
    base = "/manage/{handle:str}/moderation"
    return [
        Route(ADMIN, admin_moderation, name="admin_moderation"),
        Route(f"{ADMIN}/reports", admin_report, methods=post, name="admin_report"),
        Route(ADMIN + "/reports/{report_id:int}/resolve", admin_resolve, methods=post, name="admin_resolve_report"),
        Route(f"{ADMIN}/actors", admin_block_actor, methods=post, name="admin_block_actor"),
        Route(ADMIN + "/actors/{block_id:int}/remove", admin_unblock_actor, methods=post, name="admin_unblock_actor"),
        Route(f"{ADMIN}/domains", admin_block_domain, methods=post, name="admin_block_domain"),
        Route(f"{ADMIN}/domains/remove", admin_unblock_domain, methods=post, name="admin_unblock_domain"),
        Route(base, coalition_moderation, name="manage_moderation"),
        Route(f"{base}/reports", coalition_report, methods=post, name="manage_report"),
        Route(base + "/reports/{report_id:int}/resolve", coalition_resolve, methods=post,
              name="manage_resolve_report"),
        Route(f"{base}/blocks", coalition_block, methods=post, name="manage_block_actor"),
        Route(base + "/blocks/{block_id:int}/remove", coalition_unblock, methods=post, name="manage_unblock_actor"),
    ]
