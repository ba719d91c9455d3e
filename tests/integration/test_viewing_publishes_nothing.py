"""A link to a remote call, opened by an organizer (from a chat, say), must not publish the call here:
it shows on that page and on no calendar, map, feed or API until it arrives the way published calls do."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import quote

import pytest

from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.storage.models import Actor
from tests.integration.helpers import find_object, follow_peer
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import PUBLIC, FakePeer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

TITLE = "Spam rally for a scam coin"


@pytest.fixture
async def eddie(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "eddie", tenants, "editor")
    yield browser
    await browser.client.aclose()


def _serve_call(a: Instance, peer: FakePeer) -> dict:
    alice = peer.accounts["alice"]
    start = a.ctx.clock() + timedelta(days=5)
    event = {
        "@context": "https://www.w3.org/ns/activitystreams", "id": f"http://{peer.host}/events/spam",
        "type": "Event", "attributedTo": alice.id, "name": TITLE, "content": "<p>Everyone come.</p>",
        "startTime": start.isoformat(), "endTime": (start + timedelta(hours=1)).isoformat(),
        "location": {"type": "Place", "name": "Town square", "latitude": 41.88, "longitude": -87.63,
                     "address": {"type": "PostalAddress", "addressLocality": "Chicago", "addressRegion": "Illinois",
                                 "addressCountry": "US"}},
        "to": [PUBLIC], "cc": [alice.followers],
    }
    peer.serve(event)
    return event


async def _listed_anywhere(a: Instance) -> dict[str, bool]:
    pages = {path: (await a.get(path)).text for path in ("/calls.ics", "/api/v1/calls", "/map", "/")}
    return {path: TITLE in html.unescape(text) for path, text in pages.items()}


async def test_opening_a_remote_call_link_lists_it_on_no_calendar_map_or_api(
    a: Instance, peer: FakePeer, eddie: Browser
) -> None:
    event = _serve_call(a, peer)

    page = await eddie.get(f"/calls/view?url={quote(event['id'], safe='')}")

    assert page.status_code == 200 and TITLE in html.unescape(page.text)
    assert await find_object(a, event["id"]) is not None  # kept for the page, not published
    assert await _listed_anywhere(a) == {"/calls.ics": False, "/api/v1/calls": False, "/map": False, "/": False}

    # The call's own author cannot publish it here by sending an Update of it.
    update = {
        "@context": "https://www.w3.org/ns/activitystreams", "id": f"http://{peer.host}/updates/1",
        "type": "Update", "actor": event["attributedTo"], "object": event, "to": [PUBLIC],
    }
    assert (await peer.send(a, update)).status_code == 202
    await a.runtime.worker.run_once()
    assert not any((await _listed_anywhere(a)).values())


async def test_a_pledge_to_a_viewed_call_publishes_it(
    a: Instance, peer: FakePeer, eddie: Browser
) -> None:
    event = _serve_call(a, peer)
    await eddie.get(f"/calls/view?url={quote(event['id'], safe='')}")

    await committed(a.ctx, pledges.pledge, "tenants", await get_call_target(a.ctx, event["id"]))

    listed = await _listed_anywhere(a)
    assert listed["/calls.ics"] and listed["/api/v1/calls"] and listed["/map"]


async def test_the_call_arriving_from_an_author_a_coalition_follows_publishes_it(
    net: FederationNet, a: Instance, peer: FakePeer, eddie: Browser
) -> None:
    event = _serve_call(a, peer)
    await eddie.get(f"/calls/view?url={quote(event['id'], safe='')}")
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = {
        "@context": "https://www.w3.org/ns/activitystreams", "id": f"{event['id']}/activity", "type": "Create",
        "actor": alice.id, "object": event, "to": event["to"], "cc": event["cc"],
    }

    assert (await peer.send(a, create)).status_code == 202
    await net.settle()

    listed = await _listed_anywhere(a)
    assert listed["/calls.ics"] and listed["/api/v1/calls"] and listed["/map"]
