"""`fedihub directory refresh` as an operator runs it from cron: one summary."""

from __future__ import annotations

from pathlib import Path

from tests.integration.cli_helpers import Home


def test_refresh_reports_what_it_read_and_refuses_a_bad_depth(tmp_path: Path) -> None:
    home = Home(tmp_path)
    assert home.run("migrate").returncode == 0

    result = home.run("directory", "refresh", "--delay", "0")
    bad = home.run("directory", "refresh", "--depth", "0")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("read 0 rosters (0 requests, 0 items): 0 new in the directory")
    assert bad.returncode == 2 and "--depth" in bad.stderr
