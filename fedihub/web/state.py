"""Typed access to the running instance from a request (set by the lifespan in app.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from fedihub.app import Runtime


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime
