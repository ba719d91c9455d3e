"""Inbox intake limits: requests and bytes per window, per remote host and per actor (429 + Retry-After)."""

from __future__ import annotations

from dataclasses import dataclass

from fedihub.errors import RateLimited
from fedihub.federation.rate_buckets import Rate, TokenBuckets

WINDOW_SECONDS = 60.0
# Generous: a busy Mastodon server delivering to us from many accounts at once stays well below.
HOST_REQUESTS = 1200
HOST_BYTES = 20_000_000
ACTOR_REQUESTS = 300
ACTOR_BYTES = 5_000_000


@dataclass(frozen=True)
class IntakeRates:
    """What one remote host, and one actor, may send to our inboxes per window."""

    window: float = WINDOW_SECONDS
    host_requests: int = HOST_REQUESTS
    host_bytes: int = HOST_BYTES
    actor_requests: int = ACTOR_REQUESTS
    actor_bytes: int = ACTOR_BYTES


class IntakeLimits:
    """Admits an inbox POST or refuses it with RateLimited; one per process, built in app.py.

    Checked by the claimed actor and its host before the signature is verified, so a flood costs
    neither a key fetch nor a database write. A refused request spends nothing.
    """

    def __init__(self, rates: IntakeRates | None = None) -> None:
        rates = rates or IntakeRates()
        self.rates = rates
        self._buckets = (
            ("host", "requests", TokenBuckets(Rate(rates.host_requests, rates.window))),
            ("host", "bytes", TokenBuckets(Rate(rates.host_bytes, rates.window))),
            ("actor", "requests", TokenBuckets(Rate(rates.actor_requests, rates.window))),
            ("actor", "bytes", TokenBuckets(Rate(rates.actor_bytes, rates.window))),
        )

    def admit(self, *, host: str, actor: str, size: int, now: float) -> None:
        """Spend one request and ``size`` bytes from the host's and the actor's budgets, or raise."""
        keys = {"host": host, "actor": actor}
        costs = {"requests": 1, "bytes": size}
        waits = [
            (buckets.shortfall(keys[who], costs[what], now), who, what) for who, what, buckets in self._buckets
        ]
        wait, who, what = max(waits)
        if wait > 0:
            raise RateLimited(
                f"inbox {what} limit of {who} {keys[who]} reached",
                retry_after=wait,
                public_message=f"too many activities from your {'server' if who == 'host' else 'actor'}; "
                "retry after the time in Retry-After",
            )
        for who, what, buckets in self._buckets:
            buckets.spend(keys[who], costs[what], now)
