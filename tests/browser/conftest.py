"""Browser tests: a real `fedihub serve` process driven by Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import (
    FEDIHUB,
    Process,
    accepts_connections,
    fedihub_env,
    free_port,
    run_fedihub,
    started,
    wait_for,
)

CHROMIUM = os.environ.get("FEDIHUB_CHROMIUM", "/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
# Without these Chromium keeps calling home, and this network refuses it (see the README).
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        message = f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package as root"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM if Path(CHROMIUM).exists() else str(shutil.which("chromium"))


@dataclass
class LiveServer:
    base_url: str
    env: dict[str, str]
    process: Process

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[1]

    @property
    def database(self) -> Path:
        return Path(self.env["FEDIHUB_DATA_DIR"]) / "fedihub.sqlite3"

    def fedihub(self, *args: str) -> str:
        """Run a `fedihub` command against this server's database (as its admin would)."""
        return run_fedihub((args, self.env))[0]

    def query(self, sql: str, *params: object) -> list[tuple]:  # type: ignore[type-arg]
        """Read this server's SQLite database (read-only) to check what arrived."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as connection:
            return connection.execute(sql, params).fetchall()

    def setup_link(self) -> str:
        """The one-time first-run link `fedihub serve` prints when there is no admin yet."""
        match = re.search(r"https?://\S+/setup/\S+", self.process.log_path.read_text(errors="replace"))
        assert match, f"no setup link in the server log:\n{self.process.log_tail()}"
        return match.group(0)


@pytest.fixture
def server_processes(tmp_path: Path) -> Iterator:
    with started(tmp_path) as start:
        yield start


@pytest.fixture
def start_server(tmp_path: Path, server_processes):  # type: ignore[no-untyped-def]
    """Start a real `fedihub serve` on a loopback address; each gets its own data directory."""

    async def start(host: str = "127.0.0.1", **settings: str) -> LiveServer:
        port = free_port(host)
        base_url = f"http://{host}:{port}"
        env = fedihub_env(
            base_url=base_url, data_dir=tmp_path / f"data-{host}-{port}", allow_private_addresses="1",
            log_level="INFO", **settings,
        )
        process = server_processes(f"serve-{host}", [FEDIHUB, "serve", "--host", host, "--port", str(port)], env=env)
        await wait_for(lambda: accepts_connections(host, port), what=f"fedihub serve on {host} to listen",
                       timeout=30, watch=[process])
        return LiveServer(base_url=base_url, env=env, process=process)

    return start


@pytest.fixture
async def live_server(start_server) -> LiveServer:  # type: ignore[no-untyped-def]
    return await start_server()


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator:  # type: ignore[type-arg]
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def page(browser):  # type: ignore[no-untyped-def]
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        await context.close()


async def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """Save a full-page screenshot as a test artifact (not committed) for people to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def first_admin(browser, server: LiveServer, username: str, password: str):  # type: ignore[no-untyped-def]
    """A desktop-sized page logged in as the server's first admin, made through its one-time setup link."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(15_000)
    await page.goto(server.setup_link())
    await page.fill("#setup-username", username)
    await page.fill("#setup-display_name", username.title())
    await page.fill("#setup-password", password)
    await page.fill("#setup-password_confirm", password)
    await page.get_by_role("button", name="Create the account and log in").click()
    await page.wait_for_load_state()
    return page
