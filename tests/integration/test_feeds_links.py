"""Visitors find the feeds: each page says where its calendar and Atom feeds are, in the head for
apps and as a visible Subscribe block for people, and those addresses answer."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor
from tests.integration.feed_helpers import NOW, post_call, remote_call
from tests.integration.helpers import BROWSER, path_of
from tests.support.edges import committed
from tests.support.network import Clock, FederationNet, Instance


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    net.clock = Clock(NOW)
    return await net.add_instance("a.test", instance_name="Midwest Coalitions")


def alternates(page: httpx.Response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for tag in re.findall(r"<link rel=\"alternate\"[^>]*>", page.text):
        kind = re.search(r'type="([^"]+)"', tag)
        href = re.search(r'href="([^"]+)"', tag)
        if kind and href:
            found.setdefault(kind.group(1), []).append(html.unescape(href.group(1)))
    return found


def subscribe_links(page: httpx.Response) -> tuple[str, str]:
    block = page.text.split('class="panel subscribe-panel"', 1)[1].split("</section>", 1)[0]
    webcal = re.search(r'href="(webcal://[^"]+)"', block)
    address = re.search(r'id="calendar-address"[^>]*value="([^"]+)"', block)
    assert webcal and address, block
    return html.unescape(webcal.group(1)), html.unescape(address.group(1))


async def test_a_coalition_page_links_its_calendar_and_atom_feed(a: Instance, tenants: Actor) -> None:
    page = await a.get("/g/tenants", headers={"Accept": BROWSER})

    assert alternates(page)["text/calendar"] == ["/g/tenants/calls.ics"]
    assert alternates(page)["application/atom+xml"] == ["/g/tenants/feed.atom"]
    assert subscribe_links(page) == ("webcal://a.test/g/tenants/calls.ics", "http://a.test/g/tenants/calls.ics")
    assert "Calls in your calendar" in page.text and 'href="/g/tenants/feed.atom"' in page.text
    for path in ("/g/tenants/calls.ics", "/g/tenants/feed.atom"):
        assert (await a.get(path)).status_code == 200


async def test_a_hub_page_offers_the_calendar_of_what_it_carries(a: Instance) -> None:
    await committed(a.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state")

    page = await a.get("/g/illinois", headers={"Accept": BROWSER})

    assert subscribe_links(page)[1] == "http://a.test/g/illinois/calls.ics"
    assert "Every call this hub carries" in page.text


async def test_the_home_page_offers_the_instance_calendar(a: Instance) -> None:
    page = await a.get("/", headers={"Accept": BROWSER})

    assert alternates(page)["text/calendar"] == ["/calls.ics"]
    assert subscribe_links(page) == ("webcal://a.test/calls.ics", "http://a.test/calls.ics")


async def test_call_pages_offer_the_organizers_calendar_or_the_instances(a: Instance, tenants: Actor) -> None:
    call = await post_call(a, "tenants")
    remote = await remote_call(a, "https://other.example/o/1")

    local_page = await a.get(path_of(call.uri), headers={"Accept": BROWSER})
    remote_page = await a.get("/calls/view?url=" + remote.uri, headers={"Accept": BROWSER})

    assert alternates(local_page)["text/calendar"] == [f"{path_of(call.uri)}.ics", "http://a.test/g/tenants/calls.ics"]
    assert subscribe_links(local_page)[1] == "http://a.test/g/tenants/calls.ics"
    assert remote_page.status_code == 200 and subscribe_links(remote_page)[1] == "http://a.test/calls.ics"
