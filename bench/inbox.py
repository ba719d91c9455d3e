"""Inbox: signed Create(Note)s accepted per second by a real `fedihub serve`, then processed per second.

Setup per run: a fresh database (SQLite, then PostgreSQL when reachable), a local coalition that
follows a few fake remote actors whose public keys are already cached (so no key is fetched), and
N distinct Create(Note)s signed beforehand so the client's signing does not compete with the
server for the two cores. Phase 1 POSTs them to the shared inbox of `fedihub serve --no-worker`
(uvicorn, 127.0.0.1) with C concurrent connections and counts 202s, then checks every activity is
stored. Phase 2 runs Worker.run_once until idle and checks every Note was stored.

Beside it, in the same run: the same pre-signed requests POSTed with the same client to the bare
receiver (bench/sink.py), which answers 202 without reading anything, as the ceiling of the client and
the loopback. Each request's answer time is kept, to print the share of requests slower than 2 s (a
peer's delivery that waits that long holds one of its delivery slots) and those unanswered within 30 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from common import (
    FedihubServer,
    PostgresUnavailable,
    SqliteDatabases,
    base_parser,
    free_port,
    median,
    postgres_database,
    postgres_reason,
    say,
    spread,
    write_json,
)
from sink import SinkProcess
from sqlalchemy import func, insert, select

from fedihub.app import open_runtime
from fedihub.coalitions.service import create_coalition
from fedihub.protocol.keys import generate_key_pair, load_private_key
from fedihub.protocol.signatures import sign_request_headers
from fedihub.protocol.vocab import PUBLIC
from fedihub.settings import Settings
from fedihub.storage.models import Actor, Follow, InboxItem, StoredObject

# The fake peers live on a loopback port where nothing listens: if anything did try to fetch
# them, it would fail at once on this machine instead of sending traffic anywhere else.
REMOTE = "http://127.0.0.1:9"
SECRET = "bench-only-secret"
MAX_WORKER_PASSES = 10_000
PHASE_TIMEOUT = 120.0
# Mastodon gives up on a delivery after this long and retries it later; we count those as unanswered.
REQUEST_TIMEOUT = 30.0
SLOW_SECONDS = 2.0


@dataclass(frozen=True)
class RemoteActor:
    uri: str
    key_id: str
    private_key: Any


@dataclass(frozen=True)
class Posted:
    seconds: float
    accepted: int
    statuses: dict[str, int]
    latencies: list[float]

    @property
    def slow_share(self) -> float:
        """Share of all requests answered after SLOW_SECONDS or not at all."""
        slow = sum(1 for latency in self.latencies if latency > SLOW_SECONDS)
        return (slow + self.statuses.get("timeout", 0)) / max(1, sum(self.statuses.values()))


@dataclass(frozen=True)
class RunResult:
    accepted_per_second: float
    baseline_per_second: float
    accepted_signing_per_second: float  # the client signs each request as it sends it
    baseline_signing_per_second: float  # the same signing client against the bare receiver
    slow_share: float  # requests answered after 2 s or not within 30 s
    unanswered: int
    processed_per_second: float
    server_cpu_ms: float  # CPU of the `fedihub serve` process per accepted activity
    worker_cpu_ms: float  # CPU of this process (all threads) per processed activity


def settings_for(database_url: str, port: int, data_dir: Path) -> Settings:
    return Settings(
        base_url=f"http://127.0.0.1:{port}", database_url=database_url, data_dir=data_dir,
        secret_key=SECRET, log_level="WARNING",
    )


async def seed(settings: Settings, actors: int) -> list[RemoteActor]:
    """A coalition following ``actors`` remote actors (accepted), each with a cached public key."""
    now = datetime.now(UTC)
    remotes = []
    rows = []
    for n in range(actors):
        keys = await asyncio.to_thread(generate_key_pair)
        uri = f"{REMOTE}/users/peer{n}"
        remotes.append(RemoteActor(uri=uri, key_id=f"{uri}#main-key", private_key=load_private_key(keys.private_pem)))
        rows.append({
            "uri": uri, "type": "Person", "username": f"peer{n}", "domain": "127.0.0.1:9", "is_local": False,
            "inbox": f"{uri}/inbox", "shared_inbox": f"{REMOTE}/inbox", "followers_uri": f"{uri}/followers",
            "public_key_id": f"{uri}#main-key", "public_key_pem": keys.public_pem,
            # Fresh, so processing uses the cached actor instead of refetching it.
            "fetched_at": now, "created_at": now, "updated_at": now,
        })
    async with open_runtime(settings) as runtime:
        async with runtime.ctx.sessions.begin() as session:
            coalition = await create_coalition(runtime.ctx, session, "bench", name="Bench coalition")
        async with runtime.ctx.sessions.begin() as session:
            await session.execute(insert(Actor), rows)
            ids = (await session.scalars(select(Actor.id).where(Actor.is_local.is_(False)))).all()
            await session.execute(insert(Follow), [
                {"uri": f"{coalition.uri}#follows/{actor_id}", "follower_id": coalition.id, "target_id": actor_id,
                 "state": "accepted", "created_at": now, "updated_at": now}
                for actor_id in ids
            ])
    return remotes


def activity_bodies(remotes: list[RemoteActor], count: int, first: int = 0) -> list[tuple[RemoteActor, bytes]]:
    """``count`` distinct Create(Note)s (numbered from ``first``), each with its author."""
    bodies = []
    published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for n in range(first, first + count):
        actor = remotes[n % len(remotes)]
        note_id = f"{actor.uri}/statuses/{n}"
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity", "type": "Create", "actor": actor.uri, "published": published,
            "to": [PUBLIC], "cc": [f"{actor.uri}/followers"],
            "object": {
                "id": note_id, "type": "Note", "attributedTo": actor.uri, "published": published,
                "to": [PUBLIC], "cc": [f"{actor.uri}/followers"], "url": note_id,
                "content": f"<p>Rent strike meeting number {n}: <a href=\"{note_id}\">details</a></p>",
            },
        }
        bodies.append((actor, json.dumps(activity).encode()))
    return bodies


def signed(inbox_url: str, actor: RemoteActor, body: bytes) -> tuple[bytes, dict[str, str]]:
    """One request signed by its author the way Mastodon signs (RSA-SHA256 with Digest)."""
    headers = {"Content-Type": "application/activity+json"}
    headers.update(sign_request_headers(
        method="POST", url=inbox_url, headers=headers, body=body, key_id=actor.key_id, private_key=actor.private_key,
    ))
    return body, headers


def signed_requests(inbox_url: str, remotes: list[RemoteActor], count: int) -> list[tuple[bytes, dict[str, str]]]:
    return [signed(inbox_url, actor, body) for actor, body in activity_bodies(remotes, count)]


async def post_all(inbox_url: str, requests: list[tuple[bytes, dict[str, str]]] | list[tuple[RemoteActor, bytes]],
                   concurrency: int, *, sign: bool = False) -> Posted:
    """POST every request with ``concurrency`` connections; the time, the answers and each answer's delay.

    With ``sign`` the requests are (author, body) pairs, signed one by one as they are sent, as a
    peer's delivery worker does: the client then spends most of its time signing."""
    statuses: dict[str, int] = {}
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, trust_env=False, timeout=timeout) as session:
        queue = iter(requests)

        async def client() -> None:
            # Each client takes the next request until none is left: bounded by len(requests).
            for first, second in queue:
                body, headers = signed(inbox_url, first, second) if sign else (first, second)  # type: ignore[arg-type]
                sent = time.perf_counter()
                try:
                    async with session.post(inbox_url, data=body, headers=headers) as response:
                        await response.read()
                        status = str(response.status)
                except TimeoutError:
                    status = "timeout"
                else:
                    latencies.append(time.perf_counter() - sent)
                statuses[status] = statuses.get(status, 0) + 1

        started = time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(client() for _ in range(concurrency))), PHASE_TIMEOUT)
        elapsed = time.perf_counter() - started
    return Posted(elapsed, statuses.get("202", 0), statuses, latencies)


