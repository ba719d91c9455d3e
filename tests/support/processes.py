"""Real processes in tests: free loopback ports, commands with log files, bounded polling, clean-up."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path

FEDIHUB = Path(sys.executable).with_name("fedihub")
PYTHON = sys.executable
STOP_GRACE = 5.0


def free_port(host: str) -> int:
    """A port nobody listens on at ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def fedihub_env(**values: str | Path) -> dict[str, str]:
    """This environment without any FEDIHUB_* of the caller's, plus ``values`` as FEDIHUB_<NAME>."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDIHUB_")}
    env.update({f"FEDIHUB_{name.upper()}": str(value) for name, value in values.items()})
    return env


class Process:
    """A started command whose output goes to a log file that failures quote."""

    def __init__(self, name: str, args: Sequence[str | Path], *, env: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            [str(a) for a in args], env=dict(env), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.alive:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within the grace period."""
        if self.alive:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self._log.close()


@contextlib.contextmanager
def started(log_dir: Path) -> Iterator[Callable[..., Process]]:
    """Yields ``start(name, args, env=...)``; every process started is stopped on the way out."""
    processes: list[Process] = []

    def start(name: str, args: Sequence[str | Path], *, env: Mapping[str, str]) -> Process:
        process = Process(name, args, env=env, log_dir=log_dir)
        processes.append(process)
        return process

    try:
        yield start
    finally:
        for process in processes:
            process.stop()


def run_fedihub(*calls: tuple[Sequence[str], Mapping[str, str]], timeout: float = 30) -> list[str]:
    """Run `fedihub` commands side by side, each (args, env), to completion; returns their stdouts.

    A command that fails fails the test with its stderr.
    """
    running = [
        (args, subprocess.Popen([str(FEDIHUB), *args], env=dict(env), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True))
        for args, env in calls
    ]
    outputs = []
    try:
        for args, popen in running:
            stdout, stderr = popen.communicate(timeout=timeout)
            if popen.returncode != 0:
                raise AssertionError(f"fedihub {' '.join(args)} exited {popen.returncode}:\n{stderr}")
            outputs.append(stdout)
    finally:
        for _, popen in running:
            if popen.poll() is None:
                popen.kill()
                popen.wait()
    return outputs


async def wait_for(
    condition: Callable[[], bool | Awaitable[bool]],
    *,
    what: str,
    timeout: float,
    watch: Sequence[Process] = (),
    interval: float = 0.05,
) -> None:
    """Poll ``condition`` until true; fail with ``what`` and the logs on timeout or if a process died."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        for process in watch:
            if not process.alive:
                raise AssertionError(
                    f"{process.name} exited ({process.popen.returncode}) while waiting for {what}:\n"
                    f"{process.log_tail()}"
                )
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in watch)
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")
        await asyncio.sleep(interval)


def accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False
