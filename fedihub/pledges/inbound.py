"""Inbound routes of pledges: Join, Leave and Undo(Join) of our calls and a pledged coalition's report at the
call's origin; Accept or Reject of our pledge at the pledging coalition's server; Add, Remove and Update
notices wherever a copy of the roll-up is shown; and hubs carrying our calls."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.actors import host_of
from fedihub.federation.context import FederationContext
from fedihub.federation.events import InboundEvents
from fedihub.federation.objects import find_object
from fedihub.federation.outbox import publish
from fedihub.federation.routing import Inbound, Route
from fedihub.hubs.announce_marks import first_announce
from fedihub.hubs.settings import hub_scope_of
from fedihub.pledges import mirror, origin, vouching
from fedihub.pledges.queries import find_local_call
from fedihub.pledges.store import ACCEPTED, find_pledge
from fedihub.protocol import builders
from fedihub.protocol.reader import id_of
from fedihub.storage.models import Actor, Follow, Pledge, StoredObject

log = logging.getLogger(__name__)


async def _local_call_id(session: AsyncSession, uri: str | None) -> int | None:
    call = await find_local_call(session, uri)
    return call.id if call is not None else None


# --- At the call's origin ------------------------------------------------------------------------------------


async def match_join_of_call(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    return await _local_call_id(session, inbound.activity.object_id)


def handle_join(limits: vouching.PledgeLimits, events: InboundEvents) -> Any:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, call_id: int) -> None:
        """A coalition pledges to one of our calls: accepted, held or rejected, and everyone showing it told."""
        call = await session.get(StoredObject, call_id)
        coalition = await session.get(Actor, inbound.actor.id)
        assert call is not None and coalition is not None
        join = {**inbound.activity.raw, "actor": coalition.uri, "object": call.uri}
        row = await find_pledge(session, call.uri, coalition.uri)
        if row is not None and row.state == ACCEPTED:
            # The same coalition's Join of the same call again, under a new id: nothing changed, so the
            # call's audience hears nothing (20 repeats made 160 deliveries). Only the sender gets an Accept
            # of it, as Mastodon answers a repeated Follow, so a peer that lost our first one is not stuck.
            accept = builders.build_accept(activity_id=ctx.urls.new_activity(), actor=call.author.uri, activity=join)
            await publish(ctx, session, actor=call.author, activity=accept, inboxes=[coalition.inbox or ""])
            return
        # A held pledge sent again under a new id is the same pledge; the row a coalition of this
        # server wrote for its own Join (the same id) is not a pledge standing here yet.
        standing = row is not None and row.state == vouching.HELD and row.uri != join["id"]
        pledged = await origin.decide_join(ctx, session, call, coalition, join, limits)
        if pledged is not None and not standing:
            await events.pledge_received.send(ctx, session, call, pledged)

    return apply


async def match_undone_join_of_call(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    """Undo(Join) withdraws like Leave does (Mobilizon sends Leave; other servers may send Undo)."""
    embedded = inbound.embedded
    if embedded is None or inbound.embedded_type != "Join" or not inbound.inner_is_own():
        return None
    return await _local_call_id(session, id_of(embedded.get("object")))


def handle_withdraw(events: InboundEvents) -> Any:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, call_id: int) -> None:
        call = await session.get(StoredObject, call_id)
        assert call is not None
        row = await find_pledge(session, call.uri, inbound.actor.uri)
        # "withdrawn" too: a coalition of this server marks its own pledge before its Leave is handled;
        # "pending": a held pledge can be withdrawn before anyone decided on it.
        if row is not None and row.state in (ACCEPTED, "withdrawn", vouching.HELD):
            await origin.withdraw_at_origin(ctx, session, call, row)
            await events.pledge_withdrawn.send(ctx, session, call, row)

    return apply


async def match_report(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    """A pledged coalition's Update of its own accepted Join (a new local action, its report)."""
    obj = inbound.embedded
    if obj is None or inbound.embedded_type != "Join" or id_of(obj.get("actor")) != inbound.actor.uri:
        return None
    call = await find_local_call(session, id_of(obj.get("object")))
    row = await find_pledge(session, call.uri, inbound.actor.uri) if call is not None else None
    if row is None or row.state != ACCEPTED or row.uri != id_of(obj.get("id")):
        return None
    return row.id


async def handle_report(ctx: FederationContext, session: AsyncSession, inbound: Inbound, pledge_id: int) -> None:
    row = await session.get(Pledge, pledge_id)
    call = await find_local_call(session, row.call_uri) if row is not None else None
    if row is not None and call is not None and inbound.embedded is not None:
        await origin.record_change(ctx, session, call, row, inbound.embedded)


async def count_carrying_hub(
    ctx: FederationContext, session: AsyncSession, announcer: Actor, object_id: str, row: StoredObject | None
) -> None:
    """A hub announced one of our calls: a vouch check finds whether it carries it (and whom it vouches for).

    The check tells everyone showing the call only when the carriers or the vouches change, so a
    repeated Announce costs no notices.
    """
    if hub_scope_of(announcer) is None:
        return
    call = await find_local_call(session, object_id)
    if call is None or call.deleted_at is not None:
        return
    # Once per (hub, call): a repeated Announce, under a new id or after an Undo, asks nothing again; the
    # vouch check tells the call's audience only when its carriers or vouches changed.
    if await first_announce(session, announcer.id, call.uri, ctx.clock()):
        await vouching.enqueue_vouch_check(session, call.uri, at=ctx.clock())


