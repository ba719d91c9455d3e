"""Pictures of Mobilizon and Gancio events: fetched once by our worker, cleaned, never hot-linked.

A page never waits on the peer: the first view of a call shows it without its picture and queues the
fetch; once the worker has run, the next view shows our copy.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import anyio
import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select, update

from fedihub.coalitions.remote_image_sweep import REMOTE_IMAGE_SWEEP_EVERY
from fedihub.coalitions.remote_images import FETCH_JOB, FETCH_SECONDS
from fedihub.storage.models import Actor, Job, Media, StoredObject
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

MOBILIZON_EVENT = "http://mobilizon.test/events/b81c0531-a57c-497d-93ba-af0f8b255498"
GANCIO_EVENT = "http://gancio.test/federation/m/1"
GANCIO_FLYER_ALT = "Poster: the Colosseo at dusk with the event's date"


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PeerCamera"
    exif[0x8825] = {1: "N", 2: (41.0, 53.0, 24.0)}
    out = io.BytesIO()
    Image.new("RGB", (2400, 1200), (30, 120, 60)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


class Peers:
    """A Mobilizon and a Gancio server serving their captured events, and the pictures those name."""

    def __init__(self, fixtures_dir: Path) -> None:
        group = (fixtures_dir / "mobilizon/group.json").read_text()
        organizer_id = "http://mobilizon.test/@devon_caledonian_society"
        group = group.replace("https://mobilizon.fr/@contribateliers", organizer_id)
        event = (fixtures_dir / "mobilizon/event.json").read_text()
        gancio_event = json.loads((fixtures_dir / "gancio/event.json").read_text().replace(
            "https://demo.gancio.org", "http://gancio.test"))
        # Gancio's flyer as spec §2.6 describes it; the captured event happens to have none.
        gancio_event["attachment"] = [{
            "type": "Document", "mediaType": "image/jpeg", "url": "http://gancio.test/media/flyer.jpg",
            "name": GANCIO_FLYER_ALT, "focalPoint": [0, 0],
        }]
        gancio_actor = (fixtures_dir / "gancio/actor_application.json").read_text()
        self.documents: dict[str, Any] = {
            organizer_id: json.loads(group.replace("https://mobilizon.fr", "http://mobilizon.test")),
            MOBILIZON_EVENT: json.loads(event.replace("https://rendezvous.nomagic.uk", "http://mobilizon.test")),
            GANCIO_EVENT: gancio_event,
            "http://gancio.test/federation/u/customized": json.loads(
                gancio_actor.replace("https://demo.gancio.org", "http://gancio.test")),
        }
        self.banner_url = self.documents[MOBILIZON_EVENT]["attachment"][0]["url"]
        self.files: dict[str, tuple[bytes, str]] = {
            self.banner_url: (jpeg_with_gps(), "image/jpeg"),
            "http://gancio.test/media/flyer.jpg": (jpeg_with_gps(), "image/jpeg"),
        }
        self.redirects: dict[str, str] = {}
        # Addresses that accept the request and never answer: a slow or hostile server.
        self.hanging: set[str] = set()
        self.requests: list[str] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        self.requests.append(url)
        if url in self.hanging:
            await asyncio.Event().wait()
        if url in self.redirects:
            return httpx.Response(302, headers={"Location": self.redirects[url]})
        if url in self.files:
            body, content_type = self.files[url]
            return httpx.Response(200, content=body, headers={"Content-Type": content_type})
        document = self.documents.get(url)
        if document is None:
            return httpx.Response(404, json={"error": "not found"})
        return httpx.Response(200, json=document, headers={"Content-Type": "application/activity+json"})


@pytest.fixture
def peers(net: FederationNet, fixtures_dir: Path) -> Peers:
    servers = Peers(fixtures_dir)
    net.add_handler("mobilizon.test", servers.handle)
    net.add_handler("gancio.test", servers.handle)
    return servers


@pytest.fixture
async def eddie(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "eddie", tenants, "editor")
    yield browser
    await browser.client.aclose()


def view(url: str) -> str:
    return f"/calls/view?url={quote(url, safe='')}"


async def view_after_the_worker_ran(net: FederationNet, browser: Browser, url: str) -> httpx.Response:
    """A visitor opens a remote call, the worker does what that queued, and the visitor comes back."""
    await browser.get(view(url))
    await net.settle()
    return await browser.get(view(url))


def has_banner(page: httpx.Response) -> bool:
    return 'class="banner"' in page.text


def banner_of(page: httpx.Response) -> tuple[str, str]:
    found = re.search(r'<figure class="banner"><img src="([^"]+)" alt="([^"]*)"></figure>', page.text)
    assert found is not None, page.text[:1000]
    return found.group(1), found.group(2)


async def test_the_first_view_shows_no_picture_and_does_not_ask_the_peer_for_it(
    a: Instance, peers: Peers, eddie: Browser
) -> None:
    page = await eddie.get(view(MOBILIZON_EVENT))

    assert page.status_code == 200
    assert "Caledonian scottish dance class" in page.text  # the call itself is shown, without waiting
    assert not has_banner(page)
    assert peers.banner_url not in peers.requests  # fetched by the worker, never by the page


async def test_a_peer_whose_picture_never_answers_does_not_hold_our_page(
    a: Instance, peers: Peers, eddie: Browser
) -> None:
    """The attack: a server that accepts the picture's request and never answers, to hold our pages."""
    peers.hanging.add(peers.banner_url)

    # Well under the fetch's own deadline: a page waiting on the peer at all fails here.
    with anyio.fail_after(FETCH_SECONDS / 2):
        page = await eddie.get(view(MOBILIZON_EVENT))
        again = await eddie.get(view(MOBILIZON_EVENT))

    assert page.status_code == 200 and again.status_code == 200
    assert not has_banner(page) and not has_banner(again)
    assert peers.banner_url not in peers.requests


