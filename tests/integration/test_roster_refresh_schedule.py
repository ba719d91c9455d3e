"""Workers read hubs' rosters for the directory on a schedule: never at start, stopped at once, off at 0."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from fedihub import app as composition
from fedihub.directory.rosters import RefreshReport
from tests.support.network import FederationNet


async def test_the_roster_reading_waits_a_period_runs_then_stops_with_the_worker(
    net: FederationNet, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance = await net.add_instance("a.test")
    runtime = dataclasses.replace(
        instance.runtime, settings=dataclasses.replace(instance.runtime.settings, roster_refresh_hours=1e-6)
    )
    stop = asyncio.Event()
    runs: list[Any] = []

    async def fake_refresh(ctx: Any) -> RefreshReport:
        runs.append(ctx)
        stop.set()  # the worker is asked to stop during the first read
        return RefreshReport()

    monkeypatch.setattr(composition, "refresh_directory", fake_refresh)
    await asyncio.wait_for(composition.refresh_rosters_periodically(runtime, stop), timeout=10)

    assert runs == [runtime.ctx]


@pytest.mark.parametrize("hours", [0.0, 6.0])
async def test_a_stopped_or_disabled_schedule_reads_nothing(
    net: FederationNet, monkeypatch: pytest.MonkeyPatch, hours: float
) -> None:
    instance = await net.add_instance("a.test")
    runtime = dataclasses.replace(
        instance.runtime, settings=dataclasses.replace(instance.runtime.settings, roster_refresh_hours=hours)
    )
    stop = asyncio.Event()
    stop.set()
    runs: list[Any] = []

    async def fake_refresh(ctx: Any) -> RefreshReport:
        runs.append(ctx)
        return RefreshReport()

    monkeypatch.setattr(composition, "refresh_directory", fake_refresh)
    await asyncio.wait_for(composition.refresh_rosters_periodically(runtime, stop), timeout=10)

    assert runs == []
