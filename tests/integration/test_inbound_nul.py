"""Text with NUL characters from a peer is stored without them (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

import pytest

from fedihub.storage.models import Actor
from tests.integration.helpers import find_object, follow_peer
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.all_backends  # PostgreSQL refuses NUL characters in text where SQLite stores them


async def test_a_call_with_nul_characters_is_stored_without_them(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice, object_type="Event", content="<p>Meet\x00 at noon</p>")
    create["object"]["name"] = "Rally\x00 at city hall"
    create["object"]["location"] = {"type": "Place", "name": "City\x00 Hall"}

    assert (await peer.send(a, create)).status_code == 202
    await net.settle()

    stored = await find_object(a, create["object"]["id"])
    assert stored is not None
    assert (stored.name, stored.location_name) == ("Rally at city hall", "City Hall")
    assert "\x00" not in (stored.content or "")
