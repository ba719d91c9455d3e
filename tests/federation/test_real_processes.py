"""Real `fedihub` processes on loopback addresses: wire fidelity, and durability when a worker is killed."""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from fedihub.app import open_runtime
from fedihub.coalitions import service
from fedihub.settings import Settings
from fedihub.storage.db import create_engine
from fedihub.storage.models import Activity, Actor, Delivery, Follow
from tests.conftest import IN_CI
from tests.support.databases import DatabaseFactory, PostgresUnavailable
from tests.support.edges import committed
from tests.support.processes import (
    FEDIHUB,
    PYTHON,
    Process,
    accepts_connections,
    fedihub_env,
    free_port,
    run_fedihub,
    started,
    wait_for,
)
from tests.support.sink_server import read_records

pytestmark = pytest.mark.slow

SINK_SCRIPT = Path(__file__).resolve().parents[1] / "support" / "sink_server.py"
AS2 = {"Accept": "application/activity+json"}


def query(db: Path, sql: str, *params: object) -> list[tuple]:
    """Read another server's SQLite database without writing to it."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as conn:
        return conn.execute(sql, params).fetchall()


async def followers_total(base_url: str, username: str) -> int | None:
    async with httpx.AsyncClient(trust_env=False, timeout=5) as client:
        response = await client.get(f"{base_url}/g/{username}/followers", headers=AS2)
    return response.json()["totalItems"] if response.status_code == 200 else None


async def test_two_servers_follow_each_other_through_the_cli_and_exchange_posts(tmp_path: Path) -> None:
    hosts = {"a": "127.0.0.2", "b": "127.0.0.3"}
    ports = {name: free_port(host) for name, host in hosts.items()}
    base = {name: f"http://{hosts[name]}:{ports[name]}" for name in hosts}
    env = {
        name: fedihub_env(data_dir=tmp_path / name, base_url=base[name], allow_private_addresses="1")
        for name in hosts
    }
    db = {name: tmp_path / name / "fedihub.sqlite3" for name in hosts}

    with started(tmp_path) as start:
        servers = [
            start(f"serve-{name}", [FEDIHUB, "serve", "--host", hosts[name], "--port", str(ports[name])], env=env[name])
            for name in hosts
        ]
        # uvicorn runs the lifespan (migrations included) before it listens.
        await wait_for(
            lambda: all(accepts_connections(hosts[n], ports[n]) for n in hosts),
            what="both servers to listen", timeout=30, watch=servers,
        )

        run_fedihub(
            (["coalition", "create", "tenants", "--name", "Tenants Union"], env["a"]),
            (["coalition", "create", "climate", "--name", "Climate Coalition"], env["b"]),
        )
        # Handles carry the port: name@127.0.0.3:8123 goes through WebFinger on that port.
        answer, _ = run_fedihub(
            (["follow", "tenants", f"climate@{hosts['b']}:{ports['b']}"], env["a"]),
            (["follow", "climate", f"tenants@{hosts['a']}:{ports['a']}"], env["b"]),
        )
        assert f"climate@{hosts['b']}:{ports['b']}" in answer

        async def both_follows_accepted() -> bool:
            totals = [await followers_total(base["a"], "tenants"), await followers_total(base["b"], "climate")]
            states = [state for name in hosts for (state,) in query(db[name], "SELECT state FROM follows")]
            return totals == [1, 1] and states == ["accepted"] * 4

        await wait_for(both_follows_accepted, what="both follows to be accepted", timeout=20, watch=servers)

        note_a, note_b = (
            uri.strip()
            for uri in run_fedihub(
                (["post", "tenants", "--text", "Rent strike on *Thursday*"], env["a"]),
                (["post", "climate", "--text", "Climate march on Saturday"], env["b"]),
            )
        )
        assert note_a.startswith(f"{base['a']}/o/") and note_b.startswith(f"{base['b']}/o/")

        def arrived(name: str, uri: str) -> list[tuple]:
            return query(db[name], "SELECT content, is_local FROM objects WHERE uri = ?", uri)

        await wait_for(
            lambda: bool(arrived("b", note_a)) and bool(arrived("a", note_b)),
            what="each post to reach the other server", timeout=20, watch=servers,
        )
        [(content, is_local)] = arrived("b", note_a)
        assert "<em>Thursday</em>" in content and not is_local
        assert all(p.alive for p in servers)


# --- Durability: a worker SIGKILLed in the middle of a fan-out, on PostgreSQL --------------------

FOLLOWERS = 400
SINK_HOST = "127.0.0.4"
SENDER = "http://sender.test"


async def postgresql_url(database_factory: DatabaseFactory) -> str:
    try:
        return await database_factory.postgresql()
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"{exc} (CI must run the PostgreSQL tests)")
        pytest.skip(str(exc))


async def seed_followers(settings: Settings, sink: str) -> None:
    """One coalition followed by FOLLOWERS remote accounts, each with its own inbox on the sink."""
    async with open_runtime(settings) as runtime:
        tenants = await committed(runtime.ctx, service.create_coalition, "tenants", name="Tenants Union")
        now = datetime.now(UTC)
        async with runtime.ctx.sessions.begin() as session:
            allies = [
                Actor(
                    uri=f"{sink}/users/{i}", type="Person", username=f"ally{i}", domain=sink.split("//")[1],
                    is_local=False, inbox=f"{sink}/users/{i}/inbox", fetched_at=now, created_at=now, updated_at=now,
                )
                for i in range(FOLLOWERS)
            ]
            session.add_all(allies)
            await session.flush()
            session.add_all(
                Follow(
                    uri=f"{ally.uri}/follow", follower_id=ally.id, target_id=tenants.id, state="accepted",
                    created_at=now, updated_at=now,
                )
                for ally in allies
            )


async def post_to_followers(settings: Settings, text: str) -> str:
    """Publish a note through the library; returns its Create's id (FOLLOWERS deliveries queued)."""
    async with open_runtime(settings) as runtime:
        note = await committed(runtime.ctx, service.post_note, "tenants", text)
    return f"{note.uri}/activity"


