"""Blocks as a hostile server meets them: an actor or a domain blocked after its calls were stored, and a
coalition that blocks an actor for itself only (landscape §D 13)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import pytest

from fedihub.coalitions import service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.storage.models import Actor, Follow, InboxItem, StoredObject
from tests.integration.feed_helpers import remote_actor
from tests.integration.helpers import BROWSER, count_rows, find_follow, find_object, follow_peer
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
async def root(a: Instance) -> AsyncIterator[Browser]:
    browser = await organizer(a, "root", is_admin=True)
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def nurses(a: Instance) -> Actor:
    return await committed(a.ctx, service.create_coalition, "nurses", name="Nurses United")


def placed_event(peer: FakePeer, username: str, name: str) -> dict[str, Any]:
    """A public call with a place and coordinates, as Mobilizon sends them, in a Create by its author."""
    create = peer.build_create(peer.accounts[username], object_type="Event")
    create["object"].update(name=name, location={
        "type": "Place", "name": "Daley Plaza", "latitude": 41.88, "longitude": -87.63,
    })
    peer.serve(create["object"])
    return create


async def shows(instance: Instance, call_id: str, name: str) -> dict[str, bool]:
    """Where this server shows the call: its page, the calendar, the API and the map."""
    page = await instance.get(f"/calls/view?url={quote(call_id, safe='')}", headers={"Accept": BROWSER})
    calendar = await instance.get("/calls.ics")
    api = await instance.get("/api/v1/calls")
    map_page = await instance.get("/map", headers={"Accept": BROWSER})
    return {
        "page": page.status_code == 200 and name in page.text,
        "calendar": name in calendar.text,
        "api": call_id in [item["id"] for item in api.json()["items"]],
        "map": name in map_page.text,
    }


EVERYWHERE = {"page": True, "calendar": True, "api": True, "map": True}
NOWHERE = {"page": False, "calendar": False, "api": False, "map": False}


async def stored_call(net: FederationNet, a: Instance, peer: FakePeer, name: str) -> str:
    """tenants follows alice, and alice's call arrives and is stored: the state before any block."""
    await follow_peer(net, a, peer, "tenants", peer.accounts["alice"])
    create = placed_event(peer, "alice", name)
    assert (await peer.send(a, create)).status_code == 202
    await net.settle()
    row = await find_object(a, create["object"]["id"])
    assert row is not None and row.latitude is not None
    assert await shows(a, row.uri, name) == EVERYWHERE
    return row.uri


