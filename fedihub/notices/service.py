"""Recording a notice: once per key, in the caller's transaction, with the e-mail of those who want it at once."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput
from fedihub.federation.context import FederationContext
from fedihub.mail.config import MailConfig
from fedihub.mail.outbox import enqueue_mail
from fedihub.notices.kinds import BY_NAME, NOW
from fedihub.notices.letters import Letters
from fedihub.notices.preferences import mailable_organizers, preferences_of
from fedihub.notices.store import add_notice
from fedihub.storage.models import Actor, Notice, NoticeMail, StoredObject

log = logging.getLogger(__name__)


class Notices:
    """What records notices and mails them; built once in the composition root (app.py).

    ``mail`` is None when this server sends no e-mail: notices are still listed, nothing is queued.
    """

    def __init__(self, mail: MailConfig | None, base_url: str, letters: Letters | None = None) -> None:
        self.mail = mail
        self.letters = letters or Letters(base_url)

    async def record_notice(
        self, ctx: FederationContext, session: AsyncSession, *, recipient: Actor, kind: str, key: str,
        party: Actor | None = None, call: StoredObject | None = None, detail: str | None = None,
    ) -> Notice | None:
        """Tell the organizers of the local ``recipient``; returns the notice, or None for a repeat.

        ``key`` names what the notice is about, so the same thing told twice (a re-sent activity)
        is one notice: a reply's id, a pledge's Join id, a follower's id. No network I/O: callers
        are inbound handlers and jobs, inside their transaction.
        """
        if kind not in BY_NAME:
            raise ValueError(f"no such kind of notice: {kind}")
        if not recipient.is_local or recipient.deleted_at is not None:
            return None
        now = ctx.clock()
        row = await add_notice(session, recipient=recipient, kind=kind, key=key, party=party, call=call,
                               detail=detail, now=now)
        if row is not None:
            await self._mail_at_once(session, row, now)
        return row

    async def _mail_at_once(self, session: AsyncSession, notice: Notice, now: datetime) -> None:
        if self.mail is None:
            return
        for account in await mailable_organizers(session, notice.actor_id):
            if (await preferences_of(session, account.id))[notice.kind] != NOW:
                continue
            letter = self.letters.one(notice, account.language)
            try:
                await enqueue_mail(session, self.mail, to=account.email or "", subject=letter.subject,
                                   text=letter.text, html=letter.html, headers=letter.headers, now=now)
            except InvalidInput:
                # An address stored before it was checked must not stop the inbound activity.
                log.warning("account %s has an address mail cannot be sent to", account.id)
                continue
            session.add(NoticeMail(account_id=account.id, notice_id=notice.id, queued_at=now))
            log.info("notice %s (%s) mailed at once to account %s", notice.id, notice.kind, account.id)
