"""The directory's row per actor: how and when this server met it, an organizer's note, roster reads."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.actor_parts import Sighting
from fedihub.storage.models import Actor, DirectoryListing

DISCOVERED_VIA = ("local", "federation", "boost", "roster", "import", "lookup")


def mark_discovered(actor: Actor, via: str, now: datetime) -> DirectoryListing:
    """Record how this server first learned of ``actor``; later sightings leave it as it was."""
    if via not in DISCOVERED_VIA:
        raise ValueError(f"unknown discovery source {via!r}")
    if actor.listing is None:
        actor.listing = DirectoryListing(discovered_via=via, discovered_at=now)
    return actor.listing


def recorded_by_import(actor: Actor) -> bool:
    """Whether an organizer's import described this actor (its region then outlives silent refreshes)."""
    listing = actor.listing
    return listing is not None and (listing.discovered_via == "import" or listing.note is not None)


async def read_sighting(session: AsyncSession, actor: Actor, document: Mapping[str, Any], sighting: Sighting) -> None:
    """The directory's reader of remote actors (federation/actor_parts.py): the first sighting is kept."""
    mark_discovered(actor, sighting.via, sighting.at)
