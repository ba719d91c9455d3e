"""Shared fixtures: a migrated database per test on SQLite or PostgreSQL, and federation networks.

Which database a test gets is decided here, in ``pytest_generate_tests``, for every test that uses
the ``backend`` fixture (directly or through ``database_url``/``net``):

- a test marked ``all_backends`` (storage, queues and leases, dialect-specific SQL, unique-row races,
  end-to-end federation drills) runs once on each backend in FEDIHUB_TEST_BACKENDS;
- every other database test runs once, and within a test module they alternate between the
  backends in the order they are written (the first backend of a module is picked by a hash of its
  name), so every module with two or more such tests is exercised on both databases;
- FEDIHUB_TEST_ALL_BACKENDS=1 runs every database test on every backend (the full cross product).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from fedihub.protocol import keys
from fedihub.protocol.keys import KeyPair
from tests.support.databases import DatabaseFactory, PostgresUnavailable
from tests.support.fake_peer import key_pair
from tests.support.fixtures import fixtures_dir as captured_payloads_dir
from tests.support.network import FederationNet

KNOWN_BACKENDS = ("sqlite", "postgresql")
BACKENDS = [b for b in os.environ.get("FEDIHUB_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
EVERY_TEST_ON_EVERY_BACKEND = os.environ.get("FEDIHUB_TEST_ALL_BACKENDS", "").lower() in ("1", "true", "yes")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_tests_seen_per_module = pytest.StashKey[Counter[str]]()
_BACKEND_ID = re.compile(r"\[(sqlite|postgresql)(-|\])")


def pytest_configure(config: pytest.Config) -> None:
    unknown = sorted(set(BACKENDS) - set(KNOWN_BACKENDS))
    if unknown or not BACKENDS:
        raise pytest.UsageError(
            f"FEDIHUB_TEST_BACKENDS={os.environ.get('FEDIHUB_TEST_BACKENDS')!r}: use a comma-separated list of "
            f"{', '.join(KNOWN_BACKENDS)}"
        )


def pytest_report_header(config: pytest.Config) -> str:
    if EVERY_TEST_ON_EVERY_BACKEND or len(BACKENDS) == 1:
        return f"databases: every database test on {' and '.join(BACKENDS)}"
    return (
        f"databases: tests marked all_backends on {' and '.join(BACKENDS)}, every other database test on one of "
        f"them (FEDIHUB_TEST_ALL_BACKENDS=1 runs all on each)"
    )


def backends_for(metafunc: pytest.Metafunc) -> list[str]:
    """The backends one database test runs on (see the module docstring)."""
    if EVERY_TEST_ON_EVERY_BACKEND or len(BACKENDS) == 1 or metafunc.definition.get_closest_marker("all_backends"):
        return BACKENDS
    module = metafunc.module.__name__
    seen = metafunc.config.stash.setdefault(_tests_seen_per_module, Counter())
    first = zlib.crc32(module.encode()) % len(BACKENDS)
    backend = BACKENDS[(first + seen[module]) % len(BACKENDS)]
    seen[module] += 1
    return [backend]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", backends_for(metafunc), indirect=True)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """One line saying how this run split the database tests between the backends."""
    runs: dict[str, set[str]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            found = _BACKEND_ID.search(getattr(report, "nodeid", ""))
            if found:
                test = _BACKEND_ID.sub(lambda m: "[" if m.group(2) == "-" else "", report.nodeid)
                runs.setdefault(test, set()).add(found.group(1))
    if runs:
        shapes = Counter(" and ".join(sorted(backends, key=KNOWN_BACKENDS.index)) for backends in runs.values())
        terminalreporter.write_line(
            "database tests: " + ", ".join(f"{count} on {shape}" for shape, count in sorted(shapes.items()))
        )


@pytest.fixture(scope="session")
def database_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(tmp_path_factory.mktemp("databases"))
    yield factory
    asyncio.run(factory.drop_all())


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


async def _create_database(factory: DatabaseFactory, backend: str) -> str:
    try:
        return await factory.create(backend)
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"{exc} (CI must run the PostgreSQL tests)")
        pytest.skip(str(exc))


@pytest.fixture
async def database_url(database_factory: DatabaseFactory, backend: str) -> AsyncIterator[str]:
    url = await _create_database(database_factory, backend)
    yield url
    await database_factory.release(url)


@pytest.fixture
async def net(database_factory: DatabaseFactory, backend: str) -> AsyncIterator[FederationNet]:
    urls: list[str] = []

    async def make() -> str:
        urls.append(await _create_database(database_factory, backend))
        return urls[-1]

    network = FederationNet(make_database=make)
    try:
        yield network
    finally:
        await network.close()
        for url in urls:
            await database_factory.release(url)


@pytest.fixture(autouse=True)
def reused_actor_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local actors get keys from a pool made once per session instead of fresh RSA keys.

    Generating RSA-2048 costs about 70 ms of CPU and every test creates two or three local actors,
    a federation test with several servers ten or more; key generation itself is covered in
    tests/unit/test_keys.py, and real processes (tests/browser, test_real_processes.py) still make
    their own. Within a test every actor still gets a key of its own.
    """
    slots = itertools.count(1000)

    def next_key_pair(bits: int = 2048) -> KeyPair:
        return key_pair(next(slots))

    # create_local_actor imports it from fedihub.protocol.keys when it runs.
    monkeypatch.setattr(keys, "generate_key_pair", next_key_pair)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return captured_payloads_dir()
