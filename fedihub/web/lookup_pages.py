"""Finding coalitions on the web: look one up and follow it or add it to a hub; admins import a list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from fedihub.accounts.service import Account
from fedihub.discovery.csv_rows import MAX_ROWS, ImportRow, read_rows
from fedihub.discovery.importer import Summary, run_import
from fedihub.discovery.lookup import LookupResult, look_up, relations_of
from fedihub.discovery.resolve import LookupFailed
from fedihub.errors import FedihubError, InvalidInput, PermissionDenied
from fedihub.federation import follows
from fedihub.federation.actors import Actor, resolve_target
from fedihub.hubs import service as hubs
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import N_, gettext
from fedihub.web.auth import coalitions_of, require_account, require_coalition_role, require_instance_admin
from fedihub.web.forms import MAX_FORM_BYTES, read_form
from fedihub.web.state import runtime_of
from fedihub.web.views import actor_view

# What just happened, shown once after a redirect (?done=…); fixed texts, nothing reflected.
# Marked for the catalogue (N_); shown through gettext.
NOTICES = {
    "followed": N_("Follow request sent. Its posts and calls reach your coalition once it accepts."),
    "added": N_("The hub asked to follow it. Its calls are boosted once it accepts."),
    "approved": N_("It had asked to join the hub: it is a member now."),
}
ROWS_MARKER = "<!--import-rows-->"
SUMMARY_MARKER = "<!--import-summary-->"


def _render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    context.setdefault("errors", {})
    response = request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "private, no-store"  # personal pages with CSRF tokens
    return response


async def _organizer(request: Request) -> tuple[Account, list[tuple[Actor, str]]]:
    """The account and its coalitions; lookups fetch from other servers, so only organizers may."""
    account = await require_account(request)
    async with runtime_of(request).ctx.reading() as session:
        mine = await coalitions_of(session, account)
    if not account.is_admin and not mine:
        raise PermissionDenied(gettext("looking up coalitions is for the organizers of a coalition on this server"))
    return account, mine


async def _lookup_page(
    request: Request, mine: list[tuple[Actor, str]], query: str, *, errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    runtime = runtime_of(request)
    result: LookupResult | None = None
    errors = dict(errors or {})
    if query:
        try:
            result = await look_up(
                runtime.ctx, query, allow_private=runtime.settings.allow_private_addresses, field="q"
            )
        except LookupFailed as exc:
            errors = {"q": exc.public_message}
            status = exc.status_code
    relations = None
    if result is not None:
        async with runtime.ctx.reading() as session:
            relations = await relations_of(session, mine, result.actor)
    context = {
        "query": query, "result": result, "relations": relations, "errors": errors,
        "view": actor_view(result.actor, runtime.settings.domain) if result else None,
        "notice": gettext(NOTICES.get(request.query_params.get("done", ""), "")) or None if not errors else None,
    }
    return _render(request, "lookup.html", context, status)


async def lookup_page(request: Request) -> Response:
    _, mine = await _organizer(request)
    return await _lookup_page(request, mine, request.query_params.get("q", "").strip())


def _back(target: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/lookup?{urlencode({'q': target, 'done': done})}", status_code=303)


async def follow_as(request: Request) -> Response:
    """Follow the looked-up actor as one of the person's coalitions (editors and up of that coalition)."""
    await require_account(request)
    form = await read_form(request)
    target = form.text("target")
    _, coalition, _ = await require_coalition_role(request, form.text("coalition").lower(), "editor")
    _, mine = await _organizer(request)
    try:
        if hub_scope_of(coalition) is not None:
            raise InvalidInput(gettext("a hub takes members with “Add to hub”, not by following"))
        if not target:
            raise InvalidInput(gettext("say whom to follow"))
        ctx = runtime_of(request).ctx
        remote = await resolve_target(ctx, target)
        async with ctx.sessions.begin() as session:
            await follows.follow(ctx, session, coalition.username or "", remote)
    except FedihubError as exc:
        # "Already follows", a server that stopped answering …: said above the actions.
        return await _lookup_page(request, mine, target, errors={"action": exc.public_message},
                                  status=exc.status_code if exc.status_code < 500 else 400)
    return _back(target, "followed")


