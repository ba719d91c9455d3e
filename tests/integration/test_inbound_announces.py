"""Boosts from accounts a coalition follows bring the original post or call into its timeline."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from fedihub.storage.models import Actor, InboxItem, Reaction, StoredObject
from tests.integration.helpers import count_rows, find_object, follow_peer
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.fake_peer import PUBLIC, FakePeer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
async def eddie(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "eddie", tenants, "editor")
    yield browser
    await browser.client.aclose()


def served_event(peer: FakePeer) -> dict[str, Any]:
    """alice's public Event, served at its id; nobody on a.test follows alice."""
    event = peer.build_create(peer.accounts["alice"], object_type="Event")["object"]
    event["name"] = "Tenants' assembly at the library"
    peer.serve(event)
    return event


async def reactions(instance: Instance) -> list[tuple[str, str, str]]:
    async with instance.ctx.sessions() as session:
        rows = await session.execute(
            select(Reaction.type, Reaction.object_uri, Actor.uri).join(Actor, Actor.id == Reaction.actor_id)
        )
        return [tuple(row) for row in rows]


async def inbox_states(instance: Instance) -> set[tuple[str, str | None]]:
    async with instance.ctx.sessions() as session:
        items = (await session.scalars(select(InboxItem).where(InboxItem.activity_type == "Announce"))).all()
    return {(item.state, item.last_error) for item in items}


async def test_a_boost_by_a_followed_account_brings_the_call_into_the_timeline(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, eddie: Browser
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    await follow_peer(net, a, peer, "tenants", bob)
    event = served_event(peer)

    assert (await peer.send(a, peer.build_announce(bob, event["id"], alice.id))).status_code == 202
    await net.settle()

    stored = await find_object(a, event["id"])
    assert stored is not None and stored.type == "Event" and not stored.is_local and stored.visibility == "public"
    assert stored.name == "Tenants' assembly at the library" and stored.start_time is not None
    async with a.ctx.sessions() as session:
        author = await session.get(Actor, stored.attributed_to_id)
    assert author is not None and author.uri == alice.id  # the author, resolved: not the booster
    assert await reactions(a) == [("Announce", event["id"], bob.id)]
    assert peer.fetches_of(event["id"]) == 1

    overview = (await eddie.get("/manage/tenants")).text
    timeline = overview.split('id="timeline-heading"', 1)[1]
    assert "Boosted by Bob" in timeline and "Tenants&#39; assembly at the library" in timeline
    assert f'href="/calls/view?url={quote(event["id"], safe="")}"' in timeline


async def test_a_boost_by_an_account_nobody_here_follows_fetches_nothing(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice, bob, carol = peer.accounts["alice"], peer.accounts["bob"], peer.accounts["carol"]
    await follow_peer(net, a, peer, "tenants", bob)
    event = served_event(peer)

    assert (await peer.send(a, peer.build_announce(carol, event["id"], alice.id))).status_code == 202
    await net.settle()

    assert peer.fetches_of(event["id"]) == 0
    assert await find_object(a, event["id"]) is None and await reactions(a) == []


def _followers_only(doc: dict[str, Any]) -> None:
    doc.update(to=[doc["attributedTo"] + "/followers"], cc=[])


def _by_another_server(doc: dict[str, Any]) -> None:
    doc["attributedTo"] = "http://elsewhere.test/users/mallory"


def _an_announce(doc: dict[str, Any]) -> None:
    # The boosted id is itself an Announce: we never follow a boost of a boost by reference.
    doc.update(type="Announce", actor=doc["attributedTo"], object="http://masto.test/users/alice/statuses/1")


@pytest.mark.parametrize(
    "change", [_followers_only, _by_another_server, _an_announce, None],
    ids=["followers-only", "author-on-another-server", "boost-of-a-boost", "gone-at-origin"],
)
async def test_boosts_that_must_not_be_stored(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor,
    change: Callable[[dict[str, Any]], None] | None,
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    await follow_peer(net, a, peer, "tenants", bob)
    event = served_event(peer)
    if change is None:
        del peer.documents[event["id"]]  # 404 at the origin
    else:
        change(event)

    assert (await peer.send(a, peer.build_announce(bob, event["id"], alice.id))).status_code == 202
    await net.settle()

    assert peer.fetches_of(event["id"]) == 1
    assert await count_rows(a, StoredObject, StoredObject.is_local.is_(False)) == 0
    assert await reactions(a) == []
    assert await inbox_states(a) == {("done", None)}  # ignored, not failed or retried


@pytest.mark.all_backends  # a unique-row race
async def test_a_boost_of_an_embedded_boost_stores_the_original_once(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice, bob, carol = peer.accounts["alice"], peer.accounts["bob"], peer.accounts["carol"]
    await follow_peer(net, a, peer, "tenants", bob)
    event = served_event(peer)
    inner = peer.build_announce(carol, event["id"], alice.id)
    outer = peer.build_announce(bob, event["id"], alice.id)
    outer["object"] = copy.deepcopy(inner)
    again = peer.build_announce(bob, event["id"], alice.id)

    assert (await peer.send(a, outer)).status_code == 202
    assert (await peer.send(a, again)).status_code == 202
    await net.settle()

    assert await count_rows(a, StoredObject, StoredObject.uri == event["id"]) == 1
    assert peer.fetches_of(event["id"]) == 1  # the second boost finds it stored
    assert sorted(await reactions(a)) == [("Announce", event["id"], bob.id)] * 2
    assert inner["id"] not in {uri for _, uri, _ in await reactions(a)}


async def test_a_boosted_plain_post_is_stored_too(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    await follow_peer(net, a, peer, "tenants", bob)
    note = peer.build_create(alice, content="<p>Solidarity with the strikers</p>")["object"]
    note.update(to=[alice.followers], cc=[PUBLIC])  # Mastodon's "unlisted"
    peer.serve(note)

    assert (await peer.send(a, peer.build_announce(bob, note["id"], alice.id))).status_code == 202
    await net.settle()

    stored = await find_object(a, note["id"])
    assert stored is not None and stored.type == "Note" and stored.visibility == "unlisted"
    assert stored.content == "<p>Solidarity with the strikers</p>"


async def test_a_boost_whose_origin_is_down_is_retried_until_it_answers(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    await follow_peer(net, a, peer, "tenants", bob)
    event = served_event(peer)
    answer_with = peer.handle

    async def down(request: httpx.Request) -> httpx.Response:
        if str(request.url) == event["id"]:
            return httpx.Response(503)
        return await answer_with(request)

    net.add_handler(peer.host, down)
    assert (await peer.send(a, peer.build_announce(bob, event["id"], alice.id))).status_code == 202
    await net.settle()
    assert await find_object(a, event["id"]) is None
    assert await inbox_states(a) == {("pending", f"{event['id']} answered 503")}

    net.add_handler(peer.host, answer_with)
    net.clock.advance(hours=1)
    await net.settle()

    assert await find_object(a, event["id"]) is not None
    assert await reactions(a) == [("Announce", event["id"], bob.id)]
