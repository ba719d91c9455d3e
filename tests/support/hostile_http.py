"""Hostile HTTP servers on a real loopback socket: answers that trickle, never end, or never come.

In-process ASGI peers cannot play these: httpx's ASGI transport collects the whole answer before
it returns, so only a real socket shows what the client does with a peer that sends slowly or
without end. Each server counts the body bytes it managed to hand to the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

Body = Callable[[], AsyncIterator[bytes]]


async def trickle(interval: float = 1.0) -> AsyncIterator[bytes]:
    """One byte, then another every ``interval`` seconds, forever: every read timeout is satisfied."""
    while True:
        yield b" "
        await asyncio.sleep(interval)


async def endless(chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """As many bytes as the client will take, as fast as it takes them."""
    chunk = b"x" * chunk_size
    while True:
        yield chunk


async def nothing() -> AsyncIterator[bytes]:
    """Headers, and then silence."""
    await asyncio.Event().wait()
    yield b""


@dataclass
class HostileServer:
    host: str
    port: int = 0
    requests: list[bytes] = field(default_factory=list)
    sent: int = 0  # body bytes written to the socket, over all connections
    answering: asyncio.Event = field(default_factory=asyncio.Event)  # set once headers went out
    hung_up: asyncio.Event = field(default_factory=asyncio.Event)  # set when a client closed on us

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"


@contextlib.asynccontextmanager
async def hostile_server(
    body: Body, *, status: int = 200, content_type: str = "application/activity+json", host: str = "127.0.0.1",
    send_headers: bool = True,
) -> AsyncIterator[HostileServer]:
    """Answer every request with ``status`` and then ``body()`` until the client hangs up.

    The body has no Content-Length: it ends when the connection does (HTTP/1.1 §9.6), so the
    client cannot know in advance how long it is. With ``send_headers=False`` the server reads the
    request and never answers at all.
    """
    state = HostileServer(host=host)
    handlers: set[asyncio.Task] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.add(asyncio.current_task())  # type: ignore[arg-type]
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            state.requests.append(head)
            for line in head.decode("latin-1").split("\r\n"):
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length" and value.strip().isdigit():
                    await reader.readexactly(int(value.strip()))
            if not send_headers:
                await asyncio.Event().wait()
            writer.write(
                f"HTTP/1.1 {status} Whatever\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
            state.answering.set()
            async for chunk in body():
                writer.write(chunk)
                await writer.drain()
                state.sent += len(chunk)
        except (ConnectionError, asyncio.IncompleteReadError):
            state.hung_up.set()
        except asyncio.CancelledError:
            pass  # the server is shutting down; ending quietly keeps asyncio from logging it as an error
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
