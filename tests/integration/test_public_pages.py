"""The public pages as a visitor sees them: home, coalition, call, remote follow, .ics and errors."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import icalendar
import pytest
from sqlalchemy import update

from fedihub.coalitions import calls, service
from fedihub.coalitions.actor_profile import ensure_profile
from fedihub.federation.actors import find_local_actor
from fedihub.storage.models import Actor, StoredObject
from fedihub.web import pages
from tests.integration.helpers import AS2, BROWSER, followed_by, path_of
from tests.integration.organizers import Browser, browsers, cheap_password_hashing, make_account
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.network import Clock, FederationNet, Instance

__all__ = ["browsers", "cheap_password_hashing"]  # fixtures used by name below
NOW = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    # A fixed "now" so dates read the same on every run (the fake peer shares this clock).
    net.clock = Clock(NOW)
    return await net.add_instance("a.test", instance_name="Bay Area Coalitions")


@pytest.fixture
def peer(a: Instance, net: FederationNet, fixtures_dir: Path) -> FakePeer:
    return add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice", "bob"))


def call_form(**fields: str | list[str]) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {
        "title": "Rally for transit funding", "description": "Bring **signs**.\n\nMarch to the Transit Board at noon.",
        "start": "2027-03-13T11:00", "end": "2027-03-13T14:00", "timezone": "America/Los_Angeles",
        "place_name": "San Francisco City Hall", "address": "1 Dr Carlton B Goodlett Pl, San Francisco",
        "movements": ["climate", "transit"],
    }
    values.update(fields)
    return values


async def post_call(instance: Instance, username: str, **fields: str | list[str]) -> StoredObject:
    return await committed(instance.ctx, calls.publish_call, username, calls.parse_call_form(call_form(**fields)))


async def page(instance: Instance, path: str) -> httpx.Response:
    return await instance.get(path, headers={"Accept": BROWSER})


def text_of(response: httpx.Response) -> str:
    """The page's visible text, whitespace collapsed, so assertions read like what a person sees."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.text, flags=re.S)
    body = re.sub(r"</?(?:a|em|strong|b|i|code|time)\b[^>]*>", "", body)  # inline: no gap
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def meta(response: httpx.Response, prop: str) -> str | None:
    match = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', response.text)
    return html.unescape(match.group(1)) if match else None


def title_of(response: httpx.Response) -> str:
    match = re.search(r"<title>(.*?)</title>", response.text, re.S)
    assert match, "the page has no <title>"
    return html.unescape(" ".join(match.group(1).split()))


async def set_profile(instance: Instance, username: str, **values: object) -> None:
    """Profile columns written straight into the coalition's profile row, as a saved form leaves them."""
    async with instance.ctx.sessions.begin() as session:
        actor = await find_local_actor(session, username)
        assert actor is not None
        profile = ensure_profile(actor)
        for name, value in values.items():
            setattr(profile, name, value)


async def add_remote_call(instance: Instance, *, name: str, content: str, start: datetime) -> None:
    """A call from a coalition on another server, stored as if it had arrived in our inbox."""
    now = instance.ctx.clock()
    async with instance.ctx.sessions.begin() as session:
        author = Actor(
            uri="https://other.example/g/la-blm", type="Group", username="la-blm", domain="other.example",
            name="Black Lives Matter LA", is_local=False, created_at=now, updated_at=now,
        )
        session.add(author)
        await session.flush()
        session.add(StoredObject(
            uri="https://other.example/o/1", type="Event", attributed_to_id=author.id, is_local=False,
            visibility="public", name=name, content=content, url="https://other.example/o/1", start_time=start,
            timezone="America/Los_Angeles", location_name="Los Angeles City Hall", event_status="CONFIRMED",
            data={}, created_at=now, published=now,
        ))


# --- Home ---------------------------------------------------------------------------------------


