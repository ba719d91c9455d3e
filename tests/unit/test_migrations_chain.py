"""The migrations form one numbered chain, so the newest file name names the head without Alembic."""

from __future__ import annotations

import re

from alembic.script import ScriptDirectory

from fedihub.storage.migrate import alembic_config, newest_revision


def test_the_newest_file_is_alembics_only_head() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [newest_revision()]


def test_each_revision_is_named_by_its_file_and_follows_the_one_before() -> None:
    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        number = int(script.revision)
        assert script.path and re.match(rf"{script.revision}_\w+\.py$", script.path.rsplit("/", 1)[1]), script.path
        expected = None if number == 1 else f"{number - 1:04d}"
        assert script.down_revision == expected, f"{script.path} should come down from {expected}"
