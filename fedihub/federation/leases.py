"""Keeping the leases of queue rows a worker is still working on, so no other worker takes them over."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Collection
from datetime import datetime, timedelta

from sqlalchemy import update

from fedihub.federation.queue import Row
from fedihub.storage.db import Sessions

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def keep_leased(
    sessions: Sessions,
    clock: Callable[[], datetime],
    model: type[Row],
    ids: Callable[[], Collection[int]],
    *,
    owner: str,
    lease: timedelta,
) -> AsyncIterator[None]:
    """While the block runs, renew the lease of the rows ``ids()`` names every third of a lease.

    A batch waits for its slowest row (each bounded by its own deadline); without this the rows
    still queued behind it could pass to another worker and be sent or applied twice. A worker
    that dies stops renewing, and its rows become claimable when the last lease runs out.
    """

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease.total_seconds() / 3)
            current = list(ids())
            if not current:
                continue
            try:
                async with sessions.begin() as session:
                    await session.execute(
                        update(model).where(model.id.in_(current), model.locked_by == owner)
                        .values(locked_until=clock() + lease),
                        execution_options={"synchronize_session": False},
                    )
            except Exception:  # a busy database must not end the renewals; the next try may pass
                log.exception("renewing the leases of %d %s rows failed", len(current), model.__tablename__)

    task = asyncio.create_task(renew())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
