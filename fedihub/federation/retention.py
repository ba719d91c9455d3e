"""Retention: processed inbox items, finished deliveries, failed jobs and sent mail are pruned after a while.

Inbox items are kept only to deduplicate retries and redeliveries by activity id, which peers stop
sending within days (Mastodon gives up after about 3); deliveries are kept for the delivery health
view. Failures are kept longer than successes so an operator can still read why. Published activities
are never pruned: their ids must keep dereferencing. Mail holds people's addresses: it goes on the
same schedule as deliveries. Organizers' notices ("What's new") are kept for the failure period:
long enough to read after a holiday, and the table stays bounded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from fedihub.federation.context import FederationContext
from fedihub.storage.models import Delivery, InboxItem, Job, Notice, OutboundMail

log = logging.getLogger(__name__)

# Rows deleted per transaction: a large backlog must not hold SQLite's write lock for long.
BATCH = 500


@dataclass(frozen=True)
class RetentionPolicy:
    done_for: timedelta = timedelta(days=30)
    failed_for: timedelta = timedelta(days=90)


@dataclass
class Pruned:
    inbox_items: int = 0
    deliveries: int = 0
    jobs: int = 0
    mail: int = 0
    notices: int = 0


async def _delete_in_batches(ctx: FederationContext, model: Any, condition: Any) -> int:
    total = 0
    while True:
        async with ctx.sessions.begin() as session:
            ids = (await session.scalars(select(model.id).where(condition).limit(BATCH))).all()
            if ids:
                await session.execute(delete(model).where(model.id.in_(ids)))
        total += len(ids)
        if len(ids) < BATCH:
            return total


async def prune(ctx: FederationContext, policy: RetentionPolicy, *, now: datetime | None = None) -> Pruned:
    """Delete what the policy no longer keeps; returns how many rows of each kind went."""
    now = now or ctx.clock()
    done_before, failed_before = now - policy.done_for, now - policy.failed_for
    pruned = Pruned()
    pruned.inbox_items = await _delete_in_batches(
        ctx, InboxItem,
        ((InboxItem.state == "done") & (InboxItem.processed_at < done_before))
        | ((InboxItem.state == "failed") & (InboxItem.processed_at < failed_before)),
    )
    pruned.deliveries = await _delete_in_batches(
        ctx, Delivery,
        ((Delivery.state == "delivered") & (Delivery.delivered_at < done_before))
        | ((Delivery.state == "dead") & (Delivery.created_at < failed_before)),
    )
    pruned.jobs = await _delete_in_batches(
        ctx, Job, (Job.state == "failed") & (Job.finished_at < failed_before)
    )
    pruned.mail = await _delete_in_batches(
        ctx, OutboundMail,
        ((OutboundMail.state == "sent") & (OutboundMail.sent_at < done_before))
        | ((OutboundMail.state == "failed") & (OutboundMail.created_at < failed_before)),
    )
    # Their e-mail marks go with them (ON DELETE CASCADE).
    pruned.notices = await _delete_in_batches(ctx, Notice, Notice.created_at < failed_before)
    if pruned.inbox_items or pruned.deliveries or pruned.jobs or pruned.mail or pruned.notices:
        log.info(
            "retention pruned %d inbox items, %d deliveries, %d failed jobs, %d e-mails, %d notices",
            pruned.inbox_items, pruned.deliveries, pruned.jobs, pruned.mail, pruned.notices,
        )
    return pruned
