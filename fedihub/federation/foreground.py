"""People first: the page requests this process is answering, which its own queue worker makes room for.

`fedihub serve` runs the queue worker on the event loop that answers pages. While it delivers a
fan-out or processes an inbound storm, that loop is busy with dozens of sends or items at once,
and a page waits behind all of them at each of its awaits (bench/call_page.py measures the call page
during a 1,000-inbox fan-out). So while a person's request is
being answered, the worker starts only a few new sends or items; those in flight finish as they
would, and the full width comes back the moment the pages are done. A worker in a process of its
own (`fedihub worker`) never sees a page here, so it always runs at full width.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

# What the worker keeps going while people wait: never nothing, so a steady stream of visitors
# slows the queue down but cannot stop it.
DELIVERIES_BESIDE_PAGES = 2
INBOX_ITEMS_BESIDE_PAGES = 1


class Foreground:
    """How many people's requests are being answered; ``quiet`` is set while there are none."""

    def __init__(self) -> None:
        self._serving = 0
        self.quiet = asyncio.Event()
        self.quiet.set()

    @property
    def busy(self) -> bool:
        return self._serving > 0

    @contextlib.contextmanager
    def serving(self) -> Iterator[None]:
        """Held for the whole of one request, response included."""
        self._serving += 1
        self.quiet.clear()
        try:
            yield
        finally:
            self._serving -= 1
            if self._serving == 0:
                self.quiet.set()

    def width(self, full: int, beside_pages: int) -> int:
        """How many sends or items may be in progress now: ``full``, or fewer while pages are answered."""
        return min(full, beside_pages) if self.busy else full
