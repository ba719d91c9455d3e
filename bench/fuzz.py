"""Fuzz the inbox: ≥ 10,000 hostile POSTs (random activity shapes, signature header permutations, raw
garbage) against a real in-process server and worker, then the three figures that must hold.

Setup: a fresh migrated SQLite database (PostgreSQL with --postgres), one fedihub instance (the ASGI app
and its worker, in this process, as the federation tests run it), a coalition, and a fake remote server
(masto.test) whose actor has an RSA key: most cases are signed by it, so they pass authentication and
reach the worker (each batch after the first is signed by a new actor with the same key, which the
coalition follows: a case may rightly end its signer, by its own Delete for one). Cases come from
the Hypothesis strategies in tests/support/fuzzing.py, drawn with a fixed seed (--seed) so a run can
be repeated. They are sent in batches; after each batch the worker runs
until idle. Printed at the end:

- 5xx answers: must be 0 (every bad input is a 4xx, or a 202 and then a classified failure);
- unclassified worker errors: errors logged with a traceback, by the worker or the web layer: must be 0;
- queue drain time: seconds the worker took, over all batches, to run the accepted items to done or
  failed, and how many are still waiting for a retry (must be 0: a bad input is never retried).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from common import SqliteDatabases, base_parser, postgres_database, say, write_json

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.fake_peer import add_fake_peer  # noqa: E402
from tests.support.fuzzing import cases, fresh_signer, prepare_world, run_cases, sample  # noqa: E402
from tests.support.network import FederationNet  # noqa: E402

BATCH = 500


async def fuzz(make_database: Callable[[], Awaitable[str]], total: int, seed: int) -> dict[str, Any]:
    net = FederationNet(make_database=make_database)
    try:
        # Every case comes from one fake server: lift the per-host and per-actor intake limits (as
        # bench/inbox.py does), or most cases would be answered 429 and never reach the worker.
        instance = await net.add_instance(
            "a.test", inbox_host_requests=10 * total, inbox_actor_requests=10 * total,
            inbox_host_bytes=max(20_000_000, 100_000 * total), inbox_actor_bytes=max(20_000_000, 100_000 * total),
            key_fetches_per_host=10 * total,
        )
        peer = add_fake_peer(net, "masto.test", REPO / "tests" / "fixtures", usernames=("alice", "bob"))
        world, server = await prepare_world(net, instance, peer)
        statuses: Counter[int] = Counter()
        server_errors: list[str] = []
        tracebacks: list[str] = []
        drain = 0.0
        sent = 0
        started = time.monotonic()
        batch_seed = seed
        while sent < total:
            if sent:
                world = await fresh_signer(net, instance, peer, world, batch_seed)
            drawn = sample(cases(world), min(BATCH, total - sent), seed_value=batch_seed)
            batch_seed += 1
            report = await run_cases(net, instance, peer, drawn, server)
            sent += report.cases
            statuses.update(report.statuses)
            server_errors += report.server_errors
            tracebacks += report.tracebacks
            drain += report.drain_seconds
            say(f"  {sent:>6} cases  5xx {len(server_errors)}  tracebacks {len(tracebacks)}  "
                f"drain {drain:.1f} s  waiting {report.pending}")
        return {
            "cases": sent, "seconds": time.monotonic() - started, "statuses": dict(sorted(statuses.items())),
            "server_errors": len(server_errors), "unclassified_worker_errors": len(tracebacks),
            "drain_seconds": drain, "waiting_for_retry": report.pending, "retried": report.retried,
            "examples": {"5xx": server_errors[:5], "tracebacks": tracebacks[:5], "waiting": report.pending_errors[:5]},
        }
    finally:
        await net.close()


async def main() -> int:
    parser = base_parser(__doc__.splitlines()[0], repeat=1)
    parser.add_argument("--cases", type=int, default=10_000, help="how many POSTs (default 10,000)")
    parser.add_argument("--seed", type=int, default=10, help="seed of the first batch (default 10)")
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fedihub-fuzz-") as workdir:
        if args.postgres:
            databases: list[str] = []

            async def make_postgres() -> str:
                context = postgres_database()
                databases.append(context)  # type: ignore[arg-type]
                return await context.__aenter__()

            try:
                results = await fuzz(make_postgres, args.cases, args.seed)
            finally:
                for context in databases:
                    await context.__aexit__(None, None, None)  # type: ignore[attr-defined]
        else:
            results = await fuzz(SqliteDatabases(Path(workdir)).create, args.cases, args.seed)
    say(f"\n{results['cases']} cases in {results['seconds']:.0f} s; answers: {results['statuses']}")
    say(f"5xx answers:                 {results['server_errors']}")
    say(f"unclassified worker errors:  {results['unclassified_worker_errors']}")
    say(f"queue drain time:            {results['drain_seconds']:.1f} s "
        f"({results['waiting_for_retry']} items waiting for a retry, {results['retried']} retried)")
    for kind, examples in results["examples"].items():  # 5xx, tracebacks, waiting
        for example in examples:
            say(f"  {kind}: {example}")
    write_json(args.json_path, results)
    failed = results["server_errors"] or results["unclassified_worker_errors"] or results["waiting_for_retry"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
