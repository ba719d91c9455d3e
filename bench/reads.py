"""Public reads under load: fedihub's documents and pages against a bare Starlette JSON endpoint.

Both are served by uvicorn with the settings `fedihub serve` uses, each in its own process; one
load generator (plain asyncio HTTP/1.1 keep-alive connections, 32 at once) measures requests per
second for each path, the bare endpoint in the same round so both see the same machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402  (bench scripts run as files, not as a package)
    LOOPBACK,
    FedihubServer,
    SqliteDatabases,
    base_parser,
    free_port,
    median,
    say,
    spread,
    write_json,
)

CONNECTIONS = 32
AS2 = "application/activity+json"
HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"


@dataclass(frozen=True)
class Target:
    label: str
    path: str
    headers: dict[str, str]
    status: int = 200


# --- The bare endpoint, served by `python bench/reads.py --serve-bare PORT` ----------------------------


def serve_bare(port: int, log_level: str) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: Any) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    app = Starlette(routes=[Route("/json", hello)])
    # The settings of `fedihub serve` (cli.py), so the two differ only by what the app does.
    uvicorn.run(app, host=LOOPBACK, port=port, log_level=log_level, proxy_headers=True, server_header=False)


@contextlib.contextmanager
def bare_server(port: int, log_level: str, log_path: Path) -> Any:
    import subprocess
    import urllib.request

    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, __file__, "--serve-bare", str(port), "--log-level", log_level],
            stdout=log, stderr=subprocess.STDOUT,
        )
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with direct.open(f"http://{LOOPBACK}:{port}/json", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)  # polling a child process's readiness: there is no event to wait on
        yield
    finally:
        process.terminate()
        process.wait(timeout=15)


# --- The load generator ------------------------------------------------------------------------------


def _request(target: Target, port: int) -> bytes:
    lines = [f"GET {target.path} HTTP/1.1", f"Host: {LOOPBACK}:{port}", "User-Agent: fedihub-bench/reads"]
    lines += [f"{name}: {value}" for name, value in target.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def load(port: int, target: Target, seconds: float, warmup: float = 0.5) -> float:
    """Requests per second over ``seconds`` with CONNECTIONS keep-alive connections in parallel."""
    request = _request(target, port)
    counted = 0
    started = time.monotonic()
    counting_from = started + warmup
    stop_at = counting_from + seconds

    async def connection() -> None:
        nonlocal counted
        reader, writer = await asyncio.open_connection(LOOPBACK, port)
        try:
            while (now := time.monotonic()) < stop_at:
                writer.write(request)
                status = await _read_response(reader)
                if status != target.status:
                    raise RuntimeError(f"{target.label}: {target.path} answered {status}, not {target.status}")
                if now >= counting_from:
                    counted += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return counted / seconds


async def fetch_etag(port: int, target: Target) -> str:
    reader, writer = await asyncio.open_connection(LOOPBACK, port)
    try:
        writer.write(_request(target, port))
        head = await reader.readuntil(b"\r\n\r\n")
    finally:
        writer.close()
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"etag":
            return value.strip().decode("latin-1")
    raise RuntimeError(f"{target.path} carries no ETag")


# --- Seeding -----------------------------------------------------------------------------------------


async def seed(settings: Any) -> str:
    """A coalition with a post and an upcoming call; returns the call's path."""
    from fedihub.app import open_runtime
    from fedihub.coalitions import calls, service

    async with open_runtime(settings) as runtime:
        ctx = runtime.ctx
        async with ctx.sessions.begin() as session:
            await service.create_coalition(
                ctx, session, "tenants", name="Chicago Tenants", summary="Tenants organising for rent control."
            )
        async with ctx.sessions.begin() as session:
            await service.post_note(ctx, session, "tenants", "Meeting on Thursday at the library.")
        start = datetime.now(UTC) + timedelta(days=10)
        async with ctx.sessions.begin() as session:
            call = await calls.publish_call(ctx, session, "tenants", calls.CallInput(
                title="National day of action for rent control", description="Rally at **city hall**.",
                start=start, end=start + timedelta(hours=2), timezone="America/Chicago", place_name="City Hall",
                movements=["housing"], region_state="Illinois",
            ))
    return call.uri.split("://", 1)[1].split("/", 1)[1]


