"""A fast local HTTP sink: answers 202 to every POST on 127.0.0.1 and counts what it received.

Run it alone (``python bench/sink.py --port 8999``) or from another benchmark through
``SinkProcess``, which starts it as a subprocess, waits until it listens and stops it after.
``GET /_stats`` answers with the counters as JSON; ``POST /_reset`` sets them back to zero.
The server is a raw asyncio protocol (uvloop when installed) so that it costs as little CPU
as possible on a shared two-core machine: every cycle it spends is taken from the sender.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
# Loopback only: never route these requests through a proxy named in the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 2 * 1024 * 1024
ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


class Counters:
    """What the sink saw since the last reset."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.posts = 0
        self.signed = 0
        self.body_bytes = 0
        self.paths: set[str] = set()
        self.connections = 0
        self.first_post_at = 0.0  # wall clock (time.time) of the first POST since the reset

    def as_dict(self) -> dict[str, float]:
        return {
            "first_post_at": self.first_post_at,
            "posts": self.posts,
            "signed": self.signed,
            "body_bytes": self.body_bytes,
            "distinct_paths": len(self.paths),
            "connections": self.connections,
        }


class SinkProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive and pipelining; Content-Length or chunked bodies."""

    def __init__(self, counters: Counters) -> None:
        self.counters = counters
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transport is not a subclass
        self.counters.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer.extend(data)
        while self.transport is not None and not self.transport.is_closing():
            if not self._handle_one():
                break

    def _handle_one(self) -> bool:
        """Answer one complete request from the buffer; False when more bytes are needed."""
        assert self.transport is not None
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_HEADER_BYTES:
                self._fail()
            return False
        head = bytes(self.buffer[:end]).decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            self._fail()
            return False
        method, target = parts[0], parts[1]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body_start = end + 4
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parsed = _parse_chunked(self.buffer, body_start)
            if parsed is None:
                return False
            body_length, consumed = parsed
        else:
            try:
                body_length = int(headers.get("content-length", "0"))
            except ValueError:
                self._fail()
                return False
            if body_length > MAX_BODY_BYTES:
                self._fail()
                return False
            if len(self.buffer) < body_start + body_length:
                return False
            consumed = body_start + body_length
        del self.buffer[:consumed]
        self.transport.write(self._answer(method, target, headers, body_length))
        return True

    def _answer(self, method: str, target: str, headers: dict[str, str], body_length: int) -> bytes:
        counters = self.counters
        if method == "POST" and target != "/_reset":
            if not counters.posts:
                counters.first_post_at = time.time()
            counters.posts += 1
            counters.body_bytes += body_length
            counters.paths.add(target)
            if "signature" in headers or "signature-input" in headers:
                counters.signed += 1
            return ACCEPTED
        if method == "POST":
            counters.reset()
            return ACCEPTED
        if method == "GET" and target == "/_stats":
            body = json.dumps(counters.as_dict()).encode()
            return (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
                + body
            )
        return NOT_FOUND

    def _fail(self) -> None:
        assert self.transport is not None
        self.transport.write(BAD_REQUEST)
        self.transport.close()


def _parse_chunked(buffer: bytearray, start: int) -> tuple[int, int] | None:
    """(body length, bytes consumed) of a complete chunked body, or None while incomplete."""
    position, total = start, 0
    for _ in range(100_000):  # bounded: a body of more chunks than this is refused by size anyway
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(bytes(buffer[position:line_end]).split(b";")[0] or b"0", 16)
        position = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", position)
            return None if trailer_end < 0 else (total, trailer_end + 2)
        if len(buffer) < position + size + 2:
            return None
        total += size
        position += size + 2
    return None


async def serve(port: int, *, announce: bool = True) -> None:
    counters = Counters()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SinkProtocol(counters), LOOPBACK, port, backlog=1024)
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    bound = server.sockets[0].getsockname()[1]
    if announce:
        # The parent waits for this exact line before it sends anything.
        print(f"READY {bound}", flush=True)
    async with server:
        await stop.wait()


def _run(port: int) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(port))
    else:
        uvloop.run(serve(port))


class SinkProcess:
    """The sink as a subprocess: ``with SinkProcess() as sink: ... sink.port, sink.stats()``."""

    def __init__(self, *, startup_timeout: float = 15.0) -> None:
        self.startup_timeout = startup_timeout
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def url(self, path: str = "/") -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def start(self) -> SinkProcess:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--port", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdout is not None
        # Wait (bounded) until the child prints its READY line; readline() alone could block forever.
        ready, _, _ = select.select([self._process.stdout], [], [], self.startup_timeout)
        line = self._process.stdout.readline().strip() if ready else ""
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"the sink did not start within {self.startup_timeout:.0f} s (said {line!r})")
        self.port = int(line.split()[1])
        return self

    def stats(self) -> dict[str, float]:
        with _DIRECT.open(self.url("/_stats"), timeout=5) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        request = urllib.request.Request(self.url("/_reset"), data=b"", method="POST")
        with _DIRECT.open(request, timeout=5):
            pass

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()

    def __enter__(self) -> SinkProcess:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("SINK_PORT", "0")),
                        help="port on 127.0.0.1 (0 picks a free one; it is printed as 'READY <port>')")
    args = parser.parse_args(argv)
    _run(args.port)


if __name__ == "__main__":
    main()
