"""Private keys: kept apart from actors and read only where something is signed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Actor, ActorKey


def store_private_key(session: AsyncSession, actor: Actor, private_key_pem: str, now: datetime) -> None:
    """Keep a new local actor's private key; the actor must have been flushed (it has an id)."""
    session.add(ActorKey(actor_id=actor.id, private_key_pem=private_key_pem, created_at=now))


async def load_signing_keys(session: AsyncSession, actor_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """(key id, private key PEM) per actor id, for the actors among ``actor_ids`` that can sign."""
    rows = await session.execute(
        select(Actor.id, Actor.public_key_id, ActorKey.private_key_pem)
        .join(ActorKey, ActorKey.actor_id == Actor.id)
        .where(Actor.id.in_(set(actor_ids)))
    )
    return {actor_id: (key_id, pem) for actor_id, key_id, pem in rows if key_id}
