"""The instance admin's subscriber pages: counts per coalition, hub and calendar; one address's data,
exported as JSON or erased on request; a single subscription removed."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedihub.errors import InvalidInput
from fedihub.i18n.active import gettext, ngettext
from fedihub.subscriptions import admin, service
from fedihub.web.auth import require_instance_admin
from fedihub.web.forms import PostedForm, read_form
from fedihub.web.pages import render
from fedihub.web.site_info import site_info_of
from fedihub.web.state import runtime_of


async def _page(
    request: Request, *, address: str = "", errors: dict[str, str] | None = None, notice: str | None = None,
    status_code: int = 200,
) -> Response:
    runtime = runtime_of(request)
    name = site_info_of(request).name
    async with runtime.ctx.reading() as session:
        counts = await admin.target_counts(session, name)
        found: list[dict[str, Any]] | None = None
        if address and not errors:
            found = [
                {"id": row.id, "what": await service.describe(session, row, name),
                 "state": service.state_label(row.state), "created_at": row.created_at,
                 "confirmed_at": row.confirmed_at}
                for row in await admin.subscriptions_of(session, address)
            ]
    return render(request, "admin/subscriptions.html", {
        "counts": counts, "address": address, "found": found, "errors": errors or {}, "notice": notice,
        "mail_on": runtime.settings.mail is not None,
    }, status_code=status_code)


async def _address(form: PostedForm) -> str:
    return service.normalise_address(form.text("email"))


async def subscribers(request: Request) -> Response:
    """GET /admin/subscriptions: the counts, and a form to find one address."""
    await require_instance_admin(request)
    return await _page(request)


async def lookup(request: Request) -> Response:
    """POST, so an address never lands in a URL, a browser history or an access log."""
    await require_instance_admin(request)
    form = await read_form(request)
    try:
        address = await _address(form)
    except InvalidInput as exc:
        return await _page(request, address=form.text("email"), errors={"email": exc.public_message}, status_code=400)
    return await _page(request, address=address)


async def remove(request: Request) -> Response:
    """Remove one subscription of the address shown."""
    await require_instance_admin(request)
    form = await read_form(request)
    address = await _address(form)
    runtime = runtime_of(request)
    async with runtime.ctx.sessions.begin() as session:
        rows = {row.id: row for row in await admin.subscriptions_of(session, address)}
        chosen = rows.get(int(form.text("subscription") or 0)) if form.text("subscription").isdigit() else None
        if chosen is not None:
            await service.unsubscribe(session, chosen)
    notice = (gettext("The subscription was removed.") if chosen is not None
              else gettext("That subscription was removed already."))
    return await _page(request, address=address, notice=notice)


async def export(request: Request) -> Response:
    """Everything stored about one address, as a JSON download (a subject access request)."""
    await require_instance_admin(request)
    form = await read_form(request)
    address = await _address(form)
    runtime = runtime_of(request)
    async with runtime.ctx.reading() as session:
        data = await admin.export_address(session, address, site_info_of(request).name)
    body = json.dumps(data, ensure_ascii=False, indent=2).encode()
    return Response(body, media_type="application/json; charset=utf-8", headers={
        "Content-Disposition": 'attachment; filename="subscriber-data.json"', "Cache-Control": "no-store",
    })


async def erase(request: Request) -> Response:
    """Delete everything stored about one address (an erasure request)."""
    await require_instance_admin(request)
    form = await read_form(request)
    address = await _address(form)
    runtime = runtime_of(request)
    async with runtime.ctx.sessions.begin() as session:
        subscriptions, messages = await admin.erase_address(session, address)
    notice = gettext(
        "Deleted %(subscriptions)s and %(messages)s of that address.",
        subscriptions=ngettext("%(num)d subscription", "%(num)d subscriptions", subscriptions),
        messages=ngettext("%(num)d message", "%(num)d messages", messages),
    )
    return await _page(request, notice=notice)


def routes() -> list[BaseRoute]:
    post = ["POST"]
    return [
        Route("/admin/subscriptions", subscribers, name="admin_subscriptions"),
        Route("/admin/subscriptions/lookup", lookup, methods=post, name="admin_subscriptions_lookup"),
        Route("/admin/subscriptions/remove", remove, methods=post, name="admin_subscriptions_remove"),
        Route("/admin/subscriptions/export", export, methods=post, name="admin_subscriptions_export"),
        Route("/admin/subscriptions/erase", erase, methods=post, name="admin_subscriptions_erase"),
    ]