async def add_to_hub(request: Request) -> Response:
    """Ask the looked-up coalition to let one of the person's hubs follow it (hub admins and up)."""
    await require_account(request)
    form = await read_form(request)
    target = form.text("target")
    _, hub, _ = await require_coalition_role(request, form.text("hub").lower(), "admin")
    _, mine = await _organizer(request)
    try:
        if hub_scope_of(hub) is None:
            raise InvalidInput(gettext("%(name)s is a coalition, not a hub", name=hub.name or hub.username))
        if not target:
            raise InvalidInput(gettext("say whom to add"))
        ctx = runtime_of(request).ctx
        member = await resolve_target(ctx, target)
        async with ctx.sessions.begin() as session:
            row = await hubs.add_member(ctx, session, hub.username or "", member)
    except FedihubError as exc:
        return await _lookup_page(request, mine, target, errors={"action": exc.public_message},
                                  status=exc.status_code if exc.status_code < 500 else 400)
    return _back(target, "approved" if row.state == "accepted" else "added")


# --- Importing a list (instance admins) -----------------------------------------------------------


async def import_page(request: Request) -> Response:
    await require_instance_admin(request)
    return _render(request, "admin/import.html", {"max_rows": MAX_ROWS})


async def import_upload(request: Request) -> Response:
    await require_instance_admin(request)
    form = await read_form(request)
    dry_run = form.text("dry_run") == "on"
    try:
        # The form's own limit bounds the read; the CSV reader says how big a list may be.
        data = await form.upload("file", max_bytes=MAX_FORM_BYTES)
        if data is None:
            raise InvalidInput(gettext("choose a CSV file to import"), field="file")
        rows = read_rows(data)
    except FedihubError as exc:
        errors = {exc.field or "file": exc.public_message}
        return _render(request, "admin/import.html", {"max_rows": MAX_ROWS, "errors": errors,
                                                     "dry_run": dry_run}, exc.status_code)
    response = StreamingResponse(_import_stream(request, rows, dry_run), media_type="text/html; charset=utf-8")
    # Each row is sent as it resolves: neither caches nor buffering proxies may hold the page back.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response


async def _import_stream(request: Request, rows: list[ImportRow], dry_run: bool) -> AsyncIterator[str]:
    """The page head, one <li> per row as it resolves, then the summary: progress without JavaScript."""
    runtime = runtime_of(request)
    env = request.app.state.templates.env
    page = env.get_template("admin/import_run.html").render(
        request=request, total=len(rows), dry_run=dry_run, rows_marker=ROWS_MARKER, summary_marker=SUMMARY_MARKER,
    )
    head, rest = page.split(ROWS_MARKER, 1)
    middle, tail = rest.split(SUMMARY_MARKER, 1)
    yield head
    row_template = env.get_template("admin/_import_row.html")
    summary = Summary()
    async for result in run_import(
        runtime.ctx, rows, dry_run=dry_run, allow_private=runtime.settings.allow_private_addresses
    ):
        summary.add(result)
        yield row_template.render(result=result, position=summary.total, total=len(rows))
    yield middle
    yield env.get_template("admin/_import_summary.html").render(summary=summary, dry_run=dry_run)
    yield tail


def routes() -> list[BaseRoute]:
    return [
        Route("/lookup", lookup_page, name="lookup"),
        Route("/lookup/follow", follow_as, methods=["POST"], name="lookup_follow"),
        Route("/lookup/add-to-hub", add_to_hub, methods=["POST"], name="lookup_add_to_hub"),
        Route("/admin/import", import_page, name="admin_import"),
        Route("/admin/import", import_upload, methods=["POST"], name="admin_import_upload"),
    ]
