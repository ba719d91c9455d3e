"""The durable mail outbox: enqueueing a message in the caller's transaction, and its counts for the health page."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput
from fedihub.mail.config import MailConfig
from fedihub.storage.models import OutboundMail

# Headers the sender writes itself; a caller's copy would make a second From or a forged Date.
_RESERVED = frozenset({
    "from", "to", "cc", "bcc", "subject", "date", "message-id", "sender", "reply-to-all", "mime-version",
    "content-type", "content-transfer-encoding", "return-path",
})
_HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,75}$")
# A single plain address: no display name, no list, no comments (it comes from an account or a form).
_ADDRESS = re.compile(r"^[^\s@<>(),;:\"\[\]\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
MAX_SUBJECT = 250
# A filename of letters, digits, dots, dashes and underscores: it goes into a header parameter as is.
_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_CONTENT_TYPE = re.compile(r"^[a-z0-9.+-]+/[a-z0-9.+-]+$")
MAX_ATTACHMENT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message: an .ics calendar entry, for example."""

    filename: str
    content_type: str  # "text/calendar", without parameters
    data: bytes


@dataclass(frozen=True)
class Letter:
    """One message as its builder writes it, before it is queued for a recipient."""

    subject: str
    text: str
    html: str
    headers: dict[str, str]
    attachments: tuple[Attachment, ...] = ()


def check_address(address: str) -> str:
    """The address, stripped, if it is one plain ``local@domain``; InvalidInput otherwise."""
    value = address.strip()
    if len(value) > 320 or not _ADDRESS.match(value) or "." not in value.rpartition("@")[2]:
        raise InvalidInput("that is not an e-mail address we can send to")
    return value


def _check_attachments(attachments: Sequence[Attachment]) -> list[dict[str, str]] | None:
    stored = []
    for item in attachments:
        if not _FILENAME.match(item.filename) or not _CONTENT_TYPE.match(item.content_type):
            raise InvalidInput(
                f"the attachment {item.filename!r} needs a plain file name and a type like text/calendar"
            )
        if len(item.data) > MAX_ATTACHMENT_BYTES:
            raise InvalidInput(f"the attachment {item.filename!r} is larger than 1 MB")
        stored.append({
            "filename": item.filename, "content_type": item.content_type,
            "data": base64.b64encode(item.data).decode("ascii"),
        })
    return stored or None


def _check_headers(headers: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not _HEADER_NAME.match(name) or name.lower() in _RESERVED:
            raise InvalidInput(f"the mail header {name!r} cannot be set here")
        if "\r" in value or "\n" in value:
            raise InvalidInput(f"the mail header {name!r} must be on one line")
        checked[name] = value
    return checked


async def enqueue_mail(
    session: AsyncSession,
    mail: MailConfig | None,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachments: Sequence[Attachment] = (),
    now: datetime,
) -> int | None:
    """Queue one message to one recipient; the worker sends it. Returns its outbox id.

    The caller commits: the message exists exactly when the change it tells about does. With mail
    off (``mail`` is None) nothing is stored and None is returned: messages queued while no server
    is configured would all go out at once, stale, the day one is. Bad input (an address that is not
    one, a header with a line break, an attachment named like a path) raises InvalidInput and stores
    nothing.
    """
    if mail is None:
        return None
    if "\r" in subject or "\n" in subject or not subject.strip() or len(subject) > MAX_SUBJECT:
        raise InvalidInput(f"a mail subject is one line of 1 to {MAX_SUBJECT} characters")
    row = OutboundMail(
        recipient=check_address(to), subject=subject.strip(), text_body=text, html_body=html,
        headers=_check_headers(headers or {}), attachments=_check_attachments(attachments), state="pending",
        attempts=0, next_attempt_at=now, created_at=now,
    )
    session.add(row)
    await session.flush()
    return row.id


@dataclass(frozen=True)
class MailStatus:
    """What the delivery health page says about mail."""

    pending: int
    retrying: int  # pending messages that already failed at least once
    sent: int
    failed: int
    last_error: str | None
    last_error_at: datetime | None


async def mail_status(session: AsyncSession) -> MailStatus:
    counts = dict(
        (state, int(count))
        for state, count in await session.execute(
            select(OutboundMail.state, func.count()).group_by(OutboundMail.state)
        )
    )
    retrying = await session.scalar(
        select(func.count()).where(OutboundMail.state == "pending", OutboundMail.attempts > 0)
    )
    # The latest failure still standing: a pending message that failed, or one given up on.
    latest = (
        await session.execute(
            select(OutboundMail.last_error, OutboundMail.last_attempt_at)
            .where(OutboundMail.state != "sent", OutboundMail.last_error.is_not(None))
            .order_by(OutboundMail.last_attempt_at.desc(), OutboundMail.id.desc())
            .limit(1)
        )
    ).first()
    return MailStatus(
        pending=counts.get("pending", 0), retrying=int(retrying or 0), sent=counts.get("sent", 0),
        failed=counts.get("failed", 0), last_error=latest[0] if latest else None,
        last_error_at=latest[1] if latest else None,
    )
