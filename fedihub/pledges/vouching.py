"""Vouched pledges at a call's origin: why a pledge counts in the headline, the per-server cap on
pledges nobody vouches for, and when a report of turnout is believed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation import jobs
from fedihub.protocol.hosts import host_of
from fedihub.protocol.pledges import MAX_TURNOUT
from fedihub.storage.models import Actor, Pledge, StoredObject

# Why a pledge is vouched (Pledge.vouched_by).
LOCAL = "local"  # the coalition is ours: this server's admins created it
HUB = "hub"  # a hub carrying the call lists it, and its own server confirms
ORGANIZERS = "organizers"  # the call's organizers approved it
ORIGIN = "origin"  # on a copy: the call's origin publishes it as vouched (for one of the reasons above)
# Held: over the per-server cap and unvouched, the pledge waits (unanswered) for a vouch or the organizers.
HELD = "pending"

VOUCH_JOB = "pledges.vouch"
# How long before the call's start a local action's report may come (a feeder march that morning).
REPORT_LEAD = timedelta(days=1)
DEFAULT_UNVOUCHED_PER_SERVER = 5


@dataclass(frozen=True)
class PledgeLimits:
    """How many unvouched pledges from one remote server a call counts (FEDIHUB_UNVOUCHED_PLEDGES_PER_SERVER)."""

    unvouched_per_server: int = DEFAULT_UNVOUCHED_PER_SERVER


def direct_vouch(coalition: Actor, row: Pledge | None) -> str | None:
    """The vouch known without asking any server: ours, approved by the organizers before, or given
    by a carrying hub before (a pledge repeated keeps it; the next vouch check confirms or drops it)."""
    if row is not None and row.vouched_by in (ORGANIZERS, HUB):
        return row.vouched_by
    if coalition.is_local:
        return LOCAL
    return None


async def over_cap(session: AsyncSession, call_uri: str, coalition_uri: str, limits: PledgeLimits) -> bool:
    """Whether the coalition's server already has as many counted unvouched pledges as a call takes."""
    others = (
        await session.scalars(
            select(Pledge.coalition_uri).where(
                Pledge.call_uri == call_uri, Pledge.state == "accepted", Pledge.vouched_by.is_(None),
                Pledge.coalition_uri != coalition_uri,
            )
        )
    ).all()
    host = host_of(coalition_uri)
    return sum(1 for uri in others if host_of(uri) == host) >= limits.unvouched_per_server


async def enqueue_vouch_check(session: AsyncSession, call_uri: str, *, at: datetime) -> None:
    """Re-check the call's carriers and unvouched pledges later: it reads other servers' collections."""
    await jobs.enqueue(session, VOUCH_JOB, key=call_uri, payload={"call": call_uri}, at=at)


def report_refusal(
    report: Any, *, call: StoredObject, action_start: datetime | None, now: datetime
) -> str | None:
    """Why a report carried by a Join is not believed, or None.

    Turnout is counted only once the local action (or, without one, the call) has started, and only
    up to the plausibility bound MAX_TURNOUT; above it the whole report is refused, not clipped. The
    local action's start is the pledger's word: it moves the earliest report at most a day before
    the call's own start.
    """
    if not isinstance(report, Mapping):
        return None
    if call.start_time is None:
        return "a report for a call without a start"
    start = max(action_start or call.start_time, call.start_time - REPORT_LEAD)
    if now < start:
        return "a report before the local action started"
    turnout = report.get("turnout")
    if isinstance(turnout, int) and not isinstance(turnout, bool) and turnout > MAX_TURNOUT:
        return f"a turnout above {MAX_TURNOUT:,}"
    return None
