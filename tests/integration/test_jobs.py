"""Periodic work as rows: never due at start, run once however many workers there are, off at 0; one-off
jobs enqueued twice run once, failures are retried then kept; a dead worker's job is taken over."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from fedihub.app import build_jobs
from fedihub.directory.rosters import ROSTER_JOB
from fedihub.errors import RemoteUnavailable
from fedihub.federation import jobs
from fedihub.federation.queue import claim_due
from fedihub.storage.models import Job
from fedihub.worker import Worker
from tests.support.network import FederationNet, Instance

# Leases, upserts and transactions behave differently on each database: both are tested.
pytestmark = pytest.mark.all_backends


def _worker(instance: Instance, functions: Mapping[str, Any], *, hours: float = 6.0, name: str = "w1") -> Worker:
    """A worker on the instance's database whose job functions are ``functions``; every other kind is real."""
    settings = dataclasses.replace(instance.runtime.settings, roster_refresh_hours=hours)
    real, schedule = build_jobs(settings)
    return Worker(instance.ctx, instance.runtime.processor, jobs={**real, **functions}, schedule=schedule, name=name)


def _counting(runs: list[str], label: str) -> Any:
    async def run(ctx: Any, payload: Mapping[str, Any]) -> None:
        runs.append(label)

    return run


async def _jobs(instance: Instance) -> list[Job]:
    async with instance.ctx.sessions() as session:
        return list((await session.scalars(select(Job).order_by(Job.id))).all())


async def test_the_roster_reading_waits_a_period_then_runs_once_across_workers(net: FederationNet) -> None:
    instance = await net.add_instance("a.test")
    runs: list[str] = []
    first = _worker(instance, {ROSTER_JOB: _counting(runs, "w1")}, name="w1")
    second = _worker(instance, {ROSTER_JOB: _counting(runs, "w2")}, name="w2")

    await first.run_once()
    await second.run_once()
    assert runs == []  # starting the workers starts no crawl

    net.clock.advance(hours=6, seconds=1)
    await first.run_once()
    await second.run_once()
    assert len(runs) == 1

    await first.run_once()
    await second.run_once()
    assert len(runs) == 1  # not again within the period

    net.clock.advance(hours=6, seconds=1)
    await second.run_once()
    await first.run_once()
    assert len(runs) == 2


async def test_a_disabled_schedule_reads_nothing(net: FederationNet) -> None:
    instance = await net.add_instance("a.test")
    runs: list[str] = []
    worker = _worker(instance, {ROSTER_JOB: _counting(runs, "w1")}, hours=0.0)

    await worker.run_once()
    net.clock.advance(days=30)
    await worker.run_once()

    assert runs == []
    assert ROSTER_JOB not in {job.name for job in await _jobs(instance)}


async def test_a_one_off_job_enqueued_twice_runs_once(net: FederationNet) -> None:
    instance = await net.add_instance("a.test")
    runs: list[str] = []
    worker = _worker(instance, {"test.once": _counting(runs, "once")})
    async with instance.ctx.sessions.begin() as session:
        await jobs.enqueue(session, "test.once", key="x", at=net.clock())
    async with instance.ctx.sessions.begin() as session:
        await jobs.enqueue(session, "test.once", key="x", at=net.clock())

    await worker.run_once()
    await worker.run_once()

    assert runs == ["once"]
    assert "test.once:x" not in {job.name for job in await _jobs(instance)}  # done one-offs leave no row


async def test_a_one_off_job_enqueued_again_while_it_runs_runs_once_more(net: FederationNet) -> None:
    """A vouch check reading the hubs while a new Join arrives must not finish with what it read before."""
    instance = await net.add_instance("a.test")
    runs: list[str] = []

    async def run(ctx: Any, payload: Mapping[str, Any]) -> None:
        runs.append("run")
        if len(runs) == 1:  # the trigger arrives while the first run is under way
            async with instance.ctx.sessions.begin() as session:
                await jobs.enqueue(session, "test.again", key="x", at=net.clock())

    worker = _worker(instance, {"test.again": run})
    async with instance.ctx.sessions.begin() as session:
        await jobs.enqueue(session, "test.again", key="x", at=net.clock())

    await worker.run_once()
    await worker.run_once()
    await worker.run_once()

    assert runs == ["run", "run"]
    assert "test.again:x" not in {job.name for job in await _jobs(instance)}


async def test_a_failing_job_is_retried_then_kept_with_its_error(net: FederationNet) -> None:
    instance = await net.add_instance("a.test")
    attempts: list[int] = []

    async def unreachable(ctx: Any, payload: Mapping[str, Any]) -> None:
        attempts.append(1)
        raise RemoteUnavailable("origin.test did not answer")

    worker = _worker(instance, {"test.flaky": unreachable})
    async with instance.ctx.sessions.begin() as session:
        await jobs.enqueue(session, "test.flaky", at=net.clock())
    for _ in range(jobs.MAX_ATTEMPTS + 2):
        await worker.run_once()
        net.clock.advance(hours=1)

    [job] = [job for job in await _jobs(instance) if job.kind == "test.flaky"]
    assert len(attempts) == jobs.MAX_ATTEMPTS
    assert job.state == "failed" and "did not answer" in (job.last_error or "")


async def test_a_dead_workers_job_is_taken_over_when_its_lease_runs_out(net: FederationNet) -> None:
    instance = await net.add_instance("a.test")
    runs: list[str] = []
    async with instance.ctx.sessions.begin() as session:
        await jobs.enqueue(session, "test.once", at=net.clock())
        await claim_due(session, Job, now=net.clock(), owner="dead", lease=timedelta(minutes=5), limit=10)
    worker = _worker(instance, {"test.once": _counting(runs, "w1")})

    await worker.run_once()
    assert runs == []  # still leased by the dead worker
    net.clock.advance(minutes=6)
    await worker.run_once()
    assert runs == ["w1"]
