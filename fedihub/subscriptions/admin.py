"""What instance admins see and do about subscribers: counts per target, an address's data, erasure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Actor, MailSubscription, OutboundMail, SubscriptionMail
from fedihub.subscriptions.service import CONFIRMED, calendar_label, describe


@dataclass(frozen=True)
class TargetCount:
    label: str
    page: str | None  # the coalition's or hub's page, or None for a calendar
    confirmed: int
    pending: int


async def target_counts(session: AsyncSession, instance_name: str) -> list[TargetCount]:
    """Confirmed and pending subscriptions per coalition, hub and calendar filter, the most followed first."""
    rows = (await session.execute(
        select(MailSubscription.actor_id, MailSubscription.movement, MailSubscription.region, MailSubscription.state,
               func.count())
        .group_by(MailSubscription.actor_id, MailSubscription.movement, MailSubscription.region,
                  MailSubscription.state)
    )).all()
    totals: dict[tuple[int | None, str | None, str | None], list[int]] = {}
    for actor_id, movement, region, state, count in rows:
        counts = totals.setdefault((actor_id, movement, region), [0, 0])
        counts[0 if state == CONFIRMED else 1] += int(count)
    actors = {
        actor.id: actor for actor in (await session.scalars(
            select(Actor).where(Actor.id.in_([key[0] for key in totals if key[0] is not None]))
        )).all()
    }
    result = []
    for (actor_id, movement, region), (confirmed, pending) in totals.items():
        actor = actors.get(actor_id) if actor_id is not None else None
        if actor is not None:
            label, page = (actor.name or actor.username or "").strip(), actor.uri
        else:
            label, page = calendar_label(movement, region, instance_name).capitalize(), None
        result.append(TargetCount(label=label, page=page, confirmed=confirmed, pending=pending))
    return sorted(result, key=lambda c: (-c.confirmed, -c.pending, c.label.casefold()))


async def subscriptions_of(session: AsyncSession, address: str) -> list[MailSubscription]:
    return list((await session.scalars(
        select(MailSubscription).where(MailSubscription.address == address).order_by(MailSubscription.id)
    )).all())


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def export_address(session: AsyncSession, address: str, instance_name: str) -> dict[str, Any]:
    """Everything this server stores about ``address``: its subscriptions, which calls were mailed to it
    and the messages still kept in the mail outbox (bodies included). Token hashes are left out: they
    are not about the person, and a copy of them is one more thing to leak."""
    subscriptions = await subscriptions_of(session, address)
    ids = [row.id for row in subscriptions]
    sends = (await session.scalars(
        select(SubscriptionMail).where(SubscriptionMail.subscription_id.in_(ids)).order_by(SubscriptionMail.id)
    )).all() if ids else []
    mails = (await session.scalars(
        select(OutboundMail).where(func.lower(OutboundMail.recipient) == address).order_by(OutboundMail.id)
    )).all()
    return {
        "address": address,
        "subscriptions": [
            {
                "id": row.id, "subscribed_to": await describe(session, row, instance_name), "state": row.state,
                "movement": row.movement, "region": row.region, "timezone": row.timezone,
                "created_at": _time(row.created_at), "confirmed_at": _time(row.confirmed_at),
                "confirmation_sent_at": _time(row.confirm_sent_at),
            }
            for row in subscriptions
        ],
        "calls_mailed": [
            {"subscription": send.subscription_id, "call": send.call_uri, "kind": send.kind,
             "at": _time(send.created_at)}
            for send in sends
        ],
        "messages": [
            {"subject": mail.subject, "state": mail.state, "created_at": _time(mail.created_at),
             "sent_at": _time(mail.sent_at), "text": mail.text_body}
            for mail in mails
        ],
    }


async def erase_address(session: AsyncSession, address: str) -> tuple[int, int]:
    """Delete every subscription of ``address`` (what was mailed goes with them) and every message to it
    in the outbox, sent or not. Returns (subscriptions, messages) deleted."""
    subscriptions = await session.execute(
        delete(MailSubscription).where(MailSubscription.address == address),
        execution_options={"synchronize_session": False},
    )
    mails = await session.execute(
        delete(OutboundMail).where(func.lower(OutboundMail.recipient) == address),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(subscriptions, "rowcount", 0) or 0), int(getattr(mails, "rowcount", 0) or 0)
