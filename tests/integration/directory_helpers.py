"""Seeding the directory of an instance directly: remote groups as federation or a roster left them."""

from __future__ import annotations

from typing import Any

from fedihub.coalitions.actor_profile import set_movements
from fedihub.hubs.settings import set_hub_scope
from fedihub.storage.models import Actor, CoalitionProfile, DirectoryListing
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
    profile_columns = set(CoalitionProfile.__table__.columns.keys()) - {"actor_id", "movements"}
    profile = {key: columns.pop(key) for key in list(columns) if key in profile_columns}
    hub_scope, hub_region = columns.pop("hub_scope", None), columns.pop("hub_region", None)
    actor = Actor(
        uri=uri, type=actor_type, username=username, domain=host, is_local=False, name=name, url=uri,
        inbox=f"{uri}/inbox", fetched_at=now, created_at=now, updated_at=now,
        listing=DirectoryListing(discovered_via=found, discovered_at=now),
        profile=CoalitionProfile(**profile) if profile else None, **columns,
    )
    set_hub_scope(actor, hub_scope, hub_region)
    async with instance.ctx.sessions.begin() as session:
        session.add(actor)
        await set_movements(session, actor, movements)
    return actor
