"""Seeding the directory of an instance directly: remote groups as federation or a roster left them."""

from __future__ import annotations

from typing import Any

from fedihub.storage.directory_index import set_movements
from fedihub.storage.models import Actor
from tests.support.network import Instance


async def add_remote_group(
    instance: Instance,
    username: str,
    *,
    name: str | None = None,
    host: str = "far.test",
    movements: tuple[str, ...] = (),
    found: str = "federation",
    actor_type: str = "Group",
    **columns: Any,
) -> Actor:
    """A remote actor in the cache (region_city, hub_scope, summary, latitude, deleted_at … as columns)."""
    now = instance.ctx.clock()
    uri = f"https://{host}/groups/{username}"
    actor = Actor(
        uri=uri, type=actor_type, username=username, domain=host, is_local=False, name=name, url=uri,
        inbox=f"{uri}/inbox", discovered_via=found, discovered_at=now, fetched_at=now, created_at=now,
        updated_at=now, **columns,
    )
    async with instance.ctx.sessions.begin() as session:
        session.add(actor)
        await set_movements(session, actor, movements)
    return actor
