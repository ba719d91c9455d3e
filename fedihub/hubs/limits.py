"""How much a hub boosts: the per-member boost rate and the count of groups a post is addressed to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.hubs.rules import MAX_ADDRESSED_GROUPS
from fedihub.protocol.reader import ids_of, is_public_address, mention_hrefs
from fedihub.storage.models import Actor, Boost, Follow

RATE_WINDOW = timedelta(hours=1)
# Addresses looked up per query; a post naming thousands of actors is read in slices, and the
# count stops as soon as it is over the limit.
_LOOKUP_SLICE = 200


@dataclass(frozen=True)
class HubLimits:
    """The instance-wide hub safeguards (settings FEDIHUB_HUB_BOOSTS_PER_MEMBER_HOUR and
    FEDIHUB_HUB_MAX_ADDRESSED_GROUPS); built once in the composition root."""

    boosts_per_member_hour: int = 4
    max_addressed_groups: int = MAX_ADDRESSED_GROUPS


DEFAULT_LIMITS = HubLimits()


async def boosts_in_window(session: AsyncSession, hub_id: int, member_id: int, now: datetime) -> int:
    """Boosts the hub sent in the last hour of what came through ``member_id`` (undone ones count too).

    The hub's follow of the member is locked first (PostgreSQL; SQLite transactions already hold the
    write lock), so two workers handling the same member's posts at once count one after the other
    and cannot both take the last boost of the hour.
    """
    await session.execute(
        select(Follow.id).where(Follow.follower_id == hub_id, Follow.target_id == member_id).with_for_update()
    )
    query = select(func.count()).select_from(Boost).where(
        Boost.hub_id == hub_id, Boost.member_id == member_id, Boost.created_at > now - RATE_WINDOW
    )
    return int(await session.scalar(query) or 0)


def addressed_actor_ids(doc: Mapping[str, Any]) -> list[str]:
    """Everyone a post addresses: to, cc, audience and Mention tags, each once, Public left out."""
    found = [*ids_of(doc.get("to")), *ids_of(doc.get("cc")), *ids_of(doc.get("audience")), *mention_hrefs(doc)]
    return [uri for uri in dict.fromkeys(found) if not is_public_address(uri)]


async def count_addressed_groups(
    session: AsyncSession, doc: Mapping[str, Any], author_uri: str, *, stop_above: int
) -> int:
    """Group actors we know among the post's addressees (the author itself not counted).

    Addresses we have never met are not looked up: that would be network I/O inside the inbound
    handler. A cross-posting blast aimed at hubs names hubs and coalitions, which a hub's server knows.
    """
    uris = [uri for uri in addressed_actor_ids(doc) if uri != author_uri]
    total = 0
    for start in range(0, len(uris), _LOOKUP_SLICE):
        chunk = uris[start:start + _LOOKUP_SLICE]
        query = select(func.count()).select_from(Actor).where(Actor.uri.in_(chunk), Actor.type == "Group")
        total += int(await session.scalar(query) or 0)
        if total > stop_above:
            break
    return total
