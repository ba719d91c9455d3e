"""Pledge pages: the roll-up on call pages, the pledge, withdraw, report and refuse forms, and the
call's public pledges collection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from fedihub.accounts.service import Account, coalitions_of, role_rank
from fedihub.errors import FedihubError, InvalidInput, NotFound, PermissionDenied
from fedihub.federation.actors import Actor
from fedihub.federation.objects import StoredObject
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n import dates
from fedihub.i18n.active import N_, gettext
from fedihub.pledges import mirror, origin
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import CallTarget, get_call_target
from fedihub.pledges.local_action import read_local_action
from fedihub.pledges.queries import current_rollup, find_local_call, held_pledges
from fedihub.pledges.rollup import Rollup
from fedihub.pledges.store import find_pledge, is_over, item_of
from fedihub.protocol.pledges import PledgeItem
from fedihub.protocol.urls import http_url
from fedihub.web.auth import require_account
from fedihub.web.forms import form_errors, read_form
from fedihub.web.manage_common import render
from fedihub.web.negotiation import ActivityResponse, require_signed_fetch, wants_activitypub
from fedihub.web.state import runtime_of
from fedihub.web.views import When, map_url, region_text, remote_call_path, when_of, zones_with

PLEDGE_FIELDS = (
    "coalition", "message", "action_title", "action_start", "action_end", "action_timezone", "action_place",
    "action_address", "action_latitude", "action_longitude", "action_online_url", "action_description", "call",
)
REPORT_FIELDS = ("happened", "turnout", "report_url")

# Marked for the catalogue (N_); shown through gettext.
NOTICES = {
    "pledged": N_("Pledge sent. The call's organizers' server confirms it in a moment."),
    "withdrawn": N_("Pledge withdrawn. The call's organizers have been told."),
    "reported": N_("Thank you: your report is on its way to the call's organizers."),
    "refused": N_("Pledge refused. The coalition has been told, and it no longer counts here."),
    "approved": N_("Pledge approved: it is vouched for and counts in the headline numbers everywhere."),
}


def call_page_path(call_uri: str, base_url: str) -> str:
    """Where this server shows a call: our own page for our calls, the remote-call page otherwise."""
    if call_uri.startswith(base_url + "/"):
        return call_uri[len(base_url):]
    return remote_call_path(call_uri)


@dataclass(frozen=True)
class ActionView:
    name: str
    url: str | None
    when: When | None
    place: str | None
    coalition: str
    coalition_url: str | None
    happened: bool | None
    address: str | None = None
    map_url: str | None = None
    online_url: str | None = None
    description: str | None = None
    region: str = ""
    starts_at: datetime | None = None


def action_view(item: PledgeItem) -> ActionView:
    """A local action as pages show it: its time in its own zone, its place, its coalition."""
    action = item.action
    assert action is not None
    has_place = bool(action.place or action.address or action.latitude is not None)
    return ActionView(
        name=action.name, url=http_url(action.url or action.uri),
        when=when_of(action.start, action.end, action.timezone) if action.start else None, place=action.place,
        coalition=item.coalition.name or item.coalition.handle or item.coalition.uri,
        coalition_url=http_url(item.coalition.url), happened=item.report.happened if item.report else None,
        address=action.address,
        map_url=map_url(action.latitude, action.longitude, action.address or action.place) if has_place else None,
        # Stored links were checked when read or typed; checked again as every link a page shows is.
        online_url=http_url(action.online_url), description=action.description,
        region=region_text(item.coalition.city, item.coalition.state, item.coalition.country),
        starts_at=action.start,
    )



@dataclass(frozen=True)
class MyPledge:
    """One of the visitor's coalitions, and where it stands with this call."""

    handle: str
    name: str
    state: str | None  # None: not pledged yet
    reported: bool
    vouched: bool = False  # counted in the headline (pledges/vouching.py)


def _pledger(item: PledgeItem) -> dict[str, Any]:
    return {"name": item.coalition.name or item.coalition.uri, "url": http_url(item.coalition.url),
            "region": region_text(item.coalition.city, item.coalition.state, item.coalition.country),
            "message": item.message, "uri": item.coalition.uri}


