"""A hub's day of action: the calls it carries (never the local actions pledged to them), upcoming
ones soonest first and past ones after, each with its roll-up, and the coalitions pledged per region."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.moderation.visibility import not_blocked_by, shown_objects
from fedihub.pledges.queries import rollup_of
from fedihub.pledges.rollup import Rollup, build_rollup
from fedihub.protocol.pledges import PledgeItem
from fedihub.storage.models import Boost, Pledge, StoredObject

UPCOMING_SHOWN = 20
PAST_SHOWN = 10


@dataclass(frozen=True)
class CarriedCall:
    call: StoredObject
    rollup: Rollup
    over: bool


@dataclass(frozen=True)
class DayOfAction:
    upcoming: list[CarriedCall]
    past: list[CarriedCall]
    # Distinct coalitions pledged (vouched) to the upcoming calls, per state/region; to the past
    # ones when nothing is upcoming (the day just happened).
    by_region: list[tuple[str, int]]

    @property
    def pledged(self) -> int:
        return sum(count for _, count in self.by_region)


def not_a_local_action() -> ColumnElement[bool]:
    """Events that are calls of their own, not a coalition's local action for a call.

    A local action is the coalition's child Event of a call (its `superEvent`, schema.org): shown
    under its call, never as a call of its own. Rows a pledge names as its local action are one
    sign, the superEvent the Event itself carries the other (a copy may not know the pledge yet).
    """
    local_actions = select(Pledge.action_uri).where(Pledge.action_uri.is_not(None))
    return and_(StoredObject.uri.not_in(local_actions), StoredObject.data["superEvent"].as_string().is_(None))


def _carried(hub_id: int) -> Select[StoredObject]:
    return select(StoredObject).join(Boost, Boost.object_uri == StoredObject.uri).where(
        Boost.hub_id == hub_id, Boost.undone_at.is_(None), StoredObject.type == "Event",
        StoredObject.deleted_at.is_(None), StoredObject.start_time.is_not(None),
        not_a_local_action(), not_blocked_by(hub_id),
    )


def _over_condition(now: datetime) -> ColumnElement[bool]:
    # The rule of pledges/store.is_over in SQL: over once ended; without an end, once started.
    return or_(and_(StoredObject.end_time.is_not(None), StoredObject.end_time < now),
               and_(StoredObject.end_time.is_(None), StoredObject.start_time < now))


def _region_counts(items: list[PledgeItem]) -> list[tuple[str, int]]:
    distinct = {item.coalition.uri: item for item in items}
    return build_rollup(list(distinct.values())).by_region


async def day_of_action(
    session: AsyncSession, hub_id: int, *, now: datetime, upcoming_limit: int = UPCOMING_SHOWN,
    past_limit: int = PAST_SHOWN,
) -> DayOfAction:
    """The calls hub ``hub_id`` carries, as its public page shows them (bounded lists)."""
    shown = await shown_objects(session)
    over = _over_condition(now)
    upcoming_rows = (await session.scalars(
        _carried(hub_id).where(shown, ~over).order_by(StoredObject.start_time, StoredObject.id).limit(upcoming_limit)
    )).unique().all()
    past_rows = (await session.scalars(
        _carried(hub_id).where(shown, over).order_by(StoredObject.start_time.desc(), StoredObject.id.desc())
        .limit(past_limit)
    )).unique().all()
    upcoming = [CarriedCall(row, await rollup_of(session, row), False) for row in upcoming_rows]
    past = [CarriedCall(row, await rollup_of(session, row), True) for row in past_rows]
    counted = upcoming or past
    pledged = [item for entry in counted for item in entry.rollup.pledges]
    return DayOfAction(upcoming=upcoming, past=past, by_region=_region_counts(pledged))
