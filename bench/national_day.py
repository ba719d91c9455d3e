"""A national day of action, simulated: real fedihub servers, a swarm of fake followers, 150 pledges.

The network (defaults; every size is a flag):
- 20 city servers with 10 coalitions each, in 4 states (5 cities per state);
- 4 state hub servers, each hub with the 50 coalitions of its state as members;
- 1 national hub server whose hub carries the 4 state hubs (they ask to join; it approves) and is
  followed by 1,000 remote servers: fake followers, each with its own shared inbox on one sink
  (bench/sink.py), inserted into the national server's database before the call is posted.

Seeding goes through `fedihub` commands, as an organizer or the demo would. Then one coalition posts the
national call; it climbs to its state hub and the national hub; 150 coalitions pledge to it from their
own servers with local actions, round after round (one pledge per city server per round, side by side).

Printed figures:
- time from the first pledge until every server that holds the call shows all the pledges (and from the
  last pledge command's end), i.e. how long the network takes to agree;
- total deliveries queued by all servers during the storm, deliveries per pledge beside the audience size
  (one notice per pledge to the whole audience would make this grow with pledges × audience);
- the largest queue depth seen (pending deliveries on one server, and summed over all servers);
- the call page's latency at its origin: median and p95 during the storm, beside the same page measured
  on the idle network just before (the baseline of this run).

SQLite (the default) runs each server as `fedihub serve` with its worker in the process. With --postgres,
each server gets its own fresh PostgreSQL database and runs as `fedihub serve --no-worker --processes N`
(--web-processes, 2 by default) plus --workers worker processes (3 by default).

This is a benchmark, not a test: nothing passes or fails on the figures. With the defaults it starts 25
servers; on a two-core machine the seeding alone takes minutes. --small is a quick look (4 cities).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from common import POSTGRES_ADMIN_DSN, PageProbe, add_remote_followers, base_parser, percentile, say, write_json
from sink import SinkProcess
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from fedihub.demo.servers import DemoError, Server, free_port, run_side_by_side, stop_all, wait_until

ADMIN = "admin"
PASSWORD = "bench-national-day"

# Five cities per state, with their coordinates: the local actions geocode from "City, ST" offline.
STATES: tuple[tuple[str, str, tuple[tuple[str, float, float], ...]], ...] = (
    ("Illinois", "IL", (("Chicago", 41.88, -87.63), ("Springfield", 39.78, -89.65), ("Peoria", 40.69, -89.59),
                        ("Rockford", 42.27, -89.09), ("Champaign", 40.12, -88.24))),
    ("Ohio", "OH", (("Cleveland", 41.50, -81.69), ("Columbus", 39.96, -83.00), ("Cincinnati", 39.10, -84.51),
                    ("Toledo", 41.65, -83.54), ("Akron", 41.08, -81.52))),
    ("California", "CA", (("Oakland", 37.80, -122.27), ("Los Angeles", 34.05, -118.24),
                          ("San Diego", 32.72, -117.16), ("Fresno", 36.74, -119.79), ("Sacramento", 38.58, -121.49))),
    ("New York", "NY", (("Buffalo", 42.89, -78.88), ("Rochester", 43.16, -77.61), ("Albany", 42.65, -73.75),
                        ("Syracuse", 43.05, -76.15), ("Yonkers", 40.93, -73.90))),
)


@dataclass
class SimServer(Server):
    """A demo-style server; on PostgreSQL with its own database and separate worker processes."""

    database_url: str | None = None
    workers: int = 0
    web_processes: int = 1
    worker_processes: list[Any] = field(default_factory=list, repr=False)

    def env(self, log_level: str = "WARNING") -> dict[str, str]:
        env = super().env(log_level)
        if self.database_url:
            env["FEDIHUB_DATABASE_URL"] = self.database_url
        return env

    def start(self) -> None:
        if not self.database_url:
            super().start()
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            run = [sys.executable, "-m", "fedihub"]
            # Migrated first, as an operator does before starting workers: a worker refuses a database
            # whose schema is behind, and would otherwise race the web process's own migration.
            subprocess.run([*run, "migrate"], env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, check=True, timeout=300)
            serve = [*run, "serve", "--no-worker", "--processes", str(self.web_processes), "--host", self.host,
                     "--port", str(self.port)]
            self.process = subprocess.Popen(serve, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
            self.worker_processes = [
                subprocess.Popen([*run, "worker"], env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
                for _ in range(self.workers)
            ]

    def send(self, signum: int) -> None:
        super().send(signum)
        for process in self.worker_processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signum)

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.database}"


@dataclass(frozen=True)
class City:
    server: SimServer
    name: str
    state: str
    code: str
    latitude: float
    longitude: float
    handles: tuple[str, ...]


# --- Databases ---------------------------------------------------------------------------------


async def create_postgres_databases(count: int) -> list[str]:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    stamp = datetime.now(UTC).strftime("%H%M%S")
    names = [f"fedihub_nday_{stamp}_{n}" for n in range(count)]
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    rest = POSTGRES_ADMIN_DSN.split("://", 1)[1].rsplit("/", 1)[0]
    return [f"postgresql+asyncpg://{rest}/{name}" for name in names]


async def drop_postgres_databases(urls: list[str]) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    try:
        for url in urls:
            await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


class Observer:
    """Reads every server's database (never writes) to see how far the network got."""

    def __init__(self, servers: list[SimServer]) -> None:
        self.engines: dict[str, AsyncEngine] = {s.key: create_async_engine(s.url) for s in servers}

    async def scalar(self, key: str, sql: str, **params: Any) -> int:
        async with self.engines[key].connect() as connection:
            return int((await connection.execute(text(sql), params)).scalar() or 0)

    async def pledges_seen(self, key: str, call_url: str) -> int | None:
        """Accepted pledges to the call as this server shows them, or None when it does not hold the call."""
        if not await self.scalar(key, "SELECT count(*) FROM objects WHERE uri = :u", u=call_url):
            return None
        return await self.scalar(key, "SELECT count(*) FROM pledges WHERE call_uri = :u AND state = 'accepted'",
                                 u=call_url)

    async def last_delivery(self, key: str) -> int:
        return await self.scalar(key, "SELECT coalesce(max(id), 0) FROM deliveries")

    async def deliveries_since(self, key: str, after: int) -> int:
        return await self.scalar(key, "SELECT count(*) FROM deliveries WHERE id > :a", a=after)

    async def pending(self, key: str) -> int:
        return await self.scalar(key, "SELECT count(*) FROM deliveries WHERE state = 'pending'")

    async def dispose(self) -> None:
        for engine in self.engines.values():
            await engine.dispose()


