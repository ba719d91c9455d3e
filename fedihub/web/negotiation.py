"""Content negotiation and ActivityPub responses: same URL, AS2 JSON for servers, HTML for people."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from fedihub.errors import AuthenticationFailed, DomainBlocked
from fedihub.federation.actors import host_of
from fedihub.federation.auth import authenticate
from fedihub.federation.blocks import is_blocked
from fedihub.protocol.media_types import ACTIVITY_JSON, accepts_activitypub
from fedihub.web.state import runtime_of


def wants_activitypub(request: Request) -> bool:
    return accepts_activitypub(request.headers.get("accept", ""))


class ActivityResponse(Response):
    """AS2 JSON with the content type Mastodon requires (pitfall P11)."""

    media_type = ACTIVITY_JSON

    def __init__(self, content: Any, status_code: int = 200, *, signed_only: bool = False) -> None:
        vary = "Accept, Signature" if signed_only else "Accept"
        headers = {"Vary": vary, "Cache-Control": "private, no-store" if signed_only else "public, max-age=60"}
        super().__init__(content, status_code=status_code, headers=headers)

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def require_signed_fetch(request: Request) -> None:
    """With authorized fetch on, AS2 GETs of actors and objects must be signed by an unblocked server."""
    runtime = runtime_of(request)
    if not runtime.settings.authorized_fetch:
        return
    if "signature" not in request.headers and "signature-input" not in request.headers:
        raise AuthenticationFailed("this server only answers signed requests (authorized fetch)")
    key = await authenticate(
        runtime.ctx,
        method=request.method,
        path=raw_path(request),
        query=request.scope.get("query_string", b"").decode("latin-1"),
        headers=request.headers,
        body=b"",
    )
    async with runtime.ctx.reading() as session:
        if await is_blocked(session, host_of(key.owner)):
            raise DomainBlocked("your server is blocked here")


def raw_path(request: Request) -> str:
    """The path exactly as the peer sent it, which is what its signature covers."""
    raw = request.scope.get("raw_path")
    return raw.decode("latin-1") if raw else request.url.path
