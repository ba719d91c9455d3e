"""In-process federation: several fedihub instances talking over httpx, each with its own DB and keys."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette

from fedihub.app import Runtime, create_app
from fedihub.protocol.http import build_http_client
from fedihub.settings import Settings
from fedihub.storage.models import Delivery, InboxItem

Handler = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


class Clock:
    """A clock tests can move forward (retry back-off, leases, signature windows)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.offset = timedelta()
        self._fixed = start

    def __call__(self) -> datetime:
        base = self._fixed or datetime.now(UTC)
        return base + self.offset

    def advance(self, **kwargs: float) -> None:
        self.offset += timedelta(**kwargs)


class HostRouter(httpx.AsyncBaseTransport):
    """Routes each request to the ASGI app or handler registered for its host, like a tiny internet."""

    def __init__(self, hosts: dict[str, httpx.AsyncBaseTransport]) -> None:
        self.hosts = hosts
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        netloc = request.url.netloc
        transport = self.hosts.get(netloc.decode() if isinstance(netloc, bytes) else netloc)
        if transport is None:
            raise httpx.ConnectError(f"no server at {request.url.host}", request=request)
        return await transport.handle_async_request(request)


@dataclass
class Instance:
    host: str
    app: Starlette
    client: httpx.AsyncClient

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime

    @property
    def ctx(self):  # type: ignore[no-untyped-def]
        return self.runtime.ctx

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
            return await client.get(path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.app)
        async with httpx.AsyncClient(transport=transport, base_url=self.base_url) as client:
            return await client.post(path, **kwargs)


@dataclass
class FederationNet:
    """Owns the instances of one test; ``settle()`` steps every worker until all are idle."""

    make_database: Callable[[], Awaitable[str]]
    clock: Clock = field(default_factory=Clock)
    hosts: dict[str, httpx.AsyncBaseTransport] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)
    stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    def router(self) -> HostRouter:
        return HostRouter(self.hosts)

    def add_handler(self, host: str, handler: Handler) -> None:
        """Serve ``host`` from a plain function (a fake Mastodon, a broken server …)."""
        self.hosts[host] = httpx.MockTransport(handler)  # type: ignore[arg-type]

    async def add_instance(self, host: str, **settings: Any) -> Instance:
        url = await self.make_database()
        # Drills step one pledge change at a time and look at every copy after each: each change is told
        # at once. The tests of coalesced notices give the production window (one minute) explicitly.
        settings.setdefault("pledge_notice_window_seconds", 0)
        config = Settings(base_url=f"http://{host}", database_url=url, secret_key="test-secret", **settings)
        # The real client around the tiny internet: its deadlines and caps apply here as in production.
        client = build_http_client(
            user_agent=f"fedihub/test (+http://{host}/)", allow_private_addresses=True, transport="httpx",
            timeout=10, mounts={"all://": self.router()},
        )
        self.stack.push_async_callback(client.aclose)
        app = create_app(config, http_client=client, clock=self.clock)
        await self.stack.enter_async_context(app.router.lifespan_context(app))
        self.hosts[host] = httpx.ASGITransport(app=app)
        instance = Instance(host=host, app=app, client=client)
        self.instances.append(instance)
        return instance

    async def settle(self, max_rounds: int = 100) -> int:
        """Run every worker until none has anything due; returns how many rows were worked."""
        total = 0
        for _ in range(max_rounds):
            worked = 0
            for instance in self.instances:
                worked += await instance.runtime.worker.run_once()
            total += worked
            if worked == 0:
                return total
        raise AssertionError(f"the network did not settle after {max_rounds} rounds")

    async def close(self) -> None:
        await self.stack.aclose()


async def activities_sent(instances: list[Instance]) -> int:
    """Activities the instances sent: signed POSTs queued, plus local handovers (inbox items whose
    actor is on the same server), which is what crosses the network or would on separate servers."""
    total = 0
    for instance in instances:
        async with instance.ctx.sessions() as session:
            total += await session.scalar(select(func.count(Delivery.id))) or 0
            total += await session.scalar(
                select(func.count(InboxItem.id)).where(InboxItem.actor_uri.startswith(instance.base_url))
            ) or 0
    return total
