"""Which calls a feed or the calls API lists: time windows, filters (movement, region, coalition, hub)
and the calls a hub carries, as the same SQL on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput, NotFound
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import gettext
from fedihub.moderation.visibility import is_hidden, shown_objects
from fedihub.protocol.hosts import normalise_host
from fedihub.protocol.limits import MAX_REGION
from fedihub.protocol.movements import MAX_KEY, comparable, movement_name
from fedihub.storage.models import Actor, Boost, Reaction, StoredObject

PAST_DAYS = 30  # calendar apps drop events that vanish from a feed: keep the last month's in it
UPCOMING_LIMIT = 500
PAST_LIMIT = 200
MAX_HANDLE = 320
FILTER_LIMITS = {"movement": MAX_KEY, "region": MAX_REGION, "coalition": MAX_HANDLE, "hub": MAX_HANDLE}

Condition = ColumnElement[bool]


@dataclass(frozen=True)
class CallFilters:
    """A directory-style filter as a visitor writes it in a query string; every field optional."""

    movement: str | None = None
    region: str | None = None
    coalition: str | None = None
    hub: str | None = None

    @property
    def description(self) -> str:
        """"housing, Illinois": what the filter keeps, for a calendar's name."""
        parts = [
            self.movement, self.region, self.coalition and gettext("by %(name)s", name=self.coalition),
            self.hub and gettext("via %(name)s", name=self.hub),
        ]
        return ", ".join(p for p in parts if p)


def parse_filters(params: Mapping[str, str]) -> CallFilters:
    """The known filters of a query string; others are ignored, an overlong value is InvalidInput."""
    values: dict[str, str | None] = {}
    for name, limit in FILTER_LIMITS.items():
        text = " ".join(str(params.get(name) or "").split())
        if len(text) > limit:
            raise InvalidInput(gettext("%(name)s has at most %(limit)s characters", name=name, limit=limit), field=name)
        values[name] = (movement_name(text) or "") if name == "movement" else text
    return CallFilters(**{name: value or None for name, value in values.items()})


# --- Conditions ------------------------------------------------------------------------------------


def movement_condition(dialect: str, movement: str) -> Condition:
    """The call is tagged ``movement`` (case-insensitive; SQLite folds ASCII letters only).

    Compared in protocol/movements.py's spelling, "Rent Strike" as "RentStrike", as calls store their
    movements; lower() rather than casefold() because that is what the SQL side can do.
    """
    key = comparable(movement).lower()
    if dialect == "postgresql":
        # json_array_elements_text fails on a scalar: a call stored with JSON null has no movements.
        array = case(
            (func.json_typeof(StoredObject.movements) == "array", StoredObject.movements),
            else_=literal_column("'[]'::json"),
        )
        elements = func.json_array_elements_text(array).table_valued("value")
    else:
        elements = func.json_each(StoredObject.movements).table_valued("value")
    return exists(select(1).select_from(elements).where(func.lower(elements.c.value) == key))


def region_condition(region: str) -> Condition:
    """The call's city, state or country is ``region`` (case-insensitive, whole name)."""
    key = region.lower()
    return or_(*(func.lower(column) == key for column in (
        StoredObject.region_city, StoredObject.region_state, StoredObject.region_country,
    )))


def carried_by(hub: Actor) -> Condition:
    """Calls the hub boosted: our own hub's Boost rows not undone, a remote hub's Announces we hold."""
    if hub.is_local:
        boosted = select(Boost.object_uri).where(Boost.hub_id == hub.id, Boost.undone_at.is_(None))
    else:
        boosted = select(Reaction.object_uri).where(Reaction.actor_id == hub.id, Reaction.type == "Announce")
    return StoredObject.uri.in_(boosted)


def published_by(actor: Actor) -> Condition:
    return StoredObject.attributed_to_id == actor.id


def upcoming_condition(now: datetime) -> Condition:
    # As coalitions/calls.py: a call under way is upcoming; one without an end is over once started.
    end, start = StoredObject.end_time, StoredObject.start_time
    return or_(end >= now, and_(end.is_(None), start >= now))


def past_condition(now: datetime) -> Condition:
    # Spelled out rather than negated: NOT (NULL >= now OR …) is NULL in SQL, not true.
    end, start = StoredObject.end_time, StoredObject.start_time
    return or_(end < now, and_(end.is_(None), start < now))


