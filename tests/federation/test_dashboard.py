"""The organizer's dashboard: a national call reaches a city coalition through its hubs, is pledged to
and withdrawn from there, and a hub that added a coalition is followed back from its hubs page."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.federation import follows
from fedihub.federation.actors import get_local_actor, resolve_target
from fedihub.hubs import membership, two_way
from fedihub.hubs import service as hubs
from fedihub.moderation.actor_blocks import block_actor
from fedihub.storage.models import Follow, Pledge, StoredObject
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

CITY = "city-tenants"
STATE = "http://s.test/g/state-hub"


def _call(net: FederationNet, title: str = "National day of action for rent control") -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title=title, description="Rallies everywhere.", start=start, end=start + timedelta(hours=2),
        timezone="America/Chicago", place_name="Everywhere", movements=["housing"],
    )


async def _network(net: FederationNet, *, city_asks: bool) -> tuple[Instance, Instance, Instance, Instance]:
    """City coalition ∈ state hub ∈ national hub ∋ national coalition. The state hub and the national
    coalition asked to join the national hub (so its roster vouches for pledges to the national
    coalition's calls); the city coalition asked to join the state hub, or (``city_asks`` False) was added."""
    c, s, n, o = [await net.add_instance(host) for host in ("c.test", "s.test", "n.test", "o.test")]
    await committed(c.ctx, service.create_coalition, CITY, name="Springfield Tenants")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    await committed(n.ctx, hubs.create_hub, "national-hub", name="National Hub", scope="national")
    await committed(o.ctx, service.create_coalition, "national-org", name="Renters United")
    if city_asks:
        await committed(c.ctx, membership.ask_to_join, CITY, await resolve_target(c.ctx, "state-hub@s.test"))
    await committed(s.ctx, membership.ask_to_join, "state-hub", await resolve_target(s.ctx, "national-hub@n.test"))
    await committed(o.ctx, membership.ask_to_join, "national-org", await resolve_target(o.ctx, "national-hub@n.test"))
    await net.settle()
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, f"{CITY}@c.test"))
    await committed(n.ctx, membership.decide_join, "national-hub", await resolve_target(n.ctx, "state-hub@s.test"),
                    approve=True)
    await committed(n.ctx, membership.decide_join, "national-hub", await resolve_target(n.ctx, "national-org@o.test"),
                    approve=True)
    await net.settle()
    return c, s, n, o


async def _city_organizer(c: Instance) -> Browser:
    async with c.ctx.sessions() as session:
        city = await get_local_actor(session, CITY)
    return await organizer(c, "rosa", city, "admin")


async def _national_call_at_the_city(net: FederationNet) -> tuple[Instance, Instance, StoredObject, Browser]:
    """The network (the city asked to join), the national coalition's call once it has travelled, and
    a browser of an admin of the city coalition (the caller closes it)."""
    c, s, n, o = await _network(net, city_asks=True)
    call = await committed(o.ctx, calls.publish_call, "national-org", _call(net))
    await net.settle()
    return c, o, call, await _city_organizer(c)


def _section(page: str, heading_id: str) -> str:
    """The text of one dashboard section, from its heading to the next heading of its level or above."""
    part = page.split(f'id="{heading_id}"', 1)[1]
    return re.split(r"<h[123][ >]|</section>", part, maxsplit=1)[0]


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


async def _dashboard(browser: Browser, path: str = "/dashboard") -> str:
    response = await browser.get(path)
    assert response.status_code == 200, response.text[:500]
    return response.text


async def _origin_pledge(o: Instance, call_uri: str) -> str | None:
    async with o.ctx.sessions() as session:
        return await session.scalar(
            select(Pledge.state).where(Pledge.call_uri == call_uri, Pledge.coalition_uri == f"http://c.test/g/{CITY}")
        )


