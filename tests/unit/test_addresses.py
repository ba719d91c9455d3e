"""The SSRF guard: which addresses are refused, and that both HTTP transports enforce it."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import anyio
import httpcore
import httpx
import pytest

from fedihub.errors import ConfigurationError, ForbiddenAddress
from fedihub.protocol import addresses
from fedihub.protocol.addresses import GuardedNetworkBackend, is_forbidden_ip
from fedihub.protocol.aiohttp_transport import GuardedResolver
from fedihub.protocol.http import build_http_client

TRANSPORTS = ["aiohttp", "httpx"]
PUBLIC_IP = "93.184.215.14"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata service
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "0.0.0.0",
        "0.1.2.3",
        "255.255.255.255",
        "224.0.0.251",
        "240.0.0.1",
        "192.0.2.10",
        "198.51.100.7",
        "203.0.113.9",
        "198.18.0.1",
        "::",
        "::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",  # 6to4 carrying 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 carrying 192.168.1.1
        "64:ff9b::a00:1",  # NAT64 carrying 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 carrying 127.0.0.1
        "fe80::1",
        "fec0::1",  # site-local
        "fc00::1",
        "fd12:3456::1",  # unique local
        "ff02::1",
        "2001:db8::1",
        "3fff::1",
        "100::1",
    ],
)
def test_private_and_special_addresses_are_forbidden(address: str) -> None:
    assert is_forbidden_ip(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        PUBLIC_IP,
        "100.128.0.1",  # just outside 100.64.0.0/10
        "172.32.0.1",  # just outside 172.16.0.0/12
        "2620:fe::fe",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",  # IPv4-mapped public address
        "64:ff9b::808:808",  # NAT64 carrying 8.8.8.8
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert not is_forbidden_ip(ipaddress.ip_address(address))


# --- a real HTTP server on loopback ----------------------------------------------------------


@dataclass
class LocalServer:
    port: int
    connections: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture
async def local_server() -> AsyncIterator[LocalServer]:
    """A minimal HTTP/1.1 server on 127.0.0.1 that answers 200 "hello" and counts connections."""
    state = LocalServer(port=0)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")[1:]
        state.requests.append(
            {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
        )
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
            b"Connection: close\r\n\r\nhello"
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield state


def redirect_to(location: str) -> httpx.MockTransport:
    """A stand-in for a public server that redirects every request to ``location``."""
    return httpx.MockTransport(lambda request: httpx.Response(302, headers={"Location": location}))


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_guarded_client_refuses_loopback_urls_without_connecting(
    transport: str, local_server: LocalServer
) -> None:
    port = local_server.port
    async with build_http_client(
        user_agent="fedihub/test", allow_private_addresses=False, transport=transport
    ) as client:
        for url in (
            "http://127.0.0.1:1/",
            "http://localhost:1/",
            f"http://127.0.0.1:{port}/",
            f"http://localhost:{port}/",
            f"http://LOCALHOST.:{port}/",
            f"http://api.localhost:{port}/",
            f"http://[::1]:{port}/",
            f"http://[::ffff:127.0.0.1]:{port}/",
            f"http://127.1:{port}/",  # inet_aton shorthand for 127.0.0.1
            f"http://2130706433:{port}/",  # 127.0.0.1 as one number
        ):
            with pytest.raises(ForbiddenAddress):
                await client.get(url)
    assert local_server.connections == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_guard_applies_to_each_redirect_hop(transport: str, local_server: LocalServer) -> None:
    # The first hop is "public" (a mock); its redirect points at the real loopback server.
    async with build_http_client(
        user_agent="fedihub/test",
        allow_private_addresses=False,
        transport=transport,
        mounts={"http://public.example": redirect_to(local_server.url)},
    ) as client:
        unfollowed = await client.get("http://public.example/start")
        assert unfollowed.status_code == 302  # redirects are not followed unless asked

        with pytest.raises(ForbiddenAddress):
            await client.get("http://public.example/start", follow_redirects=True)
    assert local_server.connections == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_private_addresses_are_reachable_when_allowed(
    transport: str, local_server: LocalServer
) -> None:
    async with build_http_client(
        user_agent="fedihub/test (+http://127.0.0.2/)",
        allow_private_addresses=True,
        transport=transport,
        mounts={"http://public.example": redirect_to(local_server.url)},
    ) as client:
        direct = await client.get(local_server.url)
        redirected = await client.get("http://public.example/start", follow_redirects=True)

    assert (direct.status_code, direct.text) == (200, "hello")
    assert (redirected.status_code, redirected.text) == (200, "hello")
    assert local_server.requests[0]["user-agent"] == "fedihub/test (+http://127.0.0.2/)"


async def test_client_does_not_keep_cookies_between_requests() -> None:
    seen: list[str | None] = []

    def peer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, headers={"Set-Cookie": "tracker=1; Path=/"})

    async with build_http_client(
        user_agent="fedihub/test",
        allow_private_addresses=False,
        mounts={"https://peer.example": httpx.MockTransport(peer)},
    ) as client:
        await client.get("https://peer.example/a")
        await client.get("https://peer.example/b")
    assert seen == [None, None]


def test_unknown_transport_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        build_http_client(user_agent="fedihub/test", allow_private_addresses=False, transport="curl")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_guard_checks_the_resolved_address_of_ordinary_names(
    transport: str, local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: an innocent-looking name whose DNS answer is the loopback server. Only the
    # connect-time check (aiohttp resolver / httpcore backend) can see this.
    async def loopback_dns(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(aiohttp, "DefaultResolver", lambda: FakeResolver(["127.0.0.1"]))
    monkeypatch.setattr(addresses, "_getaddrinfo", loopback_dns)
    async with build_http_client(
        user_agent="fedihub/test", allow_private_addresses=False, transport=transport
    ) as client:
        with pytest.raises(ForbiddenAddress):
            await client.get(f"http://rebind.example:{local_server.port}/")
    assert local_server.connections == 0


# --- the connect-time checks on their own ---------------------------------------------------


class FakeResolver(aiohttp.abc.AbstractResolver):
    def __init__(self, addresses: list[str]) -> None:
        self.addresses = addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        return [
            {"hostname": host, "host": a, "port": port, "family": family, "proto": 0, "flags": 0}
            for a in self.addresses
        ]

    async def close(self) -> None:
        pass


async def test_resolver_refuses_a_dns_answer_with_any_private_address() -> None:
    # A name answering with a public and a private address must not get through on the public one.
    resolver = GuardedResolver(FakeResolver([PUBLIC_IP, "10.0.0.5"]))
    with pytest.raises(ForbiddenAddress):
        await resolver.resolve("rebind.example", 443)


async def test_resolver_passes_public_answers_through() -> None:
    resolver = GuardedResolver(FakeResolver([PUBLIC_IP]))
    [result] = await resolver.resolve("peer.example", 443)
    assert result["host"] == PUBLIC_IP


async def test_resolver_checks_what_the_real_system_resolver_returns() -> None:
    # No special-casing of the name here: "localhost" is refused because it resolves to loopback.
    with pytest.raises(ForbiddenAddress):
        await GuardedResolver().resolve("localhost", 80)


class RecordingBackend(httpcore.AsyncNetworkBackend):
    def __init__(self) -> None:
        self.connected_to: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):  # type: ignore[no-untyped-def]
        self.connected_to.append((host, port))
        return httpcore.AsyncMockStream([])

    async def sleep(self, seconds: float) -> None:
        pass


def resolving_to(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


async def test_backend_connects_to_the_address_it_checked_not_the_name() -> None:
    inner = RecordingBackend()
    backend = GuardedNetworkBackend(inner, resolve=resolving_to(PUBLIC_IP))
    await backend.connect_tcp("peer.example", 443)
    assert inner.connected_to == [(PUBLIC_IP, 443)]


async def test_backend_refuses_a_dns_answer_with_any_private_address() -> None:
    inner = RecordingBackend()
    backend = GuardedNetworkBackend(inner, resolve=resolving_to(PUBLIC_IP, "::ffff:192.168.0.1"))
    with pytest.raises(ForbiddenAddress):
        await backend.connect_tcp("rebind.example", 443)
    assert inner.connected_to == []


async def test_backend_checks_what_the_real_system_resolver_returns() -> None:
    async def system_localhost(host: str, port: int) -> list[str]:
        # Pretend "peer.example" has the system's real answer for localhost.
        infos = await anyio.getaddrinfo("localhost", port, type=socket.SOCK_STREAM)
        return [str(info[4][0]) for info in infos]

    inner = RecordingBackend()
    backend = GuardedNetworkBackend(inner, resolve=system_localhost)
    with pytest.raises(ForbiddenAddress):
        await backend.connect_tcp("peer.example", 80)
    assert inner.connected_to == []