async def test_home_lists_coalitions_and_upcoming_calls_soonest_first(a: Instance, tenants: Actor) -> None:
    await committed(a.ctx, service.create_coalition, "bay-climate", name="Bay Climate Coalition")
    await set_profile(a, "tenants", region_city="Oakland", region_country="United States", movements=["tenants"])
    await post_call(a, "bay-climate")
    await post_call(a, "tenants", title="Eviction defense training", start="2027-03-05T18:30", end="2027-03-05T20:00")
    await post_call(a, "tenants", title="Last year's assembly", start="2026-05-01T17:00", end="2026-05-01T19:00")

    response = await page(a, "/")

    assert response.status_code == 200
    text = text_of(response)
    assert "Bay Climate Coalition" in text and "Tenants Union" in text
    assert "@tenants@a.test" in text and "Oakland, United States" in text
    assert text.index("Eviction defense training") < text.index("Rally for transit funding")
    assert "Saturday 13 March 2027, 11:00 – 14:00 Los Angeles time (PST)" in text
    assert "Last year's assembly" not in text
    assert title_of(response) == "Bay Area Coalitions · Coalitions and calls to action, on fedihub"


async def test_the_home_page_says_what_to_do_when_nothing_is_there_yet(a: Instance) -> None:
    text = text_of(await page(a, "/"))

    assert "No calls to action are planned yet" in text
    assert "No coalitions yet" in text


async def test_calls_from_coalitions_on_other_servers_link_to_their_origin(a: Instance) -> None:
    await add_remote_call(a, name="Statewide day of action", content="<p>Across California.</p>",
                          start=NOW + timedelta(days=3))

    response = await page(a, "/")

    assert '<a href="https://other.example/o/1">Statewide day of action</a>' in response.text
    assert "from other.example" in text_of(response)


async def test_remote_text_is_shown_as_text_never_as_markup(a: Instance) -> None:
    # A remote title that was entity-encoded (&lt;script&gt;) becomes these characters once
    # stored as plain text: the page must show them, never run them.
    await add_remote_call(a, name="<script>alert('title')</script> day of action", content="<p>Hi</p>",
                          start=NOW + timedelta(days=3))

    home = await page(a, "/")

    assert "<script>alert('title')</script>" not in home.text
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; day of action" in home.text


