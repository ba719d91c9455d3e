"""Memory: resident set size of an idle `fedihub serve` after startup and after a few requests.

The server runs as a user would start it (SQLite, the queue worker in the same process), with one
coalition so its pages have something to show. RSS is read with psutil (also USS, the memory only
this process holds, when the platform exposes it); figures are medians over several fresh starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
from common import LOOPBACK, FedihubServer, base_parser, free_port, median, say, write_json

SECRET = "bench-only-secret"
SETTLE_SECONDS = 1.0
MIB = 1024 * 1024
AS2 = "application/activity+json"
# Loopback only: never route these requests through a proxy named in the environment.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def memory_of(pid: int) -> dict[str, float]:
    """RSS (and USS when readable) in MiB of the process and any children it started."""
    root = psutil.Process(pid)
    processes = [root, *root.children(recursive=True)]
    rss = sum(p.memory_info().rss for p in processes)
    try:
        uss: float | None = sum(p.memory_full_info().uss for p in processes)
    except (psutil.AccessDenied, AttributeError):
        uss = None
    return {"rss_mib": rss / MIB, "uss_mib": (uss / MIB) if uss is not None else float("nan")}


def requests_for(base: str) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    """A visitor and a peer: home page, coalition page and actor, WebFinger, NodeInfo, inbox POSTs."""
    return [
        ("GET", f"{base}/", {"Accept": "text/html"}, None),
        ("GET", f"{base}/g/bench", {"Accept": "text/html"}, None),
        ("GET", f"{base}/g/bench", {"Accept": AS2}, None),
        ("GET", f"{base}/g/bench/outbox", {"Accept": AS2}, None),
        ("GET", f"{base}/g/bench/followers", {"Accept": AS2}, None),
        ("GET", f"{base}/actor", {"Accept": AS2}, None),
        ("GET", f"{base}/.well-known/webfinger?resource=acct:bench@127.0.0.1", {}, None),
        ("GET", f"{base}/.well-known/nodeinfo", {}, None),
        ("GET", f"{base}/nodeinfo/2.1", {}, None),
        # An unsigned delivery is refused (401) after parsing: the error path costs memory too.
        ("POST", f"{base}/inbox", {"Content-Type": AS2},
         b'{"id":"http://127.0.0.1:9/a/1","type":"Create","actor":"http://127.0.0.1:9/u"}'),
    ]


def send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with DIRECT.open(request, timeout=10) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        exc.read()
        return exc.code


def prepare(env: dict[str, str]) -> None:
    """Migrate and create one coalition through the CLI, as an operator would."""
    fedihub = str(Path(sys.executable).with_name("fedihub"))
    for command in (["migrate"], ["coalition", "create", "bench", "--name", "Bench coalition"]):
        subprocess.run([fedihub, *command], env=env, check=True, capture_output=True, timeout=120)


def one_start(env: dict[str, str], port: int, workdir: Path, rounds: int) -> dict[str, float]:
    server = FedihubServer(port=port, env=env, log_path=workdir / "serve.log")
    server.start(probe="tcp")
    try:
        time.sleep(SETTLE_SECONDS)  # let startup garbage settle; nothing to wait on, it is idle
        idle = memory_of(server.pid)
        statuses: dict[int, int] = {}
        for _ in range(rounds):
            for method, url, headers, body in requests_for(server.url("").rstrip("/")):
                status = send(method, url, headers, body)
                statuses[status] = statuses.get(status, 0) + 1
        time.sleep(SETTLE_SECONDS)
        busy = memory_of(server.pid)
    finally:
        server.stop()
    if set(statuses) - {200, 401}:
        raise RuntimeError(f"unexpected answers from the server: {statuses}")
    return {"idle_rss": idle["rss_mib"], "idle_uss": idle["uss_mib"],
            "after_rss": busy["rss_mib"], "after_uss": busy["uss_mib"], "requests": float(sum(statuses.values()))}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = base_parser(__doc__.splitlines()[0], repeat=3)
    parser.add_argument("--rounds", type=int, default=20, help="rounds of the 10 requests after startup (default 20)")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = free_port()
        env = {
            **os.environ,
            "FEDIHUB_BASE_URL": f"http://{LOOPBACK}:{port}",
            "FEDIHUB_DATA_DIR": str(workdir),
            "FEDIHUB_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'fedihub.sqlite3'}",
            "FEDIHUB_SECRET_KEY": SECRET,
            "FEDIHUB_LOG_LEVEL": "WARNING",
        }
        prepare(env)
        for run in range(args.repeat):
            result = one_start(env, port, workdir, args.rounds)
            runs.append(result)
            say(f"  start {run + 1}/{args.repeat}: idle {result['idle_rss']:.1f} MiB RSS, "
                f"after {result['requests']:.0f} requests {result['after_rss']:.1f} MiB RSS")
    results: dict[str, Any] = {key: median([r[key] for r in runs]) for key in runs[0]}
    results["runs"] = runs
    say(f"\n`fedihub serve` (SQLite, worker in-process), medians of {args.repeat} starts")
    say(f"  idle after startup           RSS {results['idle_rss']:6.1f} MiB   USS {results['idle_uss']:6.1f} MiB")
    say(f"  after {results['requests']:.0f} requests           RSS {results['after_rss']:6.1f} MiB   "
        f"USS {results['after_uss']:6.1f} MiB")
    write_json(args.json_path, results)
    return results


if __name__ == "__main__":
    main()