class Queue:
    """Read-only view of the deliveries of one activity, as the test polls it."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url, pool_size=2)

    async def states(self, activity_uri: str) -> Counter[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(Delivery.state, func.count()).join(Activity, Activity.id == Delivery.activity_id)
                .where(Activity.uri == activity_uri).group_by(Delivery.state)
            )
            return Counter({state: count for state, count in rows})

    async def lease_holders(self, activity_uri: str) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.scalars(
                select(Delivery.locked_by).distinct().join(Activity, Activity.id == Delivery.activity_id)
                .where(Activity.uri == activity_uri, Delivery.locked_by.is_not(None))
            )
            return set(rows.all())

    async def all_delivered(self, activity_uri: str) -> bool:
        return (await self.states(activity_uri))["delivered"] == FOLLOWERS


def owned_by(holders: set[str], worker: Process) -> bool:
    # Worker names are host:pid:nonce (fedihub.worker.worker_name).
    return any(f":{worker.pid}:" in holder for holder in holders)


async def test_a_killed_worker_loses_nothing_and_workers_never_share_a_row(
    tmp_path: Path, database_factory: DatabaseFactory
) -> None:
    database_url = await postgresql_url(database_factory)
    sink_port = free_port(SINK_HOST)
    sink = f"http://{SINK_HOST}:{sink_port}"
    record = tmp_path / "received.jsonl"
    settings = Settings(base_url=SENDER, database_url=database_url, secret_key="durability")
    await seed_followers(settings, sink)
    inboxes = {f"/users/{i}/inbox" for i in range(FOLLOWERS)}

    def worker_env(*, lease: float, concurrency: int) -> dict[str, str]:
        return fedihub_env(
            database_url=database_url, base_url=SENDER, data_dir=tmp_path / "worker", secret_key="durability",
            allow_private_addresses="1", delivery_concurrency=str(concurrency), worker_lease_seconds=str(lease),
        )

    def received(activity_uri: str) -> Counter[str]:
        return Counter(path for path, activity in read_records(record) if activity == activity_uri)

    queue = Queue(database_url)
    try:
        with started(tmp_path) as start:
            sink_server = start(
                "sink", [PYTHON, SINK_SCRIPT, "--host", SINK_HOST, "--port", str(sink_port), "--record", record,
                         "--delay", "0.025"],
                env=fedihub_env(),
            )
            await wait_for(lambda: accepts_connections(SINK_HOST, sink_port), what="the sink", timeout=15,
                           watch=[sink_server])

            # Phase 1: kill the only worker in the middle of the fan-out, then start another.
            first = await post_to_followers(settings, "Rent strike on Thursday")
            doomed = start("worker-doomed", [FEDIHUB, "worker"], env=worker_env(lease=3, concurrency=4))

            async def in_the_middle() -> bool:
                # Some outcomes recorded, POSTs answered but not recorded yet (in flight), and most
                # of the fan-out still to go.
                delivered = (await queue.states(first))["delivered"]
                return 0 < delivered < len(received(first)) < FOLLOWERS // 2

            await wait_for(in_the_middle, what="POSTs to be in flight", timeout=20, watch=[doomed, sink_server])
            doomed.kill()
            states = await queue.states(first)
            assert 0 < states["delivered"] < FOLLOWERS, f"the worker finished before it could be killed: {states}"
            assert owned_by(await queue.lease_holders(first), doomed), "the killed worker held no leases"
            assert len(received(first)) < FOLLOWERS

            successor = start("worker-successor", [FEDIHUB, "worker"], env=worker_env(lease=3, concurrency=4))
            await wait_for(lambda: queue.all_delivered(first), what="the successor to finish the fan-out",
                           timeout=30, watch=[successor, sink_server])
            counts = received(first)
            assert set(counts) == inboxes, "an inbox never got the post"
            # A row sent but not yet recorded when the worker died is sent again: at most twice.
            assert max(counts.values()) <= 2
            successor.stop()

            # Phase 2: two healthy workers on one database share the fan-out, never a row.
            # Each worker claims only as many rows as it has free sending slots (2), so the other
            # worker's next poll always finds rows left.
            pair = [
                start(f"worker-{n}", [FEDIHUB, "worker"], env=worker_env(lease=60, concurrency=2)) for n in (1, 2)
            ]
            await wait_for(
                lambda: all("started" in w.log_path.read_text() for w in pair), what="both workers to start",
                timeout=20, watch=[*pair, sink_server],
            )
            second = await post_to_followers(settings, "Climate march on Saturday")
            holders: set[str] = set()

            async def done_watching_leases() -> bool:
                holders.update(await queue.lease_holders(second))
                return await queue.all_delivered(second)

            await wait_for(done_watching_leases, what="the pair to finish the fan-out", timeout=30,
                           watch=[*pair, sink_server], interval=0.02)
            assert all(owned_by(holders, w) for w in pair), f"both workers should have claimed rows: {holders}"
            counts = received(second)
            assert set(counts) == inboxes
            assert set(counts.values()) == {1}, "an inbox got the same post twice from healthy workers"
    finally:
        await queue.engine.dispose()
