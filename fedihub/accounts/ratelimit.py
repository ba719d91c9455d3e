"""In-process login throttling per client address, and per username from each address.

A username is never locked for everyone: five wrong passwords from anyone used to lock the owner out
for 15 minutes, so an attacker anywhere could keep an organizer out of their own account. Failures
are counted per (username, address) and per address instead; the owner, logging in from their own
address, is not slowed down by guesses from elsewhere. The cost: guesses from many addresses each get
their own budget, which argon2 and the 10-character minimum make expensive.

Each web process keeps its own counters in memory: with N processes behind a load balancer an
attacker gets up to N times the budget, and a restart forgets the counters. That is acceptable
for slowing down password guessing; argon2 makes each guess expensive anyway.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from fedihub.errors import TooManyAttempts
from fedihub.i18n.active import ngettext

# Failures for one username from one address.
PER_USERNAME = 5
# Higher than per username: a whole meeting may share one address behind a NAT.
PER_ADDRESS = 20
WINDOW = timedelta(minutes=15)
# Bounds memory when someone sprays random usernames from many addresses.
MAX_KEYS = 50_000


class LoginRateLimiter:
    """Counts failed logins in a sliding window; refuses further tries once a limit is reached."""

    def __init__(
        self, *, per_username: int = PER_USERNAME, per_address: int = PER_ADDRESS, window: timedelta = WINDOW
    ) -> None:
        self.per_username = per_username
        self.per_address = per_address
        self.window = window
        self._failures: dict[str, deque[datetime]] = {}

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def check(self, address: str, username: str, now: datetime) -> None:
        """Raise TooManyAttempts when the address, or the username from this address, is over its limit."""
        if len(self._recent(f"ip:{address}", now)) >= self.per_address or (
            username and len(self._recent(_user_key(username, address), now)) >= self.per_username
        ):
            minutes = int(self.window.total_seconds() // 60)
            raise TooManyAttempts(
                ngettext("too many failed logins: wait %(num)d minute and try again, "
                         "or ask an admin of this server for help",
                         "too many failed logins: wait %(num)d minutes and try again, "
                         "or ask an admin of this server for help", minutes)
            )

    def record_failure(self, address: str, username: str, now: datetime) -> None:
        if len(self._failures) >= MAX_KEYS:
            self._prune(now)
        for key in (f"ip:{address}", _user_key(username, address) if username else ""):
            if key:
                self._failures.setdefault(key, deque()).append(now)

    def record_success(self, address: str, username: str) -> None:
        self._failures.pop(_user_key(username, address), None)

    def _prune(self, now: datetime) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        if len(self._failures) >= MAX_KEYS:
            # Still full of fresh entries: forget the oldest half rather than grow without bound.
            for key in sorted(self._failures, key=lambda k: self._failures[k][-1])[: MAX_KEYS // 2]:
                del self._failures[key]


def _user_key(username: str, address: str) -> str:
    return f"user:{username}@{address}"
