"""What the integration tests read back from an instance's database, and a few shared steps."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select

from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.storage.models import Base, Follow, InboxItem, StoredObject
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer
from tests.support.network import FederationNet, Instance

AS2 = "application/activity+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


async def count_rows(instance: Instance, model: type[Base], *conditions: Any) -> int:
    async with instance.ctx.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)


async def inbox_items(instance: Instance) -> list[InboxItem]:
    async with instance.ctx.sessions() as session:
        return list((await session.scalars(select(InboxItem).order_by(InboxItem.id))).all())


async def find_follow(instance: Instance, follower_uri: str, target_uri: str) -> Follow | None:
    async with instance.ctx.sessions() as session:
        for row in (await session.scalars(select(Follow))).all():
            if row.follower.uri == follower_uri and row.target.uri == target_uri:
                return row
    return None


async def find_object(instance: Instance, uri: str) -> StoredObject | None:
    async with instance.ctx.sessions() as session:
        return await session.scalar(select(StoredObject).where(StoredObject.uri == uri))


def path_of(uri: str) -> str:
    """The path (and query) of one of the instance's URLs, to request it from its app."""
    parts = urlsplit(uri)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def follow_peer(net: FederationNet, instance: Instance, peer: FakePeer, local: str, account: FakeAccount) -> None:
    """``local`` follows ``account`` and the fake server accepts, as Mastodon does at once."""
    await committed(instance.ctx, follows.follow, local, await resolve_target(instance.ctx, account.handle))
    await net.settle()
    follow = next(f for f in peer.received("Follow") if f["object"] == account.id)
    response = await peer.send(instance, peer.build_accept(account, follow))
    assert response.status_code == 202
    await net.settle()


async def followed_by(
    net: FederationNet, instance: Instance, peer: FakePeer, target_uri: str, *accounts: FakeAccount
) -> None:
    """Each account follows ``target_uri`` (the coalition accepts automatically)."""
    for account in accounts:
        response = await peer.send(instance, peer.build_follow(account, target_uri))
        assert response.status_code == 202
    await net.settle()
