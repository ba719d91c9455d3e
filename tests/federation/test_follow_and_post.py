"""Two fedihub instances following each other: follow, accept, post, undo, delete, update."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fedihub.coalitions import service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.storage.models import Follow, StoredObject
from tests.support.edges import committed
from tests.support.network import FederationNet

pytestmark = pytest.mark.all_backends  # the end-to-end federation drill every server relies on


async def _follow_state(instance, follower_uri: str, target_uri: str) -> str | None:  # type: ignore[no-untyped-def]
    async with instance.ctx.sessions() as session:
        rows = (await session.scalars(select(Follow))).all()
        for row in rows:
            if row.follower.uri == follower_uri and row.target.uri == target_uri:
                return row.state
    return None


async def _stored(instance, uri: str) -> StoredObject | None:  # type: ignore[no-untyped-def]
    async with instance.ctx.sessions() as session:
        return await session.scalar(select(StoredObject).where(StoredObject.uri == uri))


async def test_a_follow_is_accepted_and_posts_reach_the_follower(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    climate = await committed(b.ctx, service.create_coalition, "climate", name="Climate Coalition")

    await committed(b.ctx, follows.follow, "climate", await resolve_target(b.ctx, "tenants@a.test"))
    assert await _follow_state(b, climate.uri, tenants.uri) == "pending"
    await net.settle()
    assert await _follow_state(b, climate.uri, tenants.uri) == "accepted"
    assert await _follow_state(a, climate.uri, tenants.uri) == "accepted"

    note = await committed(a.ctx, service.post_note, "tenants", "Rent strike meeting on *Thursday*")
    await net.settle()
    received = await _stored(b, note.uri)
    assert received is not None
    assert "<em>Thursday</em>" in (received.content or "")
    assert received.visibility == "public"

    await committed(a.ctx, service.delete_object, note.uri)
    await net.settle()
    received = await _stored(b, note.uri)
    assert received is not None and received.deleted_at is not None

    await committed(b.ctx, follows.unfollow, "climate", await resolve_target(b.ctx, "tenants@a.test"))
    await net.settle()
    assert await _follow_state(a, climate.uri, tenants.uri) is None
