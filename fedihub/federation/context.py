"""What every federation operation needs, assembled once in the composition root."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from fedihub.federation.actor_parts import ActorParts
from fedihub.federation.urls import Urls
from fedihub.storage.db import Sessions


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FederationContext:
    """Shared services for one instance: database sessions, the HTTP client, identity, clock."""

    base_url: str
    sessions: Sessions
    http: httpx.AsyncClient
    authorized_fetch: bool = False
    delivery_concurrency: int = 32
    # Seconds one delivery POST may take in all, answer included (FEDIHUB_DELIVERY_TIMEOUT).
    delivery_timeout: float = 20.0
    # Signs background GETs as the instance actor; set once the instance actor exists.
    instance_auth: httpx.Auth | None = None
    clock: Callable[[], datetime] = utc_now
    # What the domain packages add to actor documents and read from remote ones (composition root).
    actor_parts: ActorParts = field(default_factory=ActorParts)
    rng: random.Random = field(default_factory=random.Random)
    # Set by the worker so new rows are picked up at once instead of at the next poll.
    work_available: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def urls(self) -> Urls:
        return Urls(self.base_url)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def scheme(self) -> str:
        """Scheme used for WebFinger lookups: https in production, http on test and demo networks."""
        return urlsplit(self.base_url).scheme

    def notify_work(self) -> None:
        self.work_available.set()
