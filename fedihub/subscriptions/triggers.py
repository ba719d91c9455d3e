"""Where calls change, a fan-out job is enqueued in the same transaction; the job does the mailing.

Local calls are published, edited and cancelled in coalitions/calls.py; a hub's boost (of a local or
a remote call) is sent by hubs/boosting.py; a remote call's Create and Update arrive through the
inbound events. Each calls ``call_changed``, which costs one query when nobody is subscribed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation import jobs
from fedihub.federation.context import FederationContext
from fedihub.federation.events import InboundEvents
from fedihub.storage.models import Actor, MailSubscription, StoredObject

FANOUT_JOB = "subscriptions.fanout"


async def call_changed(session: AsyncSession, call_uri: str, *, now: datetime) -> None:
    """Enqueue the call's fan-out; a job already waiting for it covers this change too (it reads the call
    when it runs), and a running one runs once more."""
    anyone = await session.scalar(select(MailSubscription.id).where(MailSubscription.state == "confirmed").limit(1))
    if anyone is None:
        return
    key = hashlib.sha256(call_uri.encode()).hexdigest()
    await jobs.enqueue(session, FANOUT_JOB, key=key, payload={"call": call_uri}, at=now)


def subscribe_mailing(events: InboundEvents) -> None:
    """Remote calls that arrive or change reach the calendars' subscribers (hubs' boosts are enqueued
    where they are sent)."""

    async def on_call(ctx: FederationContext, session: AsyncSession, actor: Actor, row: StoredObject) -> None:
        if row.type == "Event" and not row.is_local:
            await call_changed(session, row.uri, now=ctx.clock())

    events.object_created.connect(on_call)
    events.object_updated.connect(on_call)
