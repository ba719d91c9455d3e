"""A remote actor's links are rendered as hrefs only when they are http(s): a hostile server's
``url: "javascript:…"`` is shown as text, or not at all, on every page (landscape §D class 11)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from fedihub.hubs import service as hubs
from fedihub.protocol.reader import read_actor, read_object
from fedihub.storage.models import Actor
from tests.integration.helpers import BROWSER, follow_peer
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer
from tests.support.migrations import engine, migrate
from tests.support.network import FederationNet, Instance

__all__ = ["engine"]  # a fixture used by name below

HOSTILE_LINKS = ("javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
                 "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "//evil.example/x")


def with_url(peer: FakePeer, url: Any) -> None:
    """The peer's actor documents from now on carry ``url`` (and an icon at the same address)."""
    original = peer.actor_document

    def hostile(account: FakeAccount) -> dict[str, Any]:
        document = original(account)
        document["url"] = url
        document["icon"] = {"type": "Image", "url": url}
        return document

    peer.actor_document = hostile  # type: ignore[method-assign]


async def test_a_member_with_a_javascript_url_is_not_a_link_on_the_hub_page(
    net: FederationNet, a: Instance, peer: FakePeer
) -> None:
    await committed(a.ctx, hubs.create_hub, "national", name="National Hub", scope="national")
    with_url(peer, "javascript:alert(document.cookie)")

    await follow_peer(net, a, peer, "national", peer.accounts["alice"])
    page = (await a.get("/g/national", headers={"Accept": BROWSER})).text

    assert "Alice" in page  # the member is listed
    assert "javascript:" not in page


async def test_a_javascript_url_stored_before_the_reader_refused_it_is_still_not_a_link(
    net: FederationNet, a: Instance, peer: FakePeer
) -> None:
    await committed(a.ctx, hubs.create_hub, "national", name="National Hub", scope="national")
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "national", alice)
    async with a.ctx.sessions.begin() as session:
        await session.execute(update(Actor).where(Actor.uri == alice.id).values(url="javascript:alert(1)"))

    page = (await a.get("/g/national", headers={"Accept": BROWSER})).text

    assert "Alice" in page
    assert "javascript:" not in page


def test_the_reader_keeps_no_link_but_http_from_actors_and_objects() -> None:
    for link in HOSTILE_LINKS:
        actor = read_actor({"id": "http://masto.test/users/a", "type": "Person", "inbox": "http://masto.test/i",
                            "url": link, "icon": {"type": "Image", "url": link}})
        note = read_object({"id": "http://masto.test/n/1", "type": "Note",
                            "url": [{"type": "Link", "href": link, "mediaType": "text/html"}]})
        assert (actor.url, actor.icon_url, note.url) == (None, None, None), link
    kept = read_actor({"id": "http://masto.test/users/a", "type": "Person", "inbox": "http://masto.test/i",
                       "url": "https://masto.test/@a"})
    assert kept.url == "https://masto.test/@a"


@pytest.mark.all_backends
async def test_links_stored_before_the_fix_that_are_not_http_are_cleared_by_the_migration(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0007")
    async with engine.begin() as connection:
        for n, url in enumerate(("javascript:alert(1)", " JAVASCRIPT:x", "data:text/html,x", "HTTPS://ok.test/@a",
                                 "http://ok.test/@b", None)):
            await connection.execute(text(
                "INSERT INTO actors (id, uri, type, domain, is_local, url, icon_url, manually_approves_followers, "
                "discoverable, created_at, updated_at) VALUES (:id, :uri, 'Group', 'ok.test', false, :url, :url, "
                "false, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ), {"id": n + 1, "uri": f"http://ok.test/g/{n}", "url": url})

    await migrate(engine, "0011")

    async with engine.connect() as connection:
        rows = (await connection.execute(text("SELECT url, icon_url FROM actors ORDER BY id"))).all()
    assert [tuple(row) for row in rows] == [
        (None, None), (None, None), (None, None), ("HTTPS://ok.test/@a",) * 2, ("http://ok.test/@b",) * 2,
        (None, None),
    ]
