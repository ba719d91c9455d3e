"""`fedihub hub …`: create a hub, add and remove members, ask to join, approve, refuse and leave."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3

from fedihub.app import open_runtime
from fedihub.settings import Settings
from tests.integration.cli_helpers import Home, assert_one_error_line, home, migrated_template  # noqa: F401  (fixtures)


def _run_worker(home: Home) -> None:  # noqa: F811
    """What `fedihub worker` would do next, until nothing is left: it runs with a runtime of its own."""

    async def run() -> None:
        async with open_runtime(Settings.from_env(home.env)) as runtime:
            while await runtime.worker.run_once():
                pass

    asyncio.run(run())


def _rows(home: Home, sql: str, *params: str) -> list[tuple[object, ...]]:  # noqa: F811
    with contextlib.closing(sqlite3.connect(home.path / "data" / "fedihub.sqlite3")) as conn:
        return conn.execute(sql, params).fetchall()


def test_a_hub_is_created_and_asks_a_coalition_to_be_a_member(home: Home) -> None:  # noqa: F811
    created = home.run(
        "hub", "create", "state-hub", "--name", "Illinois Hub", "--scope", "state", "--region", "Illinois"
    )
    added = home.run("hub", "add-member", "state-hub", "tenants@coalitions.test")

    assert created.returncode == 0, created.stderr
    assert created.stdout == "created hub @state-hub@coalitions.test  http://coalitions.test/g/state-hub\n"
    assert added.returncode == 0, added.stderr
    assert added.stdout == "state-hub asked to follow tenants@coalitions.test (pending)\n"


def test_a_hub_needs_a_known_scope(home: Home) -> None:  # noqa: F811
    result = home.run("hub", "create", "state-hub", "--name", "Illinois Hub", "--scope", "galactic")
    assert result.returncode == 2
    assert "galactic" in result.stderr


def test_only_hubs_add_members(home: Home) -> None:  # noqa: F811
    result = home.run("hub", "add-member", "tenants", "someone@coalitions.test")
    assert result.returncode == 1
    assert result.stderr.strip() == "error: tenants is not a hub"


def test_a_coalition_asks_to_join_and_the_hub_approves(home: Home) -> None:  # noqa: F811
    home.run("hub", "create", "state-hub", "--name", "Illinois Hub", "--scope", "state")

    joined = home.run("hub", "join", "tenants", "state-hub@coalitions.test", "--message", "Renters of Springfield")
    listed = home.run("hub", "requests", "state-hub")
    approved = home.run("hub", "approve", "state-hub", "tenants@coalitions.test")
    members = home.run("hub", "members", "state-hub")
    waiting = home.run("hub", "requests", "state-hub")

    assert joined.returncode == 0, joined.stderr
    assert joined.stdout == "tenants asked to join state-hub@coalitions.test (waiting for the hub's admins)\n"
    assert listed.stdout.startswith("tenants@coalitions.test  Tenants Union  since ")
    assert listed.stdout.endswith("  “Renters of Springfield”\n")
    assert approved.stdout == "state-hub accepted tenants@coalitions.test and asked to follow it\n"
    # No worker runs between these commands: the hub's follow is still on its way.
    assert members.stdout == "tenants@coalitions.test  (asked, waiting for them to accept)\n"
    assert waiting.stdout == "no requests to join state-hub are waiting\n"


def test_a_refused_request_cannot_be_approved_and_a_coalition_leaves(home: Home) -> None:  # noqa: F811
    home.run("hub", "create", "state-hub", "--name", "Illinois Hub", "--scope", "state")
    home.run("hub", "join", "tenants", "http://coalitions.test/g/state-hub")

    refused = home.run("hub", "refuse", "state-hub", "tenants@coalitions.test")
    approve_again = home.run("hub", "approve", "state-hub", "tenants@coalitions.test")
    leave_again = home.run("hub", "leave", "tenants", "state-hub@coalitions.test")
    empty = home.run("hub", "members", "state-hub")

    assert refused.stdout == "state-hub refused tenants@coalitions.test\n"
    assert_one_error_line(approve_again, "tenants@coalitions.test has no pending request to join state-hub")
    assert_one_error_line(leave_again, "tenants is not a member of state-hub@coalitions.test")
    assert empty.stdout == "state-hub has no members yet\n"

    home.run("hub", "join", "tenants", "state-hub@coalitions.test")
    left = home.run("hub", "leave", "tenants", "state-hub@coalitions.test")
    assert left.returncode == 0 and left.stdout == "tenants left state-hub@coalitions.test\n"


def test_only_hubs_can_be_joined(home: Home) -> None:  # noqa: F811
    result = home.run("hub", "join", "tenants", "tenants@coalitions.test")
    assert_one_error_line(result, "a hub cannot join itself")
    home.run("coalition", "create", "climate", "--name", "Climate Action")
    result = home.run("hub", "join", "tenants", "climate@coalitions.test")
    assert_one_error_line(result, "climate@coalitions.test is not a hub")


def test_a_hub_pauses_only_its_members_and_lists_an_empty_review_list(home: Home) -> None:  # noqa: F811
    home.run("hub", "create", "state-hub", "--name", "Illinois Hub", "--scope", "state")

    paused = home.run("hub", "pause", "state-hub", "tenants@coalitions.test")
    resumed = home.run("hub", "resume", "state-hub", "tenants@coalitions.test")
    listed = home.run("hub", "review", "state-hub")
    decided = home.run("hub", "decide", "state-hub", "1", "boost")

    assert paused.returncode == 1
    assert paused.stderr.strip() == "error: tenants@coalitions.test is not a member of Illinois Hub"
    assert resumed.stdout == "tenants@coalitions.test was not paused\n"
    assert listed.stdout == "nothing waits in the review list of state-hub\n"
    assert decided.returncode == 1
    assert decided.stderr.strip() == "error: that post is not waiting in this hub's review list"


def test_a_post_from_the_command_is_boosted_by_the_hub_of_its_coalition_once_the_worker_runs(home: Home) -> None:  # noqa: F811
    # The command only stores the post and queues it for the hub's inbox on this same server; the
    # worker, in its own runtime, processes it and the hub's rules boost it.
    home.run("hub", "create", "state-hub", "--name", "Illinois Hub", "--scope", "state")
    home.run("hub", "join", "tenants", "state-hub@coalitions.test")
    home.run("hub", "approve", "state-hub", "tenants@coalitions.test")
    _run_worker(home)  # the hub's follow reaches tenants, which accepts it

    posted = home.run("post", "tenants", "--text", "Rent strike on *Thursday*")
    note = posted.stdout.strip()
    waiting = _rows(home, "SELECT activity_uri FROM inbox_items WHERE activity_uri = ?", f"{note}/activity")
    _run_worker(home)
    boosts = _rows(
        home, "SELECT activities.type FROM activities JOIN actors ON actors.id = activities.actor_id "
        "WHERE actors.username = 'state-hub' AND activities.object_uri = ?", note,
    )

    assert posted.returncode == 0, posted.stderr
    assert waiting == [(f"{note}/activity",)]
    assert boosts == [("Announce",)]
