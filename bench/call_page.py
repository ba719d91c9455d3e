"""The call page while the worker delivers to 1,000 inboxes: its latency beside the same page idle.

Setup per run: a fresh migrated SQLite database with one coalition, a post
and an upcoming call; 1,000 remote servers follow the coalition, each with its own shared inbox on one
sink (bench/sink.py); `fedihub serve` with its worker inside, as the README's first command runs it.

Each run measures the call's HTML page twice, at a steady pace (people clicking the call's link):
- **idle**: the server has nothing else to do (this run's baseline);
- **during the fan-out**: with the server stopped, the coalition posts ``--posts`` announcements with
  `fedihub post` (the commands' own CPU is not the worker's), then the server starts with every
  follower's delivery due, and the page is read until the sink received all of them.

Two readers each time: one asks for the page as any visitor's link gives it (answered from the
in-process cache while nothing shown changed), one adds a query that changes at every request, so
every answer is rendered anew (the page while its content keeps changing, as on a day of pledges).
The target: p95 of the call page under 100 ms while the worker delivers a 1,000-inbox fan-out on SQLite.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402  (bench scripts run as files, not as a package)
    LOOPBACK,
    FedihubServer,
    PageProbe,
    SqliteDatabases,
    add_remote_followers,
    base_parser,
    free_port,
    median,
    percentile,
    say,
    spread,
    write_json,
)
from reads import seed  # noqa: E402
from sink import SinkProcess  # noqa: E402

SECRET = "bench-secret-bench-secret-bench-secret"
FEDIHUB = Path(sys.executable).with_name("fedihub")
PER_SECOND = 10.0  # each reader; two readers
READERS = ("cached", "rendered")


def post_announcements(env: dict[str, str], count: int) -> None:
    """The coalition posts ``count`` announcements with `fedihub post`, each queued for every follower."""
    for n in range(count):
        subprocess.run([str(FEDIHUB), "post", "tenants", "--text", f"Update {n + 1} on the day of action."],
                       env={**os.environ, **env}, check=True, capture_output=True, timeout=120)


def warm_up(page: str) -> None:
    for reader in READERS:
        PageProbe(page, fresh_query=reader == "rendered").measure(3)


def wait_for_deliveries(sink: SinkProcess, expected: int, timeout: float) -> float:
    """Seconds until the sink has received ``expected`` POSTs (polled: the sink is another process)."""
    started = time.monotonic()
    while sink.stats()["posts"] < expected:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"only {sink.stats()['posts']:.0f} of {expected} deliveries within {timeout:.0f} s")
        time.sleep(0.2)
    return time.monotonic() - started


def one_run(database_url: str, workdir: Path, sink: SinkProcess, args: Any) -> dict[str, Any]:
    from fedihub.settings import Settings

    port = free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    env = {
        "FEDIHUB_BASE_URL": base_url, "FEDIHUB_DATABASE_URL": database_url, "FEDIHUB_SECRET_KEY": SECRET,
        # Every inbox is on 127.0.0.1: the SSRF guard must let the deliveries through.
        "FEDIHUB_ALLOW_PRIVATE_ADDRESSES": "1", "FEDIHUB_LOG_LEVEL": "WARNING",
    }
    settings = Settings(base_url=base_url, database_url=database_url, secret_key=SECRET, allow_private_addresses=True)
    call_path = "/" + asyncio.run(seed(settings))
    asyncio.run(add_remote_followers(database_url, base_url, "tenants", sink, args.inboxes))
    page = base_url + call_path
    figures: dict[str, Any] = {}
    server = FedihubServer(port=port, env=env, args=["--no-migrate"], log_path=workdir / "serve.log")
    with server:
        warm_up(page)
        for reader in READERS:
            figures[f"idle {reader}"] = PageProbe(page, fresh_query=reader == "rendered").measure(args.idle_requests)
    # Posted while the server is stopped, so that the commands' own work (a second or so of CPU each)
    # is not counted against the worker: the server starts with the fan-out due and delivers it.
    post_announcements(env, args.posts)
    sink.reset()
    expected = args.posts * args.inboxes
    with server:
        started = time.monotonic()
        warm_up(page)  # a fresh process: templates compiled, the read cache filled
        probes = {reader: PageProbe(page, PER_SECOND, fresh_query=reader == "rendered") for reader in READERS}
        with probes["cached"], probes["rendered"]:
            wait_for_deliveries(sink, expected, timeout=args.timeout)
        elapsed = time.monotonic() - started
    for reader, probe in probes.items():
        figures[f"storm {reader}"] = probe.latencies
        figures[f"storm {reader} errors"] = probe.errors
    figures["deliveries/s"] = expected / elapsed
    figures["storm seconds"] = elapsed
    return figures


def run(args: Any) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fedihub-bench-call-page-") as tmp, SinkProcess() as sink:
        for number in range(args.repeat):
            workdir = Path(tmp) / f"run-{number}"
            workdir.mkdir()
            url = asyncio.run(SqliteDatabases(workdir).create())
            runs.append(one_run(url, workdir, sink, args))
            figures = runs[-1]
            say(f"run {number + 1}/{args.repeat}: p95 idle {percentile(figures['idle rendered'], 0.95):.1f} ms, "
                f"storm {percentile(figures['storm rendered'], 0.95):.1f} ms (rendered); "
                f"{figures['deliveries/s']:.0f} deliveries/s")
    return summarize(runs)


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for phase in ("idle", "storm"):
        for reader in READERS:
            key = f"{phase} {reader}"
            for label, share in (("median", 0.5), ("p95", 0.95)):
                summary[f"{key} {label} ms"] = [percentile(r[key], share) for r in runs]
            summary[f"{key} requests"] = [len(r[key]) for r in runs]
    for reader in READERS:
        summary[f"storm {reader} errors"] = [r[f"storm {reader} errors"] for r in runs]
    summary["deliveries/s"] = [r["deliveries/s"] for r in runs]
    summary["storm seconds"] = [r["storm seconds"] for r in runs]
    return summary


def report(summary: dict[str, Any], args: Any) -> None:
    print(f"\nThe call page, {args.repeat} runs (medians of each run's figure, min–max); "
          f"{args.posts} posts × {args.inboxes} inboxes delivered during the storm")
    print(f"{'':34}{'median':>22}{'p95':>22}")
    for reader in READERS:
        for phase in ("idle", "storm"):
            key = f"{phase} {reader}"
            cells = [f"{median(summary[f'{key} {label} ms']):7.1f} ms ({spread(summary[f'{key} {label} ms'])})"
                     for label in ("median", "p95")]
            print(f"{reader + ' page, ' + ('idle' if phase == 'idle' else 'during fan-out'):34}"
                  f"{cells[0]:>22}{cells[1]:>22}")
    print(f"requests measured per run during the storm: {median(summary['storm cached requests']):.0f} cached, "
          f"{median(summary['storm rendered requests']):.0f} rendered; errors: "
          f"{sum(summary['storm cached errors']) + sum(summary['storm rendered errors'])}")
    print(f"deliveries/s during the storm: {median(summary['deliveries/s']):.0f} "
          f"({spread(summary['deliveries/s'])}); storm lasted {median(summary['storm seconds']):.1f} s")
    print("target: p95 under 100 ms during the fan-out, on SQLite")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = base_parser(__doc__.splitlines()[0], repeat=3)
    parser.add_argument("--inboxes", type=int, default=1000, help="remote servers following (default 1000)")
    parser.add_argument("--posts", type=int, default=8, help="announcements delivered during the storm (default 8)")
    parser.add_argument("--idle-requests", type=int, default=100, help="idle page reads per reader (default 100)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for every delivery")
    args = parser.parse_args(argv)
    summary = run(args)
    report(summary, args)
    write_json(args.json_path, summary)
    return summary


if __name__ == "__main__":
    main()