async def test_a_national_call_reaches_the_city_dashboard_is_pledged_there_and_withdrawn(net: FederationNet) -> None:
    c, o, call, rosa = await _national_call_at_the_city(net)
    try:
        # The city coalition never followed the national hub, nor the national coalition: the call came
        # down national hub → state hub → city, and says through which of its hubs.
        page = await _dashboard(rosa)
        incoming = _section(page, f"calls-{CITY}")
        assert "National day of action for rent control" in incoming
        assert "via Illinois Hub" in _text(incoming)
        assert "0 coalitions pledged" in _text(incoming)
        assert "from o.test" in _text(incoming)
        # Its date and time in the call's own zone, and a link to the call's page on this server.
        assert "Chicago time" in _text(incoming)
        assert f'href="/calls/view?{urlencode({"url": call.uri})}"' in incoming
        assert "has not pledged to any call yet" in _text(_section(page, f"pledges-{CITY}"))

        # Pledge in place, with a local action; the form returns to the dashboard.
        response = await rosa.submit("/dashboard", "/pledge", {
            "call": call.uri, "coalition": CITY, "back": "dashboard", "message": "We bring 30 people",
            "action_title": "Springfield rally for rent control",
            "action_start": f"{net.clock() + timedelta(days=10):%Y-%m-%dT%H:%M}",
            "action_timezone": "America/Chicago", "action_place": "Illinois State Capitol",
        })
        assert response.status_code == 303
        assert response.headers["location"] == f"/dashboard?done=pledged#coalition-{CITY}"
        await net.settle()
        assert await _origin_pledge(o, call.uri) == "accepted"

        page = await _dashboard(rosa, response.headers["location"])
        assert "Pledge sent." in page
        mine = _text(_section(page, f"pledges-{CITY}"))
        assert "National day of action for rent control" in mine
        assert "Confirmed · counted in the headline" in mine
        assert "Your local action: Springfield rally for rent control" in mine
        assert "Illinois State Capitol" in mine
        incoming = _text(_section(page, f"calls-{CITY}"))
        assert "Pledged Confirmed" in incoming and "1 coalition pledged" in incoming

        # Withdraw from the dashboard: the origin is told, and the pledge leaves "Your pledges".
        response = await rosa.submit("/dashboard", "/pledge/withdraw",
                                     {"call": call.uri, "coalition": CITY, "back": "dashboard"})
        assert response.status_code == 303
        assert response.headers["location"] == f"/dashboard?done=withdrawn#coalition-{CITY}"
        await net.settle()
        assert await _origin_pledge(o, call.uri) == "withdrawn"
        page = await _dashboard(rosa)
        assert "has not pledged to any call yet" in _text(_section(page, f"pledges-{CITY}"))
        assert 'data-dashboard="pledge"' in _section(page, f"calls-{CITY}")  # it can pledge again
    finally:
        await rosa.client.aclose()


async def test_an_upcoming_call_of_a_coalition_it_follows_is_a_call_for_you_without_any_hub(
    net: FederationNet,
) -> None:
    c, o = [await net.add_instance(host) for host in ("c.test", "o.test")]
    await committed(c.ctx, service.create_coalition, CITY, name="Springfield Tenants")
    await committed(o.ctx, service.create_coalition, "national-org", name="Renters United")
    # No hub anywhere: the city coalition's organizers follow the calling coalition themselves.
    await committed(c.ctx, follows.follow, CITY, await resolve_target(c.ctx, "national-org@o.test"))
    await net.settle()
    call = await committed(o.ctx, calls.publish_call, "national-org", _call(net, "Straight from a friend"))
    await net.settle()
    rosa = await _city_organizer(c)
    try:
        incoming = _section(await _dashboard(rosa), f"calls-{CITY}")
        assert "Straight from a friend" in incoming
        assert f'href="/calls/view?{urlencode({"url": call.uri})}"' in incoming
        # Said to come from a coalition it follows, not through a hub.
        assert "from a coalition you follow" in _text(incoming) and "via " not in _text(incoming)
        assert 'data-dashboard="pledge"' in incoming  # it can pledge from there
    finally:
        await rosa.client.aclose()


