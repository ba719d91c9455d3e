"""E-mail subscription pages: subscribe (double opt-in), confirm, unsubscribe (RFC 8058 one-click)."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from fedihub import __version__
from fedihub.errors import FedihubError, InvalidInput, NotFound
from fedihub.i18n.active import gettext
from fedihub.subscriptions import service
from fedihub.subscriptions.limits import SubscribeRateLimiter
from fedihub.subscriptions.mailing import Mailing
from fedihub.web.account_pages import client_address
from fedihub.web.forms import read_form, read_form_without_csrf, read_public_form
from fedihub.web.pages import render
from fedihub.web.site_info import site_info_of
from fedihub.web.state import runtime_of

ONE_CLICK = "List-Unsubscribe=One-Click"


def mailing_of(request: Request) -> Mailing:
    mailing = Mailing.from_settings(runtime_of(request).settings, __version__)
    return dataclasses.replace(mailing, instance_name=site_info_of(request).name)


def limiter_of(request: Request) -> SubscribeRateLimiter:
    limiter: SubscribeRateLimiter = request.app.state.subscribe_limiter
    return limiter


def _mail_on(request: Request) -> None:
    if runtime_of(request).settings.mail is None:
        raise NotFound(gettext("This server does not send e-mail, so there is nothing to subscribe to here."))


async def _target(request: Request, values: dict[str, str]) -> service.Target:
    runtime = runtime_of(request)
    async with runtime.ctx.reading() as session:
        return await service.find_target(
            session, username=values.get("to", ""), movement=values.get("movement", ""),
            region=values.get("region", ""), instance_name=site_info_of(request).name,
        )


async def _subscribe_page(
    request: Request, values: dict[str, str], *, errors: dict[str, str] | None = None, sent: bool = False,
    status_code: int = 200, target: service.Target | None = None,
) -> Response:
    target = target or await _target(request, values)
    return render(request, "subscribe.html", {
        "target": target, "values": values, "errors": errors or {}, "sent": sent,
    }, status_code=status_code)


async def subscribe_form(request: Request) -> Response:
    """GET /subscribe?to=<coalition>, or ?movement=…&region=… for the calendar: the form on its own."""
    _mail_on(request)
    params = request.query_params
    values = {name: str(params.get(name) or "").strip() for name in ("to", "movement", "region")}
    return await _subscribe_page(request, values)


async def subscribe(request: Request) -> Response:
    """POST /subscribe: the same answer whether or not the address was subscribed already."""
    runtime = runtime_of(request)
    form = await read_public_form(request, base_url=runtime.settings.base_url)
    _mail_on(request)
    now = runtime.ctx.clock()
    limiter = limiter_of(request)
    values = {name: form.text(name) for name in ("email", "to", "movement", "region", "timezone")}
    limiter.check_client(client_address(request), now)
    errors: dict[str, str] = {}
    try:
        target = await _target(request, values)
    except InvalidInput as exc:  # an overlong movement or region: shown with the form, like the address
        errors[exc.field or "movement"] = exc.public_message
        target = await _target(request, {"to": values["to"]})
    try:
        address = service.normalise_address(values["email"])
    except InvalidInput as exc:
        errors[exc.field or "email"] = exc.public_message
    if errors:
        return await _subscribe_page(request, values, errors=errors, status_code=400, target=target)
    async with runtime.ctx.sessions.begin() as session:
        await service.subscribe(
            session, mailing_of(request), address=address, target=target, timezone=values["timezone"], now=now,
            may_mail=limiter.may_mail(address, now), language=request.state.language,
        )
    return await _subscribe_page(request, values, sent=True)


async def _by_token(request: Request, token: str) -> Any:
    runtime = runtime_of(request)
    now = runtime.ctx.clock()
    limiter = limiter_of(request)
    limiter.check_links(client_address(request), now)
    try:
        async with runtime.ctx.reading() as session:
            row = await service.get_pending(session, token, now=now)
            return row, await service.describe(session, row, site_info_of(request).name)
    except FedihubError:
        limiter.record_failure(client_address(request), now)
        raise


async def confirm(request: Request) -> Response:
    """GET shows a Confirm button (mail scanners follow links: a GET changes nothing); POST confirms."""
    token = request.path_params["token"]
    runtime = runtime_of(request)
    if request.method == "POST":
        await read_form(request)
    _, what = await _by_token(request, token)
    if request.method == "GET":
        return render(request, "subscription_confirm.html", {"what": what, "token": token, "done": False})
    async with runtime.ctx.sessions.begin() as session:
        await service.confirm(session, token, now=runtime.ctx.clock())
    return render(request, "subscription_confirm.html", {"what": what, "done": True})


async def unsubscribe(request: Request) -> Response:
    """GET shows the buttons; any POST to the link unsubscribes, with no session and no CSRF token.

    RFC 8058: a mail client POSTs ``List-Unsubscribe=One-Click`` to the List-Unsubscribe URL without
    a cookie. The unguessable signed link is what authorises it; a forged cross-site POST would need
    the link, and anyone holding it may unsubscribe anyway.
    """
    runtime = runtime_of(request)
    now = runtime.ctx.clock()
    limiter = limiter_of(request)
    client = client_address(request)
    limiter.check_links(client, now)
    mailing = mailing_of(request)
    subscription_id, signature = request.path_params["subscription_id"], request.path_params["signature"]
    async with runtime.ctx.sessions.begin() as session:
        try:
            row = await service.get_by_link(session, mailing, subscription_id, signature)
        except NotFound:
            limiter.record_failure(client, now)
            if request.method == "POST":
                # Already gone is what the reader wanted: a mail client's retry must not see an error.
                return render(request, "unsubscribe.html", {"done": True, "what": None, "count": 0})
            raise
        what = await service.describe(session, row, site_info_of(request).name)
        if request.method == "GET":
            return render(request, "unsubscribe.html", {"done": False, "what": what})
        form = await read_form_without_csrf(request)
        everything = form.get("scope") == "all" and form.get("List-Unsubscribe") != "One-Click"
        count = await service.unsubscribe(session, row, everything=everything)
    return render(request, "unsubscribe.html", {"done": True, "what": None if everything else what, "count": count})


def routes() -> list[BaseRoute]:
    return [
        Route("/subscribe", subscribe_form, methods=["GET"], name="subscribe_form"),
        Route("/subscribe", subscribe, methods=["POST"], name="subscribe"),
        Route("/subscriptions/confirm/{token:str}", confirm, methods=["GET", "POST"], name="subscription_confirm"),
        Route("/subscriptions/unsubscribe/{subscription_id:int}/{signature:str}", unsubscribe,
              methods=["GET", "POST"], name="unsubscribe"),
    ]
