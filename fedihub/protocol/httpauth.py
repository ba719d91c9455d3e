"""httpx authentication that signs every outgoing request with an actor's key (draft-cavage)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from datetime import datetime

import anyio.to_thread
import httpx

from fedihub.protocol.keys import load_private_key
from fedihub.protocol.signatures import sign_request_headers


class HttpSignatureAuth(httpx.Auth):
    """Sign requests as Mastodon does: Host, Date, Digest for bodies, then Signature (spec §1.3).

    Accept-Encoding and User-Agent are left unsigned on purpose: proxies and HTTP clients
    rewrite them, and Mastodon does not sign them either.
    """

    # The Digest header needs the exact body bytes, so httpx must read streamed bodies first.
    requires_request_body = True

    def __init__(
        self, key_id: str, private_key_pem: str, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.key_id = key_id
        self._private_key = load_private_key(private_key_pem)
        # The Date header follows the same clock the receiving side checks it against.
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(self._signed_headers(request))
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # An RSA signature takes about a millisecond of CPU: a fan-out to a thousand inboxes would
        # hold the event loop the web pages share for a second, so it is made in a worker thread.
        await request.aread()
        request.headers.update(await anyio.to_thread.run_sync(self._signed_headers, request))
        yield request

    def _signed_headers(self, request: httpx.Request) -> dict[str, str]:
        return sign_request_headers(
            method=request.method,
            url=str(request.url),
            headers=request.headers,
            body=request.content,
            key_id=self.key_id,
            private_key=self._private_key,
            now=self._clock() if self._clock is not None else None,
        )

    def __repr__(self) -> str:
        # Never let the key object end up in logs or tracebacks via repr().
        return f"HttpSignatureAuth(key_id={self.key_id!r})"
