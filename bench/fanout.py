"""Fan-out: one post to followers on 1,000 distinct shared inboxes, against a sign-and-POST baseline.

Every inbox is a path on the local sink (http://127.0.0.1:<port>/i/<n>/inbox), so the figure is
fedihub's own cost: post_note() storing the Create and queueing one delivery per inbox, then the
worker claiming, signing, POSTing and recording them: the streaming runner the server uses
(DeliveryRunner.run), and for comparison the batch passes of Worker.run_once until idle. The baseline
signs and POSTs the same requests with the same client and concurrency and no database at all.
Target: fedihub at least 0.8 x the baseline's deliveries per second, the first within 0.2 s of the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import io
import json
import pstats
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from common import (
    PostgresUnavailable,
    SqliteDatabases,
    base_parser,
    median,
    postgres_database,
    postgres_reason,
    say,
    spread,
    write_json,
)
from sink import SinkProcess
from sqlalchemy import func, insert, select

from fedihub.app import open_runtime, user_agent
from fedihub.coalitions.service import create_coalition, post_note
from fedihub.federation import delivery as delivery_module
from fedihub.federation.delivery import ACTIVITY_CONTENT_TYPE
from fedihub.heap import freeze_startup_heap
from fedihub.protocol import builders
from fedihub.protocol.http import build_http_client
from fedihub.protocol.httpauth import HttpSignatureAuth
from fedihub.protocol.keys import generate_key_pair
from fedihub.protocol.vocab import PUBLIC
from fedihub.settings import Settings
from fedihub.storage.models import Actor, Delivery, Follow

BASE_URL = "http://coalitions.bench.test"  # never contacted: nothing in the run fetches our own ids
POST_TEXT = "**Day of action** on Saturday: meet at the town hall at noon. Bring banners and friends."
MAX_WORKER_PASSES = 1_000
RUN_TIMEOUT = 120.0
TARGET_RATIO = 0.8  # fedihub ≥ 0.8 × the bare sign-and-POST baseline
TARGET_FIRST_DELIVERY_MS = 200
original_claim_due = delivery_module.claim_due


@dataclass(frozen=True)
class Setup:
    inboxes: int
    concurrency: int
    sink: SinkProcess

    def inbox_url(self, n: int) -> str:
        return self.sink.url(f"/i/{n}/inbox")


def bench_settings(database_url: str, transport: str, concurrency: int, data_dir: Path) -> Settings:
    return Settings(
        base_url=BASE_URL,
        database_url=database_url,
        data_dir=data_dir,
        secret_key="bench-only-secret",
        allow_private_addresses=True,  # every inbox is on 127.0.0.1: the SSRF guard must let it through
        http_transport=transport,
        delivery_concurrency=concurrency,
        log_level="WARNING",
    )


async def seed_followers(runtime: Any, setup: Setup) -> None:
    """1,000 remote actors, each on its own shared inbox, following the coalition (accepted)."""
    ctx = runtime.ctx
    async with ctx.sessions.begin() as session:
        await create_coalition(ctx, session, "bench", name="Bench coalition")
    now = datetime.now(UTC)
    domain = f"127.0.0.1:{setup.sink.port}"
    actors = []
    for n in range(setup.inboxes):
        uri = setup.sink.url(f"/i/{n}/users/member")
        actors.append({
            "uri": uri, "type": "Person", "username": "member", "domain": domain, "is_local": False,
            "inbox": f"{uri}/inbox", "shared_inbox": setup.inbox_url(n), "followers_uri": f"{uri}/followers",
            "public_key_id": f"{uri}#main-key", "fetched_at": now, "created_at": now, "updated_at": now,
        })
    async with ctx.sessions.begin() as session:
        coalition_id = await session.scalar(select(Actor.id).where(Actor.local_username == "bench"))
        await session.execute(insert(Actor), actors)
        ids = (await session.scalars(select(Actor.id).where(Actor.is_local.is_(False)).order_by(Actor.id))).all()
        await session.execute(insert(Follow), [
            {"uri": f"{BASE_URL}/follows/{actor_id}", "follower_id": actor_id, "target_id": coalition_id,
             "state": "accepted", "created_at": now, "updated_at": now}
            for actor_id in ids
        ])


async def drain(runtime: Any) -> int:
    """Worker.run_once until it finds nothing to do (bounded in passes and time); passes made."""
    deadline = time.monotonic() + RUN_TIMEOUT
    for passes in range(1, MAX_WORKER_PASSES + 1):
        if await runtime.worker.run_once() == 0 or time.monotonic() > deadline:
            return passes
    return MAX_WORKER_PASSES


class FinishedDeliveries:
    """Telemetry that counts deliveries recorded as finished and wakes ``stream`` when all are.

    The runner reports each outcome after committing it, so the count is exact and costs no query:
    the timing is not shared with a poller reading the database.
    """

    def __init__(self) -> None:
        self.count = 0
        self.expected = 0
        self.all_done = asyncio.Event()

    def expect(self, expected: int) -> None:
        self.count, self.expected = 0, expected
        self.all_done.clear()

    def delivery_finished(self, host: str, outcome: str) -> None:
        if outcome != "retry":  # a retry stays pending: not finished
            self.count += 1
            if self.count >= self.expected:
                self.all_done.set()

    def inbox_answered(self, outcome: str) -> None:
        pass


async def stream(runtime: Any, finished: FinishedDeliveries, post: Callable[[], Any]) -> tuple[int, float]:
    """The delivery runner as `fedihub serve` runs it (DeliveryRunner.run), already waiting for work
    when ``post`` commits; runs until it has reported every delivery finished. How many it did, and
    the wall clock (time.time) just after ``post`` committed."""
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.worker.deliveries.run(stop, 1.0))
    for _ in range(20):  # its first claim finds nothing; then it waits for work, as an idle server's does
        await asyncio.sleep(0)
    await post()
    committed_at = time.time()
    done = asyncio.create_task(finished.all_done.wait())
    try:
        # The runner ending early (a crash) stops the wait too, instead of running into the timeout.
        await asyncio.wait([task, done], timeout=RUN_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    finally:
        done.cancel()
        stop.set()
        await task
    return finished.count, committed_at


class Stopwatch:
    """Wall time spent inside wrapped coroutine functions (the profile's phase breakdown)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await func(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

        return timed


def instrument(runtime: Any, watch: Stopwatch) -> None:
    """Time the delivery runner's database phases on this runtime's instance only."""
    runner = runtime.worker.deliveries
    runner._record = watch.wrap("record outcomes (UPDATE deliveries, domain health)", runner._record)
    runner._payloads = watch.wrap("load payloads and keys", runner._payloads)
    delivery_module.claim_due = watch.wrap("claim (UPDATE … RETURNING)", original_claim_due)


async def time_fedihub(
    client: httpx.AsyncClient, setup: Setup, database_url: str, profile: bool = False, batches: bool = False,
) -> tuple[float, dict[str, Any]]:
    """Seconds from post_note() to the last delivery recorded, and details of the run: by the streaming
    runner the server uses, or (``batches``) by Worker.run_once passes, as tests and one-shot commands do."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = bench_settings(database_url, "aiohttp", setup.concurrency, Path(data_dir))
        finished = FinishedDeliveries()
        async with open_runtime(settings, client, telemetry=finished) as runtime:
            await seed_followers(runtime, setup)
            finished.expect(setup.inboxes)
            setup.sink.reset()
            profiler = cProfile.Profile() if profile else None
            watch = Stopwatch()
            if profiler:
                instrument(runtime, watch)
                profiler.enable()
            queued = 0.0

            async def post() -> None:
                nonlocal started, queued
                started = time.perf_counter()
                async with runtime.ctx.sessions.begin() as session:
                    await post_note(runtime.ctx, session, "bench", POST_TEXT)
                queued = time.perf_counter()

            started = 0.0
            committed_at = None
            if batches:
                await post()
                passes = await drain(runtime)
            else:
                passes, committed_at = await stream(runtime, finished, post)
            elapsed = time.perf_counter() - started
            if profiler:
                profiler.disable()
                delivery_module.claim_due = original_claim_due
            async with runtime.ctx.sessions() as session:
                delivered = await session.scalar(select(func.count()).where(Delivery.state == "delivered"))
            stats = setup.sink.stats()
            received = stats["posts"]
    if delivered != setup.inboxes or received != setup.inboxes:
        raise RuntimeError(f"expected {setup.inboxes} deliveries, recorded {delivered}, sink received {received}")
    info: dict[str, Any] = {"passes": passes, "post_note_seconds": queued - started}
    if committed_at is not None:
        info["first_delivery_seconds"] = stats["first_post_at"] - committed_at
    if profiler:
        info["profile"] = profiler
        info["phases"] = {"post_note (store Create, queue deliveries)": queued - started, **watch.seconds}
        info["elapsed"] = elapsed
    return elapsed, info


def build_body(actor_uri: str) -> bytes:
    """The same Create(Note) post_note() sends, serialised the same way the delivery runner does."""
    object_id = f"{BASE_URL}/o/00000000-0000-4000-8000-000000000000"
    note = builders.build_note(
        object_id=object_id, attributed_to=actor_uri, content_html=f"<p>{POST_TEXT}</p>",
        published=datetime.now(UTC), to=[PUBLIC], cc=[f"{actor_uri}/followers"], url=object_id,
    )
    return json.dumps(builders.build_create(activity_id=f"{object_id}/activity", actor=actor_uri, obj=note)).encode()


async def time_baseline(client: httpx.AsyncClient, setup: Setup, auth: httpx.Auth, body: bytes) -> float:
    """Seconds to sign and POST one request per inbox: no database, same client, same concurrency."""
    semaphore = asyncio.Semaphore(setup.concurrency)
    headers = {"Content-Type": ACTIVITY_CONTENT_TYPE, "Accept": ACTIVITY_CONTENT_TYPE}

    async def send(n: int) -> int:
        async with semaphore:
            response = await client.post(setup.inbox_url(n), content=body, headers=headers, auth=auth)
            return response.status_code

    before = setup.sink.stats()["posts"]
    started = time.perf_counter()
    statuses = await asyncio.wait_for(asyncio.gather(*(send(n) for n in range(setup.inboxes))), RUN_TIMEOUT)
    elapsed = time.perf_counter() - started
    received = setup.sink.stats()["posts"] - before
    if any(status != 202 for status in statuses) or received != setup.inboxes:
        raise RuntimeError(f"baseline: {received} of {setup.inboxes} requests reached the sink")
    return elapsed


def build_client(transport: str) -> httpx.AsyncClient:
    settings = bench_settings("sqlite+aiosqlite:///unused.sqlite3", transport, 32, Path("."))
    return build_http_client(
        user_agent=user_agent(settings), allow_private_addresses=True, transport=transport,
        timeout=settings.http_timeout,
    )


async def warm_up(client: httpx.AsyncClient, setup: Setup, auth: httpx.Auth, body: bytes) -> None:
    """Open the pool's connections first so neither side pays for connection setup."""
    await time_baseline(client, replace(setup, inboxes=min(setup.inboxes, 4 * setup.concurrency)), auth, body)


async def run_backend(
    name: str,
    new_database: Callable[[], Any],
    setup: Setup,
    clients: dict[str, httpx.AsyncClient],
    baseline: tuple[httpx.Auth, bytes],
    repeat: int,
    profile: bool,
) -> dict[str, Any]:
    """Alternate which side goes first run by run, so the machine's noise hits both alike."""
    rates: dict[str, list[float]] = {"fedihub": [], "fedihub_batches": [], **{f"baseline_{t}": [] for t in clients}}
    auth, body = baseline
    post_note_ms: list[float] = []
    first_delivery_ms: list[float] = []
    for run in range(repeat):
        async with new_database() as url:
            if run % 2:
                elapsed = await time_baseline(clients["aiohttp"], setup, auth, body)
                rates["baseline_aiohttp"].append(setup.inboxes / elapsed)
            seconds, info = await time_fedihub(clients["aiohttp"], setup, url)
            rates["fedihub"].append(setup.inboxes / seconds)
            post_note_ms.append(info["post_note_seconds"] * 1000)
            first_delivery_ms.append(info["first_delivery_seconds"] * 1000)
        async with new_database() as url:
            seconds, _ = await time_fedihub(clients["aiohttp"], setup, url, batches=True)
            rates["fedihub_batches"].append(setup.inboxes / seconds)
            if not run % 2:
                elapsed = await time_baseline(clients["aiohttp"], setup, auth, body)
                rates["baseline_aiohttp"].append(setup.inboxes / elapsed)
            for transport, client in clients.items():
                if transport != "aiohttp":
                    elapsed = await time_baseline(client, setup, auth, body)
                    rates[f"baseline_{transport}"].append(setup.inboxes / elapsed)
        say(f"  {name} run {run + 1}/{repeat}: " + ", ".join(f"{k} {v[-1]:.0f}/s" for k, v in rates.items() if v))
    result: dict[str, Any] = {k: median(v) for k, v in rates.items()}
    result["runs"] = rates
    result["post_note_ms"] = median(post_note_ms)
    result["first_delivery_ms"] = median(first_delivery_ms)
    result["runs"]["first_delivery_ms"] = first_delivery_ms
    # Runs are paired (same minute of machine noise), so the median of per-run ratios is the steadier figure.
    result["ratio"] = median([f / b for f, b in zip(rates["fedihub"], rates["baseline_aiohttp"], strict=True)])
    result["ratio_of_medians"] = result["fedihub"] / result["baseline_aiohttp"]
    if profile:
        async with new_database() as url:
            _, info = await time_fedihub(clients["aiohttp"], setup, url, profile=True)
        out = io.StringIO()
        pstats.Stats(info["profile"], stream=out).sort_stats("tottime").print_stats(30)
        say(f"\n  cProfile of one more {name} fan-out (event-loop thread only), by own time:\n{out.getvalue()}")
        say(f"  wall time by phase of that run ({info['elapsed']:.2f} s in all, under the profiler):")
        accounted = 0.0
        for phase, seconds in info["phases"].items():
            accounted += seconds
            say(f"    {phase:52} {seconds * 1000:7.0f} ms")
        say(f"    {'signing and POSTing (the rest)':52} {(info['elapsed'] - accounted) * 1000:7.0f} ms")
    return result


def sqlite_factory(databases: SqliteDatabases) -> Callable[[], Any]:
    @contextlib.asynccontextmanager
    async def new() -> Any:
        url = await databases.create()
        try:
            yield url
        finally:
            databases.remove(url)

    return new


def report(name: str, result: dict[str, Any]) -> None:
    runs = result["runs"]
    say(f"\n{name}: medians of {len(runs['fedihub'])} runs (min–max in brackets)")
    say(f"  fedihub post_note + worker   {result['fedihub']:7.0f} deliveries/s  [{spread(runs['fedihub'])}]"
        f"  (post_note itself: {result['post_note_ms']:.0f} ms; the streaming runner `fedihub serve` uses)")
    say(f"  fedihub, run_once batches    {result['fedihub_batches']:7.0f} deliveries/s  "
        f"[{spread(runs['fedihub_batches'])}]  (the batch passes tests and one-shot commands use)")
    for key in runs:
        if key.startswith("baseline_"):
            say(f"  baseline sign+POST, {key[9:]:8} {result[key]:7.0f} requests/s    [{spread(runs[key])}]")
    verdict = "meets" if result["ratio"] >= TARGET_RATIO else "BELOW"
    say(f"  ratio fedihub / baseline (aiohttp): median of per-run ratios {result['ratio']:.2f}, "
        f"ratio of medians {result['ratio_of_medians']:.2f}  ({verdict} the {TARGET_RATIO} target)")
    verdict = "meets" if result["first_delivery_ms"] <= TARGET_FIRST_DELIVERY_MS else "ABOVE"
    say(f"  first delivery after the post's commit, runner waiting: {result['first_delivery_ms']:.0f} ms  "
        f"[{spread(runs['first_delivery_ms'])}]  ({verdict} the {TARGET_FIRST_DELIVERY_MS} ms target)")


async def main_async(args: Any) -> dict[str, Any]:
    results: dict[str, Any] = {"inboxes": args.inboxes, "concurrency": args.concurrency, "repeat": args.repeat}
    transports = ["aiohttp"] + (["httpx"] if not args.skip_httpx else [])
    with SinkProcess() as sink, tempfile.TemporaryDirectory() as workdir:
        setup = Setup(inboxes=args.inboxes, concurrency=args.concurrency, sink=sink)
        clients = {t: build_client(t) for t in transports}
        # Any RSA-2048 key costs the same to sign with; the coalition's own is made per database.
        keys = generate_key_pair()
        actor_uri = f"{BASE_URL}/g/bench"
        baseline = (HttpSignatureAuth(f"{actor_uri}#main-key", keys.private_pem), build_body(actor_uri))
        try:
            for client in clients.values():
                await warm_up(client, setup, *baseline)
            # As `fedihub serve` and `fedihub worker` do once started; both sides run in this process.
            freeze_startup_heap()
            say(f"fan-out to {args.inboxes} shared inboxes on the local sink, concurrency {args.concurrency}, "
                f"{args.repeat} runs")
            backends: list[tuple[str, Callable[[], Any]]] = []
            if not args.no_sqlite:
                backends.append(("sqlite", sqlite_factory(SqliteDatabases(Path(workdir)))))
            if args.postgres:
                reason = await postgres_reason()
                if reason is None:
                    backends.append(("postgresql", postgres_database))
                else:
                    say(f"skipping PostgreSQL: {reason}")
                    results["postgresql_skipped"] = reason
            for name, factory in backends:
                results[name] = await run_backend(name, factory, setup, clients, baseline, args.repeat, args.profile)
            for name, _ in backends:
                report(name, results[name])
        finally:
            for client in clients.values():
                await client.aclose()
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = base_parser(__doc__.splitlines()[0], repeat=5)
    parser.add_argument("--inboxes", type=int, default=1000, help="distinct shared inboxes (default 1000)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent POSTs (fedihub's default is 32)")
    parser.add_argument("--postgres", action="store_true", help="also run on a fresh PostgreSQL database")
    parser.add_argument("--no-sqlite", action="store_true", help="leave SQLite out (with --postgres: PostgreSQL only)")
    parser.add_argument("--skip-httpx", action="store_true", help="skip the (slow) httpx-transport baseline")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one extra fedihub run")
    args = parser.parse_args(argv)
    if args.no_sqlite and not args.postgres:
        parser.error("--no-sqlite leaves nothing to run without --postgres")
    try:
        results = asyncio.run(main_async(args))
    except PostgresUnavailable as exc:
        raise SystemExit(f"PostgreSQL went away during the run: {exc}") from None
    write_json(args.json_path, results)
    return results


if __name__ == "__main__":
    main()
