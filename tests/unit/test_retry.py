"""Delivery retry policy: what is retried, how long we wait, when we give up (spec §1.10)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy.exc

from fedihub.errors import ForbiddenAddress, MalformedActivity, RemoteNotFound, RemoteUnavailable
from fedihub.federation.retry import (
    BREAKER_THRESHOLD,
    MAX_AGE,
    MAX_ATTEMPTS,
    Outcome,
    breaker_open_for,
    classify_exception,
    classify_processing_failure,
    classify_status,
    parse_retry_after,
    retry_delay,
    should_give_up,
)

NOW = datetime(2025, 3, 14, 12, 0, 0, tzinfo=UTC)
HOUR = 3600.0


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (201, Outcome.DELIVERED),
        (202, Outcome.DELIVERED),  # Mastodon's inbox answer
        (204, Outcome.DELIVERED),
        (401, Outcome.RETRY),  # the peer may refetch our key and accept next time
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (504, Outcome.RETRY),
        (400, Outcome.PERMANENT),
        (403, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
        (405, Outcome.PERMANENT),
        (410, Outcome.PERMANENT),
        (413, Outcome.PERMANENT),
        (422, Outcome.PERMANENT),
        (501, Outcome.PERMANENT),
    ],
)
def test_classify_status_follows_mastodon(status: int, outcome: Outcome) -> None:
    assert classify_status(status) is outcome


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (httpx.ConnectError("refused"), Outcome.RETRY),
        (httpx.ConnectTimeout("slow"), Outcome.RETRY),
        (httpx.ReadTimeout("slow"), Outcome.RETRY),
        (httpx.PoolTimeout("busy"), Outcome.RETRY),
        (httpx.RemoteProtocolError("eof"), Outcome.RETRY),
        (RemoteUnavailable("down"), Outcome.RETRY),
        (ForbiddenAddress("10.0.0.1"), Outcome.PERMANENT),
        (httpx.UnsupportedProtocol("ftp"), Outcome.PERMANENT),
        (httpx.InvalidURL("bad"), Outcome.PERMANENT),
    ],
)
def test_classify_exception(exc: BaseException, outcome: Outcome) -> None:
    assert classify_exception(exc) is outcome


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("999999", 6 * HOUR),  # clamped: a peer cannot park our queue for days
        ("Fri, 14 Mar 2025 12:05:00 GMT", 300.0),
        ("Fri, 14 Mar 2025 11:00:00 GMT", 0.0),  # in the past
        ("Sat, 15 Mar 2025 12:00:00 GMT", 6 * HOUR),
    ],
)
def test_parse_retry_after_reads_both_forms(value: str, seconds: float) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5e3"])
def test_parse_retry_after_ignores_nonsense(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_delays_grow_with_each_attempt() -> None:
    rng = random.Random(7)
    delays = [retry_delay(attempt, rng=rng) for attempt in range(1, MAX_ATTEMPTS)]
    assert delays[0] == pytest.approx(15, abs=1)  # the first retry comes quickly
    assert all(later > earlier for earlier, later in zip(delays, delays[1:], strict=False))


@pytest.mark.parametrize("seed", [0, 1, 2, 42])
def test_retries_span_two_to_three_days(seed: int) -> None:
    rng = random.Random(seed)
    total = sum(retry_delay(attempt, rng=rng) for attempt in range(1, MAX_ATTEMPTS))
    assert 48 * HOUR <= total <= 96 * HOUR


def test_jitter_spreads_senders_apart() -> None:
    delays = {retry_delay(10, rng=random.Random(seed)) for seed in range(20)}
    assert len(delays) == 20
    assert min(delays) >= 9**4 + 15
    assert max(delays) <= 1.5 * 9**4 + 15


def test_retry_after_is_a_floor_not_a_shortcut() -> None:
    assert retry_delay(1, rng=random.Random(0), retry_after=600.0) == 600.0
    late = retry_delay(12, rng=random.Random(0), retry_after=600.0)
    assert late == retry_delay(12, rng=random.Random(0)) > 600.0


def test_retry_delay_counts_attempts_from_one() -> None:
    with pytest.raises(ValueError):
        retry_delay(0, rng=random.Random(0))


def test_gives_up_after_the_last_attempt() -> None:
    assert not should_give_up(MAX_ATTEMPTS - 1, NOW, NOW + timedelta(hours=1))
    assert should_give_up(MAX_ATTEMPTS, NOW, NOW + timedelta(hours=1))


def test_gives_up_when_the_delivery_is_too_old() -> None:
    assert MAX_AGE == timedelta(days=3)
    assert not should_give_up(3, NOW, NOW + MAX_AGE - timedelta(seconds=1))
    assert should_give_up(3, NOW, NOW + MAX_AGE)


def test_breaker_stays_closed_below_the_threshold() -> None:
    for failures in range(BREAKER_THRESHOLD):
        assert breaker_open_for(failures) == timedelta(0)


def test_breaker_opens_for_a_minute_then_doubles_up_to_six_hours() -> None:
    assert breaker_open_for(BREAKER_THRESHOLD) == timedelta(minutes=1)
    assert breaker_open_for(BREAKER_THRESHOLD + 1) == timedelta(minutes=2)
    assert breaker_open_for(BREAKER_THRESHOLD + 3) == timedelta(minutes=8)
    assert breaker_open_for(BREAKER_THRESHOLD + 9) == timedelta(hours=6)  # 512 min capped
    assert breaker_open_for(10_000) == timedelta(hours=6)


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (RemoteUnavailable("origin down"), Outcome.RETRY),
        (sqlalchemy.exc.OperationalError("UPDATE", {}, Exception("database is locked")), Outcome.RETRY),
        (ConnectionResetError("lost"), Outcome.RETRY),
        (MalformedActivity("no type"), Outcome.PERMANENT),
        (RemoteNotFound("404"), Outcome.PERMANENT),
        # Errors that depend only on the payload: a retry meets the same payload.
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), Outcome.PERMANENT),
        (TypeError("unhashable type: 'dict'"), Outcome.PERMANENT),
        (RecursionError("maximum recursion depth exceeded"), Outcome.PERMANENT),
        (sqlalchemy.exc.DataError("INSERT", {}, Exception("value too long")), Outcome.PERMANENT),
    ],
)
def test_classify_processing_failure(exc: BaseException, outcome: Outcome) -> None:
    assert classify_processing_failure(exc) is outcome
