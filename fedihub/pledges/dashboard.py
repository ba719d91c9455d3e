"""What a coalition's organizers work from: the upcoming calls that reach it, and its own pledges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.timeline import followed_boosters, followed_ids, reaching
from fedihub.pledges.day_of_action import not_a_local_action
from fedihub.pledges.queries import rollup_of
from fedihub.pledges.rollup import Rollup
from fedihub.pledges.store import ACCEPTED, is_over
from fedihub.storage.models import Actor, Pledge, StoredObject

CALLS_FOR_YOU = 20
YOUR_PLEDGES = 50
LIVE = ("pending", ACCEPTED)


@dataclass(frozen=True)
class CallForYou:
    """An upcoming call that reached the coalition, the followed actors that boosted it (its hubs,
    mostly; empty when it came straight from a coalition it follows), and its own pledge, if any."""

    call: StoredObject
    via: list[str]
    rollup: Rollup
    pledge: Pledge | None


@dataclass(frozen=True)
class OwnPledge:
    """One of the coalition's live pledges, with the call as this server stores it (None if it has none)."""

    pledge: Pledge
    call: StoredObject | None
    over: bool


def _upcoming(now: datetime) -> ColumnElement[bool]:
    # The same moment as store.is_over: the end, else the start.
    return func.coalesce(StoredObject.end_time, StoredObject.start_time) >= now


async def calls_for(
    session: AsyncSession, coalition: Actor, now: datetime, *, limit: int = CALLS_FOR_YOU
) -> list[CallForYou]:
    """Upcoming, not cancelled calls by the actors the coalition follows or boosted by them (its hubs
    at any level: each passes its parents' calls down), soonest first; never its own, and never
    another coalition's local action, which comes down with its call and is shown under it."""
    rows = (
        await session.scalars(
            select(StoredObject)
            .where(
                *await reaching(session, coalition.id), StoredObject.type == "Event",
                StoredObject.start_time.is_not(None), _upcoming(now),
                StoredObject.attributed_to_id != coalition.id, not_a_local_action(),
                or_(StoredObject.event_status.is_(None), func.upper(StoredObject.event_status) != "CANCELLED"),
            )
            .order_by(StoredObject.start_time, StoredObject.id)
            .limit(limit)
        )
    ).all()
    uris = [row.uri for row in rows]
    via = await followed_boosters(session, followed_ids(coalition.id), uris)
    pledges = await _own_pledges(session, coalition.uri, uris)
    return [
        CallForYou(call=row, via=list(dict.fromkeys(via.get(row.uri, []))), rollup=await rollup_of(session, row),
                   pledge=pledges.get(row.uri))
        for row in rows
    ]


async def _own_pledges(session: AsyncSession, coalition_uri: str, call_uris: list[str]) -> dict[str, Pledge]:
    if not call_uris:
        return {}
    rows = await session.scalars(
        select(Pledge).where(Pledge.coalition_uri == coalition_uri, Pledge.call_uri.in_(call_uris),
                             Pledge.state.in_(LIVE))
    )
    return {row.call_uri: row for row in rows}


async def pledges_of(
    session: AsyncSession, coalition: Actor, now: datetime, *, limit: int = YOUR_PLEDGES
) -> list[OwnPledge]:
    """The coalition's live pledges (waiting for the origin or accepted): calls still to come soonest
    first, then those over, latest first (their report-back is due)."""
    rows = (
        await session.execute(
            select(Pledge, StoredObject)
            .outerjoin(StoredObject, StoredObject.uri == Pledge.call_uri)
            .where(Pledge.coalition_uri == coalition.uri, Pledge.state.in_(LIVE))
            .order_by(Pledge.created_at.desc())
            .limit(limit)
        )
    ).all()
    found = [
        OwnPledge(pledge=pledge, call=call, over=call is not None and is_over(call.start_time, call.end_time, now))
        for pledge, call in rows
    ]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    coming = sorted((item for item in found if not item.over),
                    key=lambda item: item.call.start_time or far if item.call else far)
    over = sorted((item for item in found if item.over),
                  key=lambda item: item.call.start_time or now if item.call else now, reverse=True)
    return coming + over
