"""Fixtures for the attack tests: one fedihub instance (a.test) and a hostile fake server (masto.test)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from fedihub.coalitions import service
from fedihub.storage.models import Actor
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    return await net.add_instance("a.test")


@pytest.fixture
def peer(net: FederationNet, fixtures_dir: Path) -> FakePeer:
    # A server nobody runs: every fetch there is a 404, never a connection error that would be retried.
    net.add_handler("elsewhere.test", lambda request: httpx.Response(404))
    return add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice", "bob"))


@pytest.fixture
async def tenants(a: Instance) -> Actor:
    return await committed(
        a.ctx, service.create_coalition, "tenants", name="Tenants Union", summary="We organise *renters*."
    )
