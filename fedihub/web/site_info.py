"""The instance's name and description in every page's template context (accounts/site.py keeps them current)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from fedihub.accounts.site import SiteInfo


class SiteInfoMiddleware:
    """Brings the cache up to date before a request is handled (templates read it synchronously)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope["app"].state
            runtime = getattr(state, "runtime", None)
            if runtime is not None:
                await state.site.refresh(runtime.ctx)
        await self.app(scope, receive, send)


def site_context(request: Request) -> dict[str, Any]:
    """The template context every page gets: ``instance_name`` and ``instance_description``."""
    info: SiteInfo = request.app.state.site.value
    return {"instance_name": info.name, "instance_description": info.description}


def site_info_of(request: Request) -> SiteInfo:
    return request.app.state.site.value
