"""Outbound delivery as a peer sees it: one POST per distinct inbox, each signed with our published key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedihub.coalitions import service
from fedihub.errors import SignatureError
from fedihub.storage.models import Actor
from tests.integration.helpers import followed_by
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, ReceivedPost, add_fake_peer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.all_backends  # the fan-out rows of the delivery queue


async def test_followers_sharing_a_shared_inbox_get_one_post_per_inbox(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, fixtures_dir: Path
) -> None:
    other = add_fake_peer(net, "social.test", fixtures_dir, usernames=("dana",))
    await followed_by(net, a, peer, tenants.uri, *peer.accounts.values())  # three followers, one shared inbox
    await followed_by(net, a, other, tenants.uri, other.accounts["dana"])

    note = await committed(a.ctx, service.post_note, "tenants", "Rent strike on Thursday")
    await net.settle()

    creates = [p for p in peer.inbox_posts + other.inbox_posts if p.type == "Create"]
    assert sorted(p.url for p in creates) == ["http://masto.test/inbox", "http://social.test/inbox"]
    assert all(p.activity["object"]["id"] == note.uri for p in creates)


async def test_deliveries_are_signed_with_the_key_the_coalition_publishes(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    await committed(a.ctx, service.post_note, "tenants", "Signed and delivered")
    await net.settle()

    [create] = [p for p in peer.inbox_posts if p.type == "Create"]
    assert create.headers["content-type"].startswith("application/activity+json")
    key = await peer.verify(create, a)
    assert key.key_id == f"{tenants.uri}#main-key"
    assert key.owner == create.activity["actor"] == tenants.uri

    # The check above can fail: the same request with one byte more does not verify.
    tampered = ReceivedPost(create.url, create.path, create.query, create.headers, create.body + b" ")
    with pytest.raises(SignatureError):
        await peer.verify(tampered, a)
