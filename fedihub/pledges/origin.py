"""The call's origin: it decides on pledges, keeps the authoritative list and publishes it; every change
is told to everyone who shows the call (pledges/notices.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.calls import pledges_collection
from fedihub.errors import NotFound
from fedihub.federation.blocks import is_blocked
from fedihub.federation.context import FederationContext
from fedihub.federation.outbox import publish
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import gettext
from fedihub.pledges import vouching
from fedihub.pledges.notices import publish_notice, summary_document
from fedihub.pledges.store import (
    ACCEPTED,
    coalition_of,
    find_pledge,
    is_over,
    item_of,
    set_action,
    set_coalition,
    set_report,
)
from fedihub.protocol import builders
from fedihub.protocol.pledges import (
    PLEDGE_CONTEXT,
    PledgeItem,
    build_pledge_item,
    read_local_action,
    read_message,
    read_report,
)
from fedihub.storage.models import Actor, Pledge, StoredObject

log = logging.getLogger(__name__)

PAGE_SIZE = 100
REFUSED = "rejected"


def refusal_reason(
    call: StoredObject, coalition: Actor, now: Any, *, blocked: bool, refused_before: bool
) -> str | None:
    """Why the origin answers a Join with Reject, or None to accept it."""
    if call.deleted_at is not None:
        return "the call was deleted"
    if (call.event_status or "").upper() == "CANCELLED":
        return "the call was cancelled"
    if is_over(call.start_time, call.end_time, now):
        return "the call is over"
    if coalition.type != "Group" or hub_scope_of(coalition) is not None:
        return "pledges are made by coalitions"
    if blocked:
        return "the coalition's server is blocked here"
    if refused_before:
        return "the call's organizers refused this coalition's pledge"
    return None


async def decide_join(
    ctx: FederationContext, session: AsyncSession, call: StoredObject, coalition: Actor, join: Mapping[str, Any],
    limits: vouching.PledgeLimits | None = None,
) -> Pledge | None:
    """Accept, hold or reject a coalition's Join of one of our calls; returns the pledge unless rejected.

    An unvouched pledge from a server that already has ``limits.unvouched_per_server`` of them
    counted is held: stored unanswered, for a vouch check or the organizers to decide.
    """
    limits = limits or vouching.PledgeLimits()
    now = ctx.clock()
    join_id = str(join["id"])
    row = await find_pledge(session, call.uri, coalition.uri)
    reason = refusal_reason(
        call, coalition, now, blocked=await is_blocked(session, coalition.domain),
        refused_before=row is not None and row.state == REFUSED and row.source == "refused",
    )
    answer_to = [coalition.inbox or ""]
    if reason is not None:
        log.info("refusing pledge %s to %s: %s", join_id, call.uri, reason)
        reject = builders.build_reject(activity_id=ctx.urls.new_activity(), actor=call.author.uri, activity=join)
        await publish(ctx, session, actor=call.author, activity=reject, inboxes=answer_to)
        return None
    vouch = vouching.direct_vouch(coalition, row)
    held = vouch is None and await vouching.over_cap(session, call.uri, coalition.uri, limits)
    if row is None:
        row = Pledge(call_uri=call.uri, coalition_uri=coalition.uri, source="local", created_at=now)
        session.add(row)
    row.uri, row.state, row.updated_at = join_id, vouching.HELD if held else ACCEPTED, now
    row.vouched_by = vouch
    row.message = read_message(join)
    set_coalition(row, coalition_of(coalition))
    action = read_local_action(join.get("localAction"))
    # A local action must live on the pledging coalition's own server (it is its Event).
    set_action(row, action if action and _same_host(action.uri, coalition.uri) else None)
    _apply_report(row, call, join, now)
    if vouch is None:
        # A hub carrying the call may list it: that takes other servers' collections, so a job asks.
        await vouching.enqueue_vouch_check(session, call.uri, at=now)
    if held:
        log.info("holding pledge %s to %s: %s has %d unvouched pledges counted", join_id, call.uri,
                 coalition.domain, limits.unvouched_per_server)
        return row
    await accept_pledge(ctx, session, call, row)
    return row


async def accept_pledge(ctx: FederationContext, session: AsyncSession, call: StoredObject, row: Pledge) -> None:
    """Accept to the pledging coalition, then Add to everyone who shows the call."""
    row.state = ACCEPTED
    join = {"id": row.uri, "type": "Join", "actor": row.coalition_uri, "object": call.uri}
    coalition = await session.scalar(select(Actor).where(Actor.uri == row.coalition_uri))
    if coalition is not None:
        accept = builders.build_accept(activity_id=ctx.urls.new_activity(), actor=call.author.uri, activity=join)
        await publish(ctx, session, actor=call.author, activity=accept, inboxes=[coalition.inbox or ""])
    await publish_notice(ctx, session, call, "Add", build_pledge_item(item_of(row)))


def _apply_report(row: Pledge, call: StoredObject, join: Mapping[str, Any], now: Any) -> None:
    """Keep the report a Join carries, unless it comes too early or claims an implausible turnout."""
    raw = join.get("report")
    if raw is None:
        return
    problem = vouching.report_refusal(raw, call=call, action_start=row.action_start, now=now)
    if problem is not None:
        log.info("ignoring the report in %s: %s", row.uri, problem)
        return
    set_report(row, read_report(raw))


async def approve_pledge(ctx: FederationContext, session: AsyncSession, call: StoredObject, coalition_uri: str) -> None:
    """The call's organizers vouch for a pledge: a held one is accepted, and every copy counts it."""
    row = await find_pledge(session, call.uri, coalition_uri, for_update=True)
    if row is None or row.state not in (ACCEPTED, vouching.HELD) or row.source == "refused":
        raise NotFound(gettext("that coalition has no pledge to this call"))
    row.vouched_by, row.updated_at = vouching.ORGANIZERS, ctx.clock()
    if row.state == vouching.HELD:
        await accept_pledge(ctx, session, call, row)
    else:
        await publish_notice(ctx, session, call, "Add", build_pledge_item(item_of(row)))


