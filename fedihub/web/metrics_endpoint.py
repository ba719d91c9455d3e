"""``/metrics`` for Prometheus, and the timing of every request it reports; both only when an operator
set FEDIHUB_METRICS_TOKEN."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fedihub.errors import NotFound
from fedihub.metrics import Metrics, bearer_matches
from fedihub.web.state import runtime_of


async def metrics(request: Request) -> Response:
    """The metrics in Prometheus' text format, for a scraper bearing the token; 404 when metrics are off."""
    found: Metrics | None = getattr(request.app.state, "metrics", None)
    runtime = runtime_of(request)
    if found is None or not runtime.settings.metrics_token:
        raise NotFound("no such page")
    if not bearer_matches(request.headers.get("authorization"), runtime.settings.metrics_token):
        return Response("a metrics token is needed\n", status_code=401, media_type="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"})
    async with runtime.ctx.reading() as session:
        await found.count_queues(session)
    # Imported here, like the rest of prometheus-client: only a server with metrics on loads it.
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(found.exposition(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    return [Route("/metrics", metrics, name="metrics")]


class RequestTimingMiddleware:
    """Times every HTTP request by its route's path template (never the raw path: one series per route)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            # Unmatched paths share one series, so a scanner cannot mint one per URL it tries.
            template = getattr(route, "path", None) if route is not None and status != 404 else None
            self.metrics.request_answered(template or "unmatched", scope["method"], time.perf_counter() - started)
