"""Shared steps of the feed tests: calls made as organizers make them, remote calls stored as if they
had arrived, and the feeds read back by independent parsers (icalendar, feedparser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import httpx
import icalendar
from sqlalchemy import select

from fedihub.coalitions import calls
from fedihub.storage.models import Actor, StoredObject
from tests.support.edges import committed
from tests.support.network import Instance

NOW = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)


def call_input(**fields: Any) -> calls.CallInput:
    start = fields.pop("start", NOW + timedelta(days=10))
    values: dict[str, Any] = dict(
        title="Rent control now", description="Rally at **city hall**.", start=start, end=start + timedelta(hours=2),
        timezone="America/Chicago", place_name="Daley Plaza", address="50 W Washington St, Chicago",
        movements=["housing"], region_state="Illinois", region_country="United States",
    )
    values.update(fields)
    return calls.CallInput(**values)


async def post_call(instance: Instance, username: str, **fields: Any) -> StoredObject:
    return await committed(instance.ctx, calls.publish_call, username, call_input(**fields))


async def remote_actor(instance: Instance, uri: str, **fields: Any) -> Actor:
    now = instance.ctx.clock()
    async with instance.ctx.sessions.begin() as session:
        found = await session.scalar(select(Actor).where(Actor.uri == uri))
        if found is not None:
            return found
        host = uri.split("/")[2]
        values: dict[str, Any] = dict(
            uri=uri, type="Group", username=uri.rstrip("/").rsplit("/", 1)[-1], domain=host, name="Remote coalition",
            is_local=False, created_at=now, updated_at=now, url=uri,
        )
        values.update(fields)
        actor = Actor(**values)
        session.add(actor)
    return actor


async def remote_call(
    instance: Instance, uri: str, *, author: str = "https://other.example/g/la-blm", **fields: Any
) -> StoredObject:
    """A call from a coalition on another server, stored as if it had come in through the inbox."""
    actor = await remote_actor(instance, author)
    now = instance.ctx.clock()
    start = fields.pop("start", NOW + timedelta(days=5))
    values: dict[str, Any] = dict(
        uri=uri, type="Event", attributed_to_id=actor.id, is_local=False, visibility="public",
        name="Remote rally", content="<p>Come along.</p>", url=uri, start_time=start,
        end_time=start + timedelta(hours=1), timezone="America/Los_Angeles", location_name="City Hall",
        event_status="CONFIRMED", data={}, created_at=now, published=now,
    )
    values.update(fields)
    async with instance.ctx.sessions.begin() as session:
        row = StoredObject(**values)
        session.add(row)
    return row


def events_of(response: httpx.Response) -> list[icalendar.Event]:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return list(icalendar.Calendar.from_ical(response.text).walk("VEVENT"))


def by_uid(response: httpx.Response) -> dict[str, icalendar.Event]:
    return {str(event["UID"]): event for event in events_of(response)}


def parse_atom(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed
