"""GET /healthz: 200 while this process serves and reaches its database, 503 otherwise."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fedihub.web.state import runtime_of

# Below the container health check's own 5 s timeout, so it gets a 503 rather than no answer.
DATABASE_TIMEOUT = 3.0


async def healthz(request: Request) -> JSONResponse:
    # The body says nothing about the configuration (no backend, host or error): the log has that.
    # The probe is wired in the composition root (fedihub/app.py): the web layer has no SQL of its own.
    healthy = await runtime_of(request).database_answers(DATABASE_TIMEOUT)
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable"},
        status_code=200 if healthy else 503,
        headers={"Cache-Control": "no-store"},
    )


def routes() -> list[Route]:
    return [Route("/healthz", healthz, name="healthz")]
