"""Posts arriving together are stored together, and a 202 always stands for a stored row."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from fedihub.federation import inbox_writer
from fedihub.federation.context import FederationContext
from fedihub.storage.models import Actor, InboxItem
from tests.integration.helpers import count_rows
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

# Dialect-specific SQL (INSERT … ON CONFLICT DO NOTHING RETURNING) and a unique-row race.
pytestmark = pytest.mark.all_backends


async def test_posts_arriving_together_are_stored_once_each_in_fewer_transactions(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    assert (await peer.send(a, peer.build_create(bob))).status_code == 202  # bob's key is known already
    batches: list[int] = []
    write_batch = inbox_writer.write_batch

    async def counted(ctx: FederationContext, items: Sequence[inbox_writer.VerifiedActivity]) -> list:
        batches.append(len(items))
        return await write_batch(ctx, items)

    monkeypatch.setattr(inbox_writer, "write_batch", counted)
    creates = [peer.build_create(alice if n % 2 else bob) for n in range(20)]
    # The same activity twice, as when a peer's retry crosses its first try.
    posts = [*creates, creates[3]]

    responses = await asyncio.gather(*(peer.send(a, create) for create in posts))

    assert [response.status_code for response in responses] == [202] * len(posts)
    assert await count_rows(a, InboxItem) == 1 + len(creates)
    assert sum(batches) == len(posts)
    assert len(batches) < len(posts), f"no two posts were stored together: {batches}"
    await net.settle()
    assert await count_rows(a, InboxItem, InboxItem.state == "done") == 1 + len(creates)


async def test_a_post_that_could_not_be_stored_is_answered_503_and_stored_when_retried(
    a: Instance, peer: FakePeer, tenants: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = peer.accounts["alice"]
    creates = [peer.build_create(alice) for _ in range(3)]
    insert_new = inbox_writer._insert_new

    async def disk_full(*args: object) -> set[str]:
        raise OSError("database or disk is full")

    monkeypatch.setattr(inbox_writer, "_insert_new", disk_full)
    responses = await asyncio.gather(*(peer.send(a, create) for create in creates))

    assert [response.status_code for response in responses] == [503] * 3, "never a 202 for a lost row"
    assert all(response.headers["retry-after"] for response in responses)
    assert await count_rows(a, InboxItem) == 0

    monkeypatch.setattr(inbox_writer, "_insert_new", insert_new)
    retries = await asyncio.gather(*(peer.send(a, create) for create in creates))

    assert [response.status_code for response in retries] == [202] * 3
    assert await count_rows(a, InboxItem) == 3


async def test_one_post_that_cannot_be_stored_does_not_fail_those_stored_with_it(
    a: Instance, peer: FakePeer, tenants: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = peer.accounts["alice"]
    creates = [peer.build_create(alice) for _ in range(6)]
    poisoned = creates[2]["id"]
    insert_new = inbox_writer._insert_new

    async def refuse_one(session, rows: list[dict]) -> set[str]:  # type: ignore[no-untyped-def]
        if any(row["activity_uri"] == poisoned for row in rows):
            raise ValueError("a row the database refuses")
        return await insert_new(session, rows)

    monkeypatch.setattr(inbox_writer, "_insert_new", refuse_one)
    responses = await asyncio.gather(*(peer.send(a, create) for create in creates))

    statuses = {create["id"]: response.status_code for create, response in zip(creates, responses, strict=True)}
    assert statuses.pop(poisoned) == 503
    assert set(statuses.values()) == {202}
    assert await count_rows(a, InboxItem) == 5
