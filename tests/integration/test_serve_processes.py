"""`fedihub serve --processes N`: several web processes on one port, set up once, stopped together."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.processes import FEDIHUB, accepts_connections, fedihub_env, free_port, started, wait_for

pytestmark = pytest.mark.slow

HOST = "127.0.0.1"


async def test_two_processes_share_the_port_and_the_setup_is_done_once(tmp_path: Path) -> None:
    port = free_port(HOST)
    env = fedihub_env(data_dir=tmp_path / "data", base_url=f"http://{HOST}:{port}")
    with started(tmp_path) as start:
        server = start("serve", [FEDIHUB, "serve", "--host", HOST, "--port", str(port), "--processes", "2"], env=env)

        def both_started() -> bool:
            return server.log_path.read_text(errors="replace").count("Application startup complete") == 2

        await wait_for(lambda: accepts_connections(HOST, port) and both_started(),
                       what="both processes to serve", timeout=60, watch=[server])
        async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
            answers = [(await client.get(f"http://{HOST}:{port}/")).status_code for _ in range(8)]
        log = server.log_path.read_text(errors="replace")
        serving = [p for p in psutil.Process(server.pid).children() if f"Started server process [{p.pid}]" in log]

        assert answers == [200] * 8
        assert len(serving) == 2
        # Migrated and announced by the command before the processes start, not by each of them.
        assert log.count("/setup/") == 1
        assert len(re.findall(r"fedihub\.worker: worker \S+ started", log)) == 2  # one beside each process's pages

        server.stop()
        assert server.popen.returncode == 0, server.log_tail()
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in serving)
