"""The aiohttp side of the shared client: its transport and the SSRF-guarded resolver it connects through.

Imported only when the first outbound request is made (protocol/http.py LazyTransport).
"""

from __future__ import annotations

import socket

import aiohttp
import aiohttp.abc
import httpx
from httpx_aiohttp import AiohttpTransport

from fedihub.protocol.addresses import check_addresses


class GuardedResolver(aiohttp.abc.AbstractResolver):
    """aiohttp resolver that refuses names resolving to any forbidden address."""

    def __init__(self, inner: aiohttp.abc.AbstractResolver | None = None) -> None:
        # aiohttp's default resolver binds the running loop, so build it here (inside the loop).
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        check_addresses(host, (r["host"] for r in results))
        return results

    async def close(self) -> None:
        await self._inner.close()


def build_aiohttp_transport(
    *, guarded: bool, max_connections: int, limit_per_host: int, dns_cache_seconds: int, keepalive_seconds: float
) -> httpx.AsyncBaseTransport:
    """httpx over an aiohttp session (created on first use, inside the running loop), guarded unless told not."""
    ssl_context = httpx.create_ssl_context()  # certifi, same trust store as the httpx transport

    def make_session() -> aiohttp.ClientSession:
        # Called by the transport on first use, i.e. inside the running event loop that aiohttp
        # binds its session and resolver to.
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver() if guarded else None,
            limit=max_connections,
            limit_per_host=limit_per_host,
            ttl_dns_cache=dns_cache_seconds,
            keepalive_timeout=keepalive_seconds,
            ssl=ssl_context,
        )
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trust_env=False
        )

    return AiohttpTransport(client=make_session)
