"""Roster discovery: a server reads the rosters of the hubs it knows into its directory, politely."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.coalitions.actor_profile import profile_of
from fedihub.coalitions.profile import parse_profile_form, save_profile
from fedihub.directory.rosters import RosterLimits, refresh_directory
from fedihub.federation import actors, follows
from fedihub.federation.actors import resolve_target
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor
from tests.support.edges import committed
from tests.support.fake_peer import key_pair
from tests.support.network import FederationNet, Instance

NOW = RosterLimits(host_delay=0)
AS2 = "application/activity+json"


async def directory_names(instance: Instance, query: str = "") -> list[str]:
    response = await instance.get(f"/api/v1/directory{query}")
    assert response.status_code == 200
    return sorted(item["name"] for item in response.json()["items"])


async def stored(instance: Instance, uri: str) -> Actor | None:
    async with instance.ctx.sessions() as session:
        return await session.scalar(select(Actor).where(Actor.uri == uri))


async def build_tree(net: FederationNet) -> Instance:
    """national@n.test ⊃ illinois@s.test ⊃ chicago@r.test ⊃ tenants@c.test; d.test knows the national hub."""
    n, s, r, c, d = [await net.add_instance(f"{host}.test") for host in ("n", "s", "r", "c", "d")]
    await committed(n.ctx, hubs.create_hub, "national", name="National Hub", scope="national")
    await committed(s.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state", region="Illinois")
    await committed(r.ctx, hubs.create_hub, "chicago", name="Chicago Hub", scope="regional", region="Chicagoland")
    await committed(s.ctx, service.create_coalition, "springfield", name="Springfield Tenants")
    await committed(s.ctx, save_profile, "springfield", parse_profile_form({
        "name": "Springfield Tenants", "summary": "", "movements": ["Tenants"], "tags": "",
        "region_city": "Springfield", "region_state": "Illinois", "region_country": "US",
        "latitude": "39.78", "longitude": "-89.65", "website": "",
    }))
    await committed(c.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    await committed(n.ctx, hubs.add_member, "national", await resolve_target(n.ctx, "illinois@s.test"))
    await committed(s.ctx, hubs.add_member, "illinois", await resolve_target(s.ctx, "chicago@r.test"))
    await committed(s.ctx, hubs.add_member, "illinois", await resolve_target(s.ctx, "springfield@s.test"))
    await committed(r.ctx, hubs.add_member, "chicago", await resolve_target(r.ctx, "tenants@c.test"))
    await net.settle()
    await actors.resolve_target(d.ctx, "national@n.test")
    return d


async def test_a_tree_of_hubs_is_discovered_to_depth_two_and_not_beyond(net: FederationNet) -> None:
    d = await build_tree(net)

    report = await refresh_directory(d.ctx, NOW)

    assert await directory_names(d) == ["Chicago Hub", "Illinois Hub", "National Hub", "Springfield Tenants"]
    assert report.rosters_read == 2 and report.members_added == 3 and not report.failures
    assert await stored(d, "http://c.test/g/tenants") is None  # on the third level: not read
    springfield = (await d.get("/api/v1/directory?q=springfield")).json()["items"][0]
    assert springfield["found"] == "roster" and springfield["movements"] == ["Tenants"]
    assert springfield["region"]["text"] == "Springfield, Illinois, US" and springfield["latitude"] == 39.78
    assert springfield["handle"] == "springfield@s.test" and springfield["url"] == "http://s.test/g/springfield"
    chicago = (await d.get("/api/v1/directory?scope=regional")).json()["items"][0]
    assert chicago["region"]["hub_region"] == "Chicagoland" and chicago["found"] == "roster"
    # The members themselves were not fetched: a stub, until something fetches it.
    stub = await stored(d, "http://s.test/g/springfield")
    assert stub is not None and stub.fetched_at is None and stub.listing.discovered_via == "roster"


async def test_depth_three_reaches_the_coalitions_of_the_regional_hub(net: FederationNet) -> None:
    d = await build_tree(net)
    await refresh_directory(d.ctx, RosterLimits(depth=3, host_delay=0))
    assert "Chicago Tenants" in await directory_names(d)


async def test_a_roster_read_recently_is_not_read_again(net: FederationNet) -> None:
    d = await build_tree(net)
    await refresh_directory(d.ctx, NOW)

    again = await refresh_directory(d.ctx, NOW)
    assert again.rosters_read == 0 and again.rosters_fresh == 1 and again.requests == 0

    net.clock.advance(hours=7)
    later = await refresh_directory(d.ctx, NOW)
    assert later.rosters_read == 2 and later.requests == 2  # the Illinois hub is known in full now


async def test_requests_to_one_host_are_spaced_out(net: FederationNet) -> None:
    d = await build_tree(net)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    report = await refresh_directory(d.ctx, RosterLimits(host_delay=1.0), sleep=sleep)
    # n.test: the roster (its first page is embedded); s.test: the hub's actor document, then its roster;
    # r.test: the Chicago hub's own actor document (it is on another server than the roster listing it).
    assert report.requests == 4
    assert len(waits) == 1 and 0.5 < waits[0] <= 1.0


# --- A hand-written hub server: loops, huge rosters, lies --------------------------------------


class FakeHubServer:
    """A hub on ``host`` whose roster pages are whatever the test says."""

    def __init__(self, net: FederationNet, host: str) -> None:
        self.host = host
        self.base = f"http://{host}"
        self.hub = f"{self.base}/hub"
        self.roster = f"{self.base}/hub/members"
        self.documents: dict[str, dict[str, Any]] = {}
        self.fetched: list[str] = []
        self.serve({
            "@context": ["https://www.w3.org/ns/activitystreams", {"fedihub": "https://fedihub.example/ns#"}],
            "id": self.hub, "type": "Group", "preferredUsername": "hub", "name": "Fake Hub",
            "inbox": f"{self.hub}/inbox",
            "publicKey": {"id": f"{self.hub}#main-key", "owner": self.hub, "publicKeyPem": key_pair(900).public_pem},
            "fedihub:hubScope": "national", "fedihub:members": self.roster,
        })
        net.add_handler(host, self.handle)

    def serve(self, document: dict[str, Any]) -> None:
        self.documents[document["id"]] = document

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.fetched.append(url)
        if url not in self.documents:
            return httpx.Response(404)
        return httpx.Response(200, json=self.documents[url], headers={"content-type": AS2})

    def member(self, n: int, **extra: Any) -> dict[str, Any]:
        # On the hub's own server: a hub's server speaks for its own actors (others are fetched).
        return {"id": f"{self.base}/g/m{n}", "type": "Group", "name": f"Member {n}",
                "preferredUsername": f"m{n}", **extra}


@pytest.fixture
async def d(net: FederationNet) -> Instance:
    return await net.add_instance("d.test")


async def test_a_roster_page_that_leads_to_itself_stops(net: FederationNet, d: Instance) -> None:
    fake = FakeHubServer(net, "loop.test")
    page = f"{fake.roster}?page=1"
    fake.serve({"id": fake.roster, "type": "OrderedCollection", "totalItems": 1, "first": page})
    fake.serve({"id": page, "type": "OrderedCollectionPage", "partOf": fake.roster, "next": page,
                "orderedItems": [fake.member(1)]})
    await actors.resolve_actor(d.ctx, fake.hub)

    report = await refresh_directory(d.ctx, NOW)

    assert fake.fetched.count(page) == 1
    assert await directory_names(d) == ["Fake Hub", "Member 1"]
    assert any("loop" in note for note in report.notes)


async def test_a_huge_roster_is_cut_at_the_limits(net: FederationNet, d: Instance) -> None:
    fake = FakeHubServer(net, "huge.test")
    fake.serve({
        "id": fake.roster, "type": "OrderedCollection", "totalItems": 100_000, "first": f"{fake.roster}?page=1",
    })
    for number in range(1, 40):
        fake.serve({
            "id": f"{fake.roster}?page={number}", "type": "OrderedCollectionPage", "partOf": fake.roster,
            "next": f"{fake.roster}?page={number + 1}",
            "orderedItems": [fake.member(number * 1000 + i) for i in range(10)],
        })
    await actors.resolve_actor(d.ctx, fake.hub)

    by_pages = await refresh_directory(d.ctx, RosterLimits(max_pages=5, host_delay=0))
    assert by_pages.items == 40 and (await d.get("/api/v1/directory")).json()["total"] == 41  # 4 pages + the hub
    assert any("page limit" in note for note in by_pages.notes)

    net.clock.advance(hours=7)
    by_items = await refresh_directory(d.ctx, RosterLimits(max_items=25, host_delay=0))
    assert by_items.items == 25 and by_items.out_of_items
    assert fake.fetched.count(f"{fake.roster}?page=3") == 2 and fake.fetched.count(f"{fake.roster}?page=4") == 1


async def test_a_roster_never_overwrites_an_actor_fetched_from_its_own_server(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    d = await net.add_instance("d.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    real = await actors.resolve_target(d.ctx, "tenants@a.test")
    fake = FakeHubServer(net, "liar.test")
    fake.serve({"id": fake.roster, "type": "OrderedCollection", "totalItems": 2, "first": {
        "id": f"{fake.roster}?page=1", "type": "OrderedCollectionPage", "partOf": fake.roster,
        "orderedItems": [
            {"id": real.uri, "type": "Group", "name": "Not The Tenants Union", "preferredUsername": "imposter",
             "url": "https://liar.test/phish", "tag": [{"type": "Hashtag", "name": "#Spam"}]},
            fake.member(7, tag=[{"type": "Hashtag", "name": "#Climate"}]),
            {"id": "http://d.test/g/whatever", "type": "Group", "name": "Claims to be local"},
            "https://members.test/g/bare-id",
            {"id": "https://members.test/u/someone", "type": "Person", "name": "A person"},
        ],
    }})
    await actors.resolve_actor(d.ctx, fake.hub)

    report = await refresh_directory(d.ctx, NOW)

    kept = await stored(d, real.uri)
    assert kept is not None and kept.name == "Tenants Union" and kept.username == "tenants"
    assert not profile_of(kept).movements
    assert kept.url == real.url and kept.listing.discovered_via == "federation"
    assert report.members_kept == 1 and report.members_added == 1
    assert await directory_names(d, "?movement=spam") == []
    assert await directory_names(d, "?movement=climate") == ["Member 7"]
    assert await stored(d, "http://d.test/g/whatever") is None
    assert await stored(d, "https://members.test/g/bare-id") is None
    assert await stored(d, "https://members.test/u/someone") is None


async def test_a_stub_fetched_later_takes_the_actors_own_profile(net: FederationNet) -> None:
    d = await build_tree(net)
    await refresh_directory(d.ctx, NOW)
    await committed(
        net.instances[1].ctx, save_profile, "springfield",
        parse_profile_form({"name": "Springfield Tenant Union", "summary": "", "movements": ["Labour"], "tags": "",
                            "region_city": "", "region_state": "", "region_country": "", "latitude": "",
                            "longitude": "", "website": ""}),
    )
    await net.settle()

    fetched = await actors.resolve_actor(d.ctx, "http://s.test/g/springfield")

    assert fetched.name == "Springfield Tenant Union" and fetched.fetched_at is not None
    assert fetched.listing.discovered_via == "roster"  # how it was first found does not change
    assert await directory_names(d, "?movement=labour") == ["Springfield Tenant Union"]
    assert await directory_names(d, "?movement=tenants") == []


async def test_the_directory_says_how_each_entry_was_found(net: FederationNet) -> None:
    a, b, c = [await net.add_instance(f"{host}.test") for host in ("a", "b", "c")]
    await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    await committed(b.ctx, hubs.create_hub, "bay", name="Bay Hub", scope="regional")
    await committed(c.ctx, service.create_coalition, "climate", name="Bay Climate Action")
    await committed(b.ctx, hubs.add_member, "bay", await resolve_target(b.ctx, "climate@c.test"))
    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "bay@b.test"))
    await net.settle()

    start = net.clock() + timedelta(days=3)
    await committed(c.ctx, calls.publish_call, "climate", calls.CallInput(
        title="Climate strike", description="", start=start, end=None, timezone="UTC", place_name="Plaza"))
    await net.settle()

    found = {item["name"]: item["found"] for item in (await a.get("/api/v1/directory")).json()["items"]}
    assert found == {"Tenants Union": "local", "Bay Hub": "federation", "Bay Climate Action": "boost"}


async def test_a_roster_cannot_name_another_servers_actor_the_directory_shows_its_own_name(
    net: FederationNet,
) -> None:
    a = await net.add_instance("a.test")
    d = await net.add_instance("d.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    fake = FakeHubServer(net, "liar.test")
    fake.serve({"id": fake.roster, "type": "OrderedCollection", "totalItems": 3, "first": {
        "id": f"{fake.roster}?page=1", "type": "OrderedCollectionPage", "partOf": fake.roster,
        "orderedItems": [
            # A real coalition of a.test, which d has never fetched, listed under another name.
            {"id": "http://a.test/g/tenants", "type": "Group", "name": "Landlords for Evictions",
             "preferredUsername": "landlords", "url": "https://liar.test/phish",
             "tag": [{"type": "Hashtag", "name": "#Evictions"}],
             "location": {"type": "Place", "address": {"type": "PostalAddress", "addressRegion": "Nowhere"}}},
            # An actor on a server that does not answer for it: not listed at all.
            {"id": "https://members.test/g/ghost", "type": "Group", "name": "Ghost Coalition"},
            fake.member(1),
        ],
    }})
    await actors.resolve_actor(d.ctx, fake.hub)

    report = await refresh_directory(d.ctx, NOW)

    assert await directory_names(d) == ["Fake Hub", "Member 1", "Tenants Union"]
    tenants = (await d.get("/api/v1/directory?q=tenants")).json()["items"][0]
    assert tenants["handle"] == "tenants@a.test" and tenants["url"] == "http://a.test/g/tenants"
    assert tenants["movements"] == [] and tenants["found"] == "roster"
    assert await directory_names(d, "?q=landlords") == [] and await directory_names(d, "?movement=evictions") == []
    assert await stored(d, "https://members.test/g/ghost") is None
    page = (await d.get("/directory")).text
    assert "Landlords for Evictions" not in page and "Ghost Coalition" not in page
    assert report.members_fetched == 2  # a.test and members.test, each asked once about its own actor


async def test_a_roster_naming_thousands_of_another_servers_actors_costs_that_server_a_bounded_run(
    net: FederationNet, d: Instance
) -> None:
    fake = FakeHubServer(net, "flood.test")
    victim: list[str] = []

    def victim_server(request: httpx.Request) -> httpx.Response:
        victim.append(str(request.url))
        return httpx.Response(404)

    net.add_handler("victim.test", victim_server)
    fake.serve({"id": fake.roster, "type": "OrderedCollection", "totalItems": 1000, "first": {
        "id": f"{fake.roster}?page=1", "type": "OrderedCollectionPage", "partOf": fake.roster,
        "orderedItems": [{"id": f"https://victim.test/g/{n}", "type": "Group", "name": f"V{n}"} for n in range(1000)],
    }})
    await actors.resolve_actor(d.ctx, fake.hub)

    report = await refresh_directory(d.ctx, RosterLimits(host_delay=0, max_member_fetches=20))

    assert len(victim) == 20 and any("member fetch limit" in note for note in report.notes)
    assert await directory_names(d) == ["Fake Hub"]