# --- The run -----------------------------------------------------------------------------------------


async def main_async(repeat: int, seconds: float) -> dict[str, Any]:
    from fedihub.settings import Settings

    with tempfile.TemporaryDirectory(prefix="fedihub-bench-reads-") as tmp:
        workdir = Path(tmp)
        databases = SqliteDatabases(workdir)
        url = await databases.create()
        port, bare_port = free_port(), free_port()
        env = {
            "FEDIHUB_BASE_URL": f"http://{LOOPBACK}:{port}", "FEDIHUB_DATABASE_URL": url,
            "FEDIHUB_SECRET_KEY": "bench-secret-bench-secret-bench-secret",
        }
        settings = Settings(base_url=env["FEDIHUB_BASE_URL"], database_url=url, secret_key=env["FEDIHUB_SECRET_KEY"])
        call_path = "/" + await seed(settings)
        targets = [
            Target("actor JSON", "/g/tenants", {"Accept": AS2}),
            Target("call JSON", call_path, {"Accept": AS2}),
            Target("call HTML", call_path, {"Accept": HTML}),
            Target("home page", "/", {"Accept": HTML}),
            Target("coalition page", "/g/tenants", {"Accept": HTML}),
        ]
        bare = Target("bare JSON", "/json", {"Accept": "application/json"})
        figures: dict[str, list[float]] = {t.label: [] for t in [bare, *targets]}
        figures["revalidation 304"] = []
        server = FedihubServer(port=port, env=env, args=["--no-migrate"], log_path=workdir / "serve.log")
        with server, bare_server(bare_port, settings.log_level.lower(), workdir / "bare.log"):
            etag = await fetch_etag(port, targets[0])
            revalidate = Target("revalidation 304", "/g/tenants", {"Accept": AS2, "If-None-Match": etag}, 304)
            for round_number in range(repeat):
                for target in [*targets, revalidate]:
                    # The bare figure measured right before each one, so both see the same load.
                    figures[bare.label].append(await load(bare_port, bare, seconds))
                    figures[target.label].append(await load(port, target, seconds))
                say(f"round {round_number + 1}/{repeat} done")
        return {label: {"median": median(values), "runs": values} for label, values in figures.items()}


def report(results: dict[str, Any]) -> None:
    bare = results["bare JSON"]["median"]
    say(f"\n{'path':<20} {'req/s (median)':>15} {'min–max':>13} {'bare req/s':>11} {'ratio':>7}")
    for label, figure in results.items():
        if label == "bare JSON":
            continue
        say(f"{label:<20} {figure['median']:>15.0f} {spread(figure['runs']):>13} {bare:>11.0f} "
            f"{figure['median'] / bare:>7.2f}")
    say(f"{'bare JSON':<20} {bare:>15.0f} {spread(results['bare JSON']['runs']):>13}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = base_parser(__doc__.splitlines()[0], repeat=3)
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds measured per figure (default 3)")
    parser.add_argument("--serve-bare", type=int, default=None, help=argparse_hidden())
    parser.add_argument("--log-level", default="info", help=argparse_hidden())
    args = parser.parse_args(argv)
    if args.serve_bare is not None:
        serve_bare(args.serve_bare, args.log_level)
        return
    say(f"{CONNECTIONS} connections, {args.seconds:.0f} s per figure, {args.repeat} rounds")
    results = asyncio.run(main_async(args.repeat, args.seconds))
    report(results)
    write_json(args.json_path, {"connections": CONNECTIONS, "results": results})


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