async def test_views_before_the_worker_runs_queue_one_fetch(
    a: Instance, net: FederationNet, peers: Peers, eddie: Browser
) -> None:
    for _ in range(3):
        assert not has_banner(await eddie.get(view(MOBILIZON_EVENT)))
    assert not has_banner(await a.get(view(MOBILIZON_EVENT)))  # a visitor without an account too

    async with a.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Job).where(Job.kind == FETCH_JOB)) == 1
    await net.settle()
    assert peers.requests.count(peers.banner_url) == 1


async def test_a_mobilizon_events_banner_is_shown_from_our_origin_without_its_metadata(
    a: Instance, net: FederationNet, peers: Peers, eddie: Browser
) -> None:
    page = await view_after_the_worker_ran(net, eddie, MOBILIZON_EVENT)

    assert page.status_code == 200
    src, alt = banner_of(page)
    assert urlsplit(src).netloc == "a.test"  # never the peer's URL: readers contact only us
    assert "mobilizon.test/media/cd75" not in page.text
    assert alt == ""  # Mobilizon's "Banner" label is no description; the title is right above it
    served = await eddie.client.get(urlsplit(src).path)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert b"PeerCamera" not in served.content
    assert Image.open(io.BytesIO(served.content)).size == (1200, 600)

    await eddie.get(view(MOBILIZON_EVENT))
    assert peers.requests.count(peers.banner_url) == 1  # fetched once, then served from our copy


async def test_a_gancio_events_flyer_is_shown_with_its_alt_text(
    a: Instance, net: FederationNet, peers: Peers, eddie: Browser
) -> None:
    page = await view_after_the_worker_ran(net, eddie, GANCIO_EVENT)

    assert page.status_code == 200, page.text[:500]
    src, alt = banner_of(page)
    assert alt == GANCIO_FLYER_ALT.replace("'", "&#39;")
    assert f'<meta property="og:image" content="{src}">' in page.text
    assert (await eddie.client.get(urlsplit(src).path)).status_code == 200


