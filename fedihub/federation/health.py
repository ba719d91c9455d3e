"""Delivery health per remote domain: what is waiting, failing or dead, in plain numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Activity, Delivery, DomainHealth


@dataclass(frozen=True)
class DomainDeliveries:
    domain: str
    pending: int
    failing: int
    dead: int
    delivered: int
    last_error: str | None
    paused_until: datetime | None


async def delivery_summary(
    session: AsyncSession, *, now: datetime, actor_id: int | None = None
) -> Sequence[DomainDeliveries]:
    """Counts per domain; ``failing`` are pending deliveries that already failed at least once.

    With ``actor_id``, only the deliveries of that actor's activities are counted (one coalition's view).
    """
    query = select(
        Delivery.domain,
        func.sum(case((Delivery.state == "pending", 1), else_=0)),
        func.sum(case(((Delivery.state == "pending") & (Delivery.attempts > 0), 1), else_=0)),
        func.sum(case((Delivery.state == "dead", 1), else_=0)),
        func.sum(case((Delivery.state == "delivered", 1), else_=0)),
    )
    if actor_id is not None:
        query = query.join(Activity, Activity.id == Delivery.activity_id).where(Activity.actor_id == actor_id)
    rows = await session.execute(query.group_by(Delivery.domain).order_by(Delivery.domain))
    health = {h.domain: h for h in (await session.scalars(select(DomainHealth))).all()}
    summary = []
    for domain, pending, failing, dead, delivered in rows:
        state = health.get(domain)
        paused = state.open_until if state is not None and state.open_until and state.open_until > now else None
        summary.append(
            DomainDeliveries(
                domain=domain, pending=int(pending or 0), failing=int(failing or 0), dead=int(dead or 0),
                delivered=int(delivered or 0), last_error=state.last_error if state else None, paused_until=paused,
            )
        )
    return summary


async def latest_problems(session: AsyncSession, actor_id: int) -> dict[str, str | None]:
    """The latest delivery error per server for one actor's own activities not delivered yet."""
    problems = await session.execute(
        select(Delivery.domain, Delivery.last_error)
        .join(Activity, Activity.id == Delivery.activity_id)
        .where(Activity.actor_id == actor_id, Delivery.state != "delivered", Delivery.last_error.is_not(None))
        .order_by(Delivery.id)
    )
    return {domain: error for domain, error in problems}
