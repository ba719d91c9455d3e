"""Opening any call by its link (/calls/view?url=…): ours redirect, stored ones show, organizers fetch."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.errors import (
    DomainBlocked,
    ForbiddenAddress,
    Gone,
    InvalidInput,
    NotFound,
    RemoteGone,
    RemoteInvalid,
    RemoteNotFound,
)
from fedihub.federation.objects import VIEWED, StoredObject, fetch_and_store, find_object
from fedihub.i18n.active import N_, gettext
from fedihub.moderation.visibility import is_hidden
from fedihub.protocol.addresses import check_host_name
from fedihub.protocol.urls import http_url
from fedihub.web import pages  # the module, not a name in it: safe if what pages imports ever leads back here
from fedihub.web.auth import coalitions_of
from fedihub.web.state import runtime_of

CALL_TYPES = frozenset({"Event"})
# Marked for the catalogue (N_); raised through gettext.
NOT_HTTP = N_("only http:// and https:// links to calls to action can be opened")
PRIVATE = N_("that link points to a private network address; only calls on public servers can be opened")


def _check_link(url: str) -> None:
    if not url:
        raise InvalidInput(gettext("paste the link of a call to action, such as https://mobilizon.example/events/…"))
    if http_url(url) is None:
        raise InvalidInput(gettext(NOT_HTTP))


def _check_public(host: str) -> None:
    # IP literals and local names are refused before any lookup (and for visitors too); names that
    # resolve to a private address are refused by the HTTP client's guard when it connects.
    try:
        check_host_name(host)
    except ForbiddenAddress:
        raise InvalidInput(gettext(PRIVATE)) from None


async def _fetch_call(request: Request, url: str, host: str) -> StoredObject:
    """Fetch an unknown call from its origin, for logged-in organizers only: anyone else would make
    this server an open fetch proxy."""
    ctx = runtime_of(request).ctx
    account = getattr(request.state, "account", None)
    is_organizer = False
    if account is not None:
        async with ctx.reading() as session:
            is_organizer = account.is_admin or bool(await coalitions_of(session, account))
    if not is_organizer:
        raise NotFound(gettext(
            "this server has no copy of that call to action; an organizer with an account here can open it"
        ))
    try:
        # Opening a link publishes nothing: the copy is shown on this page only (see VIEWED).
        return await fetch_and_store(ctx, url, types=CALL_TYPES, viewed=True)
    except ForbiddenAddress:
        raise InvalidInput(gettext(PRIVATE)) from None
    except DomainBlocked:
        raise InvalidInput(gettext("this server does not federate with %(host)s", host=host)) from None
    except RemoteGone:
        raise Gone(gettext("the server %(host)s says this call to action was deleted", host=host)) from None
    except RemoteNotFound:
        raise NotFound(gettext("there is nothing at that link on %(host)s", host=host)) from None
    except RemoteInvalid as exc:
        raise NotFound(gettext("there is no public call to action at that link: %(reason)s",
                               reason=gettext(exc.public_message))) from None
    except InvalidInput:
        raise InvalidInput(gettext(NOT_HTTP)) from None


async def _linked(request: Request) -> tuple[str, StoredObject | None]:
    """The ``url`` asked for, checked, and our stored copy of it if we keep one."""
    url = request.query_params.get("url", "").strip()
    _check_link(url)
    async with runtime_of(request).ctx.reading() as session:
        return url, await find_object(session, url)


async def remote_call(request: Request) -> Response:
    """Any call by its id: ours redirect to their page; remote ones render like ours, with their origin."""
    runtime = runtime_of(request)
    url, row = await _linked(request)
    if runtime.ctx.urls.is_local(url):
        if row is None or not row.is_local or row.type != "Event" or row.visibility not in ("public", "unlisted"):
            raise NotFound(gettext("there is no call to action at that link on this server"))
        return RedirectResponse(urlsplit(row.uri).path, status_code=303)
    host = urlsplit(url).hostname or ""
    if not runtime.settings.allow_private_addresses:
        _check_public(host)
    if row is None:
        row = await _fetch_call(request, url, host)
    async with runtime.ctx.reading() as session:
        hidden = await is_hidden(session, row.attributed_to_id)
    if hidden:
        # Its organizers or their server are blocked here: a copy stored before the block stays unseen.
        raise NotFound(gettext("this server does not show calls to action from that organizer"))
    if row.deleted_at is not None:
        raise Gone(gettext("the organizers deleted this call to action"))
    if row.type != "Event" or row.visibility not in ("public", "unlisted", VIEWED):
        raise NotFound(gettext("there is no public call to action at that link"))
    return await pages.object_page(request, row)


async def remote_call_calendar(request: Request) -> Response:
    """/calls/view.ics?url=…: a remote call this server keeps a copy of, as a calendar file; never fetches."""
    _, row = await _linked(request)
    async with runtime_of(request).ctx.reading() as session:
        hidden = row is not None and await is_hidden(session, row.attributed_to_id)
    if row is None or row.is_local or hidden or row.type != "Event" or row.start_time is None:
        raise NotFound(gettext("this server has no copy of that call to action"))
    if row.visibility not in ("public", "unlisted", VIEWED):
        raise NotFound(gettext("this server has no copy of that call to action"))
    if row.deleted_at is not None:
        raise Gone(gettext("the organizers deleted this call to action"))
    return pages.calendar_file(row)


def routes() -> list[BaseRoute]:
    return [
        Route("/calls/view", remote_call, name="remote_call"),
        Route("/calls/view.ics", remote_call_calendar, name="remote_call_ics"),
    ]
