"""Whether the database answers: one trivial query through the session factory, bounded in time."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text

from fedihub.storage.db import Sessions

log = logging.getLogger(__name__)


async def database_answers(sessions: Sessions, *, timeout: float) -> bool:
    """True when ``SELECT 1`` completes within ``timeout`` seconds; why it did not goes to the log.

    It opens a session like any request does (on SQLite that takes the write lock, as every
    request's transaction does), so it fails exactly when pages would.
    """
    try:
        async with asyncio.timeout(timeout):
            async with sessions() as session:
                await session.execute(text("SELECT 1"))
    except TimeoutError:
        log.warning("health check: the database did not answer within %s s", timeout)
        return False
    except Exception as exc:  # whatever the driver raises, the answer is "not healthy"
        log.warning("health check: the database did not answer: %s: %s", type(exc).__name__, exc)
        return False
    return True
