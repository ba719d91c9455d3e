"""Where the captured interop payloads live (tests/fixtures/, inside the repository), and loading them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

FIXTURES_DIR = Path(__file__).resolve().parents[1] / "fixtures"


def fixtures_dir() -> Path:
    """tests/fixtures, or FEDIHUB_FIXTURES_DIR to try another capture set; fails when it is not one."""
    path = Path(os.environ.get("FEDIHUB_FIXTURES_DIR") or FIXTURES_DIR)
    if not (path / "SOURCES.md").is_file():
        raise FileNotFoundError(f"{path} holds no captured payloads (SOURCES.md is missing)")
    return path


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((fixtures_dir() / name).read_text(encoding="utf-8"))
