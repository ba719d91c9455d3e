"""The `fedihub` command as an operator runs it, on a temporary SQLite data dir.

Commands run in-process through click's runner (tests/support/cli.py); the two tests marked
``real_process`` start the installed `fedihub` entry point, to prove that the console script
reaches the same click group and that a failure in a real interpreter is one line, without a
traceback or log noise.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner

from fedihub.cli import main
from fedihub.errors import ConfigurationError
from fedihub.settings import Settings
from tests.integration.cli_helpers import BASE_URL, Home, assert_one_error_line, home, migrated_template  # noqa: F401


def _command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        # Through list_commands/get_command: the main group imports its commands only when asked.
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, (*path, name)
            yield from _command_paths(sub, (*path, name))


@pytest.mark.real_process
def test_the_installed_command_shows_usage(tmp_path: Path) -> None:
    result = Home(tmp_path).run_process("--help")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: fedihub ")
    for command in ("migrate", "coalition", "follow", "post", "queue", "block", "unblock", "serve", "worker"):
        assert f"  {command} " in result.stdout
    assert not (tmp_path / "data").exists(), "--help must not create a database"


def test_every_subcommand_explains_itself_with_help(tmp_path: Path) -> None:
    # In-process: one interpreter start per subcommand would cost a second each; the real
    # process above proves the installed entry point reaches this same click group.
    runner = CliRunner()
    paths = list(_command_paths(main))
    assert ("coalition", "create") in paths and ("follow",) in paths and ("block",) in paths
    for path in paths:
        result = runner.invoke(main, [*path, "--help"], prog_name="fedihub", env={"FEDIHUB_DATA_DIR": str(tmp_path)})
        assert result.exit_code == 0, (path, result.output)
        assert result.output.startswith(f"Usage: fedihub {' '.join(path)}".rstrip()), (path, result.output)
    assert list(tmp_path.iterdir()) == []


def test_migrate_creates_the_database_and_can_run_again(tmp_path: Path, home: Home) -> None:  # noqa: F811
    fresh = Home(tmp_path / "fresh")
    fresh.path.mkdir()

    created = fresh.run("migrate")
    again = home.run("migrate")  # home was migrated already

    assert (created.returncode, created.stdout) == (0, "database is up to date\n")
    assert (fresh.path / "data" / "fedihub.sqlite3").is_file()
    assert (again.returncode, again.stdout) == (0, "database is up to date\n")


@pytest.mark.real_process
def test_commands_on_an_unmigrated_database_say_to_migrate(tmp_path: Path) -> None:
    assert_one_error_line(Home(tmp_path).run_process("coalition", "list"), "fedihub migrate")


def test_a_created_coalition_is_listed(home: Home) -> None:  # noqa: F811
    created = home.run("coalition", "create", "climate", "--name", "Climate Coalition", "--approve-followers")
    listed = home.run("coalition", "list")

    assert created.returncode == 0, created.stderr
    assert created.stdout == "created @climate@coalitions.test  http://coalitions.test/g/climate\n"
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [
        "@climate@coalitions.test  Climate Coalition  followers=0 following=0 (approves followers)  http://coalitions.test/g/climate",
        "@tenants@coalitions.test  Tenants Union  followers=0 following=0  http://coalitions.test/g/tenants",
    ]


def test_a_handle_copied_with_its_at_sign_is_created_without_it(home: Home) -> None:  # noqa: F811
    created = home.run("coalition", "create", "@climate@coalitions.test", "--name", "Climate Coalition")
    assert created.stdout == "created @climate@coalitions.test  http://coalitions.test/g/climate\n", created.stderr
    assert_one_error_line(home.run("coalition", "create", "@@renters", "--name", "Renters"), "not a valid handle")
    made = home.run("coalition", "create", "Tenants Union!", "--name", "Tenants")
    assert_one_error_line(made, "not a valid handle", "try 'tenants-union'")
    assert_one_error_line(home.run("hub", "create", "Bay Área", "--name", "Bay", "--scope", "regional"), "'bay-area'")


def test_a_coalition_created_with_an_owner_is_theirs_to_manage(home: Home) -> None:  # noqa: F811
    with contextlib.closing(sqlite3.connect(home.path / "data" / "fedihub.sqlite3")) as db, db:
        db.execute(
            "INSERT INTO accounts (username, password_hash, is_admin, created_at, session_generation)"
            " VALUES ('maria', 'x', 0, '2026-01-01 00:00:00.000000', 0)"
        )
    assert_one_error_line(home.run("coalition", "create", "climate", "--name", "C", "--owner", "nobody"), "nobody")
    created = home.run("coalition", "create", "climate", "--name", "Climate Coalition", "--owner", "maria")

    assert created.stdout.splitlines()[-1] == "owner: maria", created.stderr
    with contextlib.closing(sqlite3.connect(home.path / "data" / "fedihub.sqlite3")) as db:
        roles = db.execute(
            "SELECT a.local_username, m.role FROM memberships m JOIN actors a ON a.id = m.actor_id"
        ).fetchall()
    assert roles == [("climate", "owner")], "the failed attempt created nothing"


def test_creating_a_coalition_twice_is_one_error_line(home: Home) -> None:  # noqa: F811
    assert_one_error_line(home.run("coalition", "create", "tenants", "--name", "Again"), "already taken")


def test_post_prints_the_new_post_url_and_queue_shows_nothing_to_deliver(home: Home) -> None:  # noqa: F811
    posted = home.run("post", "tenants", "--text", "Rent strike on *Thursday*")
    queue = home.run("queue")

    assert posted.returncode == 0, posted.stderr
    assert posted.stdout.startswith(f"{BASE_URL}/o/")
    assert len(posted.stdout.splitlines()) == 1
    assert (queue.returncode, queue.stdout) == (0, "no deliveries yet\n")  # nobody follows tenants yet


def test_queue_shows_the_mail_outbox_when_mail_is_on(home: Home) -> None:  # noqa: F811
    queue = home.run("queue", FEDIHUB_SMTP_URL="smtp://127.0.0.1:1025", FEDIHUB_MAIL_FROM="coalitions@example.org")

    assert queue.returncode == 0, queue.stderr
    assert queue.stdout == "mail: 0 pending (0 retrying), 0 sent, 0 failed\nno deliveries yet\n"


def test_block_and_unblock_a_domain(home: Home) -> None:  # noqa: F811
    blocked = home.run("block", "Spam.Example", "--reason", "spam")
    unblocked = home.run("unblock", "spam.example")

    assert (blocked.returncode, blocked.stdout) == (0, "blocked spam.example\n")
    assert (unblocked.returncode, unblocked.stdout) == (0, "unblocked spam.example\n")


def _row(home: Home, sql: str) -> tuple:  # type: ignore[type-arg]  # noqa: F811
    with contextlib.closing(sqlite3.connect(home.path / "data" / "fedihub.sqlite3")) as conn:
        return conn.execute(sql).fetchone()


def test_coalition_update_sets_region_movements_and_map_point_as_the_profile_form_does(
    home: Home,  # noqa: F811
) -> None:
    updated = home.run(
        "coalition", "update", "tenants", "--region-city", "Chicago", "--region-state", "Illinois",
        "--region-country", "US", "--movement", "tenants", "--movement", "rent control", "--latitude", "41.8781",
        "--longitude", "-87.6298",
    )
    again = home.run("coalition", "update", "tenants", "--region-city", "Chicago")
    half_a_point = home.run("coalition", "update", "tenants", "--latitude", "0", "--longitude", "")

    assert (updated.returncode, updated.stdout) == (0, "updated @tenants@coalitions.test\n"), updated.stderr
    assert again.stdout == "@tenants@coalitions.test already had this profile\n"
    assert_one_error_line(half_a_point, "give both latitude and longitude")
    row = _row(home, "SELECT a.name, p.region_city, p.region_state, p.region_country, p.movements, p.latitude, "
                     "p.longitude FROM actors a JOIN coalition_profiles p ON p.actor_id = a.id "
                     "WHERE a.local_username = 'tenants'")
    # A suggested movement takes its listed spelling; free tags become CamelCase hashtags, as in the form.
    assert row == ("Tenants Union", "Chicago", "Illinois", "US", '["Tenants", "RentControl"]', 41.8781, -87.6298)


def test_call_create_takes_a_region_and_a_map_point(home: Home) -> None:  # noqa: F811
    created = home.run(
        "call", "create", "tenants", "--title", "Rally", "--start", "2031-05-01T12:00", "--place", "Daley Plaza",
        "--region-city", "Chicago", "--region-state", "Illinois", "--latitude", "41.8837", "--longitude", "-87.6303",
    )

    assert created.returncode == 0, created.stderr
    row = _row(home, "SELECT region_city, region_state, latitude, longitude FROM objects WHERE type = 'Event'")
    assert row == ("Chicago", "Illinois", 41.8837, -87.6303)


def test_call_create_finds_the_place_and_its_zone_offline(home: Home) -> None:  # noqa: F811
    created = home.run(
        "call", "create", "tenants", "--title", "Rally", "--start", "2031-05-01T12:00", "--place", "Federal Plaza",
        "--address", "219 S Dearborn St, Chicago, IL 60604",
    )

    assert created.returncode == 0, created.stderr
    latitude, longitude, zone, start = _row(
        home, "SELECT latitude, longitude, timezone, start_time FROM objects WHERE type = 'Event'")
    assert round(latitude, 1) == 41.9 and round(longitude, 1) == -87.7 and zone == "America/Chicago"
    assert str(start).startswith("2031-05-01 17:00")  # noon in Chicago (CDT), stored in UTC


def test_call_create_asks_the_online_geocoder_for_a_street_address_like_the_form(
    home: Home, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    asked: list[httpx.URL] = []

    def geocoder(request: httpx.Request) -> httpx.Response:
        asked.append(request.url)
        return httpx.Response(200, json=[{"lat": "41.878540", "lon": "-87.629520", "display_name": "Federal Plaza"}])

    # The command's own HTTP client, with the geocoder's server faked behind it.
    monkeypatch.setattr(
        "fedihub.protocol.http.build_http_client",
        lambda **_: httpx.AsyncClient(transport=httpx.MockTransport(geocoder)),
    )
    created = home.run(
        "call", "create", "tenants", "--title", "Rally", "--start", "2031-05-01T12:00", "--place", "Federal Plaza",
        "--address", "219 S Dearborn St", "--region-city", "Chicago",
        FEDIHUB_GEOCODER_URL="https://geocoder.test/search",
    )

    assert created.returncode == 0, created.stderr
    assert [(url.host, url.params["q"]) for url in asked] == [("geocoder.test", "219 S Dearborn St, Chicago")]
    latitude, longitude, zone = _row(home, "SELECT latitude, longitude, timezone FROM objects WHERE type = 'Event'")
    assert (latitude, longitude, zone) == (41.87854, -87.62952, "America/Chicago")  # the street, not the city


def test_call_create_asks_before_publishing_a_past_date(home: Home) -> None:  # noqa: F811
    args = ("call", "create", "tenants", "--title", "Last spring's march", "--start", "2020-05-01T12:00",
            "--place", "Daley Plaza", "--region-city", "Chicago", "--region-state", "IL")
    assert_one_error_line(home.run(*args), "add --past to publish it anyway")
    assert _row(home, "SELECT count(*) FROM objects WHERE type = 'Event'") == (0,)
    assert home.run(*args, "--past").returncode == 0


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("target", "env", "expected"),
    [
        pytest.param("not a handle", {}, "not a handle", id="invalid handle"),
        pytest.param(
            f"someone@127.0.0.1:{_closed_port()}", {"FEDIHUB_ALLOW_PRIVATE_ADDRESSES": "1"}, "could not be reached",
            id="nobody listening",
        ),
    ],
)
def test_following_an_unreachable_or_invalid_target_is_one_error_line(
    home: Home, target: str, env: dict[str, str], expected: str  # noqa: F811
) -> None:
    assert_one_error_line(home.run("follow", "tenants", target, **env), expected)


# --- Settings.from_env ---------------------------------------------------------------------------


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    env = {"FEDIHUB_DATA_DIR": str(tmp_path / "data")}

    first = Settings.from_env(env)
    second = Settings.from_env(env)

    key_file = tmp_path / "data" / "secret_key"
    assert first.secret_key and first.secret_key == second.secret_key
    assert key_file.read_text().strip() == first.secret_key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.secret_key not in repr(first)
    assert first.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'fedihub.sqlite3'}"


def test_a_secret_key_from_the_environment_wins_and_no_file_is_written(tmp_path: Path) -> None:
    settings = Settings.from_env({"FEDIHUB_DATA_DIR": str(tmp_path / "data"), "FEDIHUB_SECRET_KEY": "s3cret"})
    assert settings.secret_key == "s3cret"
    assert not (tmp_path / "data" / "secret_key").exists()


@pytest.mark.parametrize(
    "base_url", ["coalitions.example", "ftp://coalitions.example", "https://coalitions.example/fedihub", "https://"]
)
def test_a_bad_base_url_is_a_configuration_error(tmp_path: Path, base_url: str) -> None:
    with pytest.raises(ConfigurationError, match="FEDIHUB_BASE_URL"):
        Settings.from_env({"FEDIHUB_DATA_DIR": str(tmp_path), "FEDIHUB_BASE_URL": base_url})


def test_hub_safeguard_settings_are_read_and_checked(tmp_path: Path) -> None:
    env = {"FEDIHUB_DATA_DIR": str(tmp_path), "FEDIHUB_SECRET_KEY": "s"}
    defaults = Settings.from_env(env)
    assert (defaults.hub_boosts_per_member_hour, defaults.hub_max_addressed_groups) == (4, 5)
    chosen = Settings.from_env(
        {**env, "FEDIHUB_HUB_BOOSTS_PER_MEMBER_HOUR": "10", "FEDIHUB_HUB_MAX_ADDRESSED_GROUPS": "2"}
    )
    assert (chosen.hub_boosts_per_member_hour, chosen.hub_max_addressed_groups) == (10, 2)
    with pytest.raises(ConfigurationError, match="FEDIHUB_HUB_BOOSTS_PER_MEMBER_HOUR"):
        Settings.from_env({**env, "FEDIHUB_HUB_BOOSTS_PER_MEMBER_HOUR": "-1"})
    with pytest.raises(ConfigurationError, match="FEDIHUB_HUB_MAX_ADDRESSED_GROUPS"):
        Settings.from_env({**env, "FEDIHUB_HUB_MAX_ADDRESSED_GROUPS": "many"})


def test_conversation_caps_are_read_and_checked(tmp_path: Path) -> None:
    env = {"FEDIHUB_DATA_DIR": str(tmp_path), "FEDIHUB_SECRET_KEY": "s"}
    defaults = Settings.from_env(env)
    assert (defaults.replies_per_actor_hour, defaults.member_announces_per_hour) == (5, 3)
    chosen = Settings.from_env(
        {**env, "FEDIHUB_REPLIES_PER_ACTOR_HOUR": "1", "FEDIHUB_MEMBER_ANNOUNCES_PER_HOUR": "0"}
    )
    assert (chosen.replies_per_actor_hour, chosen.member_announces_per_hour) == (1, 0)
    with pytest.raises(ConfigurationError, match="FEDIHUB_REPLIES_PER_ACTOR_HOUR"):
        Settings.from_env({**env, "FEDIHUB_REPLIES_PER_ACTOR_HOUR": "-2"})
