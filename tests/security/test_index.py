"""The attack-class index in this package's docstring names only tests that exist, so it cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

import tests.security

TESTS = Path(__file__).resolve().parent.parent
# "integration/test_inbox.py::test_x" starts a file; a cell that starts "::test_y" names another test in it.
NAMED = re.compile(r"(?:(?P<path>[\w/]+\.py))?::(?P<name>test_\w+)")


def named_tests() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    path = ""
    for line in (tests.security.__doc__ or "").splitlines():
        for match in NAMED.finditer(line):
            path = match["path"] or path
            found.append((path, match["name"]))
    return found


def test_every_class_of_the_landscape_has_a_row() -> None:
    rows = {int(m) for m in re.findall(r"^\| (\d+) +\|", tests.security.__doc__ or "", re.M)}
    assert rows == set(range(1, 17))


def test_every_test_the_index_names_exists() -> None:
    named = named_tests()
    assert len(named) > 40
    missing = [
        f"{path}::{name}" for path, name in named
        if not (TESTS / path).is_file() or not re.search(rf"def {name}\(", (TESTS / path).read_text())
    ]
    assert missing == []
