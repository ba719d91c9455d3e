"""`fedihub hub …`: create a hub, add and remove members from the command line."""

from __future__ import annotations

from tests.integration.test_cli import Home, home, migrated_template  # noqa: F401  (fixtures)


def test_a_hub_is_created_and_asks_a_coalition_to_be_a_member(home: Home) -> None:  # noqa: F811
    created = home.run("hub", "create", "state-hub", "--name", "Illinois Hub", "--scope", "state", "--region", "Illinois")
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
