"""The origin's pledge notices to a call's audience: each change numbered (`listVersion`), and at most one
notice per call per window, later changes folded into one summary sent when the window ends."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.audience import call_audience_inboxes
from fedihub.coalitions.calls import pledges_collection
from fedihub.federation import jobs
from fedihub.federation.context import FederationContext
from fedihub.federation.outbox import publish
from fedihub.pledges.queries import find_local_call
from fedihub.pledges.store import accepted_count
from fedihub.protocol.pledges import build_collection_summary, build_notice, read_carriers
from fedihub.protocol.vocab import PUBLIC
from fedihub.storage.models import StoredObject

log = logging.getLogger(__name__)

# A national day brings 150 pledges in minutes: one notice per change would cost pledges × audience
# deliveries. One per call per window (ctx.pledge_notice_window, a minute) at most; copies re-read the
# list when a notice skips versions.
FOLDED_NOTICE_JOB = "pledges.notice"


async def summary_document(session: AsyncSession, call: StoredObject, now: datetime) -> dict[str, Any]:
    """The head of the call's pledges collection, as of ``call.pledges_version``."""
    collection = pledges_collection(call.uri)
    return build_collection_summary(
        collection_id=collection, call_id=call.uri, total=await accepted_count(session, call.uri),
        vouched=await accepted_count(session, call.uri, vouched_only=True),
        # The hubs the last vouch check verified (pledges/vouch_check.py), not every announcer.
        carriers=read_carriers({"carriedBy": call.pledge_carriers or []}), updated=now,
        first=f"{collection}?page=1", version=call.pledges_version,
    )


async def publish_notice(
    ctx: FederationContext, session: AsyncSession, call: StoredObject, kind: str, obj: Any = None
) -> None:
    """Number a change of the call's list (Add/Remove one pledge, or Update the summary) and tell the
    call's audience now, or, within the window of the last notice, in the one notice that ends it."""
    await session.flush()
    # One statement bumps and locks the row (PostgreSQL): two changes racing get two versions, and the
    # second reads the first's notice time once the first commits.
    await session.execute(
        update(StoredObject).where(StoredObject.id == call.id)
        .values(pledges_version=StoredObject.pledges_version + 1),
        execution_options={"synchronize_session": False},
    )
    await session.refresh(call, ["pledges_version", "pledges_noticed_version", "pledges_noticed_at"])
    now = ctx.clock()
    window_ends = _window_end(call, ctx.pledge_notice_window)
    if window_ends is not None and now < window_ends:
        # The Event served at the call's id counts every change at once, told or not yet.
        _count_participants(call, await accepted_count(session, call.uri))
        await _fold(session, call, window_ends)
        return
    await _send(ctx, session, call, kind, obj, now)


def _count_participants(call: StoredObject, total: int) -> None:
    # The Event document served at the call's id carries the count (Mobilizon's participantCount).
    if (call.data or {}).get("participantCount") != total:
        call.data = {**call.data, "participantCount": total}


def _window_end(call: StoredObject, window: timedelta) -> datetime | None:
    return call.pledges_noticed_at + window if call.pledges_noticed_at is not None else None


async def _send(
    ctx: FederationContext, session: AsyncSession, call: StoredObject, kind: str, obj: Any, now: datetime
) -> None:
    summary = await summary_document(session, call, now)
    _count_participants(call, summary["totalItems"])
    notice = build_notice(
        kind=kind, activity_id=ctx.urls.new_activity(), actor=call.author.uri, obj=obj, summary=summary,
        to=[PUBLIC],
    )
    inboxes = await call_audience_inboxes(session, call.uri, call.author.id)
    # Local copies (other coalitions here) read the same rows: nothing to hand over.
    inboxes = {inbox for inbox in inboxes if not ctx.urls.is_local(inbox)}
    await publish(ctx, session, actor=call.author, activity=notice, inboxes=inboxes)
    call.pledges_noticed_version, call.pledges_noticed_at = call.pledges_version, now


async def _fold(session: AsyncSession, call: StoredObject, due: datetime) -> None:
    """Queue the notice that ends the window; changes until then fold into it (one job per window)."""
    # Each window has its own job: a job re-queued by its own run would otherwise run again at once.
    key = f"{call.uri}@{int(due.timestamp())}"
    if len(key) > 1_900:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    await jobs.enqueue(session, FOLDED_NOTICE_JOB, key=key, payload={"call": call.uri}, at=due)


async def run_folded_notice(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """The job behind a folded notice: one Update with the latest summary, if anything is still untold."""
    async with ctx.sessions.begin() as session:
        call = await find_local_call(session, str(payload.get("call") or ""))
        if call is None or call.deleted_at is not None:
            return
        await session.refresh(call, ["pledges_version", "pledges_noticed_version", "pledges_noticed_at"],
                              with_for_update=True)
        if call.pledges_version <= call.pledges_noticed_version:
            return  # a change after the window ended went out at once, with everything before it
        now = ctx.clock()
        window_ends = _window_end(call, ctx.pledge_notice_window)
        if window_ends is not None and now < window_ends:
            await _fold(session, call, window_ends)  # another notice went out since this job was queued
            return
        log.info("telling the audience of %s of pledge list version %d", call.uri, call.pledges_version)
        await _send(ctx, session, call, "Update", None, now)
