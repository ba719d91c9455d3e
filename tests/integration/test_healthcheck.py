"""GET /healthz, what a container's HEALTHCHECK asks: 200 while the database answers, 503 once it is gone."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from fedihub.app import create_app
from fedihub.settings import Settings
from fedihub.storage.probe import database_answers
from tests.support.databases import POSTGRES_ADMIN_DSN


@contextlib.asynccontextmanager
async def serving(database_url: str) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    app = create_app(Settings(base_url="http://a.test", database_url=database_url, secret_key="test-secret"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://a.test") as client:
            yield app, client


@pytest.fixture
def own_database_url(database_url: str, tmp_path: Path) -> str:
    """The test's database; a SQLite one sits alone in a directory the test may take away."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return database_url
    volume = tmp_path / "volume"
    volume.mkdir()
    shutil.copyfile(str(url.database), volume / "fedihub.sqlite3")
    return f"sqlite+aiosqlite:///{volume / 'fedihub.sqlite3'}"


async def take_the_database_away(app: Starlette, database_url: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # Like a data volume that went away: new connections find no database file to open.
        await app.state.runtime.engine.dispose()
        shutil.rmtree(Path(str(url.database)).parent)
        return
    # Like a PostgreSQL database dropped under the server: its open connections are cut too.
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
    finally:
        await admin.close()


async def test_a_server_that_reaches_its_database_is_healthy(own_database_url: str) -> None:
    async with serving(own_database_url) as (_, client):
        response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"  # no proxy may keep an old answer


async def test_a_server_whose_database_is_gone_is_unavailable_and_says_no_more(
    own_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with serving(own_database_url) as (app, client):
        assert (await client.get("/healthz")).status_code == 200
        await take_the_database_away(app, own_database_url)

        response = await client.get("/healthz")

    assert response.status_code == 503
    # Nothing about the backend, its address or the error: that is for the log only.
    assert response.json() == {"status": "unavailable"}
    assert "health check: the database did not answer" in caplog.text


class _SessionThatNeverAnswers:
    async def __aenter__(self) -> _SessionThatNeverAnswers:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None

    async def execute(self, statement: Any) -> None:
        await asyncio.Event().wait()  # a database that hangs: no answer, ever


async def test_a_database_that_does_not_answer_in_time_counts_as_unavailable() -> None:
    assert await database_answers(_SessionThatNeverAnswers, timeout=0.05) is False  # type: ignore[arg-type]
