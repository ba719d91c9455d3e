"""The directory's indexes on actors: actor_movements kept in step with actors.movements."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.protocol.movements import movement_key, unique_movements
from fedihub.storage.models import Actor, ActorMovement

DISCOVERED_VIA = ("local", "federation", "boost", "roster", "import", "lookup")


async def set_movements(session: AsyncSession, actor: Actor, movements: Iterable[str] | None) -> None:
    """Set ``actor.movements`` and make actor_movements say the same; the caller commits.

    Every write of actors.movements goes through here: the directory filters on the table, so a
    movement set without it would be invisible to the movement filter. What a movement is and how
    movements compare (the key stored in the table) is protocol/movements.py's rule.
    """
    cleaned = unique_movements(movements)
    actor.movements = cleaned or None
    if actor.id is None:
        session.add(actor)
        await session.flush()
    wanted = {movement_key(movement) for movement in cleaned}
    stored = set(
        await session.scalars(select(ActorMovement.movement).where(ActorMovement.actor_id == actor.id))
    )
    gone = stored - wanted
    if gone:
        await session.execute(
            delete(ActorMovement).where(ActorMovement.actor_id == actor.id, ActorMovement.movement.in_(gone))
        )
    session.add_all(ActorMovement(actor_id=actor.id, movement=movement) for movement in sorted(wanted - stored))
    await session.flush()


def mark_discovered(actor: Actor, via: str, now: datetime) -> None:
    """Record how this server first learned of ``actor``; later sightings leave it as it was."""
    if via not in DISCOVERED_VIA:
        raise ValueError(f"unknown discovery source {via!r}")
    if actor.discovered_via is None:
        actor.discovered_via = via
        actor.discovered_at = now
