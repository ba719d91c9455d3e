"""Inbox intake limits: generous enough for a busy server's bursts, exact about what they refuse."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedihub.app import build_intake_limits, build_key_fetch_guard
from fedihub.errors import ConfigurationError, RateLimited
from fedihub.federation.intake_limits import IntakeLimits, IntakeRates
from fedihub.federation.rate_buckets import Rate, TokenBuckets
from fedihub.settings import Settings


def test_the_defaults_let_a_busy_mastodon_servers_burst_through() -> None:
    limits = IntakeLimits()
    # 1,000 deliveries in 10 s from 200 accounts of one server, 4 KB each (posts, boosts, likes
    # after a popular post), then one very active account: 100 activities in a minute.
    for n in range(1000):
        limits.admit(host="mastodon.example", actor=f"https://mastodon.example/users/u{n % 200}", size=4_000,
                     now=n / 100)
    for n in range(100):
        limits.admit(host="mastodon.example", actor="https://mastodon.example/users/busy", size=4_000,
                     now=10 + n * 0.6)


def test_a_refused_request_spends_nothing_and_says_when_to_retry() -> None:
    limits = IntakeLimits(IntakeRates(window=60, host_requests=3, actor_requests=2))
    limits.admit(host="h", actor="alice", size=10, now=0)
    limits.admit(host="h", actor="alice", size=10, now=0)

    with pytest.raises(RateLimited) as refused:
        limits.admit(host="h", actor="alice", size=10, now=0)

    assert refused.value.retry_after == 30  # one request of a 2-per-minute budget
    limits.admit(host="h", actor="bob", size=10, now=0)  # the host's third request is still there
    with pytest.raises(RateLimited):
        limits.admit(host="h", actor="carol", size=10, now=0)


def test_buckets_forget_idle_keys_when_full() -> None:
    buckets = TokenBuckets(Rate(5, 60), max_keys=10)
    for n in range(100):
        buckets.spend(f"host{n}", 1, now=n * 100)
    assert len(buckets) <= 10


def test_the_limits_come_from_the_environment(tmp_path: Path) -> None:
    env = {"FEDIHUB_DATA_DIR": str(tmp_path), "FEDIHUB_SECRET_KEY": "s", "FEDIHUB_RATE_WINDOW_SECONDS": "30",
           "FEDIHUB_INBOX_HOST_REQUESTS": "10", "FEDIHUB_INBOX_ACTOR_BYTES": "2000000",
           "FEDIHUB_KEY_FETCHES_PER_HOST": "7", "FEDIHUB_KEY_FAILURE_SECONDS": "90"}
    settings = Settings.from_env(env)

    intake, keys = build_intake_limits(settings).rates, build_key_fetch_guard(settings).rates
    assert (intake.window, intake.host_requests, intake.actor_bytes) == (30, 10, 2_000_000)
    assert (intake.host_bytes, intake.actor_requests) == (20_000_000, 300)  # the defaults
    assert (keys.per_host, keys.window, keys.remember) == (7, 30, 90)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("inbox_actor_bytes", 999_999, "at least 1000000"), ("inbox_host_requests", 0, "at least 1"),
     ("key_fetches_per_host", 0, "at least 1"), ("rate_window_seconds", 0, "positive number")],
)
def test_limits_that_would_refuse_everything_are_a_configuration_error(field: str, value: float, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings(**{field: value})
