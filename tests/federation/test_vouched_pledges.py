"""Counts you can believe, written as the attacks: a server pledging sixty Groups it made, turnout of ten
million years ahead, a Group calling itself a hub, a forged roster claim; and the vouches that do count."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from fedihub.coalitions import calls, service
from fedihub.coalitions.actor_profile import ensure_profile
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.hubs import boosting
from fedihub.hubs import service as hubs
from fedihub.pledges import mirror, notices, vouch_check
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.pledges.queries import rollup_of
from fedihub.pledges.rollup import Rollup
from fedihub.pledges.store import item_of
from fedihub.protocol.pledges import build_pledge_item
from fedihub.storage.models import Actor, Pledge, StoredObject
from tests.integration.helpers import AS2, path_of
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer, add_fake_peer
from tests.support.fixtures import fixtures_dir
from tests.support.network import FederationNet, Instance

pytestmark = [pytest.mark.all_backends, pytest.mark.usefixtures("cheap_password_hashing")]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
AUTHOR = "http://a.test/g/tenants"  # the calling coalition


def _call_input(net: FederationNet, *, days: int = 700) -> calls.CallInput:
    start = net.clock() + timedelta(days=days)
    return calls.CallInput(
        title="National day of action for rent control", description="Rallies everywhere.", start=start,
        end=start + timedelta(hours=3), timezone="America/Chicago", place_name="Daley Plaza", movements=["housing"],
    )


async def _coalition(instance: Instance, handle: str, name: str, state: str) -> Actor:
    actor = await committed(instance.ctx, service.create_coalition, handle, name=name)
    async with instance.ctx.sessions.begin() as session:
        row = await session.get(Actor, actor.id)
        assert row is not None
        profile = ensure_profile(row)
        profile.region_state, profile.region_country = state, "US"
    return actor


async def _rollup(instance: Instance, call_uri: str) -> Rollup:
    async with instance.ctx.sessions() as session:
        call = await session.scalar(select(StoredObject).where(StoredObject.uri == call_uri))
        assert call is not None, instance.base_url
        return await rollup_of(session, call)


def _text(page: str, marker: str) -> str:
    found = re.search(rf'data-rollup="{marker}">(.*?)</(?:p|dd|span|ul)>', page, re.S)
    assert found, f"no {marker} on the page"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


async def _api_pledges(instance: Instance, call_uri: str) -> dict[str, Any]:
    body = (await instance.get("/api/v1/calls", headers={"accept": "application/json"})).json()
    [item] = [item for item in body["items"] if item["id"] == call_uri]
    return item["pledges"]  # type: ignore[no-any-return]


async def _collection_head(instance: Instance, call_uri: str) -> dict[str, Any]:
    return (await instance.get(f"{path_of(call_uri)}/pledges", headers={"accept": AS2})).json()  # type: ignore[no-any-return]


def _group(peer: FakePeer, username: str, *, state: str | None = None, **extra: Any) -> FakeAccount:
    document: dict[str, Any] = dict(extra)
    if state:
        document["location"] = {"type": "Place", "name": state,
                                "address": {"type": "PostalAddress", "addressRegion": state, "addressCountry": "US"}}
    # One key for every Group: a Sybil server mints actors, not keys.
    return peer.add_account(username, key_slot=0, actor_type="Group", document_extra=document)


def _join(peer: FakePeer, group: FakeAccount, call: StoredObject, **extra: Any) -> dict[str, Any]:
    return {"@context": AS_CONTEXT, "id": peer.new_id(group), "type": "Join", "actor": group.id,
            "object": call.uri, "to": [AUTHOR], **extra}


async def _chicago(net: FederationNet) -> tuple[Instance, Actor, StoredObject]:
    """a.test: the Chicago tenants call a day of action two years ahead; Springfield, also here, pledges."""
    a = await net.add_instance("a.test", unvouched_pledges_per_server=5)
    chicago = await _coalition(a, "tenants", "Chicago Tenants", "Illinois")
    await _coalition(a, "renters", "Springfield Renters", "Illinois")
    call = await committed(a.ctx, calls.publish_call, "tenants", _call_input(net))
    await committed(a.ctx, pledges.pledge, "renters", await get_call_target(a.ctx, call.uri))
    await net.settle()
    return a, chicago, call


async def test_sixty_groups_from_one_server_count_at_most_five_and_never_in_the_headline(net: FederationNet) -> None:
    a, chicago, call = await _chicago(net)
    page_path = path_of(call.uri)
    before = (await a.get(page_path, headers={"accept": "text/html"})).text
    assert _text(before, "headline") == "1 coalition pledged, 1 region"

    sybil = add_fake_peer(net, "sybil.test", fixtures_dir(), usernames=())
    groups = [_group(sybil, f"group{n}", state=f"State {n}") for n in range(60)]
    for group in groups:
        assert (await sybil.send(a, _join(sybil, group, call))).status_code == 202
    await net.settle()

    # The headline is what it was; five are counted apart as unvouched, the other 55 wait unanswered.
    rollup = await _rollup(a, call.uri)
    assert (rollup.pledged, len(rollup.by_region), rollup.unvouched) == (1, 1, 5)
    page = (await a.get(page_path, headers={"accept": "text/html"})).text
    assert _text(page, "headline") == "1 coalition pledged, 1 region and 5 unvouched"
    assert _text(page, "pledged") == "1" and _text(page, "unvouched") == "5"
    assert await _api_pledges(a, call.uri) == {"count": 1, "unvouched": 5, "local_actions": 0}
    head = await _collection_head(a, call.uri)
    assert (head["totalItems"], head["vouchedItems"]) == (6, 1)
    assert len(sybil.received("Accept")) == 5 and sybil.received("Reject") == []
    async with a.ctx.sessions() as session:
        held = await session.scalar(
            select(func.count()).select_from(Pledge).where(Pledge.call_uri == call.uri, Pledge.state == "pending")
        )
    assert held == 55

    # The organizers see the 55 held pledges to review; anyone else sees none of them.
    admin = await organizer(a, "ada", chicago, "admin")
    mine = (await admin.get(page_path)).text
    assert mine.count('data-pledger="http://sybil.test/users/') == 60  # 5 unvouched + 55 held
    assert 'data-rollup="held-list"' not in page

    # Refusing an accepted unvouched pledge answers its server with a Reject; approving a held one, an Accept.
    accepted = [group for group in groups if any(accept["object"]["actor"] == group.id
                                                  for accept in sybil.received("Accept"))]
    refused = await admin.submit(page_path, "/pledge/refuse", {"call": call.uri, "pledger": accepted[0].id})
    assert refused.status_code == 303
    held_group = next(group for group in groups if group not in accepted)
    approved = await admin.submit(page_path, "/pledge/approve", {"call": call.uri, "pledger": held_group.id})
    assert approved.status_code == 303
    await net.settle()
    assert [reject["object"]["actor"] for reject in sybil.received("Reject")] == [accepted[0].id]
    assert held_group.id in [accept["object"]["actor"] for accept in sybil.received("Accept")]
    rollup = await _rollup(a, call.uri)
    assert (rollup.pledged, rollup.unvouched) == (2, 4)



async def test_turnout_of_ten_million_years_ahead_is_refused_and_an_unvouched_one_never_shown(
    net: FederationNet,
) -> None:
    a, _, call = await _chicago(net)
    sybil = add_fake_peer(net, "sybil.test", fixtures_dir(), usernames=())
    group = _group(sybil, "group0", state="Ohio")
    report = {"happened": True, "turnout": 10_000_000}
    join = _join(sybil, group, call, report=report)
    assert (await sybil.send(a, join)).status_code == 202
    await net.settle()
    update = {"@context": AS_CONTEXT, "id": sybil.new_id(group), "type": "Update", "actor": group.id,
              "to": [AUTHOR], "object": {**join, "report": {"happened": True, "turnout": 900_000}}}
    assert (await sybil.send(a, update)).status_code == 202
    await net.settle()
    async with a.ctx.sessions() as session:
        row = await session.scalar(select(Pledge).where(Pledge.coalition_uri == group.id))
    assert row is not None and row.state == "accepted" and (row.happened, row.turnout) == (None, None)

    # After the call: ten million is past the plausibility bound; a plausible figure is kept but,
    # unvouched, shown nowhere: not in the roll-up, not on the page, not in the published collection.
    net.clock.advance(days=701)
    notices = len(sybil.received("Add"))
    for turnout, kept in ((10_000_000, None), (900, 900)):
        update = {**update, "id": sybil.new_id(group),
                  "object": {**join, "report": {"happened": True, "turnout": turnout}}}
        assert (await sybil.send(a, update)).status_code == 202
        await net.settle()
        async with a.ctx.sessions() as session:
            row = await session.scalar(select(Pledge).where(Pledge.coalition_uri == group.id))
        assert row is not None and row.turnout == kept
    # Nothing published changed, so nobody was told anything.
    assert len(sybil.received("Add")) == notices
    rollup = await _rollup(a, call.uri)
    assert (rollup.reported, rollup.turnout, rollup.unvouched) == (0, 0, 1)
    page = (await a.get(path_of(call.uri), headers={"accept": "text/html"})).text
    assert "900" not in _text(page, "report-line")
    collection = await _collection_head(a, call.uri)
    items = (await a.get(path_of(collection["first"]), headers={"accept": AS2})).json()["orderedItems"]
    published = [item for item in items if item["actor"]["id"] == group.id]
    assert [("report" in item, item["vouched"]) for item in published] == [(False, False)]


async def test_our_own_coalition_cannot_report_before_its_action_started(net: FederationNet) -> None:
    a, _, call = await _chicago(net)
    with pytest.raises(Exception, match="once your local action has started"):
        await committed(a.ctx, pledges.report, "renters", call.uri, happened=True, turnout=120)
    with pytest.raises(Exception, match="from 0 to 1,000,000"):
        await committed(a.ctx, pledges.report, "renters", call.uri, happened=True, turnout=10_000_000)


async def test_a_hub_that_boosted_first_carries_the_call_as_soon_as_its_author_follows_it(net: FederationNet) -> None:
    a, _, call = await _chicago(net)
    h = await net.add_instance("h.test")
    await committed(h.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    await committed(h.ctx, hubs.add_member, "illinois", await resolve_target(h.ctx, "tenants@a.test"))
    await net.settle()
    second = await committed(a.ctx, calls.publish_call, "tenants", _call_input(net, days=30))
    await net.settle()
    # The hub boosted the call, but nothing the organizers did says it speaks for them yet.
    assert (await _rollup(a, second.uri)).carriers == []

    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "illinois@h.test"))
    await net.settle()  # the hub's Accept arrives: no hourly sweep needed

    assert [c.name for c in (await _rollup(a, second.uri)).carriers] == ["Illinois Hub"]


async def test_a_group_calling_itself_a_hub_is_not_carrying_the_call(net: FederationNet) -> None:
    a, _, call = await _chicago(net)
    h = await net.add_instance("h.test")
    await committed(h.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    await committed(h.ctx, hubs.add_member, "illinois", await resolve_target(h.ctx, "tenants@a.test"))
    # "Carried by" names anchored hubs only: the calling coalition follows the hub, its organizers' choice.
    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "illinois@h.test"))
    await net.settle()
    # A real hub that follows the call's author (with its consent) boosts a new call: it carries it.
    second = await committed(a.ctx, calls.publish_call, "tenants", _call_input(net, days=30))
    await net.settle()

    rogue = add_fake_peer(net, "rogue.test", fixtures_dir(), usernames=())
    fake_hub = _group(rogue, "national", **{"fedihub:hubScope": "national", "name": "National Hub"})
    for target in (call, second):
        announce = rogue.build_announce(fake_hub, target.uri, AUTHOR)
        assert (await rogue.send(a, announce)).status_code == 202
    await net.settle()

    assert [c.name for c in (await _rollup(a, second.uri)).carriers] == ["Illinois Hub"]
    assert (await _rollup(a, call.uri)).carriers == []
    head = await _collection_head(a, second.uri)
    assert [c["id"] for c in head["carriedBy"]] == ["http://h.test/g/illinois"]
    page = (await a.get(path_of(call.uri), headers={"accept": "text/html"})).text
    assert "National Hub" not in page and "No hub has boosted it yet." in page


async def test_a_coalition_in_a_carrying_hubs_roster_is_vouched_and_a_forged_claim_is_not(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    h = await net.add_instance("h.test")
    await _coalition(a, "tenants", "Chicago Tenants", "Illinois")
    await _coalition(b, "peoria", "Peoria Fight for 15", "Illinois")
    await committed(h.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    for handle in ("tenants@a.test", "peoria@b.test"):
        await committed(h.ctx, hubs.add_member, "illinois", await resolve_target(h.ctx, handle))
    # The calling coalition follows its hub: its organizers' own choice, which lets the hub's roster vouch.
    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "illinois@h.test"))
    await net.settle()
    call = await committed(a.ctx, calls.publish_call, "tenants", _call_input(net))
    await net.settle()

    # A hostile server says, in its Group's own followers collection, that the Illinois hub follows it.
    sybil = add_fake_peer(net, "sybil.test", fixtures_dir(), usernames=())
    liar = _group(sybil, "liar", state="Ohio")
    sybil.serve({"@context": AS_CONTEXT, "id": liar.followers, "type": "OrderedCollection", "totalItems": 1,
                 "orderedItems": ["http://h.test/g/illinois"]})
    join = _join(sybil, liar, call)
    # Its server serves the Join, so the copies on other servers take the pledge as the liar's own word
    # (they show a third server's pledge only once its server confirms it) and still count it apart.
    sybil.serve(join)
    assert (await sybil.send(a, join)).status_code == 202
    await committed(b.ctx, pledges.pledge, "peoria", await get_call_target(b.ctx, call.uri))
    await net.settle()

    rollup = await _rollup(a, call.uri)
    assert [item.coalition.name for item in rollup.pledges] == ["Peoria Fight for 15"]
    assert [item.coalition.uri for item in rollup.unvouched_pledges] == [liar.id]
    # Peoria's own server shows the same: vouched by the origin; so does the hub's page on its server.
    seen = await _rollup(b, call.uri)
    assert (seen.pledged, seen.unvouched) == (1, 1)
    hub_page = (await h.get("/g/illinois", headers={"accept": "text/html"})).text
    line = " ".join(re.sub(r"<[^>]+>", "", hub_page.split('data-rollup="hub-line">', 1)[1].split("</p>", 1)[0]).split())
    assert line.startswith("1 coalition pledged (and 1 unvouched)"), line


async def test_organizers_approve_a_pledge_and_every_copy_counts_it(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    c = await net.add_instance("c.test")
    chicago = await _coalition(a, "tenants", "Chicago Tenants", "Illinois")
    peoria = await _coalition(b, "peoria", "Peoria Fight for 15", "Illinois")
    await _coalition(c, "watchers", "Decatur Watchers", "Illinois")
    await committed(c.ctx, follows.follow, "watchers", await resolve_target(c.ctx, "tenants@a.test"))
    await net.settle()
    call = await committed(a.ctx, calls.publish_call, "tenants", _call_input(net))
    await net.settle()
    await committed(b.ctx, pledges.pledge, "peoria", await get_call_target(b.ctx, call.uri))
    await net.settle()
    for instance in (a, b, c):
        rollup = await _rollup(instance, call.uri)
        assert (rollup.pledged, rollup.unvouched) == (0, 1), instance.base_url

    # The calling coalition's admin approves it (a CSRF-protected form on the call page).
    admin = await organizer(a, "ada", chicago, "admin")
    page_path = path_of(call.uri)
    assert "/pledge/approve" in (await admin.get(page_path)).text
    response = await admin.submit(page_path, "/pledge/approve", {"call": call.uri, "pledger": peoria.uri})
    assert response.status_code == 303
    await net.settle()

    for instance in (a, b, c):
        rollup = await _rollup(instance, call.uri)
        assert (rollup.pledged, rollup.unvouched) == (1, 0), instance.base_url
    page = (await a.get(page_path, headers={"accept": "text/html"})).text
    assert _text(page, "headline") == "1 coalition pledged, 1 region"
    assert await _api_pledges(a, call.uri) == {"count": 1, "unvouched": 0, "local_actions": 0}
    head = await _collection_head(a, call.uri)
    assert (head["totalItems"], head["vouchedItems"]) == (1, 1)
    remote_page = (await c.get(f"/calls/view?url={call.uri}", headers={"accept": "text/html"})).text
    assert _text(remote_page, "headline") == "1 coalition pledged, 1 region"



async def test_a_coalition_that_joins_a_carrying_hub_after_pledging_is_vouched_at_the_next_sweep(
    net: FederationNet,
) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    h = await net.add_instance("h.test")
    await _coalition(a, "tenants", "Chicago Tenants", "Illinois")
    await _coalition(b, "peoria", "Peoria Fight for 15", "Illinois")
    await committed(h.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    await committed(h.ctx, hubs.add_member, "illinois", await resolve_target(h.ctx, "tenants@a.test"))
    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "illinois@h.test"))
    await net.settle()
    call = await committed(a.ctx, calls.publish_call, "tenants", _call_input(net))
    await net.settle()
    await committed(b.ctx, pledges.pledge, "peoria", await get_call_target(b.ctx, call.uri))
    await net.settle()
    assert ((await _rollup(a, call.uri)).pledged, (await _rollup(a, call.uri)).unvouched) == (0, 1)

    # Peoria joins the hub afterwards: nothing is sent to the call's server, the hourly sweep finds it.
    await committed(h.ctx, hubs.add_member, "illinois", await resolve_target(h.ctx, "peoria@b.test"))
    await net.settle()
    await vouch_check.run_vouch_sweep(a.ctx, {})
    await net.settle()
    for instance in (a, b):
        rollup = await _rollup(instance, call.uri)
        assert (rollup.pledged, rollup.unvouched) == (1, 0), instance.base_url


async def test_a_hub_a_hostile_server_made_vouches_for_none_of_its_groups(net: FederationNet) -> None:
    """The Sybil server adds a hub: it follows the call's author (accepted on its own), announces the
    call, lists its ten Groups as followed, and each Group lists the hub as a follower."""
    a, _, call = await _chicago(net)
    sybil = add_fake_peer(net, "sybil.test", fixtures_dir(), usernames=())
    groups = [_group(sybil, f"group{n}", state=f"State {n}") for n in range(10)]
    fake_hub = _group(sybil, "national", **{"fedihub:hubScope": "national", "name": "National Hub"})
    sybil.serve({"@context": AS_CONTEXT, "id": f"{fake_hub.id}/following", "type": "OrderedCollection",
                 "totalItems": len(groups), "orderedItems": [group.id for group in groups]})
    for group in groups:
        sybil.serve({"@context": AS_CONTEXT, "id": group.followers, "type": "OrderedCollection", "totalItems": 1,
                     "orderedItems": [fake_hub.id]})
    assert (await sybil.send(a, sybil.build_follow(fake_hub, AUTHOR))).status_code == 202
    await net.settle()
    assert sybil.received("Accept"), "the author accepts followers on its own"
    assert (await sybil.send(a, sybil.build_announce(fake_hub, call.uri, AUTHOR))).status_code == 202
    for group in groups:
        assert (await sybil.send(a, _join(sybil, group, call))).status_code == 202
    await net.settle()

    rollup = await _rollup(a, call.uri)
    assert (rollup.pledged, len(rollup.by_region), rollup.unvouched) == (1, 1, 5)
    page = (await a.get(path_of(call.uri), headers={"accept": "text/html"})).text
    assert _text(page, "headline") == "1 coalition pledged, 1 region and 5 unvouched"


async def test_a_copy_that_missed_a_vouch_gets_it_back_at_the_next_re_read_even_with_no_confirmations_left(
    net: FederationNet,
) -> None:
    a, c, call, peoria = await _peoria_pledges_and_c_shows_it_unvouched(net)
    # The organizers approve Peoria's pledge, but c never gets the Add that says so (it was down).
    await _vouch_at_origin(a, call, peoria, notify=False)
    # c re-reads the origin's list while its confirmations of other servers' pledges are used up: Peoria's
    # pledge is confirmed already, so its vouch is kept up to date all the same.
    async with c.ctx.sessions() as session:
        copy = await session.scalar(select(StoredObject).where(StoredObject.uri == call.uri))
        assert copy is not None
    assert await mirror.refresh(c.ctx, copy, mirror.MirrorLimits(confirm_per_refresh=0))
    rollup = await _rollup(c, call.uri)
    assert (rollup.pledged, rollup.unvouched) == (1, 0)


async def test_a_hub_that_withdraws_its_boost_is_no_longer_listed_after_the_next_sweep(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    h = await net.add_instance("h.test")
    await _coalition(a, "tenants", "Chicago Tenants", "Illinois")
    await committed(h.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    await committed(h.ctx, hubs.add_member, "illinois", await resolve_target(h.ctx, "tenants@a.test"))
    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "illinois@h.test"))
    await net.settle()
    call = await committed(a.ctx, calls.publish_call, "tenants", _call_input(net))
    await net.settle()
    assert [c.name for c in (await _rollup(a, call.uri)).carriers] == ["Illinois Hub"]

    # The hub's admins withdraw its boost: an Undo, which asks the call's server for nothing at once.
    async with h.ctx.sessions.begin() as session:
        await boosting.undo_boosts(h.ctx, session, call.uri)
    await net.settle()
    await vouch_check.run_vouch_sweep(a.ctx, {})
    await net.settle()
    assert (await _rollup(a, call.uri)).carriers == []
    head = await _collection_head(a, call.uri)
    assert head["carriedBy"] == []


async def _peoria_pledges_and_c_shows_it_unvouched(
    net: FederationNet,
) -> tuple[Instance, Instance, StoredObject, Actor]:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    c = await net.add_instance("c.test")
    await _coalition(a, "tenants", "Chicago Tenants", "Illinois")
    peoria = await _coalition(b, "peoria", "Peoria Fight for 15", "Illinois")
    await _coalition(c, "watchers", "Decatur Watchers", "Illinois")
    await committed(c.ctx, follows.follow, "watchers", await resolve_target(c.ctx, "tenants@a.test"))
    await net.settle()
    call = await committed(a.ctx, calls.publish_call, "tenants", _call_input(net))
    await net.settle()
    await committed(b.ctx, pledges.pledge, "peoria", await get_call_target(b.ctx, call.uri))
    await net.settle()
    assert ((await _rollup(c, call.uri)).pledged, (await _rollup(c, call.uri)).unvouched) == (0, 1)
    return a, c, call, peoria


async def _vouch_at_origin(a: Instance, call: StoredObject, peoria: Actor, *, notify: bool) -> None:
    """The organizers approve Peoria's pledge; with ``notify`` the copies get the summary that says so."""
    async with a.ctx.sessions.begin() as session:
        row = await session.scalar(
            select(Pledge).where(Pledge.call_uri == call.uri, Pledge.coalition_uri == peoria.uri)
        )
        assert row is not None
        row.vouched_by = "organizers"
        if notify:
            origin_call = await session.scalar(select(StoredObject).where(StoredObject.uri == call.uri))
            assert origin_call is not None
            await notices.publish_notice(a.ctx, session, origin_call, "Update")


