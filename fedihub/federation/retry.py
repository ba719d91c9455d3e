"""Retry policy as pure functions: outcome classification of deliveries and inbound processing, backoff,
give-up, breaker."""

from __future__ import annotations

import enum
import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import sqlalchemy.exc

from fedihub.errors import FedihubError, ForbiddenAddress, InvalidInput, RemoteUnavailable


class Outcome(enum.Enum):
    """What to do with a delivery after one attempt."""

    DELIVERED = "delivered"
    RETRY = "retry"
    PERMANENT = "permanent"


# Mastodon retries these 4xx: auth can heal (key refetch, P16), timeouts and rate limits pass.
_RETRYABLE_4XX = frozenset({401, 408, 429})

# First attempt plus 16 retries, like Mastodon's DeliveryWorker (spec §1.10, §0 item 19).
MAX_ATTEMPTS = 17
MAX_AGE = timedelta(days=3)
MAX_RETRY_AFTER = timedelta(hours=6)

BREAKER_THRESHOLD = 5
BREAKER_BASE = timedelta(minutes=1)
BREAKER_MAX = timedelta(hours=6)


def classify_status(status: int) -> Outcome:
    """Mastodon's rule: any 2xx delivered; 501 and 4xx but 401/408/429 dropped; else retried."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 501:
        return Outcome.PERMANENT  # "not implemented" will not become implemented in 3 days
    if 400 <= status < 500 and status not in _RETRYABLE_4XX:
        return Outcome.PERMANENT  # includes 404 and 410; the caller may act on 410 (§1.10)
    # 5xx, 401/408/429, and the odd 1xx/3xx (we never follow redirects when delivering) are
    # retried, as Mastodon does for anything not successful and not "unsalvageable".
    return Outcome.RETRY


def classify_exception(exc: BaseException) -> Outcome:
    """Whether a failure to get any answer at all is worth retrying."""
    # Order matters: UnsupportedProtocol and LocalProtocolError are TransportErrors, and
    # ForbiddenAddress is a RemoteError, but none of them will change by waiting.
    if isinstance(
        exc,
        (
            ForbiddenAddress,
            InvalidInput,
            httpx.UnsupportedProtocol,
            httpx.LocalProtocolError,
            httpx.InvalidURL,
            httpx.TooManyRedirects,
        ),
    ):
        return Outcome.PERMANENT
    if isinstance(exc, (httpx.TimeoutException, httpx.TransportError, RemoteUnavailable)):
        return Outcome.RETRY
    # Unknown failures are retried: the attempt budget bounds the cost, a dropped activity is
    # lost for good.
    return Outcome.RETRY


# Raised by our own code on the payload's shape or by the database on its values: the same item fails
# the same way on every retry (an object-valued `type` was retried five times).
_DETERMINISTIC = (
    UnicodeError, RecursionError, TypeError, ValueError, KeyError, IndexError, AttributeError,
    sqlalchemy.exc.DataError,
)


def classify_processing_failure(exc: BaseException) -> Outcome:
    """Whether an inbound item whose processing raised ``exc`` may succeed later.

    RETRY for an origin that did not answer and for database trouble that passes (a lock, a lost
    connection, a race on a unique row); PERMANENT for the rest of the error tree (the peer sent
    something we refuse) and for errors that depend only on the payload. An unexpected exception is
    still a bug and is logged with its traceback, once.
    """
    if isinstance(exc, RemoteUnavailable):
        return Outcome.RETRY
    if isinstance(exc, FedihubError) or isinstance(exc, _DETERMINISTIC):
        return Outcome.PERMANENT
    return Outcome.RETRY


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), within [0, 6 h]."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        seconds = float(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)  # HTTP-dates are always GMT
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER.total_seconds())


def retry_delay(attempt: int, *, rng: random.Random, retry_after: float | None = None) -> float:
    """Seconds to wait after the ``attempt``-th failed attempt (1-based).

    Mastodon's Sidekiq schedule: n⁴ + 15 s plus 0–50 % of n⁴ as jitter (n = attempt - 1), about
    2–3 days over all retries; the jitter spreads retries so a recovering server is not hit by
    every sender at once. A peer's Retry-After is a floor, never a way to retry sooner.
    """
    if attempt < 1:
        raise ValueError("attempt counts failed attempts and starts at 1")
    n = attempt - 1
    base = n**4
    delay = base + 15 + rng.uniform(0.0, 0.5 * base)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return float(delay)


def should_give_up(attempts: int, first_attempt_at: datetime, now: datetime) -> bool:
    """True after MAX_ATTEMPTS attempts or once the delivery is older than MAX_AGE."""
    return attempts >= MAX_ATTEMPTS or now - first_attempt_at >= MAX_AGE


def breaker_open_for(consecutive_failures: int) -> timedelta:
    """How long to skip a domain: nothing below the threshold, then 1 min doubling to 6 h."""
    if consecutive_failures < BREAKER_THRESHOLD:
        return timedelta(0)
    doublings = consecutive_failures - BREAKER_THRESHOLD
    # Cap the exponent before computing so a long outage cannot overflow timedelta.
    if doublings >= 20:
        return BREAKER_MAX
    return min(BREAKER_BASE * 2**doublings, BREAKER_MAX)