@pytest.mark.parametrize(("body", "content_type"), [
    (b"<html><script>alert(1)</script></html>", "text/html"),
    (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/jpeg"),  # lies about its type
    (b"\xff\xd8" + b"\0" * (6 * 1024 * 1024), "image/jpeg"),  # larger than the cap
])
async def test_a_hostile_picture_is_not_shown_and_not_asked_for_again_at_once(
    a: Instance, net: FederationNet, peers: Peers, eddie: Browser, body: bytes, content_type: str
) -> None:
    peers.files[peers.banner_url] = (body, content_type)

    page = await view_after_the_worker_ran(net, eddie, MOBILIZON_EVENT)
    again = await view_after_the_worker_ran(net, eddie, MOBILIZON_EVENT)

    assert page.status_code == 200 and again.status_code == 200
    assert not has_banner(page) and not has_banner(again)
    assert peers.requests.count(peers.banner_url) == 1


async def test_a_failed_picture_is_tried_again_after_an_hour(
    a: Instance, net: FederationNet, peers: Peers, eddie: Browser
) -> None:
    good = peers.files[peers.banner_url]
    peers.files.pop(peers.banner_url)  # 404 for now
    assert not has_banner(await view_after_the_worker_ran(net, eddie, MOBILIZON_EVENT))

    peers.files[peers.banner_url] = good
    net.clock.advance(hours=1, minutes=1)
    page = await view_after_the_worker_ran(net, eddie, MOBILIZON_EVENT)

    banner_of(page)
    assert peers.requests.count(peers.banner_url) == 2


async def test_a_picture_behind_a_redirect_is_followed_to_its_storage(
    a: Instance, net: FederationNet, peers: Peers, eddie: Browser
) -> None:
    """Media servers hand out signed storage URLs by redirecting; every hop has the same guard."""
    stored = "http://gancio.test/storage/signed/flyer.jpg?sig=abc"
    peers.files[stored] = peers.files.pop(peers.banner_url)
    peers.redirects[peers.banner_url] = stored

    page = await view_after_the_worker_ran(net, eddie, MOBILIZON_EVENT)

    src, _ = banner_of(page)
    assert (await eddie.client.get(urlsplit(src).path)).status_code == 200
    assert peers.requests.count(stored) == 1


async def test_the_sweep_drops_a_picture_no_call_shows_and_keeps_one_still_shown(
    a: Instance, net: FederationNet, peers: Peers, eddie: Browser
) -> None:
    shown, _ = banner_of(await view_after_the_worker_ran(net, eddie, MOBILIZON_EVENT))
    dropped, _ = banner_of(await view_after_the_worker_ran(net, eddie, GANCIO_EVENT))
    # The peer deleted its event: no page here shows its flyer any more.
    async with a.ctx.sessions.begin() as session:
        await session.execute(
            update(StoredObject).where(StoredObject.uri == GANCIO_EVENT).values(deleted_at=a.ctx.clock())
        )

    await net.settle()  # the worker is up and has its periodic jobs in hand
    net.clock.advance(seconds=REMOTE_IMAGE_SWEEP_EVERY.total_seconds() + 60)
    await net.settle()

    assert (await eddie.client.get(urlsplit(dropped).path)).status_code == 404
    assert (await eddie.client.get(urlsplit(shown).path)).status_code == 200
    assert banner_of(await eddie.get(view(MOBILIZON_EVENT)))[0] == shown
    assert peers.requests.count(peers.banner_url) == 1  # the picture still shown was not fetched again


async def test_a_picture_fetched_a_month_ago_is_swept_and_fetched_again_after_the_next_visit(
    a: Instance, net: FederationNet, peers: Peers, eddie: Browser
) -> None:
    src, _ = banner_of(await view_after_the_worker_ran(net, eddie, MOBILIZON_EVENT))

    await net.settle()
    net.clock.advance(days=31)
    await net.settle()

    assert (await eddie.client.get(urlsplit(src).path)).status_code == 404
    assert not has_banner(await a.get(view(MOBILIZON_EVENT)))  # the next visit queues it again
    await net.settle()
    again, _ = banner_of(await a.get(view(MOBILIZON_EVENT)))
    assert again == src  # the same picture comes back under the same address
    assert (await eddie.client.get(urlsplit(src).path)).status_code == 200
    assert peers.requests.count(peers.banner_url) == 2


async def test_a_failed_fetchs_mark_is_swept_once_its_wait_is_over(
    a: Instance, net: FederationNet, peers: Peers, eddie: Browser
) -> None:
    peers.files.pop(peers.banner_url)
    assert not has_banner(await view_after_the_worker_ran(net, eddie, MOBILIZON_EVENT))

    await net.settle()  # the worker is up and has its periodic jobs in hand
    net.clock.advance(seconds=REMOTE_IMAGE_SWEEP_EVERY.total_seconds() + 60)
    await net.settle()

    async with a.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Media)) == 0
