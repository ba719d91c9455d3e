"""The daily digest: one message per account with the notices it chose by digest and was not mailed yet."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput
from fedihub.federation.context import FederationContext
from fedihub.federation.jobs import JobFunction
from fedihub.mail.outbox import enqueue_mail
from fedihub.notices.kinds import DIGEST
from fedihub.notices.preferences import preferences_of
from fedihub.notices.service import Notices
from fedihub.storage.models import Account, Membership, Notice, NoticeMail

log = logging.getLogger(__name__)

DIGEST_JOB = "notices.digest"
DIGEST_EVERY = timedelta(days=1)
# Notices older than this are not mailed any more (a digest missed while the worker was down, or a
# kind switched to digest): the list still shows them.
DIGEST_WINDOW = timedelta(days=7)
# A digest is a summary: past this many notices it says how many more wait in the list.
DIGEST_MAX = 100


async def _mailable_accounts(session: AsyncSession) -> list[int]:
    return list(
        (
            await session.scalars(
                select(Account.id).join(Membership, Membership.account_id == Account.id)
                .where(Account.email.is_not(None), Account.email != "", Account.disabled_at.is_(None))
                .distinct().order_by(Account.id)
            )
        ).all()
    )


async def digest_for(ctx: FederationContext, session: AsyncSession, notices: Notices, account_id: int) -> int:
    """Queue this account's digest, if it has anything new; returns how many notices it told of."""
    account = await session.get(Account, account_id)
    if notices.mail is None or account is None or not account.email or account.disabled_at is not None:
        return 0
    prefs = await preferences_of(session, account.id)
    kinds = [kind for kind, delivery in prefs.items() if delivery == DIGEST]
    if not kinds:
        return 0
    now = ctx.clock()
    rows = (
        await session.scalars(
            select(Notice)
            .join(Membership, and_(Membership.actor_id == Notice.actor_id, Membership.account_id == account.id))
            .outerjoin(NoticeMail, and_(NoticeMail.notice_id == Notice.id, NoticeMail.account_id == account.id))
            .where(NoticeMail.notice_id.is_(None), Notice.kind.in_(kinds), Notice.created_at >= now - DIGEST_WINDOW)
            .order_by(Notice.id.desc())
            .limit(DIGEST_MAX)
        )
    ).all()
    if not rows:
        return 0
    letter = notices.letters.digest(rows, account.language)
    try:
        await enqueue_mail(session, notices.mail, to=account.email, subject=letter.subject, text=letter.text,
                           html=letter.html, headers=letter.headers, now=now)
    except InvalidInput:
        log.warning("account %s has an address mail cannot be sent to", account.id)
        return 0
    # In the same transaction as the message: a notice is in one digest, never two.
    session.add_all(NoticeMail(account_id=account.id, notice_id=row.id, queued_at=now) for row in rows)
    return len(rows)


async def send_digests(ctx: FederationContext, notices: Notices) -> int:
    """Every account's digest, each in its own transaction; returns how many digests were queued."""
    if notices.mail is None:
        return 0
    async with ctx.sessions() as session:
        account_ids = await _mailable_accounts(session)
    queued = 0
    for account_id in account_ids:
        async with ctx.sessions.begin() as session:
            if await digest_for(ctx, session, notices, account_id):
                queued += 1
    if queued:
        log.info("notice digests queued: %d", queued)
    return queued


def digest_job(notices: Notices) -> JobFunction:
    async def run(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
        await send_digests(ctx, notices)

    return run
