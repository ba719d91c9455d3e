"""The test suite's PostgreSQL databases: one handed back by a test is, for the next, a fresh clone."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import select

from fedihub.app import open_runtime
from fedihub.coalitions import service
from fedihub.settings import Settings
from fedihub.storage.models import Actor
from tests.conftest import IN_CI
from tests.support.databases import POSTGRES_ADMIN_DSN, DatabaseFactory, PostgresUnavailable, _plain_dsn, _Snapshot
from tests.support.edges import committed


async def _new_database(factory: DatabaseFactory) -> str:
    try:
        return await factory.postgresql()
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"{exc} (CI must run the PostgreSQL tests)")
        pytest.skip(str(exc))


async def _state(url: str) -> tuple[str, dict, list]:  # type: ignore[type-arg]
    conn = await asyncpg.connect(_plain_dsn(url.rsplit("/", 1)[1]))
    try:
        snapshot = await _Snapshot.take(conn)
    finally:
        await conn.close()
    rows = {table: (columns, [tuple(r) for r in records]) for table, (columns, records) in snapshot.rows.items()}
    return snapshot.fingerprint, rows, snapshot.sequences


async def _first_coalition_id(url: str) -> int:
    settings = Settings(base_url="http://a.test", database_url=url, secret_key="test-secret")
    async with open_runtime(settings) as runtime:
        await committed(runtime.ctx, service.create_coalition, "tenants", name="Tenants Union")
        async with runtime.ctx.sessions() as session:
            return await session.scalar(select(Actor.id).where(Actor.username == "tenants"))


async def test_a_used_database_comes_back_as_its_template_left_it(tmp_path: Path) -> None:
    factory = DatabaseFactory(tmp_path)
    try:
        url = await _new_database(factory)
        fresh = await _state(url)
        first_id = await _first_coalition_id(url)
        assert (await _state(url))[1] != fresh[1], "the test wrote nothing"

        await factory.release(url)
        again = await factory.postgresql()

        assert again == url, "the emptied database is handed to the next test"
        assert await _state(again) == fresh  # schema, rows (alembic_version) and sequences
        assert await _first_coalition_id(again) == first_id
    finally:
        await factory.drop_all()


async def test_a_database_whose_schema_a_test_changed_is_dropped_not_reused(tmp_path: Path) -> None:
    factory = DatabaseFactory(tmp_path)
    try:
        url = await _new_database(factory)
        name = url.rsplit("/", 1)[1]
        conn = await asyncpg.connect(_plain_dsn(name))
        try:
            await conn.execute("ALTER TABLE actors ADD COLUMN left_behind text")
        finally:
            await conn.close()

        await factory.release(url)
        other = await factory.postgresql()

        assert other != url
        admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            assert await admin.fetchval("SELECT count(*) FROM pg_database WHERE datname = $1", name) == 0
        finally:
            await admin.close()
    finally:
        await factory.drop_all()
