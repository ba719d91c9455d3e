"""The day after a call one of our coalitions pledged to: a "report-back due" notice, once per pledge."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.context import FederationContext
from fedihub.federation.jobs import JobFunction
from fedihub.notices.kinds import REPORT_DUE
from fedihub.notices.service import Notices
from fedihub.pledges.store import ACCEPTED
from fedihub.storage.models import Actor, Pledge, StoredObject

log = logging.getLogger(__name__)

REMINDER_JOB = "notices.report-reminders"
REMINDER_EVERY = timedelta(hours=1)
# The day after: the call ended (or, without an end, started) at least this long ago ...
AFTER = timedelta(days=1)
# ... and not longer than this: a server that starts reminding does not remind of last year's calls.
UNTIL = timedelta(days=8)


async def remind(ctx: FederationContext, session: AsyncSession, notices: Notices) -> int:
    """Record the reminders now due; returns how many were new (a pledge is reminded of once)."""
    now = ctx.clock()
    ended = func.coalesce(StoredObject.end_time, StoredObject.start_time)
    rows = (
        await session.execute(
            select(Pledge, StoredObject, Actor)
            .join(StoredObject, StoredObject.uri == Pledge.call_uri)
            .join(Actor, Actor.uri == Pledge.coalition_uri)
            .where(
                Pledge.state == ACCEPTED, Pledge.reported_at.is_(None), Actor.is_local.is_(True),
                Actor.deleted_at.is_(None), StoredObject.deleted_at.is_(None),
                ended <= now - AFTER, ended > now - UNTIL,
            )
            .order_by(Pledge.id)
        )
    ).all()
    made = 0
    for pledge, call, coalition in rows:
        if (call.event_status or "").upper() == "CANCELLED":
            continue
        notice = await notices.record_notice(ctx, session, recipient=coalition, kind=REPORT_DUE, key=pledge.uri,
                                             party=call.author, call=call)
        made += notice is not None
    return made


def reminder_job(notices: Notices) -> JobFunction:
    async def run(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
        async with ctx.sessions.begin() as session:
            made = await remind(ctx, session, notices)
        if made:
            log.info("report-back reminders recorded: %d", made)

    return run
