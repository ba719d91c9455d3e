"""Helpers shared by the benchmarks: fresh databases, medians, free ports, JSON results, page probes."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from fedihub.storage.db import create_engine
from fedihub.storage.migrate import upgrade_to_head
from fedihub.storage.models import Actor, Follow

if TYPE_CHECKING:
    from sink import SinkProcess

# Same variable as the test suite: an admin connection allowed to CREATE and DROP databases.
POSTGRES_ADMIN_DSN = os.environ.get("FEDIHUB_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
LOOPBACK = "127.0.0.1"
# Loopback only: never route these requests through a proxy named in the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class PostgresUnavailable(RuntimeError):
    pass


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float]) -> str:
    """min–max, to show how noisy the shared machine was."""
    return f"{min(values):.0f}–{max(values):.0f}" if values else "-"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def base_parser(description: str, *, repeat: int) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--repeat", type=int, default=repeat, help=f"runs per figure; medians printed (default {repeat})"
    )
    parser.add_argument("--json", dest="json_path", type=Path, default=None, help="also write the results here")
    return parser


def write_json(path: Path | None, results: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def say(*parts: Any) -> None:
    print(*parts, flush=True)


async def migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_to_head(engine)
    finally:
        await engine.dispose()


class SqliteDatabases:
    """Fresh migrated SQLite files, copied from a template migrated once (migration takes ~1 s)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._template: Path | None = None

    async def create(self) -> str:
        if self._template is None:
            template = self.workdir / "template.sqlite3"
            await migrate(f"sqlite+aiosqlite:///{template}")
            self._template = template
        path = self.workdir / f"bench-{uuid.uuid4().hex[:10]}.sqlite3"
        shutil.copyfile(self._template, path)
        return f"sqlite+aiosqlite:///{path}"

    def remove(self, url: str) -> None:
        path = Path(url.split(":///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{path}{suffix}").unlink()


async def _admin() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise PostgresUnavailable(f"PostgreSQL is not reachable through FEDIHUB_TEST_POSTGRES_DSN: {exc}") from exc


def _async_url(database: str) -> str:
    rest = POSTGRES_ADMIN_DSN.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+asyncpg://{rest}/{database}"


async def postgres_reason() -> str | None:
    """None when PostgreSQL is usable, else why not (printed instead of the figure)."""
    try:
        admin = await _admin()
    except PostgresUnavailable as exc:
        return str(exc)
    await admin.close()
    return None


@contextlib.asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A fresh migrated PostgreSQL database, dropped afterwards."""
    name = f"fedihub_bench_{uuid.uuid4().hex[:12]}"
    admin = await _admin()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        url = _async_url(name)
        await migrate(url)
        yield url
    finally:
        admin = await _admin()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


class FedihubServer:
    """`fedihub serve` as a subprocess on 127.0.0.1, configured through FEDIHUB_* variables."""

    def __init__(self, *, port: int, env: dict[str, str], args: Sequence[str] = (), log_path: Path) -> None:
        self.port = port
        self.env = env
        self.args = list(args)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, path: str = "/") -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def start(self, *, timeout: float = 60.0, probe: str = "http") -> FedihubServer:
        """Start and wait until ready: ``probe="http"`` GETs a page, ``"tcp"`` only connects.

        uvicorn listens only after the app's startup finished, so a TCP connect is enough to
        know it is ready without sending it a single request (the memory benchmark needs that).
        """
        command = [
            str(Path(sys.executable).with_name("fedihub")), "serve", "--host", LOOPBACK, "--port", str(self.port)
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command + self.args, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if probe == "tcp":
                    socket.create_connection((LOOPBACK, self.port), timeout=2).close()
                    return self
                with _DIRECT.open(self.url("/.well-known/nodeinfo"), timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.1)  # polling a child process's readiness: there is no event to wait on
        tail = self.log_path.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"fedihub serve did not become ready within {timeout:.0f} s:\n{tail}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> FedihubServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --- A swarm of remote followers ------------------------------------------------------------------


async def add_remote_followers(database_url: str, base_url: str, username: str, sink: SinkProcess,
                               count: int) -> None:
    """``count`` remote servers following ``username``, each with its own shared inbox on the sink, keys cached."""
    engine = create_async_engine(database_url)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as connection:
            target_id = (await connection.execute(
                select(Actor.id).where(Actor.local_username == username))).scalar_one()
            rows = []
            for n in range(count):
                uri = sink.url(f"/i/{n}/users/member")
                rows.append({
                    "uri": uri, "type": "Person", "username": "member", "domain": f"{LOOPBACK}:{sink.port}",
                    "is_local": False, "inbox": f"{uri}/inbox", "shared_inbox": sink.url(f"/i/{n}/inbox"),
                    "followers_uri": f"{uri}/followers", "public_key_id": f"{uri}#main-key", "fetched_at": now,
                    "created_at": now, "updated_at": now,
                })
            await connection.execute(insert(Actor), rows)
            ids = (await connection.execute(
                select(Actor.id).where(Actor.domain == f"{LOOPBACK}:{sink.port}"))).scalars().all()
            await connection.execute(insert(Follow), [
                {"uri": f"{base_url}/follows/swarm-{actor_id}", "follower_id": actor_id, "target_id": target_id,
                 "state": "accepted", "created_at": now, "updated_at": now}
                for actor_id in ids
            ])
    finally:
        await engine.dispose()


# --- A page's latency -----------------------------------------------------------------------------


class PageProbe:
    """GETs one page, ``per_second`` times a second when running in the background, recording latencies (ms).

    ``fresh_query`` adds a query parameter that changes at every request, so that no cache holds the
    answer and every request is rendered: the page as it is while its content keeps changing.
    """

    def __init__(self, url: str, per_second: float = 20.0, *, fresh_query: bool = False) -> None:
        self.url = url
        self.per_second = per_second
        self.fresh_query = fresh_query
        self.latencies: list[float] = []
        self.errors = 0
        self._sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _once(self) -> None:
        self._sent += 1
        url = self.url
        if self.fresh_query:
            url += ("&" if "?" in url else "?") + f"probe={self._sent}"
        request = urllib.request.Request(url, headers={"Accept": "text/html"})
        started = time.perf_counter()
        try:
            with _DIRECT.open(request, timeout=30) as response:
                response.read()
        except OSError:
            self.errors += 1
            return
        self.latencies.append((time.perf_counter() - started) * 1000)

    def _run(self) -> None:
        # People clicking the call's link, at a steady pace: a tight loop would itself be the storm.
        interval = 1 / self.per_second
        due = time.monotonic()
        while not self._stop.is_set():
            self._once()
            due += interval
            self._stop.wait(max(0.0, due - time.monotonic()))

    def measure(self, requests: int) -> list[float]:
        for _ in range(requests):
            self._once()
        return self.latencies

    def __enter__(self) -> PageProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=35)


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
