"""Pledge rows: reading them as published items, writing items into them, and who hears of changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.actor_profile import profile_of
from fedihub.hubs.settings import hub_scope_of
from fedihub.protocol.pledges import Carrier, LocalAction, PledgeItem, PledgingCoalition, Report
from fedihub.storage.models import Actor, HubSettings, Pledge, Reaction

ACCEPTED = "accepted"


def is_over(start: datetime | None, end: datetime | None, now: datetime) -> bool:
    """A call is over once it ended; one without an end, once it started. It then takes no pledges."""
    moment = end or start
    return moment is not None and moment < now


def item_of(row: Pledge) -> PledgeItem:
    action = None
    if row.action_uri and row.action_name:
        action = LocalAction(
            uri=row.action_uri, name=row.action_name, start=row.action_start, timezone=row.action_timezone,
            place=row.action_place, url=row.action_url, end=row.action_end, address=row.action_address,
            latitude=row.action_latitude, longitude=row.action_longitude, online_url=row.action_online_url,
            description=row.action_description,
        )
    report = None
    if row.happened is not None:
        report = Report(happened=row.happened, turnout=row.turnout, url=row.report_url, reported_at=row.reported_at)
    coalition = PledgingCoalition(
        uri=row.coalition_uri, name=row.coalition_name, handle=row.coalition_handle, url=row.coalition_url,
        city=row.region_city, state=row.region_state, country=row.region_country,
        movements=tuple(row.movements or ()),
    )
    return PledgeItem(uri=row.uri, call_uri=row.call_uri, coalition=coalition, message=row.message,
                      action=action, report=report, published=row.created_at, vouched=row.vouched_by is not None)


def coalition_of(actor: Actor) -> PledgingCoalition:
    profile = profile_of(actor)
    return PledgingCoalition(
        uri=actor.uri, name=actor.name or actor.username, handle=actor.handle, url=actor.url or actor.uri,
        city=profile.region_city, state=profile.region_state, country=profile.region_country,
        movements=tuple(profile.movements or ()),
    )


def set_coalition(row: Pledge, coalition: PledgingCoalition) -> None:
    row.coalition_name, row.coalition_handle, row.coalition_url = coalition.name, coalition.handle, coalition.url
    row.region_city, row.region_state, row.region_country = coalition.city, coalition.state, coalition.country
    row.movements = list(coalition.movements) or None


def set_action(row: Pledge, action: LocalAction | None) -> None:
    row.action_uri = action.uri if action else None
    row.action_url = action.url if action else None
    row.action_name = action.name if action else None
    row.action_start = action.start if action else None
    row.action_timezone = action.timezone if action else None
    row.action_place = action.place if action else None
    row.action_end = action.end if action else None
    row.action_address = action.address if action else None
    row.action_latitude = action.latitude if action else None
    row.action_longitude = action.longitude if action else None
    row.action_online_url = action.online_url if action else None
    row.action_description = action.description if action else None


def set_report(row: Pledge, report: Report | None) -> None:
    row.happened = report.happened if report else None
    row.turnout = report.turnout if report else None
    row.report_url = report.url if report else None
    row.reported_at = report.reported_at if report else None


async def find_pledge(
    session: AsyncSession, call_uri: str, coalition_uri: str, *, for_update: bool = False
) -> Pledge | None:
    """The pledge of a coalition to a call; ``for_update`` locks the row until the transaction ends
    (PostgreSQL; SQLite's transactions already hold the write lock)."""
    query = select(Pledge).where(Pledge.call_uri == call_uri, Pledge.coalition_uri == coalition_uri)
    return await session.scalar(query.with_for_update() if for_update else query)


async def accepted_pledges(session: AsyncSession, call_uri: str) -> Sequence[Pledge]:
    return (
        await session.scalars(
            select(Pledge).where(Pledge.call_uri == call_uri, Pledge.state == ACCEPTED).order_by(Pledge.id)
        )
    ).all()


async def accepted_count(session: AsyncSession, call_uri: str, *, vouched_only: bool = False) -> int:
    query = select(func.count()).select_from(Pledge).where(Pledge.call_uri == call_uri, Pledge.state == ACCEPTED)
    if vouched_only:
        query = query.where(Pledge.vouched_by.is_not(None))
    return int(await session.scalar(query) or 0)


async def announcing_hubs(session: AsyncSession, call_uri: str) -> list[Actor]:
    """Hubs whose own signed Announce of the call reached this server: candidates to carry it.

    A Reaction row is written only from an authenticated Announce whose actor is the signer, so each
    of these hubs said so itself; whether it really carries the call is pledges/vouching.py's question.
    """
    announcers = select(Reaction.actor_id).where(Reaction.object_uri == call_uri, Reaction.type == "Announce")
    return list(
        (
            await session.scalars(
                select(Actor)
                .join(HubSettings, HubSettings.actor_id == Actor.id)  # only hubs have a row
                .where(Actor.id.in_(announcers), Actor.deleted_at.is_(None))
                .order_by(Actor.id)
            )
        ).all()
    )


def carrier_of(hub: Actor) -> Carrier:
    return Carrier(uri=hub.uri, name=hub.name, scope=hub_scope_of(hub), url=hub.url or hub.uri)