# --- The day ------------------------------------------------------------------------------------


def plan(args: argparse.Namespace, workdir: Path, database_urls: list[str]) -> tuple[list[City], list[SimServer],
                                                                                     SimServer]:
    urls = iter(database_urls)
    workers = args.workers if args.postgres else 0

    def server(key: str, label: str, role: str, index: int) -> SimServer:
        host = f"127.0.20.{index}"
        return SimServer(key, label, role, host, free_port(host), workdir / key, None,
                         database_url=next(urls, None), workers=workers, web_processes=args.web_processes)

    cities: list[City] = []
    states: list[SimServer] = []
    index = 1
    for state, code, places in STATES[: args.states]:
        for name, latitude, longitude in places[: args.cities_per_state]:
            key = name.lower().replace(" ", "-")
            handles = tuple(f"{key}-{n}" for n in range(1, args.coalitions_per_city + 1))
            cities.append(City(server(key, name, "city server", index), name, state, code, latitude, longitude,
                               handles))
            index += 1
        states.append(server(code.lower(), f"{state} hub", "state hub server", index))
        index += 1
    national = server("national", "National hub", "national hub server", index)
    return cities, states, national


FOLLOWS_OF_HUB = ("SELECT count(*) FROM follows f JOIN actors a ON a.id = f.follower_id "
                  "WHERE a.local_username = 'hub' AND f.state = 'accepted'")
