"""A flood of valid activities from one server or one actor is answered 429 with Retry-After and not
kept, while other servers and actors are still let in; a normal server's burst never meets a limit."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fedihub.storage.models import Actor, InboxItem
from tests.integration.helpers import count_rows
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    return await net.add_instance(
        "a.test", rate_window_seconds=60, inbox_host_requests=6, inbox_actor_requests=4,
        inbox_host_bytes=3_000_000, inbox_actor_bytes=2_000_000,
    )


def limited(response: httpx.Response) -> bool:
    return response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


async def test_a_flood_from_one_server_gets_429_while_another_server_is_still_accepted(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, fixtures_dir: Path
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    answers = [await peer.send(a, peer.build_like(account, tenants.uri)) for account in [alice, bob] * 5]

    assert [r.status_code for r in answers[:6]] == [202] * 6
    assert all(limited(r) for r in answers[6:])
    assert answers[6].text == "too many activities from your server; retry after the time in Retry-After"
    assert await count_rows(a, InboxItem) == 6, "nothing beyond the limit is kept"

    other = add_fake_peer(net, "other.test", fixtures_dir, usernames=("dora",))
    assert (await other.send(a, other.build_like(other.accounts["dora"], tenants.uri))).status_code == 202

    # The budget refills with time: Retry-After is when the next activity gets in.
    net.clock.advance(seconds=int(answers[-1].headers["Retry-After"]))
    assert (await peer.send(a, peer.build_like(alice, tenants.uri))).status_code == 202


async def test_a_flood_from_one_actor_gets_429_while_its_neighbour_is_accepted(
    a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    answers = [await peer.send(a, peer.build_like(alice, tenants.uri)) for _ in range(5)]

    assert [r.status_code for r in answers[:4]] == [202] * 4
    assert limited(answers[4])
    assert answers[4].text == "too many activities from your actor; retry after the time in Retry-After"
    assert (await peer.send(a, peer.build_like(bob, tenants.uri))).status_code == 202
    assert await count_rows(a, InboxItem) == 5


async def test_bytes_count_too(a: Instance, peer: FakePeer, tenants: Actor) -> None:
    alice = peer.accounts["alice"]
    heavy = []
    for _ in range(3):
        like = peer.build_like(alice, tenants.uri)
        like["content"] = "x" * 900_000  # just under the 1 MB an activity may have
        heavy.append(await peer.send(a, like))

    assert [r.status_code for r in heavy[:2]] == [202, 202]
    assert limited(heavy[2])
    assert await count_rows(a, InboxItem) == 2


async def test_a_forged_flood_is_limited_before_any_key_is_fetched(
    a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    answers = [await peer.send(a, peer.build_like(alice, tenants.uri), scheme=None) for _ in range(6)]

    assert [r.status_code for r in answers[:4]] == [401] * 4
    assert all(limited(r) for r in answers[4:])
    assert peer.requests == []
