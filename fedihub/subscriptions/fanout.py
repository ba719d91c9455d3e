"""The fan-out job: one message per confirmed subscriber about a new, changed or cancelled call.

Triggers (triggers.py) only enqueue a job per call, in the transaction of the change; this job reads
the call as it is when it runs. A call's *revision* is a digest of the facts a reader acts on (title,
times, place, link, status), so a description edit or a pledge count changes nothing, and each
(subscription, call, revision) is mailed at most once however often the job runs. One address with
several subscriptions that list the call (a coalition and the hub that carries it) gets one message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.accounts.site import find_site_info
from fedihub.federation.context import FederationContext
from fedihub.feeds.queries import movement_condition, public_only, region_condition
from fedihub.mail.outbox import enqueue_mail
from fedihub.moderation.visibility import not_blocked_by, shown_objects
from fedihub.storage.models import Boost, MailSubscription, StoredObject, SubscriptionMail
from fedihub.subscriptions import messages
from fedihub.subscriptions.mailing import Mailing, unsubscribe_url
from fedihub.subscriptions.service import CONFIRMED, describe

log = logging.getLogger(__name__)
# Addresses mailed per transaction: a big list commits as it goes, and a rerun skips what is recorded.
BATCH = 200


def revision_of(row: StoredObject) -> str:
    """A digest of what a reader acts on; equal digests mean nothing worth a message changed."""
    facts = [
        row.name, row.start_time.isoformat() if row.start_time else None,
        row.end_time.isoformat() if row.end_time else None, row.timezone, row.location_name, row.location_address,
        row.online_url, (row.event_status or "CONFIRMED").upper(),
    ]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:32]


def is_over(row: StoredObject, now: datetime) -> bool:
    # As feeds/queries.py: a call without an end is over once it has started.
    end = row.end_time or row.start_time
    return end is None or end < now


@dataclass
class Match:
    """A subscription that lists the call, and since when it does (its coalition published it, its hub
    boosted it, it reached this server)."""

    subscription: MailSubscription
    listed_since: datetime


async def _still_shown(session: AsyncSession, row: StoredObject, *conditions: Any) -> bool:
    found = await session.scalar(
        select(StoredObject.id).where(StoredObject.id == row.id, await shown_objects(session), *conditions)
    )
    return found is not None


async def _actor_matches(session: AsyncSession, row: StoredObject) -> list[Match]:
    """Subscribers of its coalition, and of every local hub that carries it (and has not blocked its author)."""
    if row.visibility not in ("public", "unlisted"):
        return []
    boosts = {
        hub_id: created for hub_id, created in await session.execute(
            select(Boost.hub_id, Boost.created_at).where(Boost.object_uri == row.uri, Boost.undone_at.is_(None))
        )
    }
    rows = (await session.scalars(
        select(MailSubscription).where(
            MailSubscription.state == CONFIRMED,
            or_(MailSubscription.actor_id == row.attributed_to_id, MailSubscription.actor_id.in_(list(boosts))),
        )
    )).all()
    found = []
    for sub in rows:
        assert sub.actor_id is not None
        if sub.actor_id == row.attributed_to_id:
            found.append(Match(sub, row.created_at))
        elif await _still_shown(session, row, not_blocked_by(sub.actor_id)):
            found.append(Match(sub, boosts[sub.actor_id]))
    return found


async def _calendar_matches(session: AsyncSession, row: StoredObject) -> list[Match]:
    """Subscribers of a filtered calendar that lists the call (the same conditions as /calls.ics)."""
    if row.visibility != "public":
        return []
    rows = (await session.scalars(
        select(MailSubscription).where(MailSubscription.state == CONFIRMED, MailSubscription.actor_id.is_(None))
    )).all()
    dialect = session.get_bind().dialect.name
    verdicts: dict[tuple[str | None, str | None], bool] = {}
    found = []
    for sub in rows:
        key = (sub.movement, sub.region)
        if key not in verdicts:
            conditions = [public_only()]
            if sub.movement:
                conditions.append(movement_condition(dialect, sub.movement))
            if sub.region:
                conditions.append(region_condition(sub.region))
            verdicts[key] = await _still_shown(session, row, and_(*conditions))
        if verdicts[key]:
            found.append(Match(sub, row.created_at))
    return found


def _kind(row: StoredObject, mailed_before: bool) -> str:
    if (row.event_status or "").upper() == "CANCELLED":
        return "cancelled"
    return "changed" if mailed_before else "new"


async def _mail_batch(
    session: AsyncSession, mailing: Mailing, row: StoredObject, matches: Sequence[Match], now: datetime
) -> bool:
    """Mail up to BATCH addresses that still need this revision; False once there is none left."""
    revision = revision_of(row)
    sends = (await session.execute(
        select(SubscriptionMail.subscription_id, SubscriptionMail.revision).where(SubscriptionMail.call_uri == row.uri)
    )).all()
    done = {sub_id for sub_id, rev in sends if rev == revision}
    heard = {sub_id for sub_id, _ in sends}
    by_address: dict[str, list[Match]] = {}
    for match in matches:
        by_address.setdefault(match.subscription.address, []).append(match)
    mailed = 0
    for address, group in by_address.items():
        todo = []
        for match in group:
            sub = match.subscription
            # A call that was listed before the subscription began and never mailed to it: its
            # changes are not news to this reader (it is on the page they subscribed from).
            if sub.id in done or (sub.id not in heard and (sub.confirmed_at or now) > match.listed_since):
                continue
            # A call cancelled before this reader ever heard of it is not worth a message.
            if sub.id not in heard and _kind(row, False) == "cancelled":
                continue
            todo.append(sub)
        if not todo:
            continue
        if mailed >= BATCH:
            return True
        already = any(m.subscription.id in done for m in group)
        first = todo[0]
        kind = _kind(row, first.id in heard)
        if not already:
            with mailing.writing_to(first):
                letter = messages.call_letter(
                    mailing, row, kind=kind, zone=first.timezone,
                    why=await describe(session, first, mailing.instance_name),
                    unsubscribe=unsubscribe_url(mailing, first),
                )
            await enqueue_mail(session, mailing.mail, to=address, subject=letter.subject, text=letter.text,
                               html=letter.html, headers=letter.headers, attachments=letter.attachments, now=now)
            mailed += 1
        for sub in todo:
            session.add(SubscriptionMail(subscription_id=sub.id, call_uri=row.uri, revision=revision,
                                         kind=_kind(row, sub.id in heard), created_at=now))
    return False


async def fan_out(ctx: FederationContext, mailing: Mailing, call_uri: str) -> None:
    if mailing.mail is None:
        return  # mail is off: nothing would be sent, and nothing is recorded as sent
    more = True
    while more:
        async with ctx.sessions.begin() as session:
            now = ctx.clock()
            row = await session.scalar(select(StoredObject).where(StoredObject.uri == call_uri))
            if row is None or row.type != "Event" or row.deleted_at is not None or is_over(row, now):
                return
            matches = [*await _actor_matches(session, row), *await _calendar_matches(session, row)]
            more = await _mail_batch(session, mailing, row, matches, now)


def fanout_job(mailing: Mailing) -> Callable[[FederationContext, Mapping[str, Any]], Awaitable[None]]:
    async def run(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
        call_uri = str(payload.get("call") or "")
        if call_uri:
            # The name the admins gave the instance since this worker started signs the mail too.
            async with ctx.sessions() as session:
                site = await find_site_info(session)
            named = dataclasses.replace(mailing, instance_name=site.name) if site else mailing
            await fan_out(ctx, named, call_uri)

    return run