Count = Callable[[SimServer, str], int]  # a count(*) query on one server's database


def seed(cities: list[City], states: list[SimServer], national: SimServer, count: Count, timeout: float) -> None:
    everyone = [c.server for c in cities] + states + [national]
    run_side_by_side([(s, ["admin", "create", "--username", ADMIN, "--password-stdin"], PASSWORD + "\n")
                      for s in everyone])
    say(f"  {len(cities) * len(cities[0].handles)} coalitions on {len(cities)} city servers")
    for n in range(len(cities[0].handles)):
        run_side_by_side([(c.server, ["coalition", "create", c.handles[n], "--name",
                                      f"{c.name} coalition {n + 1}", "--owner", ADMIN], None) for c in cities])
        run_side_by_side([(c.server, ["coalition", "update", c.handles[n], "--region-city", c.name,
                                      "--region-state", c.state, "--region-country", "US", "--movement", "Tenants",
                                      "--latitude", str(c.latitude), "--longitude", str(c.longitude)], None)
                          for c in cities])
    say("  state hubs with their coalitions as members; the national hub approves the state hubs")
    run_side_by_side([(s, ["hub", "create", "hub", "--name", s.label, "--scope", "state", "--owner", ADMIN], None)
                      for s in states]
                     + [(national, ["hub", "create", "hub", "--name", "National hub", "--scope", "national",
                                    "--calls-only", "--owner", ADMIN], None)])
    members_per_state = len(cities) // len(states)
    run_side_by_side([
        (state, ["hub", "add-member", "hub", *[f"{c.server.base_url}/g/{h}" for c in
                                                 cities[i * members_per_state:(i + 1) * members_per_state]
                                                 for h in c.handles]], None)
        for i, state in enumerate(states)
    ])
    run_side_by_side([(s, ["hub", "join", "hub", f"{national.base_url}/g/hub"], None) for s in states])
    wait_until(lambda: count(national, "SELECT count(*) FROM hub_requests WHERE state = 'pending'") == len(states),
               what="the state hubs' requests to reach the national hub", timeout=timeout, servers=everyone)
    for state in states:  # one member per command, one command at a time on one server
        run_side_by_side([(national, ["hub", "approve", "hub", f"{state.base_url}/g/hub"], None)])
    members = members_per_state * len(cities[0].handles)
    wait_until(lambda: all(count(s, FOLLOWS_OF_HUB) >= members for s in states)
               and count(national, FOLLOWS_OF_HUB) == len(states),
               what="every hub's follows of its members to be accepted", timeout=timeout, servers=everyone)


async def post_call(caller: City, states: list[SimServer], national: SimServer, observer: Observer,
                    timeout: float) -> str:
    # The caller follows the hubs, so their rosters vouch for the pledges (docs/security.md).
    handle = caller.handles[0]
    for hub in [*states, national]:
        await asyncio.to_thread(run_side_by_side, [(caller.server, ["follow", handle, f"{hub.base_url}/g/hub"], None)])
    following = ("SELECT count(*) FROM follows f JOIN actors a ON a.id = f.follower_id "
                 f"WHERE a.local_username = '{handle}' AND f.state = 'accepted'")
    deadline = time.monotonic() + timeout
    while await observer.scalar(caller.server.key, following) < len(states) + 1:
        if time.monotonic() > deadline:
            raise DemoError("the hubs did not accept the calling coalition's follows")
        await asyncio.sleep(0.5)
    day = date.today() + timedelta(days=14)
    [call_url] = await asyncio.to_thread(run_side_by_side, [(caller.server, [
        "call", "create", handle, "--title", "National day of action for rent control", "--start", f"{day}T12:00",
        "--end", f"{day}T15:00", "--timezone", "America/Chicago", "--place", f"{caller.name} city hall",
        "--movement", "Tenants", "--region-country", "US", "--latitude", str(caller.latitude), "--longitude",
        str(caller.longitude), "--description", "Rallies in every state. Pledge your coalition with a local action.",
    ], None)])
    call_url = call_url.strip()
    deadline = time.monotonic() + timeout
    while await observer.pledges_seen(national.key, call_url) is None:
        if time.monotonic() > deadline:
            raise DemoError("the call did not reach the national hub's server")
        await asyncio.sleep(0.5)
    return call_url


