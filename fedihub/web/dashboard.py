"""The organizer's dashboard: per coalition, the calls that reach it (with a pledge form in place) and its pledges."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fedihub.accounts.service import role_rank
from fedihub.coalitions import Actor
from fedihub.coalitions.queries import latest_call_zone
from fedihub.errors import NotFound
from fedihub.federation.collections import count_followers
from fedihub.hubs import two_way
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import N_, gettext
from fedihub.notices.store import unread_counts
from fedihub.pledges.dashboard import CallForYou, OwnPledge, calls_for, pledges_of
from fedihub.protocol.urls import http_url
from fedihub.web.auth import coalitions_of, require_account
from fedihub.web.manage_common import render
from fedihub.web.pledge_pages import NOTICES, call_page_path, pledge_link
from fedihub.web.state import runtime_of
from fedihub.web.views import call_view, when_of

# An instance admin organizes every coalition of the server: the calls and pledges of at most this many
# are worked out per page; the others link to a dashboard of their own (?coalition=HANDLE).
DETAILED = 10
STATE_TEXT = {"pending": N_("Sent; waiting for the call's server to confirm"), "accepted": N_("Confirmed")}


def _state_text(state: str) -> str | None:
    """A pledge's state in the reader's language; None for a state with no text."""
    return gettext(STATE_TEXT[state]) if state in STATE_TEXT else None


def _zones(*names: str | None) -> list[str]:
    """The few zones a local action is likely in (the call's, the coalition's usual one, UTC): the
    in-place form stays light; the full pledge form offers every zone."""
    return list(dict.fromkeys(name for name in (*names, "UTC") if name))


def _call_row(item: CallForYou, key: str, home_zone: str | None, domain: str, base_url: str) -> dict[str, Any]:
    call = item.call
    return {
        "key": key, "view": call_view(call, domain), "page": call_page_path(call.uri, base_url), "via": item.via,
        "rollup": item.rollup, "pledge": _state_text(item.pledge.state) if item.pledge else None,
        "full_form": pledge_link(call.uri), "zones": _zones(call.timezone, home_zone),
        "form_values": {"action_timezone": call.timezone or home_zone or "UTC"},
    }


def _pledge_row(item: OwnPledge, key: str, domain: str, base_url: str) -> dict[str, Any]:
    pledge, call = item.pledge, item.call
    action_when = (
        when_of(pledge.action_start, pledge.action_end, pledge.action_timezone)
        if pledge.action_start is not None else None
    )
    return {
        "key": key, "call_uri": pledge.call_uri, "page": call_page_path(pledge.call_uri, base_url),
        "view": call_view(call, domain) if call is not None and call.start_time is not None else None,
        "state": _state_text(pledge.state) or pledge.state, "accepted": pledge.state == "accepted",
        "vouched": bool(pledge.vouched_by), "over": item.over,
        "action": {"name": pledge.action_name, "url": pledge.action_url or pledge.action_uri, "when": action_when,
                   "place": ", ".join(p for p in (pledge.action_place, pledge.action_address) if p) or None,
                   "online_url": http_url(pledge.action_online_url)} if pledge.action_name else None,
        "happened": pledge.happened, "turnout": pledge.turnout, "report_url": pledge.report_url,
    }


async def _coalition_part(
    request: Request, actor: Actor, role: str, number: int, detailed: bool, unread: int
) -> dict[str, Any]:
    runtime = runtime_of(request)
    ctx, domain = runtime.ctx, runtime.settings.domain
    now = ctx.clock()
    is_hub = hub_scope_of(actor) is not None
    incoming: list[CallForYou] = []
    own: list[OwnPledge] = []
    async with ctx.reading() as session:
        followers = await count_followers(session, actor.id)
        waiting = await count_followers(session, actor.id, state="pending")
        if detailed:
            incoming = await calls_for(session, actor, now)
            own = [] if is_hub else await pledges_of(session, actor, now)
        one_way = await two_way.hubs_not_followed_back(session, actor.id)
        home_zone = None if is_hub else await latest_call_zone(session, actor.id)
    can_admin = role_rank(role) >= role_rank("admin")
    return {
        "actor": actor, "role": role, "is_hub": is_hub, "can_admin": can_admin, "followers": followers,
        "requests": waiting if can_admin else 0, "one_way": len(one_way), "detailed": detailed, "unread": unread,
        "calls": [
            _call_row(item, f"c{number}-{n}", home_zone, domain, ctx.base_url) for n, item in enumerate(incoming)
        ],
        "pledges": [_pledge_row(item, f"p{number}-{n}", domain, ctx.base_url) for n, item in enumerate(own)],
    }


async def dashboard(request: Request) -> Response:
    account = await require_account(request)
    async with runtime_of(request).ctx.reading() as session:
        mine = await coalitions_of(session, account)
        unread = await unread_counts(session, account.id, [actor.id for actor, _ in mine])
    focus = request.query_params.get("coalition")
    if focus is not None and all(actor.username != focus for actor, _ in mine):
        raise NotFound(gettext("you are not an organizer of that coalition"))
    items = [
        await _coalition_part(
            request, actor, role, n, actor.username == focus if focus else n < DETAILED, unread.get(actor.id, 0)
        )
        for n, (actor, role) in enumerate(mine)
    ]
    return render(request, "manage/dashboard.html", {
        "account": account, "coalitions": items, "domain": runtime_of(request).settings.domain,
        "notice": gettext(NOTICES.get(request.query_params.get("done", ""), "")) or None,
    })
