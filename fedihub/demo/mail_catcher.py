"""The demo's mailbox: a local SMTP server (aiosmtpd) that keeps every message it receives as an .eml file."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
PORT = 8025  # used when free, else any free port: the printed address is always the right one


class EmlWriter:
    """aiosmtpd handler: each accepted message becomes ``NNNN.eml``, numbered in arrival order."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        # A kept demo (--keep) adds to the messages of the last run instead of overwriting them.
        self._numbers = itertools.count(len(list(directory.glob("*.eml"))) + 1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self._lock:
            number = next(self._numbers)
        content = envelope.original_content or envelope.content
        data = content if isinstance(content, bytes) else str(content).encode()
        (self.directory / f"{number:04d}.eml").write_bytes(data)
        return "250 Message accepted for delivery"


class MailCatcher:
    """Runs in a thread of the demo process for as long as the demo runs; nothing leaves the machine."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """What the demo servers get as FEDIHUB_SMTP_URL: plain SMTP, no credentials, loopback only."""
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(EmlWriter(self.directory), hostname=HOST, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def count(self) -> int:
        return len(list(self.directory.glob("*.eml")))
