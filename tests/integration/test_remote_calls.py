"""/calls/view?url=…: any call opened on this server, ours or remote, and never an open fetch proxy."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpcore
import httpx
import icalendar
import pytest
from sqlalchemy import update

from fedihub.coalitions import calls
from fedihub.federation.blocks import block_domain
from fedihub.protocol.addresses import GuardedNetworkBackend
from fedihub.protocol.http import HttpcorePoolTransport
from fedihub.storage.models import Actor, StoredObject
from tests.integration.helpers import count_rows, find_object
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

MOBILIZON = "mobilizon.test"
EVENT_ID = "http://mobilizon.test/events/b81c0531-a57c-497d-93ba-af0f8b255498"
ORGANIZER_ID = "http://mobilizon.test/@devon_caledonian_society"


class Mobilizon:
    """A Mobilizon server serving the captured group and event (mobilizon/*.json) under its own host."""

    def __init__(self, fixtures_dir: Path) -> None:
        group = (fixtures_dir / "mobilizon/group.json").read_text()
        group = group.replace("https://mobilizon.fr/@contribateliers", ORGANIZER_ID)
        event = (fixtures_dir / "mobilizon/event.json").read_text()
        self.documents = {
            ORGANIZER_ID: json.loads(group.replace("https://mobilizon.fr", f"http://{MOBILIZON}")),
            EVENT_ID: json.loads(event.replace("https://rendezvous.nomagic.uk", f"http://{MOBILIZON}")),
        }
        self.requests: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        document = self.documents.get(str(request.url))
        if document is None:
            return httpx.Response(404, json={"error": "not found"})
        return httpx.Response(200, json=document, headers={"Content-Type": "application/activity+json"})


@pytest.fixture
def mobilizon(net: FederationNet, fixtures_dir: Path) -> Mobilizon:
    server = Mobilizon(fixtures_dir)
    net.add_handler(MOBILIZON, server.handle)
    return server


@pytest.fixture
async def eddie(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "eddie", tenants, "editor")
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def visitor(a: Instance) -> AsyncIterator[Browser]:
    browser = Browser(a)
    yield browser
    await browser.client.aclose()


def view(url: str) -> str:
    return f"/calls/view?url={quote(url, safe='')}"


def says(page: httpx.Response, text: str) -> bool:
    """Whether the page shows ``text`` (the error page capitalises the first letter of a message)."""
    return text.casefold() in html.unescape(page.text).casefold()


async def test_an_organizer_opens_a_mobilizon_call_and_then_anyone_can_see_it(
    a: Instance, mobilizon: Mobilizon, eddie: Browser, visitor: Browser
) -> None:
    page = await eddie.get(view(EVENT_ID))

    assert page.status_code == 200, page.text[:500]
    assert "Caledonian scottish dance class" in page.text and "The Kenn Centre" in page.text
    assert f'<a href="{EVENT_ID}" rel="noopener">View on mobilizon.test</a>' in page.text
    assert "Teignbridge, England, United Kingdom" in page.text  # the region, from the PostalAddress
    stored = await find_object(a, EVENT_ID)
    assert stored is not None and stored.type == "Event" and not stored.is_local
    assert stored.author.uri == ORGANIZER_ID

    again = await visitor.get(view(EVENT_ID))
    assert again.status_code == 200 and "Caledonian scottish dance class" in again.text
    assert mobilizon.requests.count(EVENT_ID) == 1  # served from our copy the second time


async def test_a_remote_call_page_is_the_call_page_local_calls_have(
    a: Instance, tenants: Actor, mobilizon: Mobilizon, eddie: Browser
) -> None:
    remote = (await eddie.get(view(EVENT_ID))).text
    start = a.ctx.clock() + timedelta(days=3)
    local_call = await committed(a.ctx, calls.publish_call, "tenants", calls.CallInput(
        title="Rent strike assembly", description="Bring a neighbour.", start=start, end=start + timedelta(hours=1),
        timezone="Europe/London", place_name="Library",
    ))
    local = (await eddie.get(urlsplit(local_call.uri).path)).text

    for page in (remote, local):
        assert 'id="call-title"' in page and 'id="details-heading"' in page and 'id="share-heading"' in page
    assert "View on" not in local and "View on" in remote
    assert "Download .ics" in local and "Download .ics" in remote


async def test_an_anonymous_visitor_cannot_make_the_server_fetch(
    a: Instance, mobilizon: Mobilizon, visitor: Browser
) -> None:
    page = await visitor.get(view(EVENT_ID))

    assert page.status_code == 404
    assert says(page, "an organizer with an account here can open it")
    assert mobilizon.requests == []
    assert await find_object(a, EVENT_ID) is None


async def test_an_account_that_organizes_no_coalition_cannot_make_the_server_fetch(
    a: Instance, mobilizon: Mobilizon
) -> None:
    nobody = await organizer(a, "nobody")
    try:
        page = await nobody.get(view(EVENT_ID))
    finally:
        await nobody.client.aclose()

    assert page.status_code == 404 and mobilizon.requests == []


async def test_a_link_to_one_of_our_calls_goes_to_its_page(
    a: Instance, tenants: Actor, visitor: Browser
) -> None:
    start = a.ctx.clock() + timedelta(days=3)
    call = await committed(a.ctx, calls.publish_call, "tenants", calls.CallInput(
        title="Rent strike assembly", description="", start=start, end=None, timezone="UTC", place_name="Library",
    ))

    response = await visitor.get(view(call.uri))
    missing = await visitor.get(view(f"{a.base_url}/o/00000000-0000-0000-0000-000000000000"))

    assert response.status_code == 303 and response.headers["location"] == urlsplit(call.uri).path
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "paste the link of a call to action"),
        ("javascript:alert(1)", "only http:// and https:// links"),
        ("ftp://mobilizon.test/events/1", "only http:// and https:// links"),
        ("http://127.0.0.1/events/1", "private network address"),
        ("http://[::1]/events/1", "private network address"),
        ("http://localhost/events/1", "private network address"),
        ("http://10.1.2.3/events/1", "private network address"),
    ],
)
async def test_odd_and_private_links_are_refused_with_400(
    mobilizon: Mobilizon, eddie: Browser, visitor: Browser, url: str, message: str
) -> None:
    for browser in (eddie, visitor):
        page = await browser.get(view(url))
        assert page.status_code == 400 and says(page, message)
    assert mobilizon.requests == []


async def test_a_name_that_resolves_to_a_private_address_is_refused_with_400(
    a: Instance, eddie: Browser
) -> None:
    async def private_dns(host: str, port: int) -> list[str]:
        return ["10.1.2.3"]

    pool = httpcore.AsyncConnectionPool(network_backend=GuardedNetworkBackend(resolve=private_dns))
    original = a.ctx.http
    async with httpx.AsyncClient(transport=HttpcorePoolTransport(pool)) as guarded:
        a.ctx.http = guarded
        try:
            page = await eddie.get(view("http://intranet.test/events/1"))
        finally:
            a.ctx.http = original

    assert page.status_code == 400 and says(page, "private network address")
    assert await count_rows(a, StoredObject) == 0


def _note(peer: FakePeer) -> dict[str, Any]:
    note = peer.build_create(peer.accounts["alice"])["object"]
    peer.serve(note)
    return note


async def test_links_that_are_not_public_calls_are_explained(
    a: Instance, peer: FakePeer, mobilizon: Mobilizon, eddie: Browser
) -> None:
    note = _note(peer)
    forged = dict(mobilizon.documents[EVENT_ID], attributedTo="http://elsewhere.test/@someone")
    forged["id"] = f"http://{MOBILIZON}/events/forged"
    mobilizon.documents[forged["id"]] = forged

    as_note = await eddie.get(view(note["id"]))
    missing = await eddie.get(view(f"http://{MOBILIZON}/events/nothing-here"))
    relayed = await eddie.get(view(forged["id"]))

    assert as_note.status_code == 404 and says(as_note, "that link leads to a Note")
    assert missing.status_code == 404 and says(missing, "there is nothing at that link on mobilizon.test")
    assert relayed.status_code == 404 and says(relayed, "its author is not on the server it comes from")
    assert await count_rows(a, StoredObject) == 0


async def test_a_call_on_a_blocked_server_is_not_fetched(
    a: Instance, mobilizon: Mobilizon, eddie: Browser
) -> None:
    await committed(a.ctx, block_domain, MOBILIZON)

    page = await eddie.get(view(EVENT_ID))

    assert page.status_code == 400 and says(page, "this server does not federate with mobilizon.test")
    assert mobilizon.requests == []


async def test_a_deleted_remote_call_is_gone(a: Instance, mobilizon: Mobilizon, eddie: Browser) -> None:
    assert (await eddie.get(view(EVENT_ID))).status_code == 200
    async with a.ctx.sessions.begin() as session:
        await session.execute(update(StoredObject).values(deleted_at=a.ctx.clock()))

    page = await eddie.get(view(EVENT_ID))

    assert page.status_code == 410 and says(page, "deleted this call to action")


async def test_the_dashboard_has_a_form_to_open_a_call_by_its_link(eddie: Browser) -> None:
    for path in ("/dashboard", "/manage/tenants"):
        page = (await eddie.get(path)).text
        assert '<form method="get" action="/calls/view"' in page
        assert '<label for="open-call-url">Open a call by its link</label>' in page
        assert 'name="url"' in page


async def test_an_unreachable_server_is_explained_in_plain_words(
    a: Instance, net: FederationNet, eddie: Browser
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Cannot connect to host down.test:80 ssl:default [Connect call failed ('10.9.9.9')]")

    net.add_handler("down.test", refuse)

    page = await eddie.get(view("http://down.test/events/1"))

    assert page.status_code == 502
    assert says(page, "down.test could not be reached: it may be down, or the address may be mistyped")
    assert "Connect call failed" not in page.text and "ssl:default" not in page.text


async def test_a_remote_call_has_a_calendar_file_here_too(
    a: Instance, mobilizon: Mobilizon, eddie: Browser, visitor: Browser
) -> None:
    assert (await visitor.get(f"/calls/view.ics?url={quote(EVENT_ID, safe='')}")).status_code == 404, "nothing kept yet"
    page = await eddie.get(view(EVENT_ID))
    link = f"/calls/view.ics?url={quote(EVENT_ID, safe='')}"
    assert f'href="{html.escape(link)}"' in page.text, "the call page offers the .ics download"

    response = await visitor.get(link)

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    assert "attachment" in response.headers["content-disposition"]
    event = icalendar.Calendar.from_ical(response.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Caledonian scottish dance class" and "Kenn Centre" in str(event["LOCATION"])
    assert mobilizon.requests.count(EVENT_ID) == 1, "the calendar file is made from our copy, never fetched"
