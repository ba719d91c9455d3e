"""What every federation operation needs, assembled once in the composition root."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import ConfigurationError
from fedihub.federation.actor_parts import ActorParts
from fedihub.federation.foreground import Foreground
from fedihub.federation.intake_cache import BlockCache, KeyCache
from fedihub.federation.intake_limits import IntakeLimits
from fedihub.federation.key_fetches import KeyFetchGuard
from fedihub.federation.telemetry import NoTelemetry, Telemetry
from fedihub.federation.urls import Urls
from fedihub.i18n.catalogues import Catalogues
from fedihub.storage.db import Sessions

if TYPE_CHECKING:
    import httpx


def utc_now() -> datetime:
    return datetime.now(UTC)


# Whether this server refuses what the actor ``actor_uri`` sends: everywhere (``toward`` None), or to
# the local actor with id ``toward`` (a coalition that blocked it for itself). The blocks are the
# domain's (moderation/); the composition root wires its answer in, federation only asks.
Refuses = Callable[[AsyncSession, str, int | None], Awaitable[bool]]


async def refuse_nobody(session: AsyncSession, actor_uri: str, toward: int | None) -> bool:
    return False


@dataclass
class FederationContext:
    """Shared services for one instance: database sessions, the HTTP client, identity, clock."""

    base_url: str
    sessions: Sessions
    # Builds the shared HTTP client (``http``) on first use: a command that only writes to the
    # database, such as `fedihub post`, never imports the HTTP and signing stack.
    http_factory: Callable[[], httpx.AsyncClient]
    authorized_fetch: bool = False
    delivery_concurrency: int = 32
    # Seconds one delivery POST may take in all, answer included (FEDIHUB_DELIVERY_TIMEOUT).
    delivery_timeout: float = 20.0
    # At most one pledge notice per call per window (pledges/notices.py); zero sends one per change.
    pledge_notice_window: timedelta = timedelta(minutes=1)
    # The instance actor's key id and private key PEM (use_instance_key); background GETs are signed
    # with it. Out of the repr: a context in a log line or a traceback must not show a private key.
    instance_key: tuple[str, str] | None = field(default=None, repr=False)
    clock: Callable[[], datetime] = utc_now
    # What the domain packages add to actor documents and read from remote ones (composition root).
    actor_parts: ActorParts = field(default_factory=ActorParts)
    refuses: Refuses = refuse_nobody
    rng: random.Random = field(default_factory=random.Random)
    # In-process limits on what peers can make this server do (built from settings in app.py).
    intake_limits: IntakeLimits = field(default_factory=IntakeLimits)
    key_fetches: KeyFetchGuard = field(default_factory=KeyFetchGuard)
    # What each inbox POST reads, kept in this process and forgotten where it changes (intake_cache.py).
    key_cache: KeyCache = field(default_factory=KeyCache)
    block_cache: BlockCache = field(default_factory=BlockCache)
    # Set by the worker so new rows are picked up at once instead of at the next poll.
    work_available: asyncio.Event = field(default_factory=asyncio.Event)
    # The page requests this process answers; its in-process worker makes room for them (foreground.py).
    foreground: Foreground = field(default_factory=Foreground)
    # Sessions for transactions that only read (storage/db.create_read_session_factory).
    read_sessions: Sessions | None = None
    # Where deliveries and inbox answers are reported (fedihub/metrics.py when metrics are on).
    telemetry: Telemetry = field(default_factory=NoTelemetry)
    # What federated texts written on the author's behalf (a call's summary and notes) are written with.
    catalogues: Catalogues = field(default_factory=Catalogues, repr=False)

    _instance_auth: httpx.Auth | None = field(default=None, init=False, repr=False)

    @functools.cached_property
    def http(self) -> httpx.AsyncClient:
        """The one HTTP client every fetch and delivery of this instance goes through."""
        return self.http_factory()

    def use_instance_key(self, key_id: str, private_key_pem: str) -> None:
        """Sign background GETs as the instance actor with this key from now on."""
        self.instance_key = (key_id, private_key_pem)
        self._instance_auth = None

    @property
    def instance_auth(self) -> httpx.Auth | None:
        """Signs background GETs as the instance actor; None until ensure_instance_actor has run."""
        if self.instance_key is None:
            return None
        return self.load_instance_auth()

    def load_instance_auth(self) -> httpx.Auth:
        """The instance actor's signer, built once; raises ConfigurationError for a missing or damaged key."""
        if self.instance_key is None:
            raise ConfigurationError("the instance actor has no signing key yet: ensure_instance_actor was not run")
        if self._instance_auth is None:
            # Here rather than at the top: loading the signer loads httpx and cryptography.
            from fedihub.protocol.httpauth import HttpSignatureAuth

            self._instance_auth = HttpSignatureAuth(*self.instance_key, clock=self.clock)
        return self._instance_auth

    @property
    def reading(self) -> Sessions:
        """Sessions for a transaction that only reads: on SQLite it never waits for a writer."""
        return self.read_sessions or self.sessions

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

    def notify_work_on_commit(self, session: AsyncSession) -> None:
        """Wake the worker once ``session`` commits the work it queued. Woken before, the worker's
        claim on PostgreSQL does not see the rows yet, finds nothing, and sleeps a poll interval."""
        event.listen(session.sync_session, "after_commit", lambda _session: self.notify_work(), once=True)
