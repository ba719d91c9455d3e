"""Every outbound request has a total deadline and a cap on what it reads, on both real transports.

The attacks come from real loopback servers: a peer that answers its headers and then drips a
byte a second (every read timeout is satisfied, forever), one that never answers, and one whose
answer never ends.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest

from fedihub.errors import ConfigurationError, RemoteInvalid, RemoteUnavailable
from fedihub.protocol.fetch import fetch_activitypub_document
from fedihub.protocol.http import DeadlineExceeded, ResponseTooLarge, build_http_client, outbound_deadline
from fedihub.protocol.webfinger import fetch_actor_url
from fedihub.settings import Settings
from tests.support.hostile_http import endless, hostile_server, nothing, trickle

TRANSPORTS = ["aiohttp", "httpx"]
CAP = 2_000_000


def client(transport: str, *, deadline: float = 2.0, **options: object) -> httpx.AsyncClient:
    return build_http_client(
        user_agent="fedihub/test", allow_private_addresses=True, transport=transport, deadline=deadline,
        max_response_bytes=CAP, **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_answer_that_drips_a_byte_a_second_ends_at_the_deadline(transport: str) -> None:
    async with hostile_server(lambda: trickle(0.2)) as peer, client(transport, deadline=1.5) as http:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await http.get(f"{peer.origin}/users/slow")
        took = time.monotonic() - started
        await peer.hung_up.wait()
    # The per-read timeout (10 s) never fired: each read got a byte in time. Only the deadline ends it.
    assert 1.4 < took < 3.0
    assert 2 <= peer.sent <= 10


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_peer_that_never_answers_ends_at_the_deadline(transport: str) -> None:
    async with hostile_server(nothing, send_headers=False) as peer, client(transport, deadline=1.0) as http:
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            await http.post(f"{peer.origin}/inbox", content=b"{}")
        assert time.monotonic() - started < 2.5
        assert len(peer.requests) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_endless_answer_is_cut_at_the_cap_without_holding_it_in_memory(transport: str) -> None:
    async with hostile_server(endless) as peer, client(transport, deadline=30) as http:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLarge):
                await http.get(f"{peer.origin}/huge")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        await peer.hung_up.wait()
    # The answer would never end; the client stopped after CAP bytes (plus what the kernel's socket
    # buffers had already taken) and held no more than about the cap while reading it.
    assert CAP < peer.sent < CAP + 16_000_000
    assert peak < 3 * CAP


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_document_fetch_from_an_endless_answer_reads_at_most_the_document_limit(transport: str) -> None:
    async with hostile_server(endless) as peer, client(transport, deadline=30) as http:
        with pytest.raises(RemoteInvalid, match="larger than 1000000 bytes"):
            await fetch_activitypub_document(http, f"{peer.origin}/notes/1")
        await peer.hung_up.wait()
    assert peer.sent < 1_000_000 + 16_000_000


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_document_fetch_that_trickles_is_unavailable_at_the_deadline(transport: str) -> None:
    async with hostile_server(lambda: trickle(0.2)) as peer, client(transport, deadline=1.0) as http:
        started = time.monotonic()
        # The fetch's own limit (30 s) is longer: the client's deadline is the one that ends it.
        with pytest.raises(RemoteUnavailable):
            await fetch_activitypub_document(http, f"{peer.origin}/notes/1")
        assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_webfinger_lookup_that_trickles_is_unavailable_at_the_deadline(transport: str) -> None:
    async with hostile_server(lambda: trickle(0.2), content_type="application/jrd+json") as peer, \
            client(transport, deadline=1.0) as http:
        started = time.monotonic()
        with pytest.raises(RemoteUnavailable):
            await fetch_actor_url(http, f"alice@{peer.netloc}", scheme="http")
        assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_a_deadline_set_by_the_caller_shortens_every_request_inside_it(transport: str) -> None:
    async with hostile_server(lambda: trickle(0.1)) as peer, client(transport, deadline=30) as http:
        started = time.monotonic()
        with outbound_deadline(0.8), pytest.raises(DeadlineExceeded):
            await http.get(f"{peer.origin}/users/slow")
        assert time.monotonic() - started < 2.0


async def test_mounted_transports_get_the_same_limits() -> None:
    # In-process peers (and anything else mounted) go through the same bounds as the network.
    async def forever() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 65536

    class Endless(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in forever():
                yield chunk

    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(60)
        return httpx.Response(200)

    mounts = {
        "http://huge.example": httpx.MockTransport(lambda request: httpx.Response(200, stream=Endless())),
        "http://slow.example": httpx.MockTransport(slow),  # type: ignore[arg-type]
    }
    async with client("aiohttp", deadline=0.5, mounts=mounts) as http:
        with pytest.raises(ResponseTooLarge):
            await http.get("http://huge.example/")
        with pytest.raises(DeadlineExceeded):
            await http.get("http://slow.example/")


def test_the_limits_are_settings_read_from_the_environment(tmp_path: Path) -> None:
    base = {"FEDIHUB_DATA_DIR": str(tmp_path), "FEDIHUB_SECRET_KEY": "s3cret"}
    settings = Settings.from_env(base | {
        "FEDIHUB_HTTP_DEADLINE": "30", "FEDIHUB_HTTP_MAX_RESPONSE_BYTES": "2000000", "FEDIHUB_DELIVERY_TIMEOUT": "5",
        "FEDIHUB_INBOX_CONCURRENCY": "4", "FEDIHUB_INBOX_FETCH_TIMEOUT": "3",
    })
    assert (settings.http_deadline, settings.http_max_response_bytes, settings.delivery_timeout) == (30, 2_000_000, 5)
    assert (settings.inbox_concurrency, settings.inbox_fetch_timeout) == (4, 3)
    defaults = Settings.from_env(base)
    assert (defaults.http_deadline, defaults.http_max_response_bytes, defaults.delivery_timeout) == (60, 10_000_000, 20)
    assert (defaults.inbox_concurrency, defaults.inbox_fetch_timeout) == (8, 10)


@pytest.mark.parametrize(
    ("name", "value"),
    [("FEDIHUB_HTTP_DEADLINE", "0"), ("FEDIHUB_DELIVERY_TIMEOUT", "-1"), ("FEDIHUB_INBOX_FETCH_TIMEOUT", "0"),
     ("FEDIHUB_HTTP_MAX_RESPONSE_BYTES", "1000"), ("FEDIHUB_INBOX_CONCURRENCY", "0")],
)
def test_a_limit_that_would_switch_the_protection_off_is_a_configuration_error(
    tmp_path: Path, name: str, value: str
) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({"FEDIHUB_DATA_DIR": str(tmp_path), "FEDIHUB_SECRET_KEY": "s3cret", name: value})
