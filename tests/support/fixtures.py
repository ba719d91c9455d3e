"""Where the captured interop payloads live (shared/ beside the checkout), and loading them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def find_fixtures_dir() -> Path | None:
    """FEDIHUB_FIXTURES_DIR, else shared/interop-fixtures beside the checkout; None when absent."""
    candidates = []
    if os.environ.get("FEDIHUB_FIXTURES_DIR"):
        candidates.append(Path(os.environ["FEDIHUB_FIXTURES_DIR"]))
    candidates.append(Path(__file__).resolve().parents[3] / "shared" / "interop-fixtures")
    return next((path for path in candidates if (path / "SOURCES.md").is_file()), None)


def fixtures_dir() -> Path:
    """The fixtures directory; skips the test visibly when missing, and fails in CI."""
    path = find_fixtures_dir()
    if path is None:
        message = "shared/interop-fixtures not found beside the checkout (set FEDIHUB_FIXTURES_DIR)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))
