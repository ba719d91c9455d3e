"""The demo's `fedihub serve` processes: ports, environments, start and stop, CLI commands, read-only queries."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# `python -m fedihub` with this interpreter: the fedihub of this checkout or installation, PATH or not.
FEDIHUB = (sys.executable, "-m", "fedihub")
STOP_GRACE = 10.0
COMMAND_TIMEOUT = 120.0


class DemoError(Exception):
    """Something the person running the demo must read: printed as one message, exit code 1."""


@dataclass
class Server:
    """One fedihub instance of the demo network and, once started, its process."""

    key: str  # "chicago": the data directory's name and the word people read
    label: str  # "Chicago"
    role: str  # "city server (2 coalitions)"
    host: str
    port: int
    data_dir: Path
    # The demo's mail catcher (demo/mail_catcher.py): every server sends its mail there.
    mail_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def database(self) -> Path:
        return self.data_dir / "fedihub.sqlite3"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def env(self, log_level: str = "INFO") -> dict[str, str]:
        """The caller's environment without its FEDIHUB_*, plus this instance's settings."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("FEDIHUB_")}
        env.update(
            FEDIHUB_BASE_URL=self.base_url,
            FEDIHUB_DATA_DIR=str(self.data_dir.resolve()),
            # The servers federate over 127.0.0.x, which the SSRF guard refuses unless told otherwise.
            FEDIHUB_ALLOW_PRIVATE_ADDRESSES="on",
            FEDIHUB_INSTANCE_NAME=f"{self.label} (demo)",
            FEDIHUB_LOG_LEVEL=log_level,
        )
        if self.mail_url:
            env.update(FEDIHUB_SMTP_URL=self.mail_url,
                       FEDIHUB_MAIL_FROM=f"{self.label} (fedihub demo) <noreply@{self.key}.demo.example>")
        return env

    # --- The server process -------------------------------------------------------------------

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            # A session of its own: Ctrl-C in the terminal reaches the demo only, which then stops
            # every server in order instead of racing them.
            self.process = subprocess.Popen(
                [*FEDIHUB, "serve", "--host", self.host, "--port", str(self.port)], env=self.env(),
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def died(self) -> str | None:
        """If the server exited, a message naming it, with its exit code and the end of its log."""
        if self.process is None or self.process.poll() is None:
            return None
        return (f"the {self.label} server ({self.base_url}) exited with code {self.process.returncode}:\n"
                f"{self.log_tail()}")

    def log_tail(self, lines: int = 25) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(f"    {line}" for line in text.splitlines()[-lines:]) or "    (the log is empty)"

    def listening(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def send(self, signum: int) -> None:
        if self.alive:
            assert self.process is not None
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    # --- Commands and reads against this instance --------------------------------------------------

    def command(self, *args: str, stdin: str | None = None) -> subprocess.Popen[str]:
        """Start `fedihub ARGS` with this instance's environment (finish it with `finish`)."""
        return subprocess.Popen(
            [*FEDIHUB, *args], env=self.env(log_level="WARNING"), text=True, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        )

    def query(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        """Read this instance's database without writing to it (the server owns it)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5)) as conn:
            return conn.execute(sql, params).fetchall()

    # SQLite hands back each value as one of its storage classes: NULL, INTEGER, REAL, TEXT or BLOB.
    def scalar(self, sql: str, *params: object) -> int | float | str | bytes | None:
        rows = self.query(sql, *params)
        return rows[0][0] if rows else None


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As uvicorn binds: connections of a server stopped a moment ago (TIME_WAIT) do not count.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            return int(sock.getsockname()[1])
    except OSError as exc:
        raise DemoError(
            f"cannot listen on {host} ({exc.strerror}). Linux answers on all of 127.0.0.0/8; on macOS add "
            f"the address first: sudo ifconfig lo0 alias {host} up"
        ) from None


def pick_port(host: str, preferred: int | None) -> int:
    """``preferred`` when nobody listens there, otherwise a port the system picks."""
    if preferred is not None and port_is_free(host, preferred):
        return preferred
    return free_port(host)


def run_side_by_side(
    steps: Sequence[tuple[Server, Sequence[str], str | None]], *, timeout: float = COMMAND_TIMEOUT
) -> list[str]:
    """Run one `fedihub` command per step at the same time (stdin text or None); returns their stdouts.

    A failed command, or one still running after ``timeout`` seconds, stops the demo with its error;
    the others are waited for or killed.
    """
    running = [(server, args, server.command(*args, stdin=stdin), stdin) for server, args, stdin in steps]
    outputs: list[str] = []
    try:
        for server, args, popen, stdin in running:
            try:
                stdout, stderr = popen.communicate(stdin, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise DemoError(
                    f"`fedihub {' '.join(args)}` on {server.label} took over {timeout:.0f} s"
                ) from None
            if popen.returncode != 0:
                raise DemoError(f"`fedihub {' '.join(args)}` on {server.label} failed:\n{stderr.strip()}")
            outputs.append(stdout)
    finally:
        for _, _, popen, _ in running:
            if popen.poll() is None:
                popen.kill()
                popen.wait()
    return outputs


def wait_until(condition: Callable[[], bool], *, what: str, timeout: float, servers: Sequence[Server]) -> None:
    """Poll ``condition`` until it holds; a dead server or the timeout stops the demo, saying which."""
    deadline = time.monotonic() + timeout
    while True:
        for server in servers:
            message = server.died()
            if message:
                raise DemoError(f"{message}\n(while waiting for {what})")
        try:
            if condition():
                return
        except sqlite3.OperationalError:
            pass  # a database being created or migrated right now: look again
        if time.monotonic() > deadline:
            logs = ", ".join(str(server.log_path) for server in servers)
            raise DemoError(f"timed out after {timeout:.0f} s waiting for {what}; the server logs are {logs}")
        time.sleep(0.2)


def stop_all(servers: Sequence[Server], grace: float = STOP_GRACE) -> list[str]:
    """SIGTERM every server, wait up to ``grace`` seconds, SIGKILL the rest; returns those killed."""
    for server in servers:
        server.send(signal.SIGTERM)
    deadline = time.monotonic() + grace
    killed = []
    for server in servers:
        if server.process is None:
            continue
        try:
            server.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            server.send(signal.SIGKILL)
            server.process.wait()
            killed.append(server.label)
    return killed
