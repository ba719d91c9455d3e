"""SSRF guard: refuse to connect to private, loopback and other non-public addresses."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import anyio
import httpcore
import httpx

from fedihub.errors import ForbiddenAddress
from fedihub.i18n.active import N_
from fedihub.protocol.hosts import normalise_host

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that the stdlib flags (is_private/is_global/...) differently across Python versions,
# or not at all; listed explicitly so the answer does not depend on the interpreter.
_FORBIDDEN_V4 = tuple(
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",
        "100.64.0.0/10",  # shared address space (carrier-grade NAT)
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes 255.255.255.255 broadcast
    )
)
_FORBIDDEN_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/128",
        "::1/128",
        "::/96",  # deprecated IPv4-compatible addresses
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, includes Teredo 2001::/32
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")

# Names that resolve to this machine without asking DNS (RFC 6761 §6.3 and common /etc/hosts entries).
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def is_forbidden_ip(ip: IPAddress) -> bool:
    """True when a server must not connect to ``ip`` on behalf of remote input."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            # An IPv4 address reached through IPv6 is judged as the IPv4 address it carries.
            return is_forbidden_ip(embedded)
        if any(ip in net for net in _FORBIDDEN_V6):
            return True
    elif any(ip in net for net in _FORBIDDEN_V4):
        return True
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address carried by an IPv4-mapped, 6to4 or well-known NAT64 address, if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def parse_ip(text: str) -> IPAddress | None:
    """The address when ``text`` is an IP literal (brackets and a zone id allowed), else None."""
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def check_addresses(host: str, addresses: Iterable[str]) -> None:
    """Raise ForbiddenAddress if ANY resolved address is forbidden.

    Refusing on any (not only the first) defeats DNS answers that mix a public address with a
    private one and hope the connector tries the private one.
    """
    for text in addresses:
        ip = parse_ip(text)
        if ip is None or is_forbidden_ip(ip):
            raise ForbiddenAddress(
                f"{host} resolves to forbidden address {text}",
                public_message=N_("That address points to a private network."),
            )


def check_host_name(host: str) -> None:
    """Reject IP literals and local names that connectors would reach without a DNS check.

    The name is judged in its normalised spelling, so full-width or otherwise mapped look-alikes
    (``ｌｏｃａｌｈｏｓｔ``, ``127。0。0。1``) are what they resolve to.
    """
    name = normalise_host(host.strip("[]"), strict=False)
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        raise ForbiddenAddress(f"{host} is a local name", public_message=N_("That address is local."))
    ip = parse_ip(name)
    if ip is not None:
        if is_forbidden_ip(ip):
            raise ForbiddenAddress(
                f"{host} is a forbidden address",
                public_message=N_("That address points to a private network."),
            )
        return
    # Legacy numeric forms ("127.1", "2130706433") are mapped onto addresses by inet_aton; aiohttp
    # treats all-digit hosts as IP literals and would skip the resolver, so refuse them outright.
    if name.replace(".", "").isdigit():
        raise ForbiddenAddress(
            f"{host} is not a canonical IP address", public_message=N_("That address is not valid.")
        )


Resolve = Callable[[str, int], Awaitable[list[str]]]


async def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # Keep the resolver's order (it already sorts by preference) but drop duplicates.
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """httpcore backend that resolves, checks, then connects to the checked IP itself.

    Connecting to the address that was checked (not the name) means a second DNS answer cannot
    differ from the first. TLS still verifies the name: httpcore passes the origin host as SNI.
    """

    def __init__(
        self, inner: httpcore.AsyncNetworkBackend | None = None, *, resolve: Resolve | None = None
    ) -> None:
        self._inner = inner if inner is not None else httpcore.AnyIOBackend()
        self._resolve = resolve if resolve is not None else _getaddrinfo

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        check_host_name(host)
        try:
            with anyio.fail_after(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise httpcore.ConnectError(f"{host} has no addresses")
        check_addresses(host, addresses)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ForbiddenAddress("unix sockets are not reachable through the guard")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class AddressGuardTransport(httpx.AsyncBaseTransport):
    """Refuses forbidden IP literals and local names before the inner transport sees them.

    The connect-time checks above cover names that go through DNS; this covers what does not:
    aiohttp connects to IP-literal hosts without calling its resolver. Redirects followed by the
    client come back through here, so every hop is checked.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_host_name(request.url.host)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