def _same_host(a: str, b: str) -> bool:
    return a.split("/")[2:3] == b.split("/")[2:3]


async def withdraw_at_origin(ctx: FederationContext, session: AsyncSession, call: StoredObject, row: Pledge) -> None:
    row.state, row.updated_at = "withdrawn", ctx.clock()
    await publish_notice(ctx, session, call, "Remove", row.uri)


async def refuse_pledge(ctx: FederationContext, session: AsyncSession, call: StoredObject, row: Pledge) -> None:
    """The call's organizers refuse a coalition: Reject to it, Remove to everyone, and later Joins refused."""
    was_counted = row.state == ACCEPTED
    row.state, row.source, row.updated_at = REFUSED, "refused", ctx.clock()
    join = {"id": row.uri, "type": "Join", "actor": row.coalition_uri, "object": call.uri}
    coalition = await session.scalar(select(Actor).where(Actor.uri == row.coalition_uri))
    if coalition is not None:
        reject = builders.build_reject(activity_id=ctx.urls.new_activity(), actor=call.author.uri, activity=join)
        await publish(ctx, session, actor=call.author, activity=reject, inboxes=[coalition.inbox or ""])
    if was_counted:
        await publish_notice(ctx, session, call, "Remove", row.uri)


async def refuse_coalition(
    ctx: FederationContext, session: AsyncSession, call: StoredObject, coalition_uri: str
) -> None:
    """The organizers refuse the live pledge of ``coalition_uri`` to their call (see refuse_pledge)."""
    row = await find_pledge(session, call.uri, coalition_uri, for_update=True)
    if row is None or row.state not in (ACCEPTED, "pending"):
        raise NotFound(gettext("that coalition has no pledge to this call"))
    await refuse_pledge(ctx, session, call, row)


async def record_change(
    ctx: FederationContext, session: AsyncSession, call: StoredObject, row: Pledge, join: Mapping[str, Any]
) -> None:
    """A pledged coalition updated its Join: a new local action, or its report after the call.

    Everyone is told only when the published item changed: an unvouched pledge's report is not
    published, so repeating it costs no notices.
    """
    before = build_pledge_item(item_of(row))
    if "localAction" in join:
        action = read_local_action(join.get("localAction"))
        set_action(row, action if action and _same_host(action.uri, row.coalition_uri) else None)
    if "report" in join:
        _apply_report(row, call, join, ctx.clock())
    row.updated_at = ctx.clock()
    after = build_pledge_item(item_of(row))
    if after != before:
        await publish_notice(ctx, session, call, "Add", after)


async def collection_page(session: AsyncSession, call: StoredObject, page: int | None, now: Any) -> dict:
    """The published pledges collection (head without items, or one page of accepted pledges)."""
    collection = pledges_collection(call.uri)
    if page is None:
        head = await summary_document(session, call, now)
        return {"@context": PLEDGE_CONTEXT, **head}
    rows = (
        await session.scalars(
            select(Pledge).where(Pledge.call_uri == call.uri, Pledge.state == ACCEPTED)
            .order_by(Pledge.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
        )
    ).all()
    items: list[PledgeItem] = [item_of(row) for row in rows[:PAGE_SIZE]]
    page_doc = builders.build_ordered_collection_page(
        page_id=f"{collection}?page={page}", part_of=collection,
        items=[build_pledge_item(item) for item in items],
        next_id=f"{collection}?page={page + 1}" if len(rows) > PAGE_SIZE else None,
        prev_id=f"{collection}?page={page - 1}" if page > 1 else None,
    )
    return {**page_doc, "@context": PLEDGE_CONTEXT}
