"""`fedihub lookup` and `fedihub import` as an operator runs them; remote servers are unreachable from here."""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli_helpers import Home, assert_one_error_line, home, migrated_template  # noqa: F401  (fixtures)

LIST = (
    "\ufeffaddress;movement;region;note\n"
    "tenants@coalitions.test;Tenants;Chicago;our own\n"
    "someone@remote.test;;;\n"
    "not a handle;;;\n"
    ";;;no address\n"
    "TENANTS@coalitions.test;;;\n"
)


def write(home: Home, name: str, text: str | bytes) -> Path:  # noqa: F811
    path = home.path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_lookup_prints_what_a_local_coalition_is_one_fact_a_line(home: Home) -> None:  # noqa: F811
    result = home.run("lookup", "@tenants@coalitions.test")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "what: a coalition (a group)", "name: Tenants Union", "handle: @tenants@coalitions.test",
        "profile: http://coalitions.test/g/tenants", "server: fedihub 0.1.0",
    ]
    assert lines[-1].startswith("known here: yes, hosted on this server since ")


def test_a_failed_lookup_is_one_error_line(home: Home) -> None:  # noqa: F811
    assert_one_error_line(home.run("lookup", "someone@remote.test"), "remote.test could not be reached")
    assert_one_error_line(home.run("lookup", "nobody@coalitions.test"), "no coalition called 'nobody'")
    assert_one_error_line(home.run("lookup", "http://10.0.0.7/users/x"), "10.0.0.7 is in a private network")
    assert_one_error_line(home.run("lookup", "not a handle"), "neither a handle like name@example.org")


def test_import_shows_progress_on_stderr_and_a_summary_on_stdout(home: Home) -> None:  # noqa: F811
    result = home.run("import", str(write(home, "list.csv", LIST)))

    assert result.returncode == 0, result.stderr
    progress = result.stderr.splitlines()
    assert len(progress) == 5 and all(line.startswith(f"[{n}/5] ") for n, line in enumerate(progress, 1))
    assert "[1/5] refused not a handle — 'not a handle' is neither a handle" in result.stderr
    assert any(
        line.endswith("already known tenants@coalitions.test — this server already knew it (hosted on this server)")
        for line in progress
    )
    assert result.stdout.splitlines()[:6] == [
        "outcome         rows", "found              0", "already known      1", "not found          1",
        "refused            3", "total              5",
    ]
    table = result.stdout.split("\n\n", 1)[1].splitlines()
    assert table[0].split() == ["line", "outcome", "address", "reason"]
    assert [line.split()[0] for line in table[1:]] == ["2", "3", "4", "5", "6"]
    assert "remote.test could not be reached; try again later" in table[2]
    assert table[5].endswith("the same address as line 2")


def test_a_dry_run_says_nothing_was_saved(home: Home) -> None:  # noqa: F811
    result = home.run("import", "--dry-run", str(write(home, "list.csv", "address\ntenants@coalitions.test\n")))

    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("\ndry run: nothing was saved\n")


def test_files_that_cannot_be_imported_are_one_error_line(home: Home) -> None:  # noqa: F811
    assert_one_error_line(home.run("import", "missing.csv"), "cannot read missing.csv")
    big = write(home, "big.csv", b"address\n" + b"x@y.example\n" * 100_000)
    assert_one_error_line(home.run("import", str(big)), "the file is larger than 1 MB")
    headless = write(home, "headless.csv", "tenants@coalitions.test\n")
    assert_one_error_line(home.run("import", str(headless)), "one of them address")