async def test_an_actor_blocked_by_the_admins_vanishes_and_what_it_sends_next_is_refused(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, nurses: Actor, root: Browser
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    call_id = await stored_call(net, a, peer, "Occupy the landlord lobby")

    response = await root.submit("/admin/moderation", "/admin/moderation/actors",
                                 {"actor": alice.handle, "reason": "harassment"})
    assert response.status_code == 303
    assert "harassment" in (await root.get("/admin/moderation")).text

    # Stored before the block, gone from every page, feed and the API.
    assert await shows(a, call_id, "Occupy the landlord lobby") == NOWHERE
    assert await find_follow(a, "http://a.test/g/tenants", alice.id) is None

    # The attack goes on: alice follows nurses, posts a new call, and an allowed account boosts it.
    accepts_before = len(peer.received("Accept"))
    assert (await peer.send(a, peer.build_follow(alice, nurses.uri))).status_code == 202
    fresh = placed_event(peer, "alice", "Second lobby occupation")
    assert (await peer.send(a, fresh)).status_code == 202
    await follow_peer(net, a, peer, "tenants", bob)
    assert (await peer.send(a, peer.build_announce(bob, fresh["object"]["id"], alice.id))).status_code == 202
    await net.settle()

    assert await find_follow(a, alice.id, nurses.uri) is None
    assert len(peer.received("Accept")) == accepts_before  # her follow got no answer
    assert await find_object(a, fresh["object"]["id"]) is None  # neither from alice nor through bob's boost
    assert await count_rows(a, InboxItem, InboxItem.state == "failed") == 0

    # Lifting the block shows what was stored again.
    block_id = (await root.get("/admin/moderation")).text.split('/admin/moderation/actors/', 1)[1].split("/", 1)[0]
    assert (await root.submit("/admin/moderation", f"/admin/moderation/actors/{block_id}/remove")).status_code == 303
    assert await shows(a, call_id, "Occupy the landlord lobby") == EVERYWHERE


async def test_a_domain_blocked_after_its_calls_were_stored_disappears_from_pages_feeds_and_api(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, root: Browser
) -> None:
    group = await remote_actor(a, "http://masto.test/groups/squatters", name="Squatters of masto")
    call_id = await stored_call(net, a, peer, "Rent strike assembly")
    assert group.uri in (await a.get("/api/v1/directory")).text
    assert (await a.get("/api/v1/calls?coalition=squatters@masto.test")).status_code == 200

    response = await root.submit("/admin/moderation", "/admin/moderation/domains", {"domain": "MASTO.test."})
    assert response.status_code == 303

    assert await shows(a, call_id, "Rent strike assembly") == NOWHERE
    assert group.uri not in (await a.get("/api/v1/directory")).text
    assert (await a.get("/api/v1/calls?coalition=squatters@masto.test")).status_code == 404
    # The hub-style feeds of the coalition that followed alice are clean too.
    assert "Rent strike assembly" not in (await a.get("/g/tenants/calls.ics")).text
    assert await count_rows(a, StoredObject, StoredObject.uri == call_id) == 1  # hidden, not destroyed


async def test_a_coalition_blocks_an_actor_for_itself_and_no_other_coalition_is_affected(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, nurses: Actor
) -> None:
    alice = peer.accounts["alice"]
    owner = await organizer(a, "olga", tenants, "owner")
    nurse = await organizer(a, "nina", nurses, "owner")
    try:
        call_id = await stored_call(net, a, peer, "Picket at the clinic")
        await committed(a.ctx, follows.follow, "nurses", await resolve_target(a.ctx, alice.handle))
        await net.settle()
        follow = next(f for f in peer.received("Follow") if f["actor"] == nurses.uri)
        assert (await peer.send(a, peer.build_accept(alice, follow))).status_code == 202
        await net.settle()
        assert "Picket at the clinic" in (await owner.get("/manage/tenants")).text

        response = await owner.submit("/manage/tenants/moderation", "/manage/tenants/moderation/blocks",
                                      {"actor": alice.id, "reason": "trolling"})
        assert response.status_code == 303
        assert "trolling" in (await owner.get("/manage/tenants/moderation")).text
        assert "trolling" not in (await nurse.get("/manage/nurses/moderation")).text

        # alice asks to follow both coalitions again: tenants refuses, nurses accepts.
        assert (await peer.send(a, peer.build_follow(alice, tenants.uri))).status_code == 202
        assert (await peer.send(a, peer.build_follow(alice, nurses.uri))).status_code == 202
        await net.settle()
        assert await find_follow(a, alice.id, tenants.uri) is None
        assert await find_follow(a, alice.id, nurses.uri) is not None
        # tenants no longer follows her nor shows her call; nurses and the public pages still do.
        assert await find_follow(a, tenants.uri, alice.id) is None
        assert await find_follow(a, nurses.uri, alice.id) is not None
        assert "Picket at the clinic" not in (await owner.get("/manage/tenants")).text
        assert "Picket at the clinic" in (await nurse.get("/manage/nurses")).text
        assert await shows(a, call_id, "Picket at the clinic") == EVERYWHERE
        assert await count_rows(a, Follow) >= 2
    finally:
        await owner.client.aclose()
        await nurse.client.aclose()


async def test_only_admins_block_for_the_instance_and_only_owners_for_their_coalition(
    a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    editor = await organizer(a, "eddie", tenants, "admin")
    try:
        assert (await editor.get("/admin/moderation")).status_code == 403
        assert (await editor.get("/manage/tenants/moderation")).status_code == 403
        response = await editor.post("/manage/tenants/moderation/blocks",
                                     {"csrf_token": editor.session_csrf_token(), "actor": peer.accounts["alice"].id})
        assert response.status_code == 403
        response = await editor.post("/admin/moderation/actors",
                                     {"csrf_token": editor.session_csrf_token(), "actor": peer.accounts["alice"].id})
        assert response.status_code == 403
    finally:
        await editor.client.aclose()
