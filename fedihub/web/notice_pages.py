"""Organizers' notices on the web: a coalition's "What's new" list, and the account page (e-mail and its notices)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.accounts import service as accounts
from fedihub.errors import InvalidInput
from fedihub.i18n.active import N_, gettext
from fedihub.notices.kinds import DELIVERIES, KINDS, sentence
from fedihub.notices.preferences import preferences_of, read_choices, save_preferences
from fedihub.notices.store import last_read, list_notices, mark_read
from fedihub.web.auth import require_account
from fedihub.web.forms import read_form
from fedihub.web.manage_common import date_text, page, render
from fedihub.web.state import runtime_of

# Marked for the catalogue (N_); shown through gettext.
SAVED = {
    "email": N_("Your e-mail address is saved."),
    "email-removed": N_("Your e-mail address is removed: this server sends you no e-mail."),
    "notices": N_("Your choices are saved."),
}


async def news(request: Request) -> Response:
    """What's new for this coalition or hub, newest first; opening the list marks it read for this account."""
    p = await page(request, "editor")
    account = await require_account(request)
    ctx = runtime_of(request).ctx
    async with ctx.sessions.begin() as session:
        rows = await list_notices(session, p.coalition.id)
        seen = await last_read(session, account.id, p.coalition.id)
        if rows:
            await mark_read(session, account.id, p.coalition.id, rows[0].id)
        items = [
            {"parts": sentence(row), "when": date_text(row.created_at), "iso": row.created_at.isoformat(),
             "unread": row.id > seen}
            for row in rows
        ]
    mail_on = runtime_of(request).settings.mail is not None
    return render(request, "manage/news.html", p.context(
        "news", "What's new", items=items, unread=0, new_count=sum(1 for item in items if item["unread"]),
        mail_on=mail_on,
    ))


async def _account_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    account = await require_account(request)
    runtime = runtime_of(request)
    async with runtime.ctx.reading() as session:
        chosen = await preferences_of(session, account.id)
    context = {
        "account": account, "mail_on": runtime.settings.mail is not None, "kinds": KINDS,
        "deliveries": DELIVERIES, "chosen": chosen, "values": {"email": account.email or ""}, "errors": {},
        "notice": gettext(SAVED.get(request.query_params.get("done", ""), "")) or None, **extra,
    }
    return render(request, "account.html", context, status_code)


async def account_page(request: Request) -> Response:
    return await _account_page(request)


async def account_email(request: Request) -> Response:
    account = await require_account(request)
    form = await read_form(request)
    address = form.text("email")
    try:
        async with runtime_of(request).ctx.sessions.begin() as session:
            await accounts.set_email(session, account.id, address)
    except InvalidInput as exc:
        return await _account_page(request, exc.status_code, values={"email": address},
                                   errors={"email": exc.public_message})
    return RedirectResponse(f"/account?done={'email' if address else 'email-removed'}#email", status_code=303)


async def account_notices(request: Request) -> Response:
    account = await require_account(request)
    form = await read_form(request)
    fields = form.fields()
    runtime = runtime_of(request)
    try:
        if runtime.settings.mail is None or not account.email:
            raise InvalidInput(gettext("this server sends you no e-mail: there is nothing to choose"))
        choices = read_choices(fields)
        async with runtime.ctx.sessions.begin() as session:
            await save_preferences(session, account.id, choices)
    except InvalidInput as exc:
        # The choices as posted stay on the form; only known values are kept.
        posted = {kind.name: str(fields.get(f"kind-{kind.name}") or "") for kind in KINDS}
        return await _account_page(request, exc.status_code, chosen=posted,
                                   errors={exc.field or "": exc.public_message})
    return RedirectResponse("/account?done=notices#notices", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        Route("/manage/{handle:str}/news", news, name="manage_news"),
        Route("/account", account_page, name="account"),
        Route("/account/email", account_email, methods=["POST"], name="account_email"),
        Route("/account/notices", account_notices, methods=["POST"], name="account_notices"),
    ]
