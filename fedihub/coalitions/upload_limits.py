"""How many images one account may upload, counted in this process's memory.

Decoding and resizing a photo costs a worker thread a fraction of a second and a kept upload a
row for a day, so an account (stolen, or a script) must not send them without end. As with logins
(accounts/ratelimit.py), each web process keeps its own counters: N processes give N times the
budget, which still bounds it.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from fedihub.errors import RateLimited
from fedihub.i18n.active import ngettext

PER_ACCOUNT = 30
WINDOW = timedelta(hours=1)
MAX_KEYS = 10_000


class UploadRateLimiter:
    """A sliding window of uploads per account; refuses the next one once the limit is reached."""

    def __init__(self, *, per_account: int = PER_ACCOUNT, window: timedelta = WINDOW) -> None:
        self.per_account = per_account
        self.window = window
        self._uploads: dict[int, deque[datetime]] = {}

    def check_and_record(self, account_id: int, now: datetime) -> None:
        times = self._uploads.get(account_id, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) >= self.per_account:
            wait = (times[0] + self.window - now).total_seconds()
            raise RateLimited(
                f"account {account_id} uploaded {len(times)} images in {self.window}",
                retry_after=max(1, int(wait)),
                public_message=ngettext(
                    "You have uploaded %(uploads)s images in the last hour: wait %(num)d minute and try again.",
                    "You have uploaded %(uploads)s images in the last hour: wait %(num)d minutes and try again.",
                    max(1, int(wait // 60)), uploads=self.per_account,
                ),
            )
        if account_id not in self._uploads and len(self._uploads) >= MAX_KEYS:
            # Full: forget the account whose last upload is oldest rather than grow without bound.
            del self._uploads[min(self._uploads, key=lambda k: self._uploads[k][-1] if self._uploads[k] else now)]
        times.append(now)
        self._uploads[account_id] = times
