"""Fixtures for one fedihub instance (a.test) facing a fake Mastodon server (masto.test)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from fedihub.coalitions import service
from fedihub.federation import actors
from fedihub.protocol.keys import KeyPair
from fedihub.storage.models import Actor
from tests.support.fake_peer import FakePeer, add_fake_peer, key_pair
from tests.support.network import FederationNet, Instance


@pytest.fixture(autouse=True)
def reused_actor_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local actors get keys from a pool made once per session instead of fresh RSA keys.

    Generating RSA-2048 costs about 70 ms and every test creates two or three local actors;
    key generation itself is covered in tests/unit/test_keys.py. Within a test every actor
    still gets a key of its own.
    """
    slots = itertools.count(1000)

    def next_key_pair(bits: int = 2048) -> KeyPair:
        return key_pair(next(slots))

    monkeypatch.setattr(actors, "generate_key_pair", next_key_pair)


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    return await net.add_instance("a.test")


@pytest.fixture
def peer(net: FederationNet, fixtures_dir: Path) -> FakePeer:
    return add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice", "bob", "carol"))


@pytest.fixture
async def tenants(a: Instance) -> Actor:
    return await service.create_coalition(a.ctx, "tenants", name="Tenants Union", summary="We organise *renters*.")
