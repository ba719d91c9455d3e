"""Shared limits: what a form or a reader lets through always fits the column that stores it."""

from __future__ import annotations

from sqlalchemy import String

from fedihub.protocol.limits import MAX_NAME, MAX_REGION
from fedihub.protocol.movements import MAX_KEY
from fedihub.protocol.timezones import known_zones
from fedihub.protocol.urls import MAX_URL
from fedihub.storage.models import (
    Account,
    Actor,
    ActorMovement,
    Base,
    CoalitionProfile,
    HubSettings,
    Pledge,
    StoredObject,
)


def length(column: object) -> int | None:
    kind = column.type  # type: ignore[attr-defined]
    return kind.length if isinstance(kind, String) else None


def columns_named(*suffixes: str) -> list[object]:
    return [
        column for table in Base.metadata.tables.values() for column in table.columns
        if column.name.endswith(suffixes) and length(column) is not None
    ]


def test_every_region_column_holds_a_region_we_accept() -> None:
    regions = columns_named("region_city", "region_state", "region_country", "region")
    expected = {
        CoalitionProfile.__table__.c.region_city, HubSettings.__table__.c.region,
        StoredObject.__table__.c.region_state, Pledge.__table__.c.region_country,
    }
    assert expected <= set(regions)
    assert {length(column) for column in regions} == {MAX_REGION}


def test_every_link_column_holds_a_link_we_accept() -> None:
    links = [
        Actor.__table__.c.uri, Actor.__table__.c.url, StoredObject.__table__.c.url, StoredObject.__table__.c.online_url,
    ]
    assert {length(column) for column in links} == {MAX_URL}


def test_a_movement_key_fits_the_directory_index() -> None:
    assert length(ActorMovement.__table__.c.movement) == MAX_KEY


def test_a_display_name_fits_an_accounts_column() -> None:
    assert length(Account.__table__.c.display_name) == MAX_NAME


def test_every_zone_we_know_fits_the_timezone_columns() -> None:
    zones = columns_named("timezone")
    assert StoredObject.__table__.c.timezone in zones
    assert max(map(len, known_zones())) <= min(length(column) or 0 for column in zones)
