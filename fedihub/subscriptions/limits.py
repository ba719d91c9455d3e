"""How often one client and one address may ask for subscription mail, counted in this process's memory.

Per client address: a script cannot sign up a list of victims (RateLimited, a clear 429). Per e-mail
address: nobody's mailbox can be flooded with confirmation requests from many clients; over that
limit the request is answered exactly as any other and simply mails nothing, so the answer never
tells whether the address was there. As with logins (accounts/ratelimit.py), each web process keeps
its own counters: N processes give N times the budget, which still bounds a flood.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from fedihub.errors import RateLimited
from fedihub.i18n.active import gettext

MAX_KEYS = 50_000


@dataclass(frozen=True)
class SubscribeLimits:
    per_client: int = 10  # subscription requests from one client address…
    client_window: timedelta = timedelta(hours=1)
    per_address: int = 3  # …and confirmation mails to one e-mail address
    address_window: timedelta = timedelta(days=1)
    # Wrong confirmation or unsubscribe links from one client: tokens cannot be guessed, but trying costs.
    failures_per_client: int = 30


class SubscribeRateLimiter:
    """Sliding windows per client and per (hashed) e-mail address."""

    def __init__(self, limits: SubscribeLimits = SubscribeLimits()) -> None:
        self.limits = limits
        self._events: dict[str, deque[datetime]] = {}

    def _recent(self, key: str, window: timedelta, now: datetime) -> deque[datetime]:
        times = self._events.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - window:
            times.popleft()
        if not times:
            del self._events[key]
        return times

    def _add(self, key: str, now: datetime) -> None:
        if len(self._events) >= MAX_KEYS:
            # Full of fresh keys: forget the oldest half rather than grow without bound.
            for old in sorted(self._events, key=lambda k: self._events[k][-1])[: MAX_KEYS // 2]:
                del self._events[old]
        self._events.setdefault(key, deque()).append(now)

    def _refuse(self, key: str, limit: int, window: timedelta, now: datetime) -> None:
        times = self._recent(key, window, now)
        if len(times) >= limit:
            wait = (times[0] + window - now).total_seconds()
            raise RateLimited(
                f"client {key} over its subscription limit", retry_after=wait,
                public_message=gettext("Too many subscription requests from your network: try again in an hour."),
            )

    def check_client(self, client: str, now: datetime) -> None:
        """RateLimited when this client asked too often or tried too many wrong links; else counts one."""
        limits = self.limits
        self._refuse(f"fail:{client}", limits.failures_per_client, limits.client_window, now)
        self._refuse(f"client:{client}", limits.per_client, limits.client_window, now)
        self._add(f"client:{client}", now)

    def check_links(self, client: str, now: datetime) -> None:
        self._refuse(f"fail:{client}", self.limits.failures_per_client, self.limits.client_window, now)

    def record_failure(self, client: str, now: datetime) -> None:
        self._add(f"fail:{client}", now)

    def may_mail(self, address: str, now: datetime) -> bool:
        """Whether another confirmation may go to ``address``; counts it when it may."""
        # Hashed: the limiter's memory holds no addresses.
        key = "address:" + hashlib.sha256(address.encode()).hexdigest()
        if len(self._recent(key, self.limits.address_window, now)) >= self.limits.per_address:
            return False
        self._add(key, now)
        return True
