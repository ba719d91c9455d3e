"""The worker's mail lane: claim due outbox rows, commit, send each over SMTP, record what happened."""

from __future__ import annotations

import logging
import ssl
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from fedihub.federation.context import FederationContext
from fedihub.federation.leases import keep_leased
from fedihub.federation.queue import claim_due
from fedihub.federation.retry import Outcome, retry_delay, should_give_up
from fedihub.mail.config import MailConfig
from fedihub.mail.sender import SendResult, build_message, send_message
from fedihub.storage.models import OutboundMail

log = logging.getLogger(__name__)


class MailRunner:
    """Sends the outbox, one SMTP conversation per message, retried with the deliveries' backoff.

    A row is recorded sent in its own transaction right after the server accepted it, and only a
    pending row is ever claimed: once recorded sent, a message is never sent again. (A worker that
    dies between the server's answer and the record leaves the row leased; it is sent once more when
    the lease runs out, under the same Message-ID.)
    """

    def __init__(
        self, ctx: FederationContext, mail: MailConfig, *, owner: str, lease: timedelta, deadline: float,
        batch_size: int = 16, tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.ctx = ctx
        self.mail = mail
        self.owner = owner
        self.lease = lease
        # However slow the server, one message never holds its row past half the lease.
        self.deadline = min(deadline, lease.total_seconds() / 2)
        self.batch_size = batch_size
        self.tls_context = tls_context

    async def run_once(self) -> int:
        ctx = self.ctx
        async with ctx.sessions.begin() as session:
            claimed = list(
                await claim_due(session, OutboundMail, now=ctx.clock(), owner=self.owner, lease=self.lease,
                                limit=self.batch_size)
            )
        if not claimed:
            return 0
        waiting = {row.id for row in claimed}
        async with keep_leased(ctx.sessions, ctx.clock, OutboundMail, lambda: waiting,
                               owner=self.owner, lease=self.lease):
            for index, row in enumerate(claimed):
                result = await send_message(
                    self.mail, build_message(self.mail, row), deadline=self.deadline, tls_context=self.tls_context
                )
                delay = await self._record(row, result)
                waiting.discard(row.id)
                if result.server_down:
                    # The rest of the batch waits as long as this one, without an attempt counted.
                    await self._postpone([r.id for r in claimed[index + 1:]], delay)
                    break
        return len(claimed)

    async def _record(self, row: OutboundMail, result: SendResult) -> timedelta:
        """Write one attempt's outcome; returns how long the message now waits (zero when done)."""
        ctx = self.ctx
        now = ctx.clock()
        count = row.attempts + 1
        wait = timedelta(0)
        change: dict[str, Any] = {
            "attempts": count, "last_attempt_at": now, "last_error": result.error,
            "locked_until": None, "locked_by": None,
        }
        if result.outcome is Outcome.DELIVERED:
            change.update(state="sent", sent_at=now)
        elif result.outcome is Outcome.PERMANENT or should_give_up(count, row.created_at, now):
            change.update(state="failed")
        else:
            wait = timedelta(seconds=retry_delay(count, rng=ctx.rng))
            change.update(next_attempt_at=now + wait)
        async with ctx.sessions.begin() as session:
            # Only while this runner still holds the row: a row another worker took over is theirs to record.
            await session.execute(
                update(OutboundMail)
                .where(OutboundMail.id == row.id, OutboundMail.locked_by == self.owner)
                .values(**change),
                execution_options={"synchronize_session": False},
            )
        # The recipient is not logged; the error was stripped of addresses when it was made.
        log.info(
            "mail %s %s: %s", row.id, change.get("state", "retry"), result.error or "accepted",
            extra={"attempt": count, "outcome": change.get("state", "retry")},
        )
        return wait

    async def _postpone(self, ids: list[int], wait: timedelta) -> None:
        if not ids:
            return
        async with self.ctx.sessions.begin() as session:
            await session.execute(
                update(OutboundMail)
                .where(OutboundMail.id.in_(ids), OutboundMail.locked_by == self.owner)
                .values(next_attempt_at=self.ctx.clock() + wait, locked_until=None, locked_by=None),
                execution_options={"synchronize_session": False},
            )
