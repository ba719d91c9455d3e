"""Migration 0007 moves what the actors table knew into the one-to-one tables, and back, losing nothing.

The data is written with plain SQL against the 0006 schema (the models describe the new one), on a
database migrated from empty like a real deployment. The rows that reference actors are part of the
check: on SQLite, recreating the actors table under PRAGMA foreign_keys=ON would cascade-delete them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fedihub.storage.db import create_session_factory
from fedihub.storage.models import (
    Actor,
    ActorKey,
    CoalitionProfile,
    DirectoryListing,
    Follow,
    HubSettings,
    StoredObject,
    UTCDateTime,
)
from tests.support.migrations import engine, migrate

__all__ = ["engine"]  # a fixture used by name below

BEFORE_SPLIT = "0006"

CREATED = datetime(2026, 11, 20, 9, 30, 15, 123456, tzinfo=UTC)
UPDATED = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
DISCOVERED = datetime(2026, 11, 22, 8, 15, 30, 500000, tzinfo=UTC)
ROSTER_READ = datetime(2026, 11, 23, 18, 45, tzinfo=UTC)

COALITION, HUB, REMOTE_COALITION, PERSON = 1, 2, 3, 4
FOLLOW, OBJECT = 10, 20

# The moved columns as they were on actors, with the types to write and read them by.
OLD_COLUMN_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "private_key_pem": sa.Text(),
    "summary_source": sa.Text(),
    "movements": sa.JSON(),
    "region_city": sa.String(),
    "region_state": sa.String(),
    "region_country": sa.String(),
    "latitude": sa.Float(),
    "longitude": sa.Float(),
    "website": sa.String(),
    "hub_scope": sa.String(),
    "hub_region": sa.String(),
    "hub_movements": sa.JSON(),
    "hub_regions": sa.JSON(),
    "hub_calls_only": sa.Boolean(),
    "discovered_via": sa.String(),
    "discovered_at": UTCDateTime(),
    "directory_note": sa.Text(),
    "roster_fetched_at": UTCDateTime(),
}
COLUMN_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    **OLD_COLUMN_TYPES,
    "created_at": UTCDateTime(),
    "updated_at": UTCDateTime(),
    "data": sa.JSON(),
}

COALITION_ROW = {
    "id": COALITION, "uri": "https://a.test/actors/tenants", "type": "Group", "username": "tenants",
    "local_username": "tenants", "domain": "a.test", "is_local": True, "name": "Tenants Union",
    "public_key_pem": "PUBLIC tenants", "private_key_pem": "-----BEGIN PRIVATE KEY----- tenants",
    "summary_source": "We organise *renters*.", "movements": ["housing", "Tenants"],
    "region_city": "Portland", "region_state": "Oregon", "region_country": "US",
    "latitude": 45.5152, "longitude": -122.6784, "website": "https://tenants.example",
    "discovered_via": "local", "discovered_at": DISCOVERED,
}
HUB_ROW = {
    "id": HUB, "uri": "https://a.test/actors/pnw", "type": "Group", "username": "pnw", "local_username": "pnw",
    "domain": "a.test", "is_local": True, "name": "Pacific Northwest hub",
    "public_key_pem": "PUBLIC pnw", "private_key_pem": "-----BEGIN PRIVATE KEY----- pnw",
    "hub_scope": "regional", "hub_region": "Pacific Northwest", "hub_movements": ["housing", "climate"],
    "hub_regions": ["Oregon", "Washington"], "hub_calls_only": True,
    # Set by 0005 without a date: the listing falls back to when the actor was stored.
    "discovered_via": "local", "discovered_at": None,
}
REMOTE_COALITION_ROW = {
    "id": REMOTE_COALITION, "uri": "https://b.test/actors/climate", "type": "Group", "username": "climate",
    "domain": "b.test", "is_local": False, "name": "Climate Coalition", "movements": ["climate", "labor"],
    "discovered_via": "import", "discovered_at": DISCOVERED, "directory_note": "Met them at the May Day march",
    "roster_fetched_at": ROSTER_READ,
}
PERSON_ROW = {
    "id": PERSON, "uri": "https://masto.test/users/alice", "type": "Person", "username": "alice",
    "domain": "masto.test", "is_local": False, "name": "Alice",
    # JSON null, which the ORM wrote for "no movements": no more a profile than SQL NULL is.
    "movements": sa.JSON.NULL,
}
ACTOR_ROWS = [COALITION_ROW, HUB_ROW, REMOTE_COALITION_ROW, PERSON_ROW]

# What the new tables must hold afterwards, one row per actor that had something to say.
EXPECTED: dict[type[Any], dict[int, dict[str, Any]]] = {
    ActorKey: {
        COALITION: {"actor_id": COALITION, "private_key_pem": "-----BEGIN PRIVATE KEY----- tenants",
                    "created_at": CREATED},
        HUB: {"actor_id": HUB, "private_key_pem": "-----BEGIN PRIVATE KEY----- pnw", "created_at": CREATED},
    },
    CoalitionProfile: {
        COALITION: {"actor_id": COALITION, "summary_source": "We organise *renters*.",
                    "movements": ["housing", "Tenants"], "region_city": "Portland", "region_state": "Oregon",
                    "region_country": "US", "latitude": 45.5152, "longitude": -122.6784,
                    "website": "https://tenants.example"},
        REMOTE_COALITION: {"actor_id": REMOTE_COALITION, "summary_source": None, "movements": ["climate", "labor"],
                           "region_city": None, "region_state": None, "region_country": None, "latitude": None,
                           "longitude": None, "website": None},
    },
    HubSettings: {
        HUB: {"actor_id": HUB, "scope": "regional", "region": "Pacific Northwest", "movements": ["housing", "climate"],
              "regions": ["Oregon", "Washington"], "calls_only": True},
    },
    DirectoryListing: {
        COALITION: {"actor_id": COALITION, "discovered_via": "local", "discovered_at": DISCOVERED, "note": None,
                    "roster_fetched_at": None},
        HUB: {"actor_id": HUB, "discovered_via": "local", "discovered_at": CREATED, "note": None,
              "roster_fetched_at": None},
        REMOTE_COALITION: {"actor_id": REMOTE_COALITION, "discovered_via": "import", "discovered_at": DISCOVERED,
                           "note": "Met them at the May Day march", "roster_fetched_at": ROSTER_READ},
    },
}


def table(name: str, columns: list[str]) -> sa.TableClause:
    """A lightweight table of the columns named, typed so datetimes and JSON go through as the app's do."""
    return sa.table(name, *(sa.column(column, COLUMN_TYPES.get(column)) for column in columns))