def rollup_context(rollup: Rollup) -> dict[str, Any]:
    return {
        "rollup": rollup, "actions": [action_view(item) for item in rollup.actions],
        "pledgers": [_pledger(item) for item in rollup.pledges],
        # Listed apart, never in the headline numbers; their reports are not shown.
        "unvouched": [_pledger(item) for item in rollup.unvouched_pledges],
        "carriers": [
            {"name": c.name or c.uri, "url": http_url(c.url), "scope": c.scope} for c in rollup.carriers
        ],
    }


def _is_over(call: StoredObject, now: datetime) -> bool:
    return is_over(call.start_time, call.end_time, now)


def _can_pledge(mine: list[tuple[Actor, str]], author_id: int) -> list[Actor]:
    """The account's coalitions that may pledge to a call by ``author_id``: editors and up, not hubs."""
    return [
        actor for actor, role in mine
        if role_rank(role) >= role_rank("editor") and hub_scope_of(actor) is None and actor.id != author_id
    ]


def counts_freshness(call: StoredObject, now: datetime) -> str | None:
    """How old a remote call's copied counts are (the worker re-reads them; a page never waits for
    the origin); None for our own calls, always current, and for calls whose server lists no pledges."""
    if call.is_local or not (call.data or {}).get("pledges"):
        return None
    if call.pledges_fetched_at is None:
        return gettext("These counts have not been read from the call's server yet.")
    return gettext("Counts as of %(when)s", when=dates.ago(now - call.pledges_fetched_at))


async def pledge_section(request: Request, call: StoredObject) -> dict[str, Any]:
    """What the call page shows of pledges: the roll-up, and the visitor's own coalitions' pledges."""
    runtime = runtime_of(request)
    now = runtime.ctx.clock()
    account: Account | None = getattr(request.state, "account", None)
    await mirror.refresh_if_stale(runtime.ctx, call)
    mine: list[MyPledge] = []
    can_refuse = False
    held: list[dict[str, Any]] = []
    async with runtime.ctx.reading() as session:
        rollup = await current_rollup(session, call)
        if account is not None:
            roles = await coalitions_of(session, account)
            for actor in _can_pledge(roles, call.attributed_to_id):
                row = await find_pledge(session, call.uri, actor.uri)
                mine.append(MyPledge(handle=actor.username or "", name=actor.name or actor.username or "",
                                     state=row.state if row is not None else None,
                                     reported=bool(row and row.happened is not None),
                                     vouched=bool(row and row.vouched_by)))
            can_refuse = call.is_local and any(
                actor.id == call.attributed_to_id and role_rank(role) >= role_rank("admin") for actor, role in roles
            )
        if can_refuse:
            held = [_pledger(item_of(row)) for row in await held_pledges(session, call.uri)
                    if row.vouched_by is None and not runtime.ctx.urls.is_local(row.coalition_uri)]
    return {
        **rollup_context(rollup),
        "pledge_open": (call.event_status or "").upper() != "CANCELLED" and not _is_over(call, now),
        "call_over": _is_over(call, now), "my_pledges": mine, "can_refuse": can_refuse, "held": held,
        "signed_in": account is not None, "call_uri": call.uri, "counts_as_of": counts_freshness(call, now),
        "pledge_notice": gettext(NOTICES.get(request.query_params.get("done", ""), "")) or None,
    }


# --- Forms ----------------------------------------------------------------------------------------


def _action_input(fields: dict[str, Any], target: CallTarget) -> pledges.LocalActionInput | None:
    def text(name: str) -> str:
        value = fields.get(name)
        return value if isinstance(value, str) else ""

    return read_local_action(
        title=text("action_title"), start=text("action_start"), place=text("action_place"),
        timezone=text("action_timezone"), end=text("action_end"), description=text("action_description"),
        address=text("action_address"), latitude=text("action_latitude"), longitude=text("action_longitude"),
        online_url=text("action_online_url"), default_timezone=target.timezone,
    )


async def _target(request: Request, call_uri: str) -> CallTarget:
    if not call_uri:
        raise NotFound(gettext("which call? Open the call's page and use its pledge button"))
    return await get_call_target(runtime_of(request).ctx, call_uri)


def _check_coalition(handle: str, allowed: list[Actor]) -> Actor:
    for actor in allowed:
        if actor.username == handle:
            return actor
    raise PermissionDenied(gettext("you cannot pledge for that coalition (editors and above of a coalition can)"))


