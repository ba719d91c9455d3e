"""The instance actor's private key: a server with a damaged one refuses to start, and says why;
commands that sign nothing still run, and a missing key stops every runtime."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from fedihub.app import create_app, open_runtime
from fedihub.coalitions import service
from fedihub.errors import ConfigurationError
from fedihub.settings import Settings
from fedihub.storage.models import Actor, ActorKey
from tests.support.edges import committed


def _settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(base_url="http://a.test", database_url=database_url, data_dir=tmp_path, secret_key="test-secret")


async def _change_instance_key(settings: Settings, *, damage: bool) -> None:
    """Open a runtime (which creates the instance actor), then damage or delete its key row."""
    async with open_runtime(settings) as runtime, runtime.ctx.sessions.begin() as session:
        actor_id = await session.scalar(select(Actor.id).where(Actor.uri == runtime.ctx.urls.instance_actor()))
        if damage:
            pem = await session.scalar(select(ActorKey.private_key_pem).where(ActorKey.actor_id == actor_id))
            lines = pem.splitlines()
            lines[5] = lines[5][:10] + ("A" if lines[5][10] != "A" else "B") + lines[5][11:]
            await session.execute(
                update(ActorKey).where(ActorKey.actor_id == actor_id).values(private_key_pem="\n".join(lines))
            )
        else:
            await session.execute(delete(ActorKey).where(ActorKey.actor_id == actor_id))


async def test_a_server_with_a_damaged_instance_key_refuses_to_start(database_url: str, tmp_path: Path) -> None:
    settings = _settings(database_url, tmp_path)
    await _change_instance_key(settings, damage=True)
    app = create_app(settings)

    with pytest.raises(ConfigurationError, match="private key"):
        async with app.router.lifespan_context(app):
            pass


async def test_a_command_that_signs_nothing_still_runs_with_a_damaged_instance_key(
    database_url: str, tmp_path: Path
) -> None:
    settings = _settings(database_url, tmp_path)
    await _change_instance_key(settings, damage=True)

    async with open_runtime(settings) as runtime:
        await committed(runtime.ctx, service.create_coalition, "tenants", name="Tenants Union")
        with pytest.raises(ConfigurationError, match="private key"):
            runtime.ctx.load_instance_auth()  # the first signed fetch would stop here, before sending


async def test_a_missing_instance_key_stops_every_runtime_with_a_clear_error(database_url: str, tmp_path: Path) -> None:
    settings = _settings(database_url, tmp_path)
    await _change_instance_key(settings, damage=False)

    with pytest.raises(ConfigurationError, match="instance actor .* has no private key"):
        async with open_runtime(settings):
            pass
