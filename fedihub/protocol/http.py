"""The process-wide httpx client: aiohttp or httpx transport, timeouts, deadlines, caps, User-Agent, SSRF guard."""

from __future__ import annotations

import contextlib
import contextvars
import http.cookiejar
import math
import typing
from collections.abc import AsyncIterator, Iterator, Mapping

import anyio
import httpcore
import httpx

from fedihub.errors import ConfigurationError
from fedihub.protocol.addresses import AddressGuardTransport, GuardedNetworkBackend

TRANSPORTS = ("aiohttp", "httpx")
LIMIT_PER_HOST = 16  # one slow peer must not take every connection in the pool
DNS_CACHE_SECONDS = 300
KEEPALIVE_SECONDS = 15.0
# Defaults of the limits every request gets from the shared client, whoever makes it: per-read
# timeouts alone let a peer drip one byte at a time forever, and a body read whole can be any size.
TOTAL_DEADLINE_SECONDS = 60.0
MAX_RESPONSE_BYTES = 10_000_000


class DeadlineExceeded(httpx.TimeoutException):
    """The whole request (connect, headers and body) took longer than its deadline."""


class ResponseTooLarge(httpx.ReadError):
    """The peer sent more bytes than any answer may have; we stopped reading and closed."""


# The deadline (on anyio's clock) that the code running in this task has set for its outbound
# requests, e.g. the worker while it processes one inbox item. Context-local like a cancel
# scope: each task sees only what it or its caller set, so there is no shared mutable state.
_CONTEXT_DEADLINE: contextvars.ContextVar[float] = contextvars.ContextVar("outbound_deadline", default=math.inf)


@contextlib.contextmanager
def outbound_deadline(seconds: float) -> Iterator[None]:
    """Every request made through the shared client inside this block ends ``seconds`` from now.

    Unlike ``anyio.fail_after`` it cancels only the network I/O, never a database transaction in
    between; nested blocks can only shorten it. A request past it raises DeadlineExceeded.
    """
    deadline = min(anyio.current_time() + seconds, _CONTEXT_DEADLINE.get())
    token = _CONTEXT_DEADLINE.set(deadline)
    try:
        yield
    finally:
        _CONTEXT_DEADLINE.reset(token)


def build_http_client(
    *,
    user_agent: str,
    allow_private_addresses: bool,
    transport: str = "aiohttp",
    timeout: float = 10.0,
    deadline: float = TOTAL_DEADLINE_SECONDS,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    max_connections: int = 256,
    mounts: Mapping[str, httpx.AsyncBaseTransport] | None = None,
) -> httpx.AsyncClient:
    """Build the one shared client; close it with ``await client.aclose()`` at shutdown.

    ``transport`` is "aiohttp" (default: about 10x the throughput of httpx's own pool under
    concurrency, see ARCHITECTURE.md) or "httpx". Unless ``allow_private_addresses`` is set, every
    request and every redirect hop goes through the SSRF guard. ``mounts`` routes URL patterns to
    other transports (in-process test peers); they are guarded too.

    ``timeout`` bounds each connect and each read; ``deadline`` bounds a whole request, answer
    body included, and ``max_response_bytes`` what is read of any answer (bytes on the wire).
    Both are enforced by the transport itself (BoundedTransport), mounts included, so no call site
    can forget them; call sites keep their tighter limits (a document's size, a delivery's deadline).
    """
    if transport not in TRANSPORTS:
        raise ConfigurationError(f"unknown HTTP transport {transport!r}; use one of {TRANSPORTS}")
    guarded = not allow_private_addresses
    inner: httpx.AsyncBaseTransport
    if transport == "aiohttp":
        # Imported and built on the first request: aiohttp is about 10 MB of an idle server's memory.
        inner = LazyTransport(lambda: _aiohttp_transport(guarded=guarded, max_connections=max_connections))
    else:
        inner = _httpx_transport(guarded=guarded, max_connections=max_connections)
    mounted = dict(mounts or {})
    if guarded:
        inner = AddressGuardTransport(inner)
        mounted = {pattern: AddressGuardTransport(t) for pattern, t in mounted.items()}

    def bounded(transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        return BoundedTransport(transport, deadline=deadline, max_response_bytes=max_response_bytes)

    return httpx.AsyncClient(
        transport=bounded(inner),
        mounts={pattern: bounded(t) for pattern, t in mounted.items()},
        headers={"User-Agent": user_agent},
        timeout=httpx.Timeout(timeout),
        # ActivityPub ids must not redirect (spec §1.5, P13); callers opt in per request.
        follow_redirects=False,
        # Proxy variables would install proxy transports that bypass the guard.
        trust_env=False,
        # A process-wide client would otherwise keep every peer's cookies forever; signed
        # server-to-server requests have no use for them.
        cookies=_no_cookies(),
    )


def _no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _aiohttp_transport(*, guarded: bool, max_connections: int) -> httpx.AsyncBaseTransport:
    from fedihub.protocol.aiohttp_transport import build_aiohttp_transport

    return build_aiohttp_transport(
        guarded=guarded, max_connections=max_connections, limit_per_host=LIMIT_PER_HOST,
        dns_cache_seconds=DNS_CACHE_SECONDS, keepalive_seconds=KEEPALIVE_SECONDS,
    )


class LazyTransport(httpx.AsyncBaseTransport):
    """Builds its transport on the first request, so a process that never sends one never loads it."""

    def __init__(self, build: typing.Callable[[], httpx.AsyncBaseTransport]) -> None:
        self._build = build
        self._inner: httpx.AsyncBaseTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            self._inner = self._build()
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def _httpx_transport(*, guarded: bool, max_connections: int) -> httpx.AsyncBaseTransport:
    # httpx.AsyncHTTPTransport takes no network backend, so build the httpcore pool ourselves and
    # adapt it with the small transport below (public httpcore/httpx API only, rather than
    # swapping the private ``AsyncHTTPTransport._pool``).
    pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=KEEPALIVE_SECONDS,
        network_backend=GuardedNetworkBackend() if guarded else None,
    )
    return HttpcorePoolTransport(pool)