async def test_past_cancelled_and_blocked_calls_are_not_calls_for_you(net: FederationNet) -> None:
    c, s, n, o = await _network(net, city_asks=True)
    kept = await committed(o.ctx, calls.publish_call, "national-org", _call(net, "Still coming"))
    cancelled = await committed(o.ctx, calls.publish_call, "national-org", _call(net, "Called off"))
    soon = replace(_call(net, "Over by then"), start=net.clock() + timedelta(hours=1),
                   end=net.clock() + timedelta(hours=2))
    await committed(o.ctx, calls.publish_call, "national-org", soon)
    await net.settle()
    await committed(o.ctx, calls.cancel_call, cancelled.uri, "The permit was refused.")
    await net.settle()
    net.clock.advance(hours=3)
    rosa = await _city_organizer(c)
    try:
        incoming = _text(_section(await _dashboard(rosa), f"calls-{CITY}"))
        assert "Still coming" in incoming
        assert "Called off" not in incoming and "Over by then" not in incoming

        # The server's admins block the calling coalition: its calls go from the dashboard at once.
        author = await resolve_target(c.ctx, "national-org@o.test")
        async with c.ctx.sessions.begin() as session:
            await block_actor(c.ctx, session, author)
        page = await _dashboard(rosa)
        assert "Still coming" not in page
        assert "No upcoming call has reached Springfield Tenants yet" in _text(_section(page, f"calls-{CITY}"))
        assert kept.uri not in page
    finally:
        await rosa.client.aclose()


async def test_following_back_a_hub_that_added_the_coalition_brings_its_calls(net: FederationNet) -> None:
    c, s, n, o = await _network(net, city_asks=False)
    before = await committed(o.ctx, calls.publish_call, "national-org", _call(net, "Before the follow back"))
    await net.settle()
    async with c.ctx.sessions() as session:
        assert not await session.scalar(select(StoredObject.id).where(StoredObject.uri == before.uri))
    rosa = await _city_organizer(c)
    try:
        # Added by the hub and accepting followers on its own: the hub is not followed back without
        # the organizers' word, and the dashboard says why no call arrives.
        page = await _dashboard(rosa)
        assert "1 hub added Springfield Tenants, but Springfield Tenants does not follow it back" in _text(page)
        hubs_page = (await rosa.get(f"/manage/{CITY}/hubs")).text
        one_way = _text(hubs_page.split('id="one-way"', 1)[1].split("</ul>", 1)[0])
        assert "Illinois Hub" in one_way and "Follow back (receive its calls)" in one_way and "Leave" in one_way

        response = await rosa.submit(f"/manage/{CITY}/hubs", f"/manage/{CITY}/hubs/follow-back", {"actor": STATE})
        assert response.status_code == 303
        await net.settle()
        hub = await resolve_target(c.ctx, STATE)
        async with c.ctx.sessions() as session:
            city = await get_local_actor(session, CITY)
            follow = await session.scalar(select(Follow).where(Follow.follower_id == city.id,
                                                                Follow.target_id == hub.id))
            assert follow is not None and (follow.state, follow.of_hub) == ("accepted", True)
            # The follow back is the organizers' consent to the membership, and it lasts.
            assert await two_way.consented(session, hub, city)
        assert "does not follow it back" not in await _dashboard(rosa)
        assert 'id="one-way"' not in (await rosa.get(f"/manage/{CITY}/hubs")).text

        after = await committed(o.ctx, calls.publish_call, "national-org", _call(net, "After the follow back"))
        await net.settle()
        incoming = _text(_section(await _dashboard(rosa), f"calls-{CITY}"))
        assert "After the follow back" in incoming and "via Illinois Hub" in incoming
        assert after.uri
    finally:
        await rosa.client.aclose()