def _calls(conditions: Sequence[Condition]) -> Select[StoredObject]:
    return select(StoredObject).where(
        StoredObject.type == "Event", StoredObject.deleted_at.is_(None), StoredObject.start_time.is_not(None),
        *conditions,
    )


def public_only() -> Condition:
    # FEP-8a8e "Discoverability": shared calendars list only events with Public in `to`.
    return StoredObject.visibility == "public"


def public_or_unlisted() -> Condition:
    # An actor's own feed may also carry its unlisted calls (Public in `cc`), as its page does.
    return StoredObject.visibility.in_(("public", "unlisted"))


# --- Resolving a filter ---------------------------------------------------------------------------


async def find_actor_by_handle(session: AsyncSession, handle: str, local_domain: str) -> Actor | None:
    """A Group we know by ``name``, ``name@host`` or ``@name@host`` (ours when the host is ours)."""
    name, _, host = handle.strip().lstrip("@").partition("@")
    host = normalise_host(host, strict=False) if host else ""
    if not name:
        return None
    if not host or host == local_domain.lower():
        query = select(Actor).where(Actor.local_username == name.lower(), Actor.is_local.is_(True))
    else:
        query = select(Actor).where(
            func.lower(Actor.username) == name.lower(), Actor.domain == host, Actor.is_local.is_(False)
        )
    return await session.scalar(query.where(Actor.type == "Group", Actor.deleted_at.is_(None)).limit(1))


async def filter_conditions(session: AsyncSession, filters: CallFilters, local_domain: str) -> list[Condition]:
    """SQL conditions for ``filters``; NotFound names a coalition or hub we do not know."""
    dialect = session.get_bind().dialect.name
    conditions: list[Condition] = []
    if filters.movement:
        conditions.append(movement_condition(dialect, filters.movement))
    if filters.region:
        conditions.append(region_condition(filters.region))
    if filters.coalition:
        actor = await find_actor_by_handle(session, filters.coalition, local_domain)
        if actor is None or await is_hidden(session, actor.id):
            raise NotFound(gettext("no coalition %(name)s is known here", name=filters.coalition))
        conditions.append(published_by(actor))
    if filters.hub:
        hub = await find_actor_by_handle(session, filters.hub, local_domain)
        if hub is None or hub_scope_of(hub) is None or await is_hidden(session, hub.id):
            raise NotFound(gettext("no hub %(name)s is known here", name=filters.hub))
        conditions.append(carried_by(hub))
    return conditions


# --- Listings ----------------------------------------------------------------------------------------


async def feed_calls(session: AsyncSession, conditions: Sequence[Condition], *, now: datetime) -> list[StoredObject]:
    """A calendar's calls: every upcoming one (up to UPCOMING_LIMIT) and those of the last PAST_DAYS,
    in start order; never those of blocked actors or domains, even stored before the block."""
    conditions = [*conditions, await shown_objects(session)]
    soon = _calls([*conditions, upcoming_condition(now)])
    soon = soon.order_by(StoredObject.start_time, StoredObject.id).limit(UPCOMING_LIMIT)
    recent = _calls([*conditions, past_condition(now), StoredObject.start_time >= now - timedelta(days=PAST_DAYS)])
    recent = recent.order_by(StoredObject.start_time.desc(), StoredObject.id.desc()).limit(PAST_LIMIT)
    return [*reversed((await session.scalars(recent)).all()), *(await session.scalars(soon)).all()]


async def page_of_calls(
    session: AsyncSession, conditions: Sequence[Condition], *, now: datetime, upcoming: bool, offset: int, limit: int,
) -> tuple[list[StoredObject], int]:
    """One page of calls and how many match: upcoming soonest first, or past ones latest first (blocked
    actors' and domains' calls left out)."""
    conditions = [*conditions, await shown_objects(session)]
    query = _calls([*conditions, upcoming_condition(now) if upcoming else past_condition(now)])
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    order = (StoredObject.start_time, StoredObject.id) if upcoming else (
        StoredObject.start_time.desc(), StoredObject.id.desc())
    rows = (await session.scalars(query.order_by(*order).offset(offset).limit(limit))).all()
    return list(rows), total
