"""Token buckets keyed by a remote host or actor: the arithmetic behind the inbox and key-fetch limits."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

# Bounds memory when a flood comes from many names; idle buckets are full again and forgettable.
MAX_KEYS = 50_000


@dataclass(frozen=True)
class Rate:
    """``amount`` units per ``window`` seconds, refilled evenly; a full bucket allows a burst of ``amount``."""

    amount: float
    window: float

    @property
    def per_second(self) -> float:
        return self.amount / self.window


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class TokenBuckets:
    """One bucket per key; ``shortfall`` asks, ``spend`` takes. Times are seconds on any steady clock."""

    rate: Rate
    max_keys: int = MAX_KEYS
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def shortfall(self, key: str, cost: float, now: float) -> float:
        """Seconds until ``cost`` units are available under ``key`` (0.0: available now)."""
        tokens = self._tokens(key, now)
        if tokens >= cost:
            return 0.0
        if cost > self.rate.amount:
            return math.inf  # more than a full bucket: never
        return (cost - tokens) / self.rate.per_second

    def spend(self, key: str, cost: float, now: float) -> None:
        tokens = self._tokens(key, now)
        if key not in self._buckets and len(self._buckets) >= self.max_keys:
            self._forget_idle(now)
        self._buckets[key] = _Bucket(tokens=tokens - cost, updated=now)

    def __len__(self) -> int:
        """How many keys are remembered (a full, idle bucket may be forgotten at any time)."""
        return len(self._buckets)

    def _tokens(self, key: str, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return self.rate.amount
        elapsed = max(0.0, now - bucket.updated)
        return min(self.rate.amount, bucket.tokens + elapsed * self.rate.per_second)

    def _forget_idle(self, now: float) -> None:
        for key in [k for k in self._buckets if self._tokens(k, now) >= self.rate.amount]:
            del self._buckets[key]
        if len(self._buckets) >= self.max_keys:
            # Still full of busy keys: forget the least recently used half (they restart full).
            for key in sorted(self._buckets, key=lambda k: self._buckets[k].updated)[: self.max_keys // 2]:
                del self._buckets[key]
