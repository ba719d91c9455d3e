"""The public hub page as the day of action: the calls a hub carries by date with their local actions
grouped under them (never listed as calls), the coalitions pledged per region, and the member tree."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.coalitions.actor_profile import ensure_profile
from fedihub.federation.actors import get_local_actor, resolve_target
from fedihub.hubs import service as hubs
from fedihub.hubs.member_tree import TreeLimits, member_trees
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.pledges.local_action import LocalActionInput
from fedihub.storage.models import Actor, Follow
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance


async def _coalition(instance: Instance, handle: str, name: str, state: str) -> None:
    actor = await committed(instance.ctx, service.create_coalition, handle, name=name)
    async with instance.ctx.sessions.begin() as session:
        row = await session.get(Actor, actor.id)
        assert row is not None
        profile = ensure_profile(row)
        profile.region_state, profile.region_country = state, "US"


def _call(net: FederationNet, title: str, days: float) -> calls.CallInput:
    start = net.clock() + timedelta(days=days)
    return calls.CallInput(
        title=title, description="Everywhere at once.", start=start, end=start + timedelta(hours=3),
        timezone="America/Chicago", place_name="Daley Plaza", address="50 W Washington St, Chicago",
    )


def _action(net: FederationNet, title: str, days: float, place: str) -> LocalActionInput:
    start = net.clock() + timedelta(days=days, hours=1)
    return LocalActionInput(
        title=title, start=start, timezone="America/Chicago", place=place, end=start + timedelta(hours=1),
        address="Main St", latitude=40.69, longitude=-89.59, online_url="https://stream.example/live",
    )


async def _member(instance: Instance, hub: str, handle: str) -> None:
    await committed(instance.ctx, hubs.add_member, hub, await resolve_target(instance.ctx, handle))


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _calls_in(page: str, kind: str) -> list[str]:
    """The titles of the calls in the hub page's upcoming or past list."""
    marker = f'data-hub-day="{kind}"'
    if marker not in page:
        return []
    section = page.split(marker, 1)[1].split("</section>", 1)[0].split('data-hub-day="past"', 1)[0]
    return [_text(title) for title in re.findall(r'<h3 class="call-item-title">(.*?)</h3>', section, re.S)]


