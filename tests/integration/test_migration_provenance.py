"""Migration 0012: copies of other servers' pledges and roster names stop speaking for their actors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fedihub.storage.db import create_session_factory
from fedihub.storage.models import Actor, DirectoryListing, Pledge, StoredObject
from tests.support.migrations import engine, insert_row, migrate

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
CALL = "https://calls.example/events/1"

__all__ = ["engine"]  # a fixture used by name below


# The revision 0012 follows: the ORM models describe the schema from there on.
BEFORE = "0011"


async def _pledge(session: AsyncSession, uri: str, coalition: str, name: str, source: str = "origin") -> None:
    await insert_row(session, Pledge, uri=uri, call_uri=CALL, coalition_uri=coalition, state="accepted",
                     source=source, message=f"words of {name}", coalition_name=name, created_at=NOW, updated_at=NOW)


@pytest.mark.all_backends
async def test_copied_pledges_of_third_servers_and_roster_names_wait_for_their_own_server(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, BEFORE)
    async with create_session_factory(engine).begin() as session:
        author = await insert_row(session, Actor, uri="https://calls.example/g/org", is_local=False,
                                  domain="calls.example", type="Group", created_at=NOW, updated_at=NOW, fetched_at=NOW)
        stub = await insert_row(session, Actor, uri="https://far.example/g/stub", is_local=False,
                                domain="far.example", type="Group", name="Forged name", username="forged",
                                created_at=NOW, updated_at=NOW)
        fetched = await insert_row(session, Actor, uri="https://near.example/g/real", is_local=False,
                                   domain="near.example", type="Group", name="Real name", username="real",
                                   created_at=NOW, updated_at=NOW, fetched_at=NOW)
        for actor_id in (stub, fetched):
            session.add(DirectoryListing(actor_id=actor_id, discovered_via="roster", discovered_at=NOW,
                                         roster_fetched_at=NOW))
        await insert_row(session, StoredObject, uri=CALL, type="Event", attributed_to_id=author, is_local=False,
                         visibility="public", data={}, created_at=NOW, pledges_fetched_at=NOW)
        await _pledge(session, "https://calls.example/joins/1", "https://calls.example/g/own", "Own coalition")
        await _pledge(session, "https://victim.example/a/1", "https://victim.example/g/victim", "Victim")

    await migrate(engine, "head")

    async with create_session_factory(engine)() as session:
        rows = {row.coalition_uri: row for row in (await session.scalars(select(Pledge))).all()}
        call = await session.scalar(select(StoredObject).where(StoredObject.uri == CALL))
        actors = {actor.uri: actor for actor in (await session.scalars(select(Actor))).all()}
    own, victim = rows["https://calls.example/g/own"], rows["https://victim.example/g/victim"]
    assert (own.state, own.message, own.coalition_name) == ("accepted", "words of Own coalition", "Own coalition")
    assert (victim.state, victim.message, victim.coalition_name) == ("unconfirmed", None, None)
    assert call is not None and call.pledges_fetched_at is None  # re-read, and confirmed, at the next sweep
    stub_after, real_after = actors["https://far.example/g/stub"], actors["https://near.example/g/real"]
    assert (stub_after.name, stub_after.username) == (None, None)
    assert (real_after.name, real_after.username) == ("Real name", "real")
    assert stub_after.listing is not None and stub_after.listing.roster_fetched_at is None

    await migrate(engine, BEFORE, down=True)
    async with create_session_factory(engine)() as session:
        left = set((await session.scalars(select(Pledge.coalition_uri))).all())
    assert left == {"https://calls.example/g/own"}
