"""Claiming rows of a work queue (inbox, deliveries, jobs, mail) with a lease.

One UPDATE … RETURNING claims them, with SKIP LOCKED on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Delivery, InboxItem, Job, OutboundMail

Row = TypeVar("Row", InboxItem, Delivery, Job, OutboundMail)


async def claim_due(
    session: AsyncSession,
    model: type[Row],
    *,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
) -> Sequence[Row]:
    """Lease up to ``limit`` pending rows whose time has come; the caller commits at once.

    On PostgreSQL the inner SELECT takes row locks with SKIP LOCKED so concurrent workers
    never claim the same row; SQLite serialises writers, so the plain UPDATE is enough there.
    A row whose lease expired (its worker died) is claimable again: nothing is lost.
    """
    due = (
        select(model.id)
        .where(
            model.state == "pending",
            model.next_attempt_at <= now,
            or_(model.locked_until.is_(None), model.locked_until < now),
        )
        .order_by(model.next_attempt_at, model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = await session.scalars(
        update(model)
        .where(model.id.in_(due.scalar_subquery()))
        .values(locked_until=now + lease, locked_by=owner)
        .returning(model),
        execution_options={"synchronize_session": False},
    )
    return claimed.all()