def pledge_rounds(cities: list[City], caller: City, count: int) -> list[list[tuple[City, str]]]:
    """Up to ``count`` pledges, one per city server per round, the caller's coalition left out."""
    queues = [[(c, h) for h in c.handles if (c, h) != (caller, caller.handles[0])] for c in cities]
    rounds: list[list[tuple[City, str]]] = []
    left = count
    while left > 0 and any(queues):
        this = [queue.pop(0) for queue in queues if queue][:left]
        rounds.append(this)
        left -= len(this)
    return rounds


async def storm(args: argparse.Namespace, cities: list[City], states: list[SimServer], national: SimServer,
                observer: Observer, sink: SinkProcess) -> dict[str, Any]:
    everyone = [c.server for c in cities] + states + [national]
    caller = cities[0]
    call_url = await post_call(caller, states, national, observer, args.timeout)
    say(f"  the call: {call_url}")
    page = call_url  # the call's page at its origin (HTML by content negotiation)
    baseline = PageProbe(page).measure(args.baseline_requests)
    rounds = pledge_rounds(cities, caller, args.pledges)
    expected = sum(len(r) for r in rounds)
    before = {s.key: await observer.last_delivery(s.key) for s in everyone}
    sink.reset()
    day = date.today() + timedelta(days=14)
    deepest, deepest_total = 0, 0
    done = asyncio.Event()

    async def watch_queues() -> None:
        nonlocal deepest, deepest_total
        while not done.is_set():
            depths = [await observer.pending(s.key) for s in everyone]
            deepest, deepest_total = max(deepest, *depths), max(deepest_total, sum(depths))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=1.0)

    watcher = asyncio.create_task(watch_queues())
    with PageProbe(page) as probe:
        started = time.monotonic()
        for n, this in enumerate(rounds, 1):
            await asyncio.to_thread(run_side_by_side, [
                (c.server, ["pledge", h, call_url, "--local-title", f"{c.name} rally for rent control",
                            "--local-start", f"{day}T11:00", "--local-place", f"{c.name} city hall",
                            "--local-address", f"{c.name}, {c.code}"], None)
                for c, h in this
            ], timeout=args.timeout)  # a loaded two-core machine can take minutes over one command
            say(f"  round {n}/{len(rounds)}: {sum(len(r) for r in rounds[:n])} pledges sent")
        last_pledge = time.monotonic()
        holders: dict[str, int | None] = {}
        deadline = last_pledge + args.timeout
        while True:
            holders = {s.key: await observer.pledges_seen(s.key, call_url) for s in everyone}
            if all(seen is None or seen >= expected for seen in holders.values()):
                break
            if time.monotonic() > deadline:
                behind = {k: v for k, v in holders.items() if v is not None and v < expected}
                raise DemoError(f"not every server shows {expected} pledges after {args.timeout:.0f} s: {behind}")
            await asyncio.sleep(0.5)
        agreed = time.monotonic()
    done.set()
    await watcher
    deliveries = sum([await observer.deliveries_since(s.key, before[s.key]) for s in everyone])
    audience = args.remote_followers + len(states) + 1
    return {
        "servers": len(everyone), "holding the call": sum(v is not None for v in holders.values()),
        "pledges": expected, "audience inboxes": audience,
        "until every server agrees, from the first pledge s": agreed - started,
        "until every server agrees, from the last pledge s": agreed - last_pledge,
        "deliveries": deliveries, "deliveries per pledge": deliveries / expected,
        "requests the swarm received": sink.stats().get("posts", 0),
        "deepest queue on one server": deepest, "deepest queue, all servers": deepest_total,
        "call page idle median ms": statistics.median(baseline) if baseline else float("nan"),
        "call page idle p95 ms": percentile(baseline, 0.95),
        "call page storm median ms": statistics.median(probe.latencies) if probe.latencies else float("nan"),
        "call page storm p95 ms": percentile(probe.latencies, 0.95),
        "call page storm requests": len(probe.latencies), "call page errors": probe.errors,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="fedihub-national-day-"))
    count = args.states * args.cities_per_state + args.states + 1
    database_urls = await create_postgres_databases(count) if args.postgres else []
    cities, states, national = plan(args, workdir, database_urls)
    everyone = [c.server for c in cities] + states + [national]
    observer: Observer | None = None
    sink = SinkProcess().start()
    try:
        say(f"starting {len(everyone)} fedihub servers ({'PostgreSQL' if args.postgres else 'SQLite'}) in {workdir}")
        for server in everyone:
            server.start()
        wait_until(lambda: all(s.listening() for s in everyone), what="every server to listen",
                   timeout=args.timeout, servers=everyone)
        seeding = time.monotonic()
        say("seeding through `fedihub` commands")
        observer = Observer(everyone)
        loop = asyncio.get_running_loop()

        def count(server: SimServer, sql: str) -> int:
            assert observer is not None
            return asyncio.run_coroutine_threadsafe(observer.scalar(server.key, sql), loop).result(timeout=30)

        await asyncio.to_thread(seed, cities, states, national, count, args.timeout)
        await add_remote_followers(national.url, national.base_url, "hub", sink, args.remote_followers)
        say(f"  seeded in {time.monotonic() - seeding:.0f} s; {args.remote_followers} remote servers follow the "
            "national hub")
        say("the day: one national call, then the pledges")
        return await storm(args, cities, states, national, observer, sink)
    finally:
        if observer is not None:
            await observer.dispose()
        stop_all(everyone)
        sink.stop()
        if database_urls:
            await drop_postgres_databases(database_urls)
        say(f"server logs and databases: {workdir}")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = base_parser(__doc__.splitlines()[0], repeat=1)
    parser.add_argument("--states", type=int, default=4, help="state hubs (at most 4; default 4)")
    parser.add_argument("--cities-per-state", type=int, default=5, help="city servers per state (at most 5)")
    parser.add_argument("--coalitions-per-city", type=int, default=10)
    parser.add_argument("--remote-followers", type=int, default=1000, help="fake servers following the national hub")
    parser.add_argument("--pledges", type=int, default=150)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL, a database per server")
    parser.add_argument("--workers", type=int, default=3, help="worker processes per server with --postgres")
    parser.add_argument("--web-processes", type=int, default=2, help="web processes per server with --postgres")
    parser.add_argument("--baseline-requests", type=int, default=50, help="idle call-page requests (the baseline)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for any one step")
    parser.add_argument("--small", action="store_true",
                        help="a quick look: 2 states, 2 cities each, 4 coalitions per city, 100 followers, 10 pledges")
    args = parser.parse_args(argv)
    if args.small:
        args.states, args.cities_per_state, args.coalitions_per_city = 2, 2, 4
        args.remote_followers, args.pledges = 100, 10
    args.states, args.cities_per_state = min(args.states, len(STATES)), min(args.cities_per_state, 5)
    results = []
    for n in range(args.repeat):
        say(f"run {n + 1}/{args.repeat}")
        results.append(asyncio.run(run(args)))
    say("")
    say(f"national day, {'PostgreSQL' if args.postgres else 'SQLite'}, medians of {len(results)} run(s)")
    for name in results[0]:
        values = [r[name] for r in results]
        figure = statistics.median(values)
        say(f"  {name:<52} {figure:>10.1f}" if isinstance(figure, float) else f"  {name:<52} {figure:>10}")
    summary = {"runs": results}
    write_json(args.json_path, summary)
    return summary


if __name__ == "__main__":
    main()