async def test_stored_html_is_sanitised_again_when_shown(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")
    async with a.ctx.sessions.begin() as session:
        # As if an older version, or a bug elsewhere, had stored unsafe HTML.
        await session.execute(update(StoredObject).where(StoredObject.uri == call.uri).values(
            content=(
                '<p>Hi</p><img src=x onerror="alert(1)"><script>alert(2)</script>'
                '<a href="javascript:alert(3)">x</a>'
            ),
        ))

    response = await page(a, path_of(call.uri))

    assert "<p>Hi</p>" in response.text
    assert "onerror" not in response.text and "alert(2)" not in response.text and "javascript:" not in response.text


# --- Coalition page ------------------------------------------------------------------------------


async def test_coalition_page_shows_about_movements_region_followers_and_handle(
    net: FederationNet, a: Instance, tenants: Actor, peer: FakePeer,
) -> None:
    await set_profile(
        a, "tenants", region_city="Oakland", region_state="California", region_country="United States",
        movements=["tenants", "solidarity network"], website="https://tenants.example.org",
    )
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"], peer.accounts["bob"])

    response = await page(a, "/g/tenants")

    text = text_of(response)
    assert "We organise renters." in text and "<em>renters</em>" in response.text
    assert "Housing and tenants" in text and "Solidarity and mutual aid" in text  # suggested movements, by label
    assert "Oakland, California, United States" in text
    assert "2 followers" in text
    assert "@tenants@a.test" in text
    assert 'href="https://tenants.example.org"' in response.text
    assert title_of(response) == "Tenants Union (@tenants@a.test) · Bay Area Coalitions"


async def test_coalition_page_lists_upcoming_and_past_calls(net: FederationNet, a: Instance, tenants: Actor) -> None:
    await post_call(a, "tenants", title="Rent strike assembly", start="2027-03-02T17:00", end="2027-03-02T19:00")
    await post_call(a, "tenants", title="Eviction defense training", start="2027-03-20T18:30", end="2027-03-20T20:00")

    net.clock.advance(days=5)  # the assembly is over now
    text = text_of(await page(a, "/g/tenants"))

    upcoming, past = text.split("Past calls to action", 1)
    assert "Eviction defense training" in upcoming and "Rent strike assembly" not in upcoming
    assert "Rent strike assembly" in past.split("Announcements", 1)[0]


async def test_coalition_page_offers_to_follow_from_your_own_server(a: Instance, tenants: Actor) -> None:
    response = await page(a, "/g/tenants")

    assert '<form class="form" method="post" action="/remote-follow">' in response.text
    assert 'name="csrf_token"' not in response.text  # anyone may send it: the page needs no session
    assert '<label for="remote-account">Your handle</label>' in response.text
    assert 'value="@tenants@a.test"' in response.text  # the copyable handle, for servers without a follow page
    # The form's redirect goes to the visitor's own server, so this page allows that form target.
    assert "form-action 'self' https:" in response.headers["content-security-policy"]


async def test_servers_still_get_the_actor_from_the_coalition_url(a: Instance, tenants: Actor) -> None:
    response = await a.get("/g/tenants", headers={"Accept": AS2})

    assert response.json()["type"] == "Group"


# --- Remote follow -------------------------------------------------------------------------------


async def test_remote_follow_sends_the_visitor_to_their_servers_follow_page(
    a: Instance, tenants: Actor, peer: FakePeer, browsers,  # type: ignore[no-untyped-def]
) -> None:
    visitor: Browser = await browsers(a)

    response = await visitor.submit(
        "/g/tenants", "/remote-follow", {"coalition": "tenants", "account": "@alice@masto.test"}
    )

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert (location.netloc, location.path) == ("masto.test", "/authorize_interaction")
    assert parse_qs(location.query) == {"uri": ["tenants@a.test"]}
    lookups = [r for r in peer.requests if r.url.path == "/.well-known/webfinger"]
    assert lookups and lookups[-1].url.params["resource"] == "acct:alice@masto.test"


async def test_remote_follow_from_another_sites_page_is_refused_without_a_lookup(
    a: Instance, tenants: Actor, peer: FakePeer,
) -> None:
    # The form has no CSRF token (the coalition page stays shared): another site's page cannot
    # make its visitors' browsers send our server looking up accounts for it either.
    response = await a.post("/remote-follow", data={"coalition": "tenants", "account": "alice@masto.test"},
                            headers={"origin": "https://attacker.example", "accept": BROWSER})

    assert response.status_code == 403
    assert not [r for r in peer.requests if r.url.path == "/.well-known/webfinger"]


async def test_remote_follow_falls_back_to_the_handle_when_the_server_has_no_follow_page(
    net: FederationNet, a: Instance, tenants: Actor, browsers,  # type: ignore[no-untyped-def]
) -> None:
    def minimal_server(request: httpx.Request) -> httpx.Response:
        # Like GoToSocial or Gancio: a WebFinger answer with no OStatus subscribe template.
        return httpx.Response(200, json={"subject": "acct:sam@gts.test", "links": [
            {"rel": "self", "type": "application/activity+json", "href": "http://gts.test/users/sam"}]})

    net.add_handler("gts.test", minimal_server)
    visitor: Browser = await browsers(a)

    response = await visitor.submit("/g/tenants", "/remote-follow", {"coalition": "tenants", "account": "sam@gts.test"})

    assert response.status_code == 200
    text = text_of(response)
    assert "We could not find a follow page on gts.test" in text
    assert "Paste this handle into the search box of your app" in text
    assert 'value="@tenants@a.test"' in response.text
    assert 'aria-describedby="remote-account-hint remote-account-error"' in response.text
    assert '<p class="field-error" id="remote-account-error">' in response.text
    assert 'value="sam@gts.test"' in response.text  # what they typed is kept


async def test_remote_follow_falls_back_when_the_server_cannot_be_reached(
    a: Instance, tenants: Actor, browsers,  # type: ignore[no-untyped-def]
) -> None:
    visitor: Browser = await browsers(a)

    response = await visitor.submit(
        "/g/tenants", "/remote-follow", {"coalition": "tenants", "account": "kim@nowhere.test"}
    )

    assert response.status_code == 200
    assert "We could not find a follow page on nowhere.test" in text_of(response)


async def test_remote_follow_explains_a_handle_that_is_not_one(
    a: Instance, tenants: Actor, browsers,  # type: ignore[no-untyped-def]
) -> None:
    visitor: Browser = await browsers(a)

    response = await visitor.submit("/g/tenants", "/remote-follow", {"coalition": "tenants", "account": "just a name"})

    assert response.status_code == 400
    assert "That does not look like a fediverse handle" in text_of(response)
    assert 'aria-invalid="true"' in response.text


# --- Call page -----------------------------------------------------------------------------------


async def test_call_page_shows_time_in_the_events_zone_place_map_and_organizer(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants", latitude="37.7793", longitude="-122.4193")

    response = await page(a, path_of(call.uri))

    assert response.status_code == 200
    text = text_of(response)
    assert "Rally for transit funding" in text
    assert "Saturday 13 March 2027" in text and "11:00 – 14:00 Los Angeles time (PST)" in text
    assert "San Francisco City Hall" in text and "1 Dr Carlton B Goodlett Pl, San Francisco" in text
    assert (
        'href="https://www.openstreetmap.org/?mlat=37.77930&amp;mlon=-122.41930#map=17/37.77930/-122.41930"'
        in response.text
    )
    assert "Called by Tenants Union" in text
    assert "<strong>signs</strong>" in response.text
    # The visitor's own local time is added in the browser from these attributes.
    assert (
        'data-local-time data-start="2027-03-13T19:00:00Z" data-end="2027-03-13T22:00:00Z"'
        ' data-zone="America/Los_Angeles"'
    ) in response.text
    assert '<script src="/static/fedihub.js" defer></script>' in response.text


async def test_a_call_over_several_days_says_when_it_ends(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants", start="2027-03-13T11:00", end="2027-03-15T18:00")

    text = text_of(await page(a, path_of(call.uri)))

    # The clocks change on 14 March in Los Angeles: the zone is named for the start.
    assert "Saturday 13 March 2027 11:00 until Monday 15 March, 18:00 Los Angeles time (PST)" in text


async def test_a_place_without_coordinates_links_to_a_map_search(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")

    response = await page(a, path_of(call.uri))

    assert (
        'href="https://www.openstreetmap.org/search?query=1+Dr+Carlton+B+Goodlett+Pl%2C+San+Francisco"'
        in response.text
    )


async def test_an_online_call_shows_its_link(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants", place_name="", address="", online_url="https://meet.example.org/rally")

    response = await page(a, path_of(call.uri))

    assert (
        '<a href="https://meet.example.org/rally" rel="nofollow noopener">meet.example.org/rally</a>'
        in response.text
    )
    assert "openstreetmap" not in response.text


async def test_call_page_has_title_open_graph_tags_and_an_ics_link(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")

    response = await page(a, path_of(call.uri))

    assert title_of(response) == "Rally for transit funding · Bay Area Coalitions"
    assert meta(response, "og:title") == "Rally for transit funding"
    assert meta(response, "og:url") == call.uri
    assert meta(response, "og:type") == "article"
    description = meta(response, "og:description") or ""
    assert description.startswith(
        "Saturday 13 March 2027, 11:00 – 14:00 Los Angeles time (PST) · San Francisco City Hall"
    )
    assert f'href="{path_of(call.uri)}.ics"' in response.text
    assert f'value="{call.uri}"' in response.text  # the link to copy and share
    assert "mailto:?subject=Rally%20for%20transit%20funding" in response.text


async def test_a_cancelled_call_is_clearly_marked_everywhere(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")
    await committed(a.ctx, calls.cancel_call, call.uri, "The permit was refused.")

    call_page = await page(a, path_of(call.uri))
    coalition_page = await page(a, "/g/tenants")
    home = await page(a, "/")

    assert call_page.status_code == 200
    assert title_of(call_page).startswith("Cancelled: Rally for transit funding")
    assert "Cancelled The organizers cancelled this call to action" in text_of(call_page)
    assert "The permit was refused." in text_of(call_page).split("Updates from the organizers", 1)[1]
    for listing in (coalition_page, home):
        assert "Rally for transit funding Cancelled" in text_of(listing)
        assert "call-item is-cancelled" in listing.text
    assert "1 coalition 0 upcoming calls to action" in text_of(home), "a cancelled call is not upcoming"


async def test_a_plain_announcement_has_its_own_page(a: Instance, tenants: Actor) -> None:
    note = await committed(a.ctx, service.post_note, "tenants", "Meeting moved to *Thursday*.")

    response = await page(a, path_of(note.uri))

    assert response.status_code == 200
    assert "<em>Thursday</em>" in response.text
    assert title_of(response) == "Post by Tenants Union · Bay Area Coalitions"


async def test_a_deleted_call_is_gone(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")
    await committed(a.ctx, service.delete_object, call.uri)

    assert (await page(a, path_of(call.uri))).status_code == 410
    assert (await a.get(path_of(call.uri) + ".ics")).status_code == 410


# --- .ics ---------------------------------------------------------------------------------------


async def test_the_ics_download_is_a_calendar_file_for_the_call(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")

    response = await a.get(path_of(call.uri) + ".ics")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="rally-for-transit-funding.ics"'
    [event] = icalendar.Calendar.from_ical(response.text).walk("VEVENT")
    assert str(event["UID"]) == call.uri
    assert event.decoded("DTSTART") == datetime(2027, 3, 13, 19, 0, tzinfo=UTC)
    assert str(event["URL"]) == call.uri
    assert str(event["LOCATION"]) == "San Francisco City Hall, 1 Dr Carlton B Goodlett Pl, San Francisco"


async def test_the_ics_of_a_cancelled_call_says_cancelled(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")
    await committed(a.ctx, calls.cancel_call, call.uri)

    [event] = icalendar.Calendar.from_ical((await a.get(path_of(call.uri) + ".ics")).text).walk("VEVENT")

    assert str(event["STATUS"]) == "CANCELLED"


async def test_only_calls_have_an_ics(a: Instance, tenants: Actor) -> None:
    note = await committed(a.ctx, service.post_note, "tenants", "Hello")

    assert (await a.get(path_of(note.uri) + ".ics")).status_code == 404
    assert (await a.get("/o/00000000-0000-0000-0000-000000000000.ics")).status_code == 404


# --- Errors, headers, navigation -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/g/nobody", "/o/00000000-0000-0000-0000-000000000000", "/no/such/page"])
async def test_unknown_addresses_get_a_friendly_404_page(a: Instance, path: str) -> None:
    response = await page(a, path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert title_of(response) == "Page not found · Bay Area Coalitions"
    assert '<a class="button" href="/">Go to the home page</a>' in response.text
    assert "content-security-policy" in response.headers


async def test_a_crash_shows_an_apology_page_not_a_traceback(a: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object, **kwargs: object) -> list[StoredObject]:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(pages, "upcoming_calls", broken)
    transport = httpx.ASGITransport(app=a.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=a.base_url) as client:
        response = await client.get("/", headers={"Accept": BROWSER})

    assert response.status_code == 500
    assert title_of(response) == "Something went wrong on our side · Bay Area Coalitions"
    assert "This is not your fault" in text_of(response)
    assert "database on fire" not in response.text and "Traceback" not in response.text


async def test_a_forbidden_page_suggests_logging_in(a: Instance, tenants: Actor, browsers) -> None:  # type: ignore[no-untyped-def]
    visitor: Browser = await browsers(a)

    response = await visitor.post("/login", {"username": "x", "password": "y"})  # no token

    assert response.status_code == 403
    assert "Not allowed" in title_of(response)
    assert "The form expired: reload the page and try again." in text_of(response)


@pytest.mark.parametrize("path", ["/", "/g/tenants"])
async def test_pages_carry_a_strict_content_security_policy(a: Instance, tenants: Actor, path: str) -> None:
    response = await page(a, path)

    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "default-src 'self'" in policy
    assert "<script>" not in response.text and " style=" not in response.text  # nothing inline to allow
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_visitors_see_log_in_and_organizers_see_their_dashboard(
    a: Instance, tenants: Actor, browsers, cheap_password_hashing,  # type: ignore[no-untyped-def]
) -> None:
    admin = await make_account(a, "robin", is_admin=True)

    anonymous = text_of(await page(a, "/"))
    logged_in = await (await browsers(a, admin)).get("/")

    assert "Log in" in anonymous and "Dashboard" not in anonymous
    assert '<a href="/dashboard">Dashboard</a>' in logged_in.text
    assert '<a href="/admin">Admin</a>' in logged_in.text
    logout_form = r'<form class="logout-form" method="post" action="/logout">\s*<input type="hidden" name="csrf_token"'
    assert re.search(logout_form, logged_in.text)
    assert ">Log in<" not in logged_in.text


async def test_the_crash_page_carries_the_security_headers_too(a: Instance, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(*args: object, **kwargs: object) -> list[StoredObject]:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(pages, "upcoming_calls", broken)
    transport = httpx.ASGITransport(app=a.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=a.base_url) as client:
        response = await client.get("/", headers={"Accept": BROWSER})

    assert response.status_code == 500
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
