"""Security headers on every response: a strict Content-Security-Policy and friends."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Pages show remote coalitions' avatars and banners as their servers publish them.
ANY_HTTPS_IMAGE = "'self' https: data:"


def content_security_policy(form_action: str = "'self'", img_src: str = ANY_HTTPS_IMAGE) -> str:
    """No third-party scripts, fonts or styles anywhere: everything comes from our own origin."""
    return (
        f"default-src 'self'; img-src {img_src}; style-src 'self'; script-src 'self'; "
        f"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action {form_action}"
    )


def map_image_sources(tiles_url: str) -> str:
    """The map page shows no remote avatar: its images are ours, plus the tile server's when one is set."""
    if not tiles_url:
        return "'self' data:"
    parts = urlsplit(tiles_url)
    return f"'self' data: {parts.scheme}://{parts.netloc}"


CONTENT_SECURITY_POLICY = content_security_policy()
# The "follow from your own server" form posts here and is redirected to the visitor's server;
# Chromium applies form-action to that redirect too, so pages carrying the form widen it.
REMOTE_FOLLOW_FORM_ACTION = "'self' https:"

HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in HEADERS if h[0] not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)
