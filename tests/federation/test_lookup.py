"""Looking up any actor by handle or link: what it is, what it runs on, and following it or adding it to a hub."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from fedihub.coalitions import service
from fedihub.discovery.lookup import LookupResult, look_up
from fedihub.discovery.resolve import LookupFailed
from fedihub.federation import actors
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor, Follow
from tests.federation.discovery_peers import GROUP_ID, World, build_world
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import add_fake_peer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

TENANTS = "http://b.test/g/tenants"


@pytest.fixture
async def world(net: FederationNet, fixtures_dir: Path) -> World:
    return await build_world(net, fixtures_dir)


def facts(result: LookupResult) -> dict[str, str]:
    return {fact.label: fact.url or fact.value for fact in result.facts()}


async def cached(instance: Instance, uri: str) -> Actor | None:
    async with instance.ctx.sessions() as session:
        return await actors.find_actor(session, uri)


# --- What a lookup says -----------------------------------------------------------------------------


async def test_a_coalition_on_another_fedihub_is_described_and_remembered_as_found_by_lookup(world: World) -> None:
    result = await look_up(world.a.ctx, "@tenants@b.test")

    assert result.kind == "coalition" and not result.known
    assert facts(result) == {
        "What": "a coalition (a group)", "Name": "Chicago Tenants Union", "Handle": "@tenants@b.test",
        "Profile": TENANTS, "Server": "fedihub 0.1.0", "Region": "Chicago, Illinois, US",
        "Movements": "#Tenants, #housing", "Website": "https://tenants.example/",
        "Followers": "anyone can follow at once", "About": "Renters of Chicago, organised.",
        "Known here": "new: this server had not seen it before this lookup",
    }
    stored = await cached(world.a, TENANTS)
    assert stored is not None and stored.listing is not None and stored.listing.discovered_via == "lookup"

    again = await look_up(world.a.ctx, TENANTS)
    assert again.known and facts(again)["Known here"].startswith("yes, found by a lookup since ")


async def test_a_lookup_never_overwrites_how_an_actor_was_first_met(world: World) -> None:
    await actors.resolve_target(world.a.ctx, "tenants@b.test")  # met through federation first

    result = await look_up(world.a.ctx, "tenants@b.test")

    assert result.known
    stored = await cached(world.a, TENANTS)
    assert stored is not None and stored.listing.discovered_via == "federation"


async def test_a_hub_says_its_scope_and_region(world: World) -> None:
    result = await look_up(world.a.ctx, "bay@b.test")

    assert result.kind == "hub"
    assert facts(result)["What"] == "a regional hub for Bay Area"
    assert facts(result)["Region"] == "Bay Area"


async def test_a_mastodon_account_is_a_person_on_mastodon(world: World) -> None:
    world.masto.accounts["alice"].manually_approves_followers = True

    result = await look_up(world.a.ctx, "alice@masto.test")

    assert result.kind == "person" and not result.is_group
    assert facts(result)["What"] == "a person's account"
    assert facts(result)["Server"] == "Mastodon 4.1.0"
    assert facts(result)["Followers"] == "approved one by one by its organizers"


@pytest.mark.parametrize("target", ["collective@mobilizon.test", GROUP_ID])
async def test_a_mobilizon_group_is_a_coalition_by_handle_or_link(world: World, target: str) -> None:
    result = await look_up(world.a.ctx, target)

    assert result.kind == "coalition"
    assert facts(result)["Name"] == "Collectif Logement"
    assert facts(result)["Server"] == "Mobilizon 5.1.0"
    assert "Region" not in facts(result) and "Movements" not in facts(result)


async def test_a_server_without_nodeinfo_still_answers_the_lookup(world: World, fixtures_dir: Path) -> None:
    add_fake_peer(world.net, "bare.test", fixtures_dir, usernames=("zed",))  # serves no NodeInfo at all

    result = await look_up(world.a.ctx, "zed@bare.test")

    assert facts(result)["Server"] == "bare.test (it does not say which software)"


@pytest.mark.parametrize(
    ("target", "status", "reason"),
    [
        ("nobody@masto.test", 404, "masto.test has no account nobody"),
        ("someone@down.test", 404, "down.test could not be reached; try again later"),
        ("http://down.test/users/x", 404, "down.test could not be reached; try again later"),
        ("spam@blocked.test", 403, "this server does not federate with blocked.test"),
        ("http://blocked.test/users/spam", 403, "this server does not federate with blocked.test"),
        ("x@127.0.0.1", 400, "127.0.0.1 is in a private network; only public servers can be reached"),
        ("http://10.1.2.3/users/x", 400, "10.1.2.3 is in a private network; only public servers can be reached"),
        ("not a handle", 400, "'not a handle' is neither a handle like name@example.org nor a link starting with https://"),
        ("", 400, "give a handle like tenants@city.example or a link to a profile"),
        ("nobody@a.test", 404, "no coalition called 'nobody' on this server"),
    ],
)
async def test_a_failed_lookup_says_why_in_one_sentence(world: World, target: str, status: int, reason: str) -> None:
    with pytest.raises(LookupFailed) as failed:
        await look_up(world.a.ctx, target)

    assert (failed.value.status_code, failed.value.public_message) == (status, reason)
    assert world.blocked.requests == []  # a blocked server is never even asked


async def test_a_document_that_is_not_an_actor_is_refused(world: World) -> None:
    with pytest.raises(LookupFailed) as failed:
        await look_up(world.a.ctx, "http://mobilizon.test/notes/1")

    assert failed.value.status_code == 400
    assert failed.value.public_message.startswith("that is not an ActivityPub actor (")


# --- The /lookup page and its actions ----------------------------------------------------------------


@dataclass
class People:
    eddie: Browser  # editor of Climate Action
    hana: Browser  # admin of the State Hub
    hugo: Browser  # editor (not admin) of the State Hub


@pytest.fixture
async def people(world: World) -> AsyncIterator[People]:
    a = world.a
    climate = await committed(a.ctx, service.create_coalition, "climate", name="Climate Action")
    await committed(a.ctx, service.create_coalition, "housing", name="Housing Now")
    state = await committed(a.ctx, hubs.create_hub, "state", name="State Hub", scope="state", region="Illinois")
    crowd = People(
        eddie=await organizer(a, "eddie", climate, "editor"),
        hana=await organizer(a, "hana", state, "admin"),
        hugo=await organizer(a, "hugo", state, "editor"),
    )
    yield crowd
    for browser in (crowd.eddie, crowd.hana, crowd.hugo):
        await browser.client.aclose()


def lookup_path(target: str) -> str:
    return f"/lookup?q={quote(target, safe='')}"


async def follow_rows(instance: Instance) -> list[tuple[str, str, str]]:
    async with instance.ctx.sessions() as session:
        rows = (await session.scalars(select(Follow).order_by(Follow.id))).all()
        return [(row.follower.uri, row.target.uri, row.state) for row in rows]


async def test_an_organizer_looks_a_coalition_up_and_follows_it_as_their_coalition(
    world: World, people: People
) -> None:
    page = await people.eddie.get(lookup_path("tenants@b.test"))

    assert page.status_code == 200
    assert "Chicago Tenants Union" in page.text and "fedihub 0.1.0" in page.text
    assert "Follow as Climate Action" in page.text
    assert "You are not an admin of any hub here." in page.text

    sent = await people.eddie.submit(lookup_path("tenants@b.test"), "/lookup/follow",
                                     {"target": TENANTS, "coalition": "climate"})
    assert sent.status_code == 303
    assert await follow_rows(world.a) == [("http://a.test/g/climate", TENANTS, "pending")]
    await world.net.settle()
    assert await follow_rows(world.a) == [("http://a.test/g/climate", TENANTS, "accepted")]

    after = await people.eddie.get(sent.headers["location"])
    assert '<p class="notice notice-success" role="status">Follow request sent.' in after.text
    assert "<strong>Climate Action</strong>: already followed." in after.text
    assert "Follow as Climate Action" not in after.text

    again = await people.eddie.post("/lookup/follow", {
        "target": TENANTS, "coalition": "climate", "csrf_token": people.eddie.session_csrf_token()})
    assert again.status_code == 409
    assert "Climate already follows tenants@b.test (accepted)" in again.text


async def test_an_editor_cannot_follow_as_a_coalition_they_do_not_organise(world: World, people: People) -> None:
    await people.eddie.get(lookup_path("tenants@b.test"))

    refused = await people.eddie.post("/lookup/follow", {
        "target": TENANTS, "coalition": "housing", "csrf_token": people.eddie.session_csrf_token()})

    assert refused.status_code == 403
    assert await follow_rows(world.a) == []


async def test_a_hub_admin_adds_a_coalition_to_the_hub_and_sees_it_become_a_member(
    world: World, people: People
) -> None:
    page = await people.hana.get(lookup_path("tenants@b.test"))
    assert '<option value="state">State Hub</option>' in page.text

    added = await people.hana.submit(lookup_path("tenants@b.test"), "/lookup/add-to-hub",
                                     {"target": TENANTS, "hub": "state"})
    assert added.status_code == 303
    waiting = await people.hana.get(added.headers["location"])
    assert "The hub asked to follow it." in waiting.text
    assert "<strong>State Hub</strong>: asked; waiting for them to accept." in waiting.text

    await world.net.settle()
    member = await people.hana.get(lookup_path(TENANTS))
    assert "<strong>State Hub</strong>: a member of this hub." in member.text
    assert 'action="/lookup/add-to-hub"' not in member.text


async def test_only_hub_admins_add_members_and_only_groups_can_be_members(world: World, people: People) -> None:
    await people.hugo.get(lookup_path("tenants@b.test"))
    refused = await people.hugo.post("/lookup/add-to-hub", {
        "target": TENANTS, "hub": "state", "csrf_token": people.hugo.session_csrf_token()})
    assert refused.status_code == 403
    assert await follow_rows(world.a) == []

    person = await people.hana.get(lookup_path("alice@masto.test"))
    assert "Only coalitions and hubs (groups) can be hub members; this is person." in person.text


async def test_visitors_are_sent_to_log_in_and_accounts_without_a_coalition_are_refused(
    world: World, people: People
) -> None:
    visitor = Browser(world.a)
    try:
        response = await visitor.get(lookup_path("tenants@b.test"))
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/lookup%3Fq%3Dtenants%2540b.test"
        posted = await visitor.post("/lookup/follow", {"target": TENANTS, "coalition": "climate"})
        assert posted.status_code == 303 and posted.headers["location"].startswith("/login")
    finally:
        await visitor.client.aclose()
    loner = await organizer(world.a, "loner")
    try:
        assert (await loner.get(lookup_path("tenants@b.test"))).status_code == 403
    finally:
        await loner.client.aclose()
    assert await cached(world.a, TENANTS) is None  # nobody made this server fetch anything


@pytest.mark.parametrize(
    ("target", "status", "reason"),
    [
        ("nobody@masto.test", 404, "masto.test has no account nobody"),
        ("someone@down.test", 404, "down.test could not be reached; try again later"),
        ("spam@blocked.test", 403, "this server does not federate with blocked.test"),
        ("http://192.168.1.1/users/x", 400, "192.168.1.1 is in a private network; only public servers can be reached"),
        ("http://mobilizon.test/notes/1", 400, None),
    ],
)
async def test_a_failed_lookup_is_a_4xx_page_with_the_reason_next_to_the_field(
    world: World, people: People, target: str, status: int, reason: str | None
) -> None:
    page = await people.eddie.get(lookup_path(target))

    assert page.status_code == status
    error = field_error(page, "lookup-q")
    assert error is not None and error.startswith("Error: ")
    if reason:
        assert error == f"Error: {reason}"
    assert f'value="{target}"' in page.text  # what they typed stays in the box


# --- WebFinger checked in reverse ----------------------------------------------------------------------


def webfinger_server(answers: dict[str, tuple[str, str]]) -> Callable[[httpx.Request], httpx.Response]:
    """A server whose WebFinger answers ``acct:…`` resources with (subject, self link); nothing else."""

    def handle(request: httpx.Request) -> httpx.Response:
        resource = request.url.params.get("resource", "")
        if request.url.path != "/.well-known/webfinger" or resource not in answers:
            return httpx.Response(404)
        subject, href = answers[resource]
        return httpx.Response(200, json={
            "subject": subject, "links": [{"rel": "self", "type": "application/activity+json", "href": href}],
        })

    return handle


async def test_a_handle_of_one_server_pointing_at_another_servers_actor_is_not_shown_as_its_handle(
    world: World, people: People
) -> None:
    # evil.test says its user mallory is b.test's tenants coalition.
    world.net.add_handler("evil.test", webfinger_server(
        {"acct:mallory@evil.test": ("acct:mallory@evil.test", TENANTS)}
    ))

    result = await look_up(world.a.ctx, "mallory@evil.test")
    page = await people.eddie.get(lookup_path("mallory@evil.test"))

    assert result.actor.uri == TENANTS and result.handle == "tenants@b.test"
    assert result.typed_elsewhere == "mallory@evil.test"
    assert page.status_code == 200
    assert '<p class="handle">@tenants@b.test</p>' in page.text
    assert "@mallory@evil.test is not its handle" in page.text
    assert '<p class="handle">@mallory@evil.test</p>' not in page.text


async def test_a_split_domain_handle_is_shown_once_both_servers_confirm_it(world: World) -> None:
    # Mastodon with LOCAL_DOMAIN=example.test and WEB_DOMAIN=social.example.test.
    peer = add_fake_peer(world.net, "social.example.test", Path(__file__).parents[1] / "fixtures",
                         usernames=("alice",))
    alice = peer.accounts["alice"]
    split = {"acct:alice@example.test": ("acct:alice@example.test", alice.id)}
    world.net.add_handler("example.test", webfinger_server(split))
    web = webfinger_server({"acct:alice@social.example.test": ("acct:alice@example.test", alice.id)})

    async def social(request: httpx.Request) -> httpx.Response:
        return web(request) if request.url.path == "/.well-known/webfinger" else await peer.handle(request)

    world.net.add_handler("social.example.test", social)

    assert (await look_up(world.a.ctx, "alice@example.test")).handle == "alice@example.test"
    by_link = await look_up(world.a.ctx, alice.id)
    assert by_link.handle == "alice@example.test" and by_link.typed_elsewhere is None

    # A server claiming another domain's handle for its actor is not believed: the derived one is shown.
    split["acct:alice@example.test"] = ("acct:alice@example.test", "http://example.test/users/someone-else")
    assert (await look_up(world.a.ctx, alice.id)).handle == "alice@social.example.test"