async def _allowed(request: Request, account: Account, target: CallTarget) -> list[Actor]:
    async with runtime_of(request).ctx.reading() as session:
        return _can_pledge(await coalitions_of(session, account), target.author.id)


async def pledge_form(request: Request) -> Response:
    """GET/POST /pledge?call=URI: pledge one of your coalitions, optionally with a local action."""
    account = await require_account(request)
    runtime = runtime_of(request)
    form = await read_form(request) if request.method == "POST" else None
    fields: dict[str, Any] = form.fields() if form is not None else {}
    call_uri = str(fields.get("call") or request.query_params.get("call") or "").strip()
    target = await _target(request, call_uri)
    allowed = await _allowed(request, account, target)
    errors: dict[str, str] = {}
    if form is not None:
        try:
            actor = _check_coalition(str(fields.get("coalition") or ""), allowed)
            # Off the event loop: a local action without coordinates is looked up in the gazetteer.
            action = await anyio.to_thread.run_sync(_action_input, fields, target)
            async with runtime.ctx.sessions.begin() as session:
                await pledges.pledge(
                    runtime.ctx, session, actor.username or "", target, message=str(fields.get("message") or ""),
                    action=action,
                )
            return _after("pledged", target.uri, runtime.ctx.base_url, _back(fields), actor)
        except (InvalidInput, PermissionDenied) as exc:
            errors = form_errors(exc, PLEDGE_FIELDS)
        except FedihubError as exc:
            errors = {"": exc.public_message}
    zone = str(fields.get("action_timezone") or target.timezone or "UTC")
    values = {"action_timezone": zone, **{k: v for k, v in fields.items() if isinstance(v, str)}}
    return render(request, "pledge_form.html", {
        "target": target, "coalitions": allowed, "values": values, "errors": errors,
        "zones": zones_with(zone), "call_path": call_page_path(target.uri, runtime.ctx.base_url),
        "back": _back(fields or request.query_params),
    }, status_code=400 if errors else 200)


def _sep(call_uri: str, base_url: str) -> str:
    return "&" if not call_uri.startswith(base_url + "/") else "?"


def _back(fields: Mapping[str, Any]) -> str | None:
    """Where the form came from when it is not the call page: only the dashboard (a fixed word, never a URL)."""
    return "dashboard" if fields.get("back") == "dashboard" else None


def _after(what: str, target_uri: str, base_url: str, back: str | None, coalition: Actor) -> RedirectResponse:
    """Back to the call's pledges, or to the coalition's part of the dashboard the form was opened from."""
    if back == "dashboard":
        return RedirectResponse(f"/dashboard?done={what}#coalition-{coalition.username}", status_code=303)
    path = call_page_path(target_uri, base_url)
    return RedirectResponse(f"{path}{_sep(target_uri, base_url)}done={what}#pledges", status_code=303)


async def withdraw(request: Request) -> Response:
    account = await require_account(request)
    form = await read_form(request)
    runtime = runtime_of(request)
    target = await _target(request, form.text("call"))
    actor = _check_coalition(form.text("coalition"), await _allowed(request, account, target))
    async with runtime.ctx.sessions.begin() as session:
        await pledges.withdraw(runtime.ctx, session, actor.username or "", target.uri)
    return _after("withdrawn", target.uri, runtime.ctx.base_url, _back(form.fields()), actor)


def _report_input(fields: dict[str, Any]) -> tuple[bool, int | None, str | None]:
    happened = str(fields.get("happened") or "")
    if happened not in ("yes", "no"):
        raise InvalidInput(gettext("did your action happen? Choose yes or no"), field="happened")
    turnout_text = str(fields.get("turnout") or "").strip().replace(",", "")
    turnout = None
    if turnout_text:
        if not turnout_text.isdigit():
            raise InvalidInput(gettext("turnout is a whole number of people, like 120"), field="turnout")
        turnout = int(turnout_text)
    return happened == "yes", turnout, str(fields.get("report_url") or "").strip() or None