async def test_a_follow_back_needs_a_hub_that_added_the_coalition(net: FederationNet) -> None:
    c, s, n, o = await _network(net, city_asks=False)
    rosa = await _city_organizer(c)
    try:
        # The national hub never added the city coalition: nothing to follow back, and nothing sent.
        response = await rosa.submit(f"/manage/{CITY}/hubs", f"/manage/{CITY}/hubs/follow-back",
                                     {"actor": "http://n.test/g/national-hub"})
        assert response.status_code == 404
        async with c.ctx.sessions() as session:
            city = await get_local_actor(session, CITY)
            assert (await session.scalars(select(Follow.id).where(Follow.follower_id == city.id))).all() == []
    finally:
        await rosa.client.aclose()


async def test_approving_a_hubs_follow_request_by_hand_follows_it_back_at_once(net: FederationNet) -> None:
    c, s, n, o = await _network(net, city_asks=False)
    # A coalition that approves followers by hand: the hub's follow waits for its organizers.
    async with c.ctx.sessions.begin() as session:
        city = await get_local_actor(session, CITY)
        city.manually_approves_followers = True
        city_id = city.id
    await committed(s.ctx, hubs.remove_member, "state-hub", await resolve_target(s.ctx, f"{CITY}@c.test"))
    await net.settle()
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, f"{CITY}@c.test"))
    await net.settle()
    rosa = await _city_organizer(c)
    try:
        response = await rosa.submit(f"/manage/{CITY}/requests", f"/manage/{CITY}/requests/approve",
                                     {"actor": STATE})
        assert response.status_code == 303
        # In the same transaction as the approval, before any job or sweep ran.
        hub = await resolve_target(c.ctx, STATE)
        async with c.ctx.sessions() as session:
            follow = await session.scalar(select(Follow).where(Follow.follower_id == city_id,
                                                                Follow.target_id == hub.id))
            assert follow is not None and follow.of_hub
        await net.settle()
        call = await committed(o.ctx, calls.publish_call, "national-org", _call(net, "Down to the city"))
        await net.settle()
        assert "Down to the city" in _section(await _dashboard(rosa), f"calls-{CITY}")
        assert call.uri
    finally:
        await rosa.client.aclose()


async def test_once_the_day_is_past_the_dashboard_asks_for_the_report_back(net: FederationNet) -> None:
    c, o, call, rosa = await _national_call_at_the_city(net)
    try:
        await rosa.submit("/dashboard", "/pledge", {"call": call.uri, "coalition": CITY, "back": "dashboard"})
        await net.settle()
        mine = _section(await _dashboard(rosa), f"pledges-{CITY}")
        assert 'data-dashboard="report"' not in mine and "Withdraw" in mine
        assert "No local action" in _text(mine)

        net.clock.advance(days=11)
        page = await _dashboard(rosa)
        mine = _section(page, f"pledges-{CITY}")
        assert '<details class="in-place" data-dashboard="report" open>' in mine and "Withdraw" not in mine
        # Over calls are no call for you any more.
        assert "National day of action" not in _section(page, f"calls-{CITY}")

        response = await rosa.submit("/dashboard", "/pledge/report", {
            "call": call.uri, "coalition": CITY, "back": "dashboard", "happened": "yes", "turnout": "40",
        })
        assert response.status_code == 303
        assert response.headers["location"] == f"/dashboard?done=reported#coalition-{CITY}"
        await net.settle()
        async with o.ctx.sessions() as session:
            row = await session.scalar(select(Pledge).where(Pledge.call_uri == call.uri))
            assert row is not None and (row.happened, row.turnout) == (True, 40)
        mine = _text(_section(await _dashboard(rosa), f"pledges-{CITY}"))
        assert "Happened about 40 people" in mine and "Change the report" in mine

        # A report with a mistake keeps what was typed and says what to fix, with the way back kept.
        response = await rosa.submit("/dashboard", "/pledge/report", {
            "call": call.uri, "coalition": CITY, "back": "dashboard", "happened": "yes", "turnout": "lots",
        })
        assert response.status_code == 400
        assert "turnout is a whole number" in response.text
        assert 'name="back" value="dashboard"' in response.text and 'value="lots"' in response.text
    finally:
        await rosa.client.aclose()