# --- At the pledging coalition's server ---------------------------------------------------------------------


async def match_answered_pledge(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    """Our pledge that an Accept or Reject answers, if the answer comes from the call's server."""
    join_id = inbound.activity.object_id
    if not join_id:
        return None
    row = await session.scalar(select(Pledge).where(Pledge.uri == join_id))
    inner = inbound.embedded
    if row is None and inner is not None and inbound.embedded_type == "Join":
        call_uri, actor_uri = id_of(inner.get("object")), id_of(inner.get("actor"))
        row = await find_pledge(session, call_uri, actor_uri) if call_uri and actor_uri else None
    if row is None or host_of(row.call_uri) != host_of(inbound.actor.uri):
        return None
    return row.id


async def handle_accept(ctx: FederationContext, session: AsyncSession, inbound: Inbound, pledge_id: int) -> None:
    row = await session.get(Pledge, pledge_id)
    if row is not None and row.state == "pending":
        row.state, row.updated_at = ACCEPTED, ctx.clock()


async def handle_reject(ctx: FederationContext, session: AsyncSession, inbound: Inbound, pledge_id: int) -> None:
    row = await session.get(Pledge, pledge_id)
    if row is not None and row.state in ("pending", ACCEPTED):
        row.state, row.updated_at = "rejected", ctx.clock()


# --- Wherever a copy of a remote call's roll-up is shown ----------------------------------------------------


async def _remote_call_of(session: AsyncSession, inbound: Inbound, summary: Any) -> int | None:
    """The stored remote call a notice is about, if the notice comes from that call's author."""
    if not isinstance(summary, Mapping):
        return None
    call_uri = id_of(summary.get("pledgesOf"))
    call = await find_object(session, call_uri) if call_uri else None
    if call is None or call.is_local or call.attributed_to_id != inbound.actor.id:
        return None
    if id_of(summary.get("id")) != id_of((call.data or {}).get("pledges")):
        return None
    return call.id


async def match_notice(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    """Add or Remove of one pledge, naming the call's pledges collection (with its summary) as target."""
    return await _remote_call_of(session, inbound, inbound.activity.raw.get("target"))


async def match_summary_update(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> int | None:
    if inbound.embedded_type != "OrderedCollection":
        return None
    return await _remote_call_of(session, inbound, inbound.embedded)


def handle_notice(limits: mirror.MirrorLimits) -> Callable[..., Awaitable[None]]:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, call_id: int) -> None:
        call = await session.get(StoredObject, call_id)
        assert call is not None
        kind = inbound.activity.type
        if kind == "Update":
            summary, obj = inbound.embedded or {}, None
        else:
            summary = inbound.activity.raw["target"]
            obj = inbound.activity.object if kind == "Add" else inbound.activity.object_id
        await mirror.apply_notice(ctx, session, call, kind, obj, summary, limits=limits)

    return apply


# A coalition's calls re-checked when it follows a hub: its most recent ones, the rest at the sweep.
RECHECKED_CALLS = 50


async def recheck_calls_of_follower(ctx: FederationContext, session: AsyncSession, follow: Follow) -> None:
    """A coalition of ours now follows a hub (it accepted): the hub may carry, and vouch for pledges
    to, its calls. Checked now rather than at the hourly sweep, since the hub's Announce came first."""
    follower, target = await session.get(Actor, follow.follower_id), await session.get(Actor, follow.target_id)
    if follower is None or target is None or not follower.is_local or hub_scope_of(target) is None:
        return
    calls = await session.scalars(
        select(StoredObject.uri)
        .where(StoredObject.attributed_to_id == follower.id, StoredObject.type == "Event",
               StoredObject.is_local.is_(True), StoredObject.deleted_at.is_(None))
        .order_by(StoredObject.id.desc())
        .limit(RECHECKED_CALLS)
    )
    for call_uri in calls:
        await vouching.enqueue_vouch_check(session, call_uri, at=ctx.clock())


def pledge_routes(
    events: InboundEvents,
    mirror_limits: mirror.MirrorLimits | None = None,
    limits: vouching.PledgeLimits | None = None,
) -> list[Route]:
    events.object_announced.connect(count_carrying_hub)
    events.follow_accepted.connect(recheck_calls_of_follower)
    notice = handle_notice(mirror_limits or mirror.MirrorLimits())
    withdraw = handle_withdraw(events)
    return [
        Route("Join", "call", match_join_of_call, handle_join(limits or vouching.PledgeLimits(), events)),
        Route("Leave", "call", match_join_of_call, withdraw),
        Route("Undo", "Join of a call", match_undone_join_of_call, withdraw),
        Route("Update", "our pledge (its report)", match_report, handle_report),
        Route("Accept", "our pledge", match_answered_pledge, handle_accept),
        Route("Reject", "our pledge", match_answered_pledge, handle_reject),
        Route("Add", "pledge to a call we show", match_notice, notice),
        Route("Remove", "pledge from a call we show", match_notice, notice),
        Route("Update", "roll-up of a call we show", match_summary_update, notice),
    ]