async def report_form(request: Request) -> Response:
    """GET/POST /pledge/report?call=URI&coalition=H: after the call, did the action happen?"""
    account = await require_account(request)
    runtime = runtime_of(request)
    form = await read_form(request) if request.method == "POST" else None
    fields: dict[str, Any] = form.fields() if form is not None else dict(request.query_params)
    target = await _target(request, str(fields.get("call") or ""))
    actor = _check_coalition(str(fields.get("coalition") or ""), await _allowed(request, account, target))
    errors: dict[str, str] = {}
    if form is not None:
        try:
            happened, turnout, url = _report_input(fields)
            async with runtime.ctx.sessions.begin() as session:
                await pledges.report(runtime.ctx, session, actor.username or "", target.uri, happened=happened,
                                     turnout=turnout, url=url)
            return _after("reported", target.uri, runtime.ctx.base_url, _back(fields), actor)
        except FedihubError as exc:
            errors = {exc.field if exc.field in REPORT_FIELDS else "": exc.public_message}
    return render(request, "pledge_report.html", {
        "target": target, "coalition": actor, "values": {k: v for k, v in fields.items() if isinstance(v, str)},
        "errors": errors, "call_path": call_page_path(target.uri, runtime.ctx.base_url), "back": _back(fields),
    }, status_code=400 if errors else 200)


async def _organizers_decide(request: Request, verb: str) -> Response:
    """The call's organizers (admins of its coalition) refuse or approve (vouch for) a coalition's pledge."""
    account = await require_account(request)
    form = await read_form(request)
    runtime = runtime_of(request)
    call_uri, coalition_uri = form.text("call"), form.text("pledger")
    async with runtime.ctx.sessions.begin() as session:
        call = await find_local_call(session, call_uri)
        if call is None:
            raise NotFound(gettext("no such call on this server"))
        roles = {actor.id: role for actor, role in await coalitions_of(session, account)}
        role = roles.get(call.attributed_to_id)
        if role is None or role_rank(role) < role_rank("admin"):
            raise PermissionDenied(
                gettext("only admins of the coalition that made the call can approve pledges") if verb == "approve"
                else gettext("only admins of the coalition that made the call can refuse pledges")
            )
        if verb == "approve":
            await origin.approve_pledge(runtime.ctx, session, call, coalition_uri)
        else:
            await origin.refuse_coalition(runtime.ctx, session, call, coalition_uri)
    done = "approved" if verb == "approve" else "refused"
    return RedirectResponse(f"{call_page_path(call_uri, runtime.ctx.base_url)}?done={done}#pledges", status_code=303)


async def refuse(request: Request) -> Response:
    return await _organizers_decide(request, "refuse")


async def approve(request: Request) -> Response:
    return await _organizers_decide(request, "approve")


# --- The collection ---------------------------------------------------------------------------------


async def pledges_collection(request: Request) -> Response:
    """/o/<uuid>/pledges: the authoritative list of a call's accepted pledges (paged)."""
    runtime = runtime_of(request)
    uri = f"{runtime.ctx.base_url}/o/{request.path_params['object_id']}"
    async with runtime.ctx.reading() as session:
        call = await find_local_call(session, uri)
        if call is None or call.visibility not in ("public", "unlisted") or call.deleted_at:
            raise NotFound(N_("no call to action here"))
        if not wants_activitypub(request):
            return RedirectResponse(f"{call.uri}#pledges", status_code=303)
        await require_signed_fetch(request)
        page_text = request.query_params.get("page")
        page = None
        if page_text is not None:
            if not page_text.isdigit() or int(page_text) < 1:
                raise InvalidInput(N_("page is a number from 1"))
            page = int(page_text)
        document = await origin.collection_page(session, call, page, runtime.ctx.clock())
    return ActivityResponse(document)


def routes() -> list[BaseRoute]:
    return [
        Route("/pledge", pledge_form, methods=["GET", "POST"], name="pledge"),
        Route("/pledge/withdraw", withdraw, methods=["POST"], name="pledge_withdraw"),
        Route("/pledge/report", report_form, methods=["GET", "POST"], name="pledge_report"),
        Route("/pledge/refuse", refuse, methods=["POST"], name="pledge_refuse"),
        Route("/pledge/approve", approve, methods=["POST"], name="pledge_approve"),
        Route("/o/{object_id:str}/pledges", pledges_collection, name="pledges_collection"),
    ]


def pledge_link(call_uri: str) -> str:
    return "/pledge?call=" + quote(call_uri, safe="")