async def process_all(settings: Settings, accepted: int) -> tuple[float, int]:
    """Seconds for the worker to process every stored item (run_once until idle), and how many."""
    async with open_runtime(settings) as runtime:
        async with runtime.ctx.sessions() as session:
            expected = await session.scalar(select(func.count()).select_from(InboxItem)) or 0
        # Every 202 must be a stored row; a request that timed out may have been stored too.
        if expected < accepted:
            raise RuntimeError(f"{accepted} activities accepted but {expected} stored")
        deadline = time.monotonic() + PHASE_TIMEOUT
        started = time.perf_counter()
        for _ in range(MAX_WORKER_PASSES):
            if await runtime.worker.run_once() == 0 or time.monotonic() > deadline:
                break
        elapsed = time.perf_counter() - started
        async with runtime.ctx.sessions() as session:
            done = await session.scalar(select(func.count()).where(InboxItem.state == "done"))
            notes = await session.scalar(select(func.count()).where(StoredObject.is_local.is_(False)))
    if done != expected or notes != expected:
        raise RuntimeError(f"processed {done} of {expected} items, stored {notes} notes")
    return elapsed, expected


async def one_run(database_url: str, args: Any, workdir: Path) -> RunResult:
    port = free_port()
    settings = settings_for(database_url, port, workdir)
    remotes = await seed(settings, args.actors)
    inbox_url = f"http://127.0.0.1:{port}/inbox"
    requests = await asyncio.to_thread(signed_requests, inbox_url, remotes, args.activities)
    # Other activities for the signing client: the same ones again would be answered as duplicates.
    unsigned = activity_bodies(remotes, args.activities, first=args.activities)
    env = {
        "FEDIHUB_BASE_URL": settings.base_url, "FEDIHUB_DATABASE_URL": database_url,
        "FEDIHUB_DATA_DIR": str(workdir), "FEDIHUB_SECRET_KEY": SECRET, "FEDIHUB_LOG_LEVEL": "WARNING",
        # All the fake actors are on one host and send as fast as they can: this measures what the
        # inbox can take, so the per-host and per-actor rate limits must not be what it measures.
        "FEDIHUB_INBOX_HOST_REQUESTS": str(10 * args.activities),
        "FEDIHUB_INBOX_ACTOR_REQUESTS": str(10 * args.activities),
        "FEDIHUB_INBOX_HOST_BYTES": str(max(10_000 * args.activities, 20_000_000)),
        "FEDIHUB_INBOX_ACTOR_BYTES": str(max(10_000 * args.activities, 5_000_000)),
    }
    with SinkProcess() as sink:
        baseline = await post_all(sink.url("/inbox"), requests, args.concurrency)
        baseline_signing = await post_all(sink.url("/inbox"), unsigned, args.concurrency, sign=True)
    server = FedihubServer(port=port, env=env, args=["--no-worker", "--no-migrate"], log_path=workdir / "serve.log")
    with server:
        cpu = psutil.Process(server.pid)
        cpu_before = sum(cpu.cpu_times()[:2])
        posted = await post_all(inbox_url, requests, args.concurrency)
        server_cpu = sum(cpu.cpu_times()[:2]) - cpu_before
        posted_signing = await post_all(inbox_url, unsigned, args.concurrency, sign=True)
    n = posted.accepted
    for phase in (posted, posted_signing):
        if phase.accepted != args.activities:
            say(f"    answers: {phase.statuses} (expected {args.activities} times 202)")
    cpu_before = time.process_time()
    process_seconds, processed = await process_all(settings, n + posted_signing.accepted)
    worker_cpu = time.process_time() - cpu_before
    return RunResult(
        accepted_per_second=n / posted.seconds, baseline_per_second=args.activities / baseline.seconds,
        accepted_signing_per_second=posted_signing.accepted / posted_signing.seconds,
        baseline_signing_per_second=args.activities / baseline_signing.seconds,
        slow_share=max(posted.slow_share, posted_signing.slow_share),
        unanswered=posted.statuses.get("timeout", 0) + posted_signing.statuses.get("timeout", 0),
        processed_per_second=processed / process_seconds, server_cpu_ms=server_cpu / n * 1000,
        worker_cpu_ms=worker_cpu / processed * 1000,
    )