async def insert(connection: AsyncConnection, name: str, row: dict[str, Any]) -> None:
    await connection.execute(sa.insert(table(name, list(row))).values(row))


async def seed_before_split(engine: AsyncEngine) -> None:
    """At 0006: actors with their keys, profiles, hub rules and listings as columns, and rows that point at them."""
    async with engine.begin() as connection:
        for row in ACTOR_ROWS:
            await insert(connection, "actors", {
                "manually_approves_followers": False, "discoverable": True,
                "created_at": CREATED, "updated_at": UPDATED, **row,
            })
        await insert(connection, "follows", {
            "id": FOLLOW, "uri": "https://masto.test/follows/1", "follower_id": PERSON, "target_id": COALITION,
            "state": "accepted", "created_at": CREATED, "updated_at": UPDATED,
        })
        await insert(connection, "objects", {
            "id": OBJECT, "uri": "https://b.test/notes/1", "type": "Note", "attributed_to_id": REMOTE_COALITION,
            "is_local": False, "visibility": "public", "content": "<p>Strike Friday</p>",
            "data": {"type": "Note"}, "created_at": CREATED,
        })
        await insert(connection, "actor_movements", {"actor_id": REMOTE_COALITION, "movement": "climate"})
        # The Person's movements are stored as JSON null, not SQL NULL (what the edge case is about).
        person_movements = sa.text("SELECT movements IS NOT NULL FROM actors WHERE id = :id")
        assert await connection.scalar(person_movements, {"id": PERSON})


async def new_rows(engine: AsyncEngine) -> dict[type[Any], dict[int, dict[str, Any]]]:
    async with engine.connect() as connection:
        found: dict[type[Any], dict[int, dict[str, Any]]] = {}
        for model in EXPECTED:
            result = await connection.execute(sa.select(model.__table__))
            found[model] = {row.actor_id: dict(row._mapping) for row in result}
        return found


