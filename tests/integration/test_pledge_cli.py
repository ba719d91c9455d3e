"""`fedihub pledge`, `withdraw-pledge`, `report-back` and `rollup` from the command line."""

from __future__ import annotations

import asyncio

from fedihub.app import open_runtime
from fedihub.settings import Settings
from tests.integration.cli_helpers import Home, assert_one_error_line, home, migrated_template  # noqa: F401  (fixtures)


def _process_inbox(home: Home) -> None:  # noqa: F811
    """What `fedihub worker` would do next: handle the Join (the call is on this same server)."""

    async def run() -> None:
        async with open_runtime(Settings.from_env(home.env)) as runtime:
            while await runtime.worker.run_once():
                pass

    asyncio.run(run())


def _call(home: Home) -> str:  # noqa: F811
    created = home.run("call", "create", "tenants", "--title", "Day of action", "--start", "2030-05-01T12:00",
                       "--end", "2030-05-01T15:00", "--timezone", "America/Chicago", "--place", "Daley Plaza")
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def test_a_coalition_pledges_with_a_local_action_and_the_rollup_shows_it(home: Home) -> None:  # noqa: F811
    home.run("coalition", "create", "renters", "--name", "Springfield Renters")
    call = _call(home)

    pledged = home.run("pledge", "renters", call, "--message", "Forty of us", "--local-title", "Springfield rally",
                       "--local-start", "2030-05-01T13:00", "--local-place", "State Capitol")
    _process_inbox(home)
    rollup = home.run("rollup", call)

    assert pledged.returncode == 0, pledged.stderr
    assert pledged.stdout.startswith("renters pledged to " + call + " with the local action http://coalitions.test/o/")
    assert rollup.returncode == 0, rollup.stderr
    lines = rollup.stdout.splitlines()
    assert lines[0] == "Day of action: 1 coalition(s) pledged, 1 local action(s)"
    assert "  action    Springfield rally (2030-05-01T18:00:00+00:00, State Capitol) by Springfield Renters" in lines


def test_a_half_given_local_action_is_refused_before_anything_is_sent(home: Home) -> None:  # noqa: F811
    home.run("coalition", "create", "renters", "--name", "Springfield Renters")
    call = _call(home)

    result = home.run("pledge", "renters", call, "--local-title", "Springfield rally")

    assert_one_error_line(result, "a local action needs --local-title, --local-start and --local-place together")
    assert home.run("rollup", call).stdout.startswith("Day of action: 0 coalition(s) pledged")


def test_pledging_twice_withdrawing_and_reporting_explain_themselves(home: Home) -> None:  # noqa: F811
    home.run("coalition", "create", "renters", "--name", "Springfield Renters")
    call = _call(home)
    home.run("pledge", "renters", call)

    again = home.run("pledge", "renters", call)
    too_early = home.run("report-back", "renters", call, "--happened")
    _process_inbox(home)
    withdrawn = home.run("withdraw-pledge", "renters", call)
    nothing_left = home.run("withdraw-pledge", "renters", call)
    own_call = home.run("pledge", "tenants", call)
    unknown = home.run("pledge", "renters", "http://coalitions.test/o/nothing-here")

    assert_one_error_line(again, "renters has already pledged to this call (pending)")
    assert_one_error_line(too_early, "the call's organizers have not accepted this pledge yet")
    assert withdrawn.stdout == f"renters withdrew its pledge to {call}\n"
    assert_one_error_line(nothing_left, "renters has no pledge to this call")
    assert_one_error_line(own_call, "a coalition does not pledge to its own call")
    assert_one_error_line(unknown, "there is no call to action at that link on this server")


def test_a_local_action_takes_the_full_shape_of_a_call_from_the_command_line(home: Home) -> None:  # noqa: F811
    home.run("coalition", "create", "renters", "--name", "Springfield Renters")
    call = _call(home)

    pledged = home.run(
        "pledge", "renters", call, "--local-title", "Springfield rally", "--local-start", "2030-05-01T13:00",
        "--local-end", "2030-05-01T14:30", "--local-place", "State Capitol", "--local-address", "2 E Capitol Ave",
        "--local-latitude", "39.798", "--local-longitude", "-89.654", "--local-online", "https://stream.example/x",
        "--local-description", "Bring signs.",
    )
    _process_inbox(home)

    assert pledged.returncode == 0, pledged.stderr
    page = home.run("rollup", call)
    assert "  action    Springfield rally (2030-05-01T18:00:00+00:00, State Capitol) by Springfield Renters" in (
        page.stdout.splitlines()
    )

    async def stored() -> tuple[object, ...]:
        from sqlalchemy import select

        from fedihub.storage.models import Pledge

        async with open_runtime(Settings.from_env(home.env)) as runtime, runtime.ctx.sessions() as session:
            row = await session.scalar(select(Pledge))
            assert row is not None
            return (row.action_end.isoformat() if row.action_end else None, row.action_address, row.action_latitude,
                    row.action_longitude, row.action_online_url, row.action_description)

    assert asyncio.run(stored()) == (
        "2030-05-01T19:30:00+00:00", "2 E Capitol Ave", 39.798, -89.654, "https://stream.example/x", "Bring signs."
    )


def test_a_bad_coordinate_or_link_names_its_option(home: Home) -> None:  # noqa: F811
    home.run("coalition", "create", "renters", "--name", "Springfield Renters")
    call = _call(home)
    action = ("--local-title", "Rally", "--local-start", "2030-05-01T13:00", "--local-place", "Park")

    north = home.run("pledge", "renters", call, *action, "--local-latitude", "100", "--local-longitude", "1")
    link = home.run("pledge", "renters", call, *action, "--local-online", "javascript:alert(1)")

    assert_one_error_line(north, "--local-latitude: latitude is a number from -90 to 90")
    assert_one_error_line(link, "--local-online: the online link must be a web address starting with https://")
    assert home.run("rollup", call).stdout.startswith("Day of action: 0 coalition(s) pledged")
