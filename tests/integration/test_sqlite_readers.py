"""On SQLite a page or a document that only reads never waits for the worker's writes, and a
read-only transaction cannot write by mistake."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from fedihub.app import create_app, open_runtime
from fedihub.coalitions import service
from fedihub.hubs import service as hubs
from fedihub.settings import Settings
from fedihub.storage.models import Actor
from tests.support.edges import committed

# Only a guard against hanging: a reader that queued behind the writer would wait busy_timeout (30 s).
GUARD_SECONDS = 10


def _settings(tmp_path: Path) -> Settings:
    return Settings(base_url="http://a.test", database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}",
                    secret_key="test-secret")


async def test_a_read_sees_the_last_commit_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    async with open_runtime(_settings(tmp_path), migrate=True) as runtime:
        ctx = runtime.ctx
        await committed(ctx, service.create_coalition, "tenants", name="Tenants Union")
        async with ctx.sessions.begin() as writer:
            row = await writer.scalar(select(Actor).where(Actor.username == "tenants"))
            assert row is not None
            row.name = "Renamed, not committed yet"
            await writer.flush()  # the write lock is held until this block ends
            with anyio.fail_after(GUARD_SECONDS):
                async with ctx.reading() as reader:
                    seen = await reader.scalar(select(Actor.name).where(Actor.username == "tenants"))
        assert seen == "Tenants Union"


async def test_a_write_in_a_read_only_transaction_fails_at_once(tmp_path: Path) -> None:
    async with open_runtime(_settings(tmp_path), migrate=True) as runtime:
        async with runtime.ctx.reading() as reader:
            with pytest.raises(OperationalError, match="readonly"):
                await reader.execute(text("UPDATE actors SET name = 'x'"))
        # The same pooled connection writes again for writers.
        await committed(runtime.ctx, service.create_coalition, "tenants", name="Tenants Union")


async def test_the_actor_document_answers_while_the_worker_writes(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with open_runtime(settings, migrate=True) as runtime:
        await committed(runtime.ctx, service.create_coalition, "tenants", name="Tenants Union")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.runtime.ctx
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a.test") as client:
            async with ctx.sessions.begin() as writer:
                await writer.execute(text("UPDATE actors SET summary = 'busy' WHERE username = 'tenants'"))
                with anyio.fail_after(GUARD_SECONDS):
                    answer = await client.get("/g/tenants", headers={"accept": "application/activity+json"})
                    page = await client.get("/g/tenants", headers={"accept": "text/html"})
    assert answer.status_code == 200 and answer.json()["name"] == "Tenants Union"
    assert page.status_code == 200 and "Tenants Union" in page.text


async def test_the_hub_page_and_the_directory_answer_while_the_worker_writes(tmp_path: Path) -> None:
    """The hub page reads its day of action and member tree in read-only transactions too."""
    settings = _settings(tmp_path)
    async with open_runtime(settings, migrate=True) as runtime:
        await committed(runtime.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.runtime.ctx
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a.test") as client:
            async with ctx.sessions.begin() as writer:
                await writer.execute(text("UPDATE actors SET summary = 'busy' WHERE username = 'illinois'"))
                with anyio.fail_after(GUARD_SECONDS):
                    page = await client.get("/g/illinois", headers={"accept": "text/html"})
                    directory = await client.get("/directory")
    assert page.status_code == 200 and "Illinois Hub" in page.text
    assert directory.status_code == 200 and "Illinois Hub" in directory.text