async def referencing_rows(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    async with engine.connect() as connection:
        return {
            name: [tuple(row) for row in await connection.execute(sa.text(sql))]
            for name, sql in {
                "actors": "SELECT id FROM actors ORDER BY id",
                "follows": "SELECT id, follower_id, target_id FROM follows",
                "objects": "SELECT id, attributed_to_id FROM objects",
                "actor_movements": "SELECT actor_id, movement FROM actor_movements",
            }.items()
        }


BEFORE_REFERENCES = {
    "actors": [(COALITION,), (HUB,), (REMOTE_COALITION,), (PERSON,)],
    "follows": [(FOLLOW, PERSON, COALITION)],
    "objects": [(OBJECT, REMOTE_COALITION)],
    "actor_movements": [(REMOTE_COALITION, "climate")],
}


@pytest.mark.all_backends
async def test_the_split_moves_each_group_of_columns_to_its_table_and_keeps_what_points_at_actors(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, BEFORE_SPLIT)
    await seed_before_split(engine)

    await migrate(engine, "0007")

    # Same values, and a row only where the actor had something in that group: the hub has no
    # profile, the remote coalition no key nor hub settings, the Person nothing anywhere.
    assert await new_rows(engine) == EXPECTED
    # No cascade: every actor, follow, object and movement is still there.
    assert await referencing_rows(engine) == BEFORE_REFERENCES

    # Later migrations change data of their own (0012 sends every roster to be read again).
    await migrate(engine, "head")

    # And the app reads it through its own models (the one-to-one rows load with the actor).
    async with create_session_factory(engine)() as session:
        coalition = await session.get(Actor, COALITION)
        hub = await session.get(Actor, HUB)
        remote = await session.get(Actor, REMOTE_COALITION)
        person = await session.get(Actor, PERSON)
        key = await session.get(ActorKey, COALITION)
        follow = await session.get(Follow, FOLLOW)
        note = await session.get(StoredObject, OBJECT)
        assert coalition is not None and hub is not None and remote is not None and person is not None
        assert coalition.profile is not None and coalition.profile.movements == ["housing", "Tenants"]
        assert coalition.profile.region_city == "Portland" and coalition.hub_settings is None
        assert coalition.listing is not None and coalition.listing.discovered_at == DISCOVERED
        assert key is not None and key.private_key_pem == "-----BEGIN PRIVATE KEY----- tenants"
        assert hub.hub_settings is not None and hub.hub_settings.scope == "regional"
        assert hub.hub_settings.regions == ["Oregon", "Washington"] and hub.hub_settings.calls_only is True
        assert hub.profile is None
        assert remote.listing is not None and remote.listing.note == "Met them at the May Day march"
        assert remote.profile is not None and remote.profile.movements == ["climate", "labor"]
        assert (person.profile, person.hub_settings, person.listing) == (None, None, None)
        assert follow is not None
        assert (follow.follower.uri, follow.target.uri) == (PERSON_ROW["uri"], COALITION_ROW["uri"])
        assert note is not None and note.author.uri == REMOTE_COALITION_ROW["uri"]


async def old_columns(engine: AsyncEngine) -> dict[int, dict[str, Any]]:
    async with engine.connect() as connection:
        actors = table("actors", ["id", *OLD_COLUMN_TYPES])
        result = await connection.execute(sa.select(actors))
        return {row.id: {k: v for k, v in row._mapping.items() if k != "id"} for row in result}


async def actor_indexes(engine: AsyncEngine) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return {index["name"] for index in sa.inspect(connection).get_indexes("actors") if index["name"]}

    async with engine.connect() as connection:
        return await connection.run_sync(names)


@pytest.mark.all_backends
async def test_a_downgrade_puts_the_columns_back_and_upgrading_again_keeps_the_data(engine: AsyncEngine) -> None:
    await migrate(engine, BEFORE_SPLIT)
    await seed_before_split(engine)
    await migrate(engine, "0007")

    await migrate(engine, BEFORE_SPLIT, down=True)

    # Every moved value is back on its actor; the two changes are the ones the split made on the way
    # (the hub's missing discovery date became its creation date, the Person's JSON null had no row).
    expected = {
        row["id"]: {column: row.get(column) for column in OLD_COLUMN_TYPES} for row in ACTOR_ROWS
    }
    expected[HUB]["discovered_at"] = CREATED
    expected[PERSON]["movements"] = None
    assert await old_columns(engine) == expected
    assert {"ix_actors_type_hub_scope", "ix_actors_region_state"} <= await actor_indexes(engine)
    assert await referencing_rows(engine) == BEFORE_REFERENCES

    await migrate(engine, "0007")

    assert await new_rows(engine) == EXPECTED
    assert await referencing_rows(engine) == BEFORE_REFERENCES
    assert not {"ix_actors_type_hub_scope", "ix_actors_region_state"} & await actor_indexes(engine)
