"""Replies from the fediverse under our calls: kept when they arrive, capped per actor, hidden by organizers.

A reply is the remote object as federation stores it (sanitised, changed by its author's Update, marked
deleted by its Delete); a CallReply row ties it to the call and says whether the organizers hid it.
Mastodon replies to the Event itself, or to one of the Notes that tell of a change (calls.py), which
is the form it shows the call in; both are replies under the call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import NotFound
from fedihub.federation.context import FederationContext
from fedihub.federation.events import InboundEvents
from fedihub.federation.objects import find_object
from fedihub.i18n.active import gettext
from fedihub.moderation.visibility import not_blocked_by, shown_objects
from fedihub.storage.models import Actor, CallReply, StoredObject

log = logging.getLogger(__name__)

REPLY_TYPES = frozenset({"Note", "Article", "Page"})
SHOWN = ("public", "unlisted")
RATE_WINDOW = timedelta(hours=1)
MAX_LISTED = 500  # replies one call page or collection lists at most


@dataclass(frozen=True)
class ReplyLimits:
    """How many replies one remote actor may add under one call in an hour (FEDIHUB_REPLIES_PER_ACTOR_HOUR)."""

    per_actor_hour: int = 5


@dataclass(frozen=True)
class Reply:
    """One reply as pages list it: the row saying it belongs to the call, and the reply itself."""

    id: int
    row: StoredObject
    hidden: bool


def replies_collection(call_uri: str) -> str:
    """The id of a call's ``replies`` collection (served by the web layer)."""
    return f"{call_uri}/replies"


async def call_replied_to(session: AsyncSession, uri: str) -> StoredObject | None:
    """Our call that ``uri`` is, or that the Note at ``uri`` (one of our change notes) replies to."""
    target = await find_object(session, uri)
    if target is not None and target.is_local and target.type == "Note" and target.in_reply_to:
        target = await find_object(session, target.in_reply_to)
    if target is None or not target.is_local or target.type != "Event" or target.deleted_at is not None:
        return None
    return target


async def replies_in_window(session: AsyncSession, call_id: int, author_id: int, now: datetime) -> int:
    query = select(func.count()).select_from(CallReply).where(
        CallReply.call_id == call_id, CallReply.author_id == author_id, CallReply.received_at > now - RATE_WINDOW
    )
    return int(await session.scalar(query) or 0)


async def record_reply(
    ctx: FederationContext, session: AsyncSession, author: Actor, row: StoredObject, limits: ReplyLimits
) -> CallReply | None:
    """A remote public reply to one of our calls arrived: keep it under the call, within the author's cap.

    Sent again (a second Create, an Announce), it is the same reply: nothing changes.
    """
    if row.is_local or not row.in_reply_to or row.type not in REPLY_TYPES or row.visibility not in SHOWN:
        return None
    call = await call_replied_to(session, row.in_reply_to)
    if call is None:
        return None
    if await session.scalar(select(CallReply.id).where(CallReply.object_id == row.id)) is not None:
        return None
    if await ctx.refuses(session, author.uri, call.attributed_to_id):
        log.info("not keeping %s under %s: the coalition blocked its author", row.uri, call.uri)
        return None
    now = ctx.clock()
    if await replies_in_window(session, call.id, author.id, now) >= limits.per_actor_hour:
        log.info("not keeping %s under %s: %s is over its replies an hour", row.uri, call.uri, author.uri)
        return None
    reply = CallReply(object_id=row.id, call_id=call.id, author_id=author.id, received_at=now)
    session.add(reply)
    await session.flush()
    return reply


async def list_replies(session: AsyncSession, call: StoredObject, *, with_hidden: bool = False) -> list[Reply]:
    """The replies under a call, oldest first (newest last), without deleted or blocked authors' ones;
    hidden ones only for the organizers (``with_hidden``)."""
    query = (
        select(CallReply, StoredObject)
        .join(StoredObject, StoredObject.id == CallReply.object_id)
        .where(
            CallReply.call_id == call.id, StoredObject.deleted_at.is_(None), StoredObject.visibility.in_(SHOWN),
            await shown_objects(session), not_blocked_by(call.attributed_to_id),
        )
        .order_by(func.coalesce(StoredObject.published, CallReply.received_at), CallReply.id)
        .limit(MAX_LISTED)
    )
    if not with_hidden:
        query = query.where(CallReply.hidden_at.is_(None))
    rows = (await session.execute(query)).all()
    return [Reply(id=reply.id, row=obj, hidden=reply.hidden_at is not None) for reply, obj in rows]


async def get_reply(session: AsyncSession, call: StoredObject, reply_id: int) -> CallReply:
    reply = await session.get(CallReply, reply_id)
    if reply is None or reply.call_id != call.id:
        raise NotFound(gettext("there is no such reply under this call"))
    return reply


async def set_hidden(
    session: AsyncSession, call: StoredObject, reply_id: int, *, hidden: bool, account_id: int | None, now: datetime
) -> None:
    """Hide a reply (it is neither shown nor served from then on) or show it again; the caller commits."""
    reply = await get_reply(session, call, reply_id)
    reply.hidden_at, reply.hidden_by_id = (now, account_id) if hidden else (None, None)


def subscribe_replies(events: InboundEvents, limits: ReplyLimits) -> None:
    """Replies to our calls are kept as they arrive (and a reply's Update and Delete change the stored
    object itself, so pages follow without anything here)."""

    async def on_created(ctx: FederationContext, session: AsyncSession, author: Actor, row: StoredObject) -> None:
        reply = await record_reply(ctx, session, author, row, limits)
        if reply is not None:
            call = await session.get(StoredObject, reply.call_id)
            assert call is not None
            # Its organizers hear of it under What's new (notices/subscribers.py).
            await events.reply_kept.send(ctx, session, call, row)

    events.object_created.connect(on_created)
