"""The map: upcoming calls and coalitions with coordinates, laid out on an equirectangular projection."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.directory.query import DirectoryFilter, conditions, entry_of, with_listing_rows
from fedihub.moderation.visibility import shown_actors, shown_objects
from fedihub.protocol.movements import movement_key
from fedihub.protocol.urls import http_url
from fedihub.storage.models import Actor, CoalitionProfile, StoredObject

MAX_CALLS = 500
MAX_COALITIONS = 1000
# Calls are filtered on movement after the query (their movements are a JSON list, not indexed):
# read this many upcoming calls with coordinates at most, enough for any map people can read.
CALL_SCAN = 2000
WIDTH = 800.0
MIN_ASPECT, MAX_ASPECT = 0.4, 0.7
GRID_STEPS = (0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 45, 90)


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


def _usable(latitude: float | None, longitude: float | None) -> bool:
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
        wanted = directory_filter.region.lower()
        query = query.where(or_(*(func.lower(column) == wanted for column in (
            StoredObject.region_city, StoredObject.region_state, StoredObject.region_country
        ))))
    rows = (await session.scalars(query.order_by(start, StoredObject.id).limit(CALL_SCAN))).all()
    points: list[MapPoint] = []
    for row in rows:
        movements = {movement_key(m) for m in (row.movements or []) if isinstance(m, str)}
        if directory_filter.movement and directory_filter.movement not in movements:
            continue
        if not _usable(row.latitude, row.longitude) or row.start_time is None:
            continue
        organizer = row.author.name or row.author.username or row.author.domain
        region = ", ".join(p for p in (row.region_city, row.region_state, row.region_country) if p)
        points.append(MapPoint(
            kind="call", name=(row.name or "").strip() or "Call to action", uri=row.uri,
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
        if entry.latitude is None or entry.longitude is None or not _usable(entry.latitude, entry.longitude):
            continue
        points.append(MapPoint(
            kind="coalition", name=entry.name, uri=entry.uri, url=entry.url, is_local=entry.is_local,
            latitude=float(entry.latitude), longitude=float(entry.longitude),
            detail=entry.kind_label, region=entry.region,
        ))
    return points


@dataclass(frozen=True)
class GridLine:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    label_x: float
    label_y: float


@dataclass(frozen=True)
class PlacedPoint:
    point: MapPoint
    x: float
    y: float


@dataclass(frozen=True)
class MapLayout:
    width: float
    height: float
    points: list[PlacedPoint]
    grid: list[GridLine]


def _grid_step(span: float) -> float:
    return next((step for step in GRID_STEPS if span / step <= 6), GRID_STEPS[-1])


def _degrees(value: float, positive: str, negative: str) -> str:
    text = f"{abs(value):.2f}".rstrip("0").rstrip(".")
    return f"{text}°{positive if value > 0 else negative if value < 0 else ''}"


def layout(points: list[MapPoint], *, width: float = WIDTH) -> MapLayout:
    """Fit the points' bounding box (with a margin) into a ``width``-wide box, north up.

    Equirectangular with its standard parallel at the box's middle latitude: x is longitude times
    cos(middle latitude), y is latitude, both on one scale, so a city's shape is not squashed.
    """
    if not points:
        return MapLayout(width=width, height=width * MIN_ASPECT, points=[], grid=[])
    lats = [p.latitude for p in points]
    lons = [p.longitude for p in points]
    stretch = max(math.cos(math.radians((min(lats) + max(lats)) / 2)), 0.2)
    # Bounding box in projected units, with a margin, never smaller than about a town.
    west, east = min(lons) * stretch, max(lons) * stretch
    south, north = min(lats), max(lats)
    margin = max((east - west) * 0.1, (north - south) * 0.1, 0.05)
    west, east, south, north = west - margin, east + margin, south - margin, north + margin
    box_w, box_h = east - west, north - south
    if box_h / box_w < MIN_ASPECT:  # too flat: grow north and south
        grow = (box_w * MIN_ASPECT - box_h) / 2
        south, north = south - grow, north + grow
    elif box_h / box_w > MAX_ASPECT:  # too tall: grow east and west
        grow = (box_h / MAX_ASPECT - box_w) / 2
        west, east = west - grow, east + grow
    scale = width / (east - west)
    height = (north - south) * scale

    def place(lat: float, lon: float) -> tuple[float, float]:
        return round((lon * stretch - west) * scale, 1), round((north - lat) * scale, 1)

    grid: list[GridLine] = []
    lat_step = _grid_step(north - south)
    lat = math.ceil(south / lat_step) * lat_step
    while lat <= north and -90 <= lat <= 90:
        y = round((north - lat) * scale, 1)
        # A label right under the top edge would be cut off: it goes below its line there.
        grid.append(GridLine(0, y, width, y, _degrees(lat, "N", "S"), 4, y - 3 if y > 14 else y + 12))
        lat += lat_step
    lon_west, lon_east = west / stretch, east / stretch
    lon_step = _grid_step(lon_east - lon_west)
    lon = max(math.ceil(lon_west / lon_step) * lon_step, -180)
    while lon <= min(lon_east, 180):
        x = round((lon * stretch - west) * scale, 1)
        grid.append(GridLine(x, 0, x, round(height, 1), _degrees(lon, "E", "W"), x + 3, round(height, 1) - 4))
        lon += lon_step
    placed = [PlacedPoint(point, *place(point.latitude, point.longitude)) for point in points]
    return MapLayout(width=width, height=round(height, 1), points=placed, grid=grid)
