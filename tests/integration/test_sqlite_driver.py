"""SQLite statements make one trip to the connection's thread, and answer as aiosqlite's cursors did."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from fedihub.storage.db import create_engine, create_read_session_factory

metadata = MetaData()
banners = Table(
    "banners", metadata,
    Column("id", Integer, primary_key=True),
    Column("slogan", String, nullable=False, unique=True),
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The functions handed to aiosqlite's connection threads, in order."""
    handed: list[str] = []
    original = aiosqlite.Connection._execute

    async def counting(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        handed.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counting)
    return handed


async def test_a_query_is_one_trip_to_the_connection_thread(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(banners), [{"slogan": "Rent control now"}, {"slogan": "Homes for all"}])
        trips.clear()
        rows = (await conn.execute(select(banners.c.slogan).order_by(banners.c.id))).all()

    assert [row.slogan for row in rows] == ["Rent control now", "Homes for all"]
    # The SELECT, then the COMMIT: aiosqlite's cursors made four trips for the SELECT alone.
    assert trips == ["_run", "commit"]


async def test_row_counts_returning_and_last_row_ids_are_reported(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        many = await conn.execute(insert(banners), [{"slogan": f"Slogan {n}"} for n in range(5)])
        one = await conn.execute(insert(banners).values(slogan="Solidarity"))
        returned = (await conn.execute(
            update(banners).where(banners.c.id <= 3).values(slogan=banners.c.slogan + "!").returning(banners.c.id)
        )).scalars().all()
        updated = await conn.execute(update(banners).where(banners.c.id > 3).values(slogan=banners.c.slogan + "?"))

    assert many.rowcount == 5
    assert one.inserted_primary_key == (6,)
    assert sorted(returned) == [1, 2, 3]
    assert updated.rowcount == 3


async def test_a_constraint_violation_raises_and_rolls_back(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(insert(banners).values(slogan="Same"))
            await conn.execute(insert(banners).values(slogan="Same"))

    async with engine.connect() as conn:
        assert (await conn.scalar(select(banners.c.id).limit(1))) is None


async def test_large_results_come_back_whole_and_in_partitions(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(banners), [{"slogan": f"Call {n}"} for n in range(2500)])
    async with engine.connect() as conn:
        result = await conn.execute(select(banners.c.id).order_by(banners.c.id))
        partitions = [len(p) for p in result.partitions(1000)]
        streamed = await conn.stream(select(banners.c.id).order_by(banners.c.id))
        ids = [row.id async for row in streamed]

    assert partitions == [1000, 1000, 500]
    assert ids == list(range(1, 2501))


async def test_a_read_session_still_refuses_to_write(engine: AsyncEngine) -> None:
    async with create_read_session_factory(engine)() as session:
        with pytest.raises(Exception, match="readonly"):
            await session.execute(text("INSERT INTO banners (slogan) VALUES ('by mistake')"))


async def test_a_read_session_makes_no_trips_besides_its_statements(engine: AsyncEngine, trips: list[str]) -> None:
    async with engine.begin() as conn:
        await conn.execute(insert(banners).values(slogan="Rent control now"))
    reading = create_read_session_factory(engine)
    async with reading() as session:  # the first switches the pooled connection to query_only
        await session.execute(select(banners.c.id))
    trips.clear()

    async with reading() as session:
        first = await session.scalar(select(banners.c.slogan))
        count = await session.scalar(select(func.count()).select_from(banners))

    assert (first, count) == ("Rent control now", 1)
    assert trips == ["_run", "_run"]  # no BEGIN, and no ROLLBACK as nothing was begun
