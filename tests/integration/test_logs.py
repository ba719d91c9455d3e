"""Every inbound activity and every delivery outcome is logged with its facts, never with key material."""

from __future__ import annotations

import logging

import pytest

from fedihub.storage.models import Actor
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance


async def test_an_inbound_follow_and_the_accept_delivered_are_logged_with_their_fields(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    alice = peer.accounts["alice"]
    follow = peer.build_follow(alice, tenants.uri)
    caplog.set_level(logging.INFO, logger="fedihub")

    await peer.send(a, follow)
    await net.settle()

    [inbound] = [r for r in caplog.records if getattr(r, "activity_type", None) == "Follow"]
    assert (inbound.activity_id, inbound.actor, inbound.remote_host, inbound.attempt, inbound.outcome) == (
        follow["id"], alice.id, "masto.test", 1, "handled"
    )
    [delivery] = [r for r in caplog.records if getattr(r, "activity_type", None) == "Accept"]
    assert (delivery.remote_host, delivery.attempt, delivery.outcome, delivery.status) == (
        "masto.test", 1, "delivered", 202
    )
    assert delivery.inbox == alice.inbox  # an Accept goes to the follower itself
    text = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert "PRIVATE KEY" not in text and "signature=" not in text.lower()
