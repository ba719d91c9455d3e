"""Hub admins pause and resume members, and boost or discard the posts waiting in the hub's review list."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fedihub.federation.actors import resolve_target
from fedihub.hubs import review
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor
from tests.integration.manage_helpers import notice, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

HUB = "http://a.test/g/bay-hub"


@pytest.fixture
async def hub(net: FederationNet, a: Instance, peer: FakePeer) -> Actor:
    """The bay hub, with alice of masto.test as an accepted member."""
    actor = await committed(a.ctx, hubs.create_hub, "bay-hub", name="Bay Area Hub", scope="regional")
    alice = peer.accounts["alice"]
    await committed(a.ctx, hubs.add_member, "bay-hub", await resolve_target(a.ctx, alice.handle))
    await net.settle()
    follow = next(f for f in peer.received("Follow") if f["object"] == alice.id)
    assert (await peer.send(a, peer.build_accept(alice, follow))).status_code == 202
    await net.settle()
    return actor


@pytest.fixture
def watchers(net: FederationNet, fixtures_dir: Path) -> FakePeer:
    return add_fake_peer(net, "watch.test", fixtures_dir, usernames=("watcher",))


@pytest.fixture
async def hana(net: FederationNet, a: Instance, hub: Actor, watchers: FakePeer) -> AsyncIterator[Browser]:
    """An admin of the hub; watcher follows the hub, so what the hub boosts reaches watch.test."""
    account = watchers.accounts["watcher"]
    assert (await watchers.send(a, watchers.build_follow(account, HUB))).status_code == 202
    await net.settle()
    browser = await organizer(a, "hana", hub, "admin")
    yield browser
    await browser.client.aclose()


def _boosted(watchers: FakePeer) -> list[str]:
    return [doc["object"] for doc in watchers.received("Announce")]


def _held_ids(page: str) -> list[str]:
    return re.findall(r'name="held" value="(\d+)"', page)[::2]  # each item has a Boost and a Discard form


async def test_an_admin_pauses_a_member_then_boosts_one_held_post_and_discards_another(
    net: FederationNet, a: Instance, peer: FakePeer, watchers: FakePeer, hana: Browser
) -> None:
    alice = peer.accounts["alice"]
    paused = await hana.submit("/manage/bay-hub/roster", "/manage/bay-hub/roster/pause", {"actor": alice.id})
    assert paused.status_code == 303
    roster = await hana.get(paused.headers["location"])
    assert notice(roster) == "Paused: their new posts wait in the review list instead of being boosted."
    assert "<strong>Paused:</strong>" in roster.text and "/manage/bay-hub/roster/resume" in roster.text

    first, second = peer.build_create(alice, object_type="Event"), peer.build_create(alice)
    second["object"]["content"] = "<p>Second post <script>alert(1)</script></p>"
    for create in (first, second):
        assert (await peer.send(a, create)).status_code == 202
    await net.settle()
    assert _boosted(watchers) == []

    page = await hana.get("/manage/bay-hub/review")
    assert page.status_code == 200
    assert "Tenants&#39; assembly" in page.text and "the member is paused" in page.text
    assert "<script>" not in page.text
    held = _held_ids(page.text)
    assert len(held) == 2
    async with a.ctx.sessions() as session:
        by_post = {item.object_uri: str(item.id) for item in await review.list_held_posts(session)}
    held = [by_post[first["object"]["id"]], by_post[second["object"]["id"]]]

    boosted = await hana.submit("/manage/bay-hub/review", "/manage/bay-hub/review/boost", {"held": held[0]})
    assert boosted.status_code == 303
    await net.settle()
    assert _boosted(watchers) == [first["object"]["id"]]
    discarded = await hana.submit("/manage/bay-hub/review", "/manage/bay-hub/review/discard", {"held": held[1]})
    page = await hana.get(discarded.headers["location"])
    assert notice(page) == "Discarded: it will not be boosted."
    assert _held_ids(page.text) == []
    # A decided post cannot be decided again.
    again = await hana.submit("/manage/bay-hub/review", "/manage/bay-hub/review/boost", {"held": held[1]})
    assert again.status_code == 404
    await net.settle()
    assert _boosted(watchers) == [first["object"]["id"]]

    resumed = await hana.submit("/manage/bay-hub/roster", "/manage/bay-hub/roster/resume", {"actor": alice.id})
    assert notice(await hana.get(resumed.headers["location"])).startswith("Resumed")
    third = peer.build_create(alice)
    assert (await peer.send(a, third)).status_code == 202
    await net.settle()
    assert _boosted(watchers) == [first["object"]["id"], third["object"]["id"]]


async def test_editors_see_who_is_paused_but_only_admins_decide(
    net: FederationNet, a: Instance, peer: FakePeer, hana: Browser, hub: Actor
) -> None:
    alice = peer.accounts["alice"]
    await hana.submit("/manage/bay-hub/roster", "/manage/bay-hub/roster/pause", {"actor": alice.id})
    assert (await peer.send(a, peer.build_create(alice))).status_code == 202
    await net.settle()
    held = _held_ids((await hana.get("/manage/bay-hub/review")).text)
    ed = await organizer(a, "ed", hub, "editor")
    try:
        roster = await ed.get("/manage/bay-hub/roster")
        assert roster.status_code == 200 and "<strong>Paused:</strong>" in roster.text
        assert "/roster/resume" not in roster.text
        assert (await ed.get("/manage/bay-hub/review")).status_code == 403
        token = ed.session_csrf_token()
        for path, data in (("/manage/bay-hub/review/boost", {"held": held[0]}),
                           ("/manage/bay-hub/roster/resume", {"actor": alice.id})):
            assert (await ed.post(path, {**data, "csrf_token": token})).status_code == 403
    finally:
        await ed.client.aclose()
    assert len(_held_ids((await hana.get("/manage/bay-hub/review")).text)) == 1


async def test_a_post_held_by_another_hub_cannot_be_decided_here(
    net: FederationNet, a: Instance, peer: FakePeer, hana: Browser
) -> None:
    other = await committed(a.ctx, hubs.create_hub, "other-hub", name="Other Hub", scope="local")
    alice = peer.accounts["alice"]
    await hana.submit("/manage/bay-hub/roster", "/manage/bay-hub/roster/pause", {"actor": alice.id})
    assert (await peer.send(a, peer.build_create(alice))).status_code == 202
    await net.settle()
    held = _held_ids((await hana.get("/manage/bay-hub/review")).text)
    olga = await organizer(a, "olga", other, "admin")
    try:
        response = await olga.submit("/manage/other-hub/review", "/manage/other-hub/review/boost", {"held": held[0]})
        assert response.status_code == 404
    finally:
        await olga.client.aclose()
    assert len(_held_ids((await hana.get("/manage/bay-hub/review")).text)) == 1
