"""Inbox intake limits: generous enough for a busy server's bursts, exact about what they refuse."""

from __future__ import annotations

import pytest

from fedihub.errors import RateLimited
from fedihub.federation.intake_limits import IntakeLimits, IntakeRates
from fedihub.federation.rate_buckets import Rate, TokenBuckets


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
    assert len(buckets._buckets) <= 10