async def _day_of_action(net: FederationNet) -> tuple[Instance, Instance, dict[str, str]]:
    a = await net.add_instance("a.test")
    s = await net.add_instance("s.test")
    await _coalition(a, "chicago", "Chicago Workers", "Illinois")
    await _coalition(a, "fight15", "Peoria Fight for 15", "Illinois")
    await _coalition(a, "madison", "Madison Tenants", "Wisconsin")
    await committed(s.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    # fight15 is a member too: the hub boosts its local action as it boosts every member's Event.
    for handle in ("chicago@a.test", "fight15@a.test"):
        await _member(s, "illinois", handle)
    await net.settle()
    uris = {}
    for title, days in (("Later national day", 10), ("Sooner national day", 5), ("Yesterday's rally", 1)):
        uris[title] = (await committed(a.ctx, calls.publish_call, "chicago", _call(net, title, days))).uri
        await net.settle()
    sooner = await get_call_target(a.ctx, uris["Sooner national day"])
    await committed(a.ctx, pledges.pledge, "fight15", sooner, action=_action(net, "Peoria picket", 5, "Peoria square"))
    await committed(a.ctx, pledges.pledge, "madison", sooner, action=_action(net, "Madison march", 5, "Capitol"))
    await net.settle()
    net.clock.advance(days=2)  # "Yesterday's rally" is over now
    return a, s, uris


@pytest.mark.all_backends  # the query reads the Event's JSON (superEvent): each database spells that its own way
async def test_the_hub_page_lists_calls_by_date_with_their_local_actions_under_them(net: FederationNet) -> None:
    a, s, uris = await _day_of_action(net)

    page = (await s.get("/g/illinois", headers={"accept": "text/html"})).text

    # Soonest first, whatever order the hub boosted them in; the past one after, marked.
    assert _calls_in(page, "upcoming") == ["Sooner national day", "Later national day"]
    assert _calls_in(page, "past") == ["Yesterday's rally Past"]
    # The local actions are under their call, never calls of their own with "0 coalitions pledged".
    assert "Peoria picket" not in "".join(_calls_in(page, "upcoming") + _calls_in(page, "past"))
    sooner = page.split("Sooner national day", 1)[1].split('data-hub-day="call"', 1)[0]
    actions = [_text(item) for item in re.findall(r'data-hub-day="action">(.*?)</li>', sooner, re.S)]
    assert len(actions) == 2
    picket = next(text for text in actions if text.startswith("Peoria picket"))
    assert "Peoria square, Main St" in picket and "Online link" in picket and "by Peoria Fight for 15" in picket
    assert re.search(r"\d\d:\d\d – \d\d:\d\d Chicago time \(C[DS]T\)", picket)  # start to end, in its own zone
    assert _text(page.split("Sooner national day", 1)[1].split('data-rollup="hub-line">', 1)[1].split("</p>")[0]) \
        .startswith("2 coalitions pledged · 2 local actions")
    # Each call with its time and place in its own zone.
    call_meta = _text(page.split("Later national day", 1)[1].split("</p>", 1)[0])
    assert "Daley Plaza, 50 W Washington St, Chicago" in call_meta and re.search(r"\d\d:\d\d", call_meta)
    # Three calls are planned or past: "Nothing planned" is said nowhere.
    assert "Nothing planned" not in page
    # The coalitions pledged, per state, counted once each.
    regions = page.split('data-hub-day="regions">', 1)[1].split("</ul>", 1)[0]
    assert re.findall(r'bar-label">([^<]*)<', regions) == ["Illinois, US", "Wisconsin, US"]
    # The day's map: the upcoming calls' local actions that give a place. Both are at one spot here,
    # so they are one group, which leads to the list of calls and their actions.
    day_map = page.split('id="day-map-heading"', 1)[1].split("</figure>", 1)[0]
    assert re.search(r'<a href="#carried-heading" class="map-cluster" data-count="2"><title>2 places here: '
                     r'[^<]*Peoria picket', day_map), day_map


async def test_nothing_planned_is_said_only_when_nothing_is(net: FederationNet) -> None:
    a, s, uris = await _day_of_action(net)
    for title in ("Later national day", "Sooner national day"):
        await committed(a.ctx, service.delete_object, uris[title])
    await net.settle()

    page = (await s.get("/g/illinois", headers={"accept": "text/html"})).text

    assert page.count("Nothing planned right now") == 1
    assert _calls_in(page, "upcoming") == [] and _calls_in(page, "past") == ["Yesterday's rally Past"]


async def _loop(instance: Instance, hub: str, member: str) -> None:
    """``member`` listed as a member of ``hub``, its own member hub: a tree that loops."""
    async with instance.ctx.sessions.begin() as session:
        follower, target = await get_local_actor(session, hub), await get_local_actor(session, member)
        now = instance.ctx.clock()
        # A member hub already follows its hub (of_hub): the same row, now as a membership.
        row = await session.scalar(select(Follow).where(Follow.follower_id == follower.id,
                                                        Follow.target_id == target.id))
        if row is None:
            row = Follow(uri=f"{follower.uri}#loop", follower_id=follower.id, target_id=target.id, created_at=now)
            session.add(row)
        row.state, row.of_hub, row.updated_at = "accepted", False, now


async def test_the_member_tree_opens_sub_hubs_and_stays_bounded(net: FederationNet) -> None:
    s = await net.add_instance("s.test")
    n = await net.add_instance("n.test")
    await committed(s.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    await committed(s.ctx, hubs.create_hub, "cook", name="Cook County Hub", scope="regional", region="Cook County")
    await committed(n.ctx, hubs.create_hub, "metro", name="Metro Hub", scope="regional")
    await _coalition(s, "evanston", "Evanston Renters", "Illinois")
    await _coalition(s, "skokie", "Skokie Workers", "Illinois")
    await _member(s, "cook", "evanston@s.test")
    await _member(s, "cook", "skokie@s.test")
    await _member(n, "metro", "evanston@s.test")  # a remote sub-hub's member, known here
    await _member(s, "illinois", "cook@s.test")
    await _member(s, "illinois", "metro@n.test")
    await net.settle()
    await _loop(s, "cook", "illinois")  # a loop: shown once, never followed round

    page = (await s.get("/g/illinois", headers={"accept": "text/html"})).text

    cook = page.split('data-member-tree="cook@s.test">', 1)[1].split("</details>", 1)[0]
    assert "<summary>Its members (3)</summary>" in cook
    assert "Evanston Renters" in cook and "Skokie Workers" in cook
    assert 'data-member-tree="cut"' in cook  # Illinois Hub under its own member: not opened again
    metro = page.split('data-member-tree="metro@n.test">', 1)[1].split("</details>", 1)[0]
    assert "as known on this server (1)" in metro and "Evanston Renters" in metro

    async with s.ctx.sessions() as session:
        illinois = await get_local_actor(session, "illinois")
        roster = await hubs.list_members(session, illinois.id)
        small = await member_trees(session, illinois.uri, roster, TreeLimits(depth=1, per_hub=1, nodes=1))
    shown = sum(len(node.members) for node in small.values())
    assert shown == 1 and small["http://s.test/g/cook"].more == 2