# Most specific first: the first match wins.
_HTTPCORE_ERRORS: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


def _as_httpx_error(exc: Exception) -> Exception:
    for core_type, httpx_type in _HTTPCORE_ERRORS:
        if isinstance(exc, core_type):
            return httpx_type(str(exc))
    return exc  # ours (ForbiddenAddress) or a bug: let it through unchanged


class _PoolStream(httpx.AsyncByteStream):
    def __init__(self, stream: typing.AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except Exception as exc:
            mapped = _as_httpx_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class HttpcorePoolTransport(httpx.AsyncBaseTransport):
    """httpx transport over an httpcore pool we built (so we chose its network backend)."""

    def __init__(self, pool: httpcore.AsyncConnectionPool) -> None:
        self._pool = pool

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await self._pool.handle_async_request(core_request)
        except Exception as exc:
            mapped = _as_httpx_error(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        assert isinstance(response.stream, typing.AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_PoolStream(response.stream),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class BoundedTransport(httpx.AsyncBaseTransport):
    """Gives every request a total deadline and every answer a byte cap, around any transport.

    The deadline runs from the start of the request to the last byte of the answer, whoever reads
    it and however slowly the peer sends; the earlier of ``deadline`` and the one set with
    ``outbound_deadline`` applies. The cap counts the bytes the peer sends (before decompression:
    call sites that decode a body count decoded bytes too, see fetch.read_limited).
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, *, deadline: float, max_response_bytes: int) -> None:
        self._inner = inner
        self._deadline = deadline
        self._max_bytes = max_response_bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ends_at = min(anyio.current_time() + self._deadline, _CONTEXT_DEADLINE.get())
        try:
            with anyio.fail_after(max(ends_at - anyio.current_time(), 0.0)):
                response = await self._inner.handle_async_request(request)
        except TimeoutError as exc:
            raise DeadlineExceeded(f"{request.url} did not answer in time", request=request) from exc
        # An announced Content-Length above the cap is not refused here: a caller that needs only
        # the status (a delivery) still gets it; reading past the cap fails below.
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_BoundedStream(response.stream, request, ends_at=ends_at, max_bytes=self._max_bytes),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


class _BoundedStream(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, request: httpx.Request, *, ends_at: float,
                 max_bytes: int) -> None:
        self._stream = stream
        self._request = request
        self._ends_at = ends_at
        self._max_bytes = max_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = self._stream.__aiter__()
        received = 0
        try:
            while True:
                try:
                    with anyio.fail_after(max(self._ends_at - anyio.current_time(), 0.0)):
                        chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    return
                except TimeoutError as exc:
                    raise DeadlineExceeded(
                        f"{self._request.url} was still sending its answer at the deadline", request=self._request
                    ) from exc
                received += len(chunk)
                if received > self._max_bytes:
                    raise ResponseTooLarge(
                        f"{self._request.url} sent more than {self._max_bytes} bytes", request=self._request
                    )
                yield chunk
        finally:
            close = getattr(chunks, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    async def aclose(self) -> None:
        await self._stream.aclose()
