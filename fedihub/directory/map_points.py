"""The map's points: upcoming calls and coalitions with coordinates (fedihub/maps/ draws them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.directory.query import DirectoryFilter, conditions, entry_of, region_names_of, with_listing_rows
from fedihub.i18n.active import gettext
from fedihub.moderation.visibility import shown_actors, shown_objects
from fedihub.protocol.movements import movement_key
from fedihub.protocol.urls import http_url
from fedihub.storage.models import Actor, CoalitionProfile, StoredObject

MAX_CALLS = 500
MAX_COALITIONS = 1000
# Calls are filtered on movement after the query (their movements are a JSON list, not indexed):
# read this many upcoming calls with coordinates at most, enough for any map people can read.
CALL_SCAN = 2000


@dataclass(frozen=True)
class MapPoint:
    kind: str  # "call" or "coalition"
    name: str
    uri: str
    url: str | None  # the origin's page of a remote actor; the web layer links calls itself
    is_local: bool
    latitude: float
    longitude: float
    detail: str  # "Coalition", "State hub", or the call's organizer
    region: str
    start_time: datetime | None = None
    timezone: str | None = None


def placeable(latitude: float | None, longitude: float | None) -> bool:
    """Whether a point can go on a map: both coordinates given, finite and in range."""
    return (latitude is not None and longitude is not None and math.isfinite(latitude) and math.isfinite(longitude)
            and -90 <= latitude <= 90 and -180 <= longitude <= 180)


async def call_points(session: AsyncSession, directory_filter: DirectoryFilter, *, now: datetime) -> list[MapPoint]:
    """Public upcoming calls (ours and remote) with coordinates, soonest first."""
    # The same "upcoming" as coalitions.calls: under way or not yet started.
    start, end = StoredObject.start_time, StoredObject.end_time
    query = select(StoredObject).where(
        StoredObject.type == "Event", StoredObject.deleted_at.is_(None), StoredObject.visibility == "public",
        start.is_not(None), or_(end >= now, and_(end.is_(None), start >= now)),
        StoredObject.latitude.is_not(None), StoredObject.longitude.is_not(None), await shown_objects(session),
    )
    if directory_filter.region:
        wanted = region_names_of(directory_filter.region)
        query = query.where(or_(*(func.lower(column).in_(wanted) for column in (
            StoredObject.region_city, StoredObject.region_state, StoredObject.region_country
        ))))
    rows = (await session.scalars(query.order_by(start, StoredObject.id).limit(CALL_SCAN))).all()
    points: list[MapPoint] = []
    for row in rows:
        movements = {movement_key(m) for m in (row.movements or []) if isinstance(m, str)}
        if directory_filter.movement and directory_filter.movement not in movements:
            continue
        if not placeable(row.latitude, row.longitude) or row.start_time is None:
            continue
        organizer = row.author.name or row.author.username or row.author.domain
        region = ", ".join(p for p in (row.region_city, row.region_state, row.region_country) if p)
        points.append(MapPoint(
            kind="call", name=(row.name or "").strip() or gettext("Call to action"), uri=row.uri,
            url=row.uri if row.is_local else http_url(row.url) or http_url(row.uri), is_local=row.is_local,
            latitude=float(row.latitude or 0), longitude=float(row.longitude or 0), detail=organizer,
            region=region or (row.location_name or ""), start_time=row.start_time, timezone=row.timezone,
        ))
        if len(points) >= MAX_CALLS:
            break
    return points


async def coalition_points(session: AsyncSession, directory_filter: DirectoryFilter) -> list[MapPoint]:
    """Directory entries (coalitions and hubs) whose profiles give coordinates, by name."""
    where = conditions(DirectoryFilter(movement=directory_filter.movement, region=directory_filter.region))
    query = (
        with_listing_rows(select(Actor))
        .where(*where, CoalitionProfile.latitude.is_not(None), CoalitionProfile.longitude.is_not(None),
               await shown_actors(session))
        .order_by(func.lower(func.coalesce(Actor.name, Actor.username, Actor.uri)), Actor.id).limit(MAX_COALITIONS)
    )
    points = []
    for actor in (await session.scalars(query)).unique().all():
        entry = entry_of(actor)
        if entry.latitude is None or entry.longitude is None or not placeable(entry.latitude, entry.longitude):
            continue
        points.append(MapPoint(
            kind="coalition", name=entry.name, uri=entry.uri, url=entry.url, is_local=entry.is_local,
            latitude=float(entry.latitude), longitude=float(entry.longitude),
            detail=entry.kind_label, region=entry.region,
        ))
    return points
