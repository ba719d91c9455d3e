"""Running a domain operation the way an edge (web handler, CLI command, job) does: in one transaction.

Domain functions take ``(ctx, session, …)`` and never commit; tests that call one directly use
``committed`` so the operation's state change and the rows it causes are committed together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.context import FederationContext

P = ParamSpec("P")
T = TypeVar("T")


async def committed(
    ctx: FederationContext,
    operation: Callable[Concatenate[FederationContext, AsyncSession, P], Awaitable[T]],
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run ``operation(ctx, session, *args, **kwargs)`` in a transaction that commits when it returns."""
    async with ctx.sessions.begin() as session:
        return await operation(ctx, session, *args, **kwargs)


async def read(ctx: FederationContext, query: Callable[Concatenate[AsyncSession, P], Awaitable[T]],
               /, *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a read-only domain query ``query(session, …)`` in a short session."""
    async with ctx.sessions() as session:
        return await query(session, *args, **kwargs)


__all__ = ["committed", "read"]
