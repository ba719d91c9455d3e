"""Key fetches for signature checks: a limit per remote host, and failures remembered for a while."""

from __future__ import annotations

from dataclasses import dataclass, field

from fedihub.errors import RateLimited
from fedihub.federation.rate_buckets import Rate, TokenBuckets

PER_HOST = 60
WINDOW_SECONDS = 60.0
REMEMBER_SECONDS = 300.0
MAX_REMEMBERED = 50_000


@dataclass(frozen=True)
class KeyFetchRates:
    """How many key fetches one remote host may cause per window, and how long a failure is kept."""

    per_host: int = PER_HOST
    window: float = WINDOW_SECONDS
    remember: float = REMEMBER_SECONDS


@dataclass
class _Expiring:
    """Names remembered until a time; bounded, forgetting the oldest when full."""

    limit: int = MAX_REMEMBERED
    until: dict[str, float] = field(default_factory=dict)

    def holds(self, name: str, now: float) -> bool:
        expires = self.until.get(name)
        if expires is None:
            return False
        if expires <= now:
            del self.until[name]
            return False
        return True

    def add(self, name: str, expires: float, now: float) -> None:
        if name not in self.until and len(self.until) >= self.limit:
            for key in [k for k, t in self.until.items() if t <= now]:
                del self.until[key]
            while len(self.until) >= self.limit:
                del self.until[next(iter(self.until))]  # dicts keep insertion order: the oldest
        self.until.pop(name, None)
        self.until[name] = expires


class KeyFetchGuard:
    """What the key lookup asks before it fetches; one per process, built in app.py.

    Without it, every POST with a new ``keyId`` made one fetch (or two): 200 forged requests were
    200 signed GETs, reflected at whatever server the ``keyId`` named.
    """

    def __init__(self, rates: KeyFetchRates | None = None) -> None:
        self.rates = rates or KeyFetchRates()
        self._per_host = TokenBuckets(Rate(self.rates.per_host, self.rates.window))
        self._failed_urls = _Expiring()
        self._failed_keys = _Expiring()
        self._refreshed_keys = _Expiring()

    def admit(self, host: str, now: float) -> None:
        """Spend one fetch of ``host``'s budget, or raise RateLimited without fetching."""
        wait = self._per_host.shortfall(host, 1, now)
        if wait > 0:
            raise RateLimited(
                f"key fetch limit for {host} reached",
                retry_after=wait,
                public_message="too many unknown signing keys from your server; retry after the time in Retry-After",
            )
        self._per_host.spend(host, 1, now)

    def url_failed(self, url: str, now: float) -> bool:
        return self._failed_urls.holds(url, now)

    def remember_failed_url(self, url: str, now: float) -> None:
        self._failed_urls.add(url, now + self.rates.remember, now)

    def key_failed(self, key_id: str, now: float) -> bool:
        return self._failed_keys.holds(key_id, now)

    def remember_failed_key(self, key_id: str, now: float) -> None:
        self._failed_keys.add(key_id, now + self.rates.remember, now)

    def refreshed_recently(self, key_id: str, now: float) -> bool:
        """A key that did not verify is fetched again (blind rotation) at most once per period."""
        return self._refreshed_keys.holds(key_id, now)

    def remember_refresh(self, key_id: str, now: float) -> None:
        self._refreshed_keys.add(key_id, now + self.rates.remember, now)