async def test_a_copy_that_missed_a_vouch_re_reads_the_list_when_the_next_notice_counts_otherwise(
    net: FederationNet,
) -> None:
    a, c, call, peoria = await _peoria_pledges_and_c_shows_it_unvouched(net)
    # The Add that vouched Peoria never reached c; the next notice (here a carriers Update) counts one
    # vouched pledge where c counts none, and that alone makes c read the list again.
    await _vouch_at_origin(a, call, peoria, notify=False)
    await _vouch_at_origin(a, call, peoria, notify=True)
    await net.settle()
    rollup = await _rollup(c, call.uri)
    assert (rollup.pledged, rollup.unvouched) == (1, 0)


async def test_a_re_read_that_overlaps_a_newer_notice_does_not_undo_it(
    net: FederationNet, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, c, call, peoria = await _peoria_pledges_and_c_shows_it_unvouched(net)
    read_items = mirror._read_items

    async def read_then_a_notice_lands(ctx: Any, collection_id: str, limits: mirror.MirrorLimits) -> Any:
        reading = await read_items(ctx, collection_id, limits)  # Peoria still unvouched in this page
        monkeypatch.setattr(mirror, "_read_items", read_items)
        net.clock.advance(seconds=1)
        await _vouch_at_origin(a, call, peoria, notify=True)
        await net.settle()  # c applies the vouch while its re-read is still under way
        net.clock.advance(seconds=1)
        return reading

    monkeypatch.setattr(mirror, "_read_items", read_then_a_notice_lands)
    async with c.ctx.sessions() as session:
        copy = await session.scalar(select(StoredObject).where(StoredObject.uri == call.uri))
        assert copy is not None
    assert await mirror.refresh(c.ctx, copy)
    # The stale page wrote Peoria back as unvouched, but the re-read saw the notice land and asked again.
    await net.settle()
    rollup = await _rollup(c, call.uri)
    assert (rollup.pledged, rollup.unvouched) == (1, 0)


async def test_an_older_notice_arriving_late_does_not_take_back_a_vouch(net: FederationNet) -> None:
    a, c, call, peoria = await _peoria_pledges_and_c_shows_it_unvouched(net)
    # The Add the origin sent when Peoria pledged (unvouched), as it was then...
    async with a.ctx.sessions() as session:
        origin_call = await session.scalar(select(StoredObject).where(StoredObject.uri == call.uri))
        row = await session.scalar(select(Pledge).where(Pledge.coalition_uri == peoria.uri))
        assert origin_call is not None and row is not None
        older_item = build_pledge_item(item_of(row))
        older_summary = await notices.summary_document(session, origin_call, a.ctx.clock())
    # ...then the organizers vouch for it and c hears of it...
    await _vouch_at_origin(a, call, peoria, notify=True)
    await net.settle()
    assert (await _rollup(c, call.uri)).pledged == 1
    # ...and only now does the older Add reach c (a retried delivery, or two deliveries side by side).
    async with c.ctx.sessions.begin() as session:
        copy = await session.scalar(select(StoredObject).where(StoredObject.uri == call.uri))
        assert copy is not None
        await mirror.apply_notice(c.ctx, session, copy, "Add", older_item, older_summary)
    await net.settle()
    rollup = await _rollup(c, call.uri)
    assert (rollup.pledged, rollup.unvouched) == (1, 0)
