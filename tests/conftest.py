"""Shared fixtures: a migrated database per test on SQLite and PostgreSQL, and federation networks."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.databases import DatabaseFactory, PostgresUnavailable
from tests.support.fixtures import fixtures_dir as captured_payloads_dir
from tests.support.network import FederationNet

BACKENDS = [b for b in os.environ.get("FEDIHUB_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    import asyncio

    asyncio.run(factory.drop_all())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def database_url(database_factory: DatabaseFactory, backend: str) -> str:
    try:
        return await database_factory.create(backend)
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"{exc} (CI must run the PostgreSQL tests)")
        pytest.skip(str(exc))


@pytest.fixture
async def net(database_factory: DatabaseFactory, backend: str) -> AsyncIterator[FederationNet]:
    async def make() -> str:
        try:
            return await database_factory.create(backend)
        except PostgresUnavailable as exc:
            if IN_CI:
                pytest.fail(f"{exc} (CI must run the PostgreSQL tests)")
            pytest.skip(str(exc))

    network = FederationNet(make_database=make)
    try:
        yield network
    finally:
        await network.close()


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return captured_payloads_dir()
