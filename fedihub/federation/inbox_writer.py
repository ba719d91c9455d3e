"""Group commit for the inbox: verified activities arriving together are stored in one transaction.

Each inbox POST, once verified, waits on a future; one writer task takes everything waiting, stores
it in one transaction and only then resolves the futures, so a peer is answered 202 only for a row
that is committed. A batch that fails is tried again item by item (one bad row does not fail the
others); what still fails is answered 503, which every peer retries — never a 202 for a lost row.

The batch's transaction also re-reads the domain blocks and the signing keys it relies on: the
in-process copies (intake_cache.py) cannot see a block made by the CLI or a key stored by a worker
in another process, and a request verified against such an old copy is refused here.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import AuthenticationFailed, DomainBlocked, FedihubError, TemporarilyUnavailable
from fedihub.federation.actors import host_of
from fedihub.federation.blocks import domain_matches
from fedihub.federation.context import FederationContext
from fedihub.protocol.reader import ActivityView
from fedihub.storage.models import Actor, DomainBlock, InboxItem

if TYPE_CHECKING:
    from fedihub.protocol.signatures import PublicKeyInfo

log = logging.getLogger(__name__)

# Rows per INSERT: well under SQLite's limit of bound parameters (10 columns a row).
MAX_BATCH = 256


class Receipt(enum.Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


Outcome = Receipt | FedihubError


@dataclass(frozen=True)
class VerifiedActivity:
    """An inbox POST whose signature verified with ``key``, waiting to be stored."""

    activity: ActivityView
    key: PublicKeyInfo
    recipient_id: int | None


@dataclass
class _Waiting:
    item: VerifiedActivity
    answer: asyncio.Future[Receipt]


class InboxWriter:
    """The one task that stores verified inbox activities, a batch per transaction."""

    def __init__(self, ctx: FederationContext, *, max_batch: int = MAX_BATCH) -> None:
        self.ctx = ctx
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Waiting] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._writing: list[_Waiting] = []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[InboxWriter]:
        """Run the writer task for the lifetime of the block; whatever is still waiting at the end is refused."""
        self._task = asyncio.create_task(self._run())
        try:
            yield self
        finally:
            task, self._task = self._task, None
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            stopping = TemporarilyUnavailable("the server is stopping")
            for waiting in self._writing:
                self._refuse(waiting, stopping)
            while not self._queue.empty():
                self._refuse(self._queue.get_nowait(), stopping)

    async def store(self, item: VerifiedActivity) -> Receipt:
        """Wait until ``item`` is committed (ACCEPTED) or known already (DUPLICATE); raises the refusal."""
        if self._task is None or self._task.done():
            raise TemporarilyUnavailable("the inbox writer is not running")
        answer: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Waiting(item, answer))
        return await answer

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # No waiting for more: what arrived while the last transaction ran is the next batch.
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            self._writing = batch
            await self._write(batch)
            self._writing = []

    async def _write(self, batch: list[_Waiting]) -> None:
        try:
            outcomes = await write_batch(self.ctx, [waiting.item for waiting in batch])
        except Exception:
            if len(batch) == 1:
                log.exception("storing inbound %s failed", batch[0].item.activity.id)
                self._refuse(batch[0], TemporarilyUnavailable("the activity could not be stored"))
                return
            log.warning("storing %d inbound activities together failed; storing them one by one", len(batch),
                        exc_info=True)
            for waiting in batch:
                await self._write([waiting])
            return
        for waiting, outcome in zip(batch, outcomes, strict=True):
            if waiting.answer.done():  # the peer hung up; its row (if any) is kept, a retry is a duplicate
                continue
            if isinstance(outcome, FedihubError):
                waiting.answer.set_exception(outcome)
            else:
                waiting.answer.set_result(outcome)
        if Receipt.ACCEPTED in outcomes:
            self.ctx.notify_work()

    @staticmethod
    def _refuse(waiting: _Waiting, error: FedihubError) -> None:
        if not waiting.answer.done():
            waiting.answer.set_exception(error)


async def write_batch(ctx: FederationContext, items: Sequence[VerifiedActivity]) -> list[Outcome]:
    """Store ``items`` in one transaction; one outcome per item, in order."""
    blocks = ctx.block_cache
    generation = blocks.generation
    async with ctx.sessions.begin() as session:
        blocked = (await session.scalars(select(DomainBlock.domain))).all()
        blocks.remember(blocked, generation)
        current = await _current_keys(session, {item.key.owner for item in items})
        outcomes: list[Outcome | None] = []
        rows: list[dict] = []
        seen: set[str] = set()
        now = ctx.clock()
        for item in items:
            activity = item.activity
            host = host_of(activity.actor)
            if any(domain_matches(host, domain) for domain in blocked):
                outcomes.append(DomainBlocked(f"{host} is blocked on this server"))
            elif current.get(item.key.owner) != (item.key.key_id, item.key.public_key_pem):
                # Verified against a key that was rotated or deleted meanwhile (perhaps by another process).
                ctx.key_cache.forget_key(item.key.key_id)
                outcomes.append(AuthenticationFailed(
                    f"{item.key.key_id} is no longer the key of {item.key.owner}",
                    public_message="the signing key is no longer the actor's key",
                ))
            elif activity.id in seen:
                outcomes.append(Receipt.DUPLICATE)
            else:
                seen.add(activity.id)
                outcomes.append(None)
                rows.append({
                    "activity_uri": activity.id, "activity_type": activity.type, "actor_uri": activity.actor,
                    "recipient_id": item.recipient_id, "payload": activity.raw, "state": "pending", "attempts": 0,
                    "next_attempt_at": now, "received_at": now,
                })
        stored = await _insert_new(session, rows) if rows else set()
    return [
        outcome if outcome is not None else (Receipt.ACCEPTED if item.activity.id in stored else Receipt.DUPLICATE)
        for item, outcome in zip(items, outcomes, strict=True)
    ]


async def _current_keys(session: AsyncSession, owners: set[str]) -> dict[str, tuple[str | None, str | None]]:
    """The key each actor has now, as committed; a deleted actor has none."""
    rows = await session.execute(
        select(Actor.uri, Actor.public_key_id, Actor.public_key_pem).where(
            Actor.uri.in_(owners), Actor.deleted_at.is_(None)
        )
    )
    return {uri: (key_id, pem) for uri, key_id, pem in rows}


async def _insert_new(session: AsyncSession, rows: list[dict]) -> set[str]:
    """Insert the rows whose activity id is new (dedupe, also against a concurrent server); their ids."""
    dialect = session.get_bind().dialect.name
    # One statement per dialect, the rows passed as executemany parameters: SQLAlchemy then compiles
    # it once and sends the rows as batched multi-row VALUES ("insertmanyvalues"). Building
    # ``.values(rows)`` instead compiled a new statement for every batch, a quarter of the accept cost.
    statement = _insert_new_in(dialect)
    return set((await session.scalars(statement, rows)).all())


def _insert_new_statement(insert: Any) -> Any:
    table = InboxItem.__table__
    return (
        insert(table).on_conflict_do_nothing(index_elements=[table.c.activity_uri]).returning(table.c.activity_uri)
    )


@functools.cache
def _insert_new_in(dialect: str) -> Any:
    # Built at the first batch, for the dialect in use only: a process that stores no inbox batch
    # (a command) builds none, and a server on SQLite never imports PostgreSQL's dialect.
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return _insert_new_statement(postgresql.insert)
    from sqlalchemy.dialects import sqlite

    return _insert_new_statement(sqlite.insert)