async def run_backend(name: str, new_database: Callable[[], Any], args: Any, workdir: Path) -> dict[str, Any]:
    runs: list[RunResult] = []
    for run in range(args.repeat):
        async with new_database() as url:
            result = await one_run(url, args, workdir)
        runs.append(result)
        say(f"  {name} run {run + 1}/{args.repeat}: signing client: accepted "
            f"{result.accepted_signing_per_second:.0f}/s "
            f"(bare receiver {result.baseline_signing_per_second:.0f}/s); pre-signed: accepted "
            f"{result.accepted_per_second:.0f}/s (bare receiver {result.baseline_per_second:.0f}/s; "
            f"{result.server_cpu_ms:.1f} ms server CPU each); {result.slow_share:.1%} over {SLOW_SECONDS:.0f} s, "
            f"{result.unanswered} unanswered; processed {result.processed_per_second:.0f}/s "
            f"({result.worker_cpu_ms:.1f} ms worker CPU each)")
    series = {
        "accepted": [r.accepted_per_second for r in runs],
        "baseline": [r.baseline_per_second for r in runs],
        "accepted_signing": [r.accepted_signing_per_second for r in runs],
        "baseline_signing": [r.baseline_signing_per_second for r in runs],
        "processed": [r.processed_per_second for r in runs],
        # Each run's own ratio: both sides of it share that run's noise.
        "ratio_signing": [r.accepted_signing_per_second / r.baseline_signing_per_second for r in runs],
        "ratio": [r.accepted_per_second / r.baseline_per_second for r in runs],
    }
    return {**{f"{key}_per_second" if not key.startswith("ratio") else key: median(values)
               for key, values in series.items()},
            "slow_share": median([r.slow_share for r in runs]),
            "unanswered": sum(r.unanswered for r in runs),
            "server_cpu_ms_per_activity": median([r.server_cpu_ms for r in runs]),
            "worker_cpu_ms_per_activity": median([r.worker_cpu_ms for r in runs]),
            "runs": series}


