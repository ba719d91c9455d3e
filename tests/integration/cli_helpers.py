"""Shared steps of the `fedihub` command tests (tests/integration/test_*cli.py): a data dir and its commands."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from fedihub.app import open_runtime
from fedihub.coalitions import service
from fedihub.settings import Settings
from tests.support.cli import CommandResult, run_in_process, run_process
from tests.support.edges import committed

BASE_URL = "http://coalitions.test"


@dataclass(frozen=True)
class Home:
    """A data directory and the environment that points the command at it."""

    path: Path

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FEDIHUB_")}
        env.update(FEDIHUB_DATA_DIR=str(self.path / "data"), FEDIHUB_BASE_URL=BASE_URL, FEDIHUB_LOG_LEVEL="WARNING")
        return env

    def run(self, *args: str, **env: str) -> CommandResult:
        """`fedihub ARGS` in this directory, in-process (see tests/support/cli.py)."""
        return run_in_process(args, env={**self.env, **env}, cwd=self.path)

    def run_process(self, *args: str, **env: str) -> CommandResult:
        """`fedihub ARGS` in this directory, as the installed command in a process of its own."""
        return run_process(args, env={**self.env, **env}, cwd=self.path)


def assert_one_error_line(result: CommandResult, *expected: str) -> None:
    """Failures are one `error: …` line on stderr and exit code 1: no traceback, no log noise."""
    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for text in expected:
        assert text in lines[0]


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the coalition `tenants`, made once per module and copied for each test."""
    home = tmp_path_factory.mktemp("cli-template")
    settings = Settings.from_env({**Home(home).env})

    async def prepare() -> None:
        async with open_runtime(settings, migrate=True) as runtime:
            await committed(runtime.ctx, service.create_coalition, "tenants", name="Tenants Union")

    asyncio.run(prepare())
    return home


@pytest.fixture
def home(tmp_path: Path, migrated_template: Path) -> Home:
    shutil.copytree(migrated_template, tmp_path, dirs_exist_ok=True)
    return Home(tmp_path)
