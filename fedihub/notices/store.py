"""Notice rows: recorded once per key, listed newest first, counted unread per account (retention prunes them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.protocol.urls import http_url
from fedihub.protocol.webfinger import format_handle
from fedihub.storage.models import Actor, Notice, NoticeRead, StoredObject

# Rows a list shows: older ones stay until retention prunes them, but nobody scrolls that far.
LIST_LIMIT = 100
MAX_KEY = 2048


def party_fields(party: Actor | None) -> dict[str, str | None]:
    if party is None:
        return {"party_uri": None, "party_name": None, "party_url": None}
    name = party.name or (format_handle(party.username, party.domain) if party.username else party.uri)
    # Another server's word: only a web link is ever put in an href (no javascript: or data: URL).
    return {"party_uri": party.uri, "party_name": name, "party_url": http_url(party.url) or http_url(party.uri)}


def call_fields(call: StoredObject | None) -> dict[str, str | None]:
    if call is None:
        return {"call_uri": None, "call_title": None}
    return {"call_uri": call.uri, "call_title": call.name or "a call to action"}


async def add_notice(
    session: AsyncSession, *, recipient: Actor, kind: str, key: str, party: Actor | None,
    call: StoredObject | None, detail: str | None, now: datetime,
) -> Notice | None:
    """The new notice, or None when this actor has one of this kind and key already (a repeat)."""
    key = key[:MAX_KEY]
    found = await session.scalar(
        select(Notice.id).where(Notice.actor_id == recipient.id, Notice.kind == kind, Notice.key == key)
    )
    if found is not None:
        return None
    # Two transactions recording the same key at once meet at the unique key: one fails and its
    # inbox item is retried, which then finds this row.
    row = Notice(actor_id=recipient.id, kind=kind, key=key, detail=detail, created_at=now,
                 **party_fields(party), **call_fields(call))
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return row


async def list_notices(session: AsyncSession, actor_id: int, limit: int = LIST_LIMIT) -> Sequence[Notice]:
    return (
        await session.scalars(
            select(Notice).where(Notice.actor_id == actor_id).order_by(Notice.id.desc()).limit(limit)
        )
    ).all()


async def last_read(session: AsyncSession, account_id: int, actor_id: int) -> int:
    found = await session.scalar(
        select(NoticeRead.last_read_id).where(NoticeRead.account_id == account_id, NoticeRead.actor_id == actor_id)
    )
    return int(found or 0)


async def unread_counts(session: AsyncSession, account_id: int, actor_ids: Sequence[int]) -> dict[int, int]:
    """Unread notices per actor for one account (actors without any are left out)."""
    if not actor_ids:
        return {}
    read = (
        select(NoticeRead.actor_id, NoticeRead.last_read_id).where(NoticeRead.account_id == account_id).subquery()
    )
    rows = await session.execute(
        select(Notice.actor_id, func.count(Notice.id))
        .outerjoin(read, read.c.actor_id == Notice.actor_id)
        .where(Notice.actor_id.in_(actor_ids), Notice.id > func.coalesce(read.c.last_read_id, 0))
        .group_by(Notice.actor_id)
    )
    return {actor_id: int(count) for actor_id, count in rows}


async def mark_read(session: AsyncSession, account_id: int, actor_id: int, up_to: int) -> None:
    """The account has seen this actor's notices up to ``up_to`` (never moves back)."""
    row = await session.get(NoticeRead, (account_id, actor_id))
    if row is None:
        session.add(NoticeRead(account_id=account_id, actor_id=actor_id, last_read_id=up_to))
    elif up_to > row.last_read_id:
        row.last_read_id = up_to