async def main_async(args: Any) -> dict[str, Any]:
    results: dict[str, Any] = {"activities": args.activities, "concurrency": args.concurrency, "repeat": args.repeat}
    say(f"inbox: {args.activities} signed Create(Note)s from {args.actors} followed remote actors, "
        f"{args.concurrency} concurrent connections, {args.repeat} runs per database")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sqlite = SqliteDatabases(workdir)

        @contextlib.asynccontextmanager
        async def new_sqlite() -> Any:
            url = await sqlite.create()
            try:
                yield url
            finally:
                sqlite.remove(url)

        backends: list[tuple[str, Callable[[], Any]]] = [("sqlite", new_sqlite)]
        reason = None if args.no_postgres else await postgres_reason()
        if args.no_postgres:
            reason = "--no-postgres given"
        if reason is None:
            backends.append(("postgresql", postgres_database))
        else:
            results["postgresql_skipped"] = reason
        for name, factory in backends:
            results[name] = await run_backend(name, factory, args, workdir)
    say(f"\nmedians of {args.repeat} runs (min–max in brackets); the target is accepted ≥ 0.5 × the bare"
        " sign-and-POST rate")
    say(f"  {'database':12} {'sign-and-POST: bare':>22} {'accepted':>20} {'ratio':>6}"
        f"   {'pre-signed: bare':>19} {'accepted':>20} {'ratio':>6} {'server CPU':>11}"
        f" {'over 2 s':>9} {'processed by the worker':>36}")
    for name, _ in backends:
        r = results[name]
        runs = r["runs"]
        say(f"  {name:12} {r['baseline_signing_per_second']:7.0f}/s [{spread(runs['baseline_signing']):>11}]"
            f" {r['accepted_signing_per_second']:6.0f}/s [{spread(runs['accepted_signing']):>11}]"
            f" {r['ratio_signing']:5.2f}×"
            f"   {r['baseline_per_second']:6.0f}/s [{spread(runs['baseline']):>11}]"
            f" {r['accepted_per_second']:6.0f}/s [{spread(runs['accepted']):>11}] {r['ratio']:5.2f}×"
            f" {r['server_cpu_ms_per_activity']:5.1f} ms each"
            f" {r['slow_share']:8.1%}"
            f" {r['processed_per_second']:6.0f}/s [{spread(runs['processed']):>9}]"
            f" {r['worker_cpu_ms_per_activity']:5.1f} ms CPU each")
    if reason is not None:
        say(f"  postgresql   skipped: {reason}")
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = base_parser(__doc__.splitlines()[0], repeat=3)
    parser.add_argument("--activities", type=int, default=500, help="distinct Create(Note)s per run (default 500)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent client connections (default 32)")
    parser.add_argument("--actors", type=int, default=8, help="fake remote actors, each with its own key (default 8)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args(argv)
    try:
        results = asyncio.run(main_async(args))
    except PostgresUnavailable as exc:
        raise SystemExit(f"PostgreSQL went away during the run: {exc}") from None
    write_json(args.json_path, results)
    return results


if __name__ == "__main__":
    main()
