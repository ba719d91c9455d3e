"""Inbound pledge activities: Join/Leave/Undo/Update at the call's origin, Accept/Reject at the pledging
coalition's server, and Add/Remove/Update notices wherever a copy of the roll-up is shown."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from fedihub.federation.actors import host_of
from fedihub.federation.context import FederationContext
from fedihub.federation.processing import Dispatcher, Inbound
from fedihub.pledges import mirror, origin
from fedihub.pledges.store import ACCEPTED, find_pledge
from fedihub.protocol.reader import id_of
from fedihub.storage.models import Pledge, StoredObject

log = logging.getLogger(__name__)


async def _local_call(session: Any, uri: str | None) -> StoredObject | None:
    if not uri:
        return None
    row = await session.scalar(select(StoredObject).where(StoredObject.uri == uri, StoredObject.is_local.is_(True)))
    return row if row is not None and row.type == "Event" else None


async def handle_join(ctx: FederationContext, inbound: Inbound) -> None:
    """A coalition pledges to one of our calls (Joins of hubs and other objects are not ours)."""
    async with ctx.sessions.begin() as session:
        call = await _local_call(session, inbound.activity.object_id)
        if call is None:
            return
        join = {**inbound.activity.raw, "actor": inbound.actor.uri, "object": call.uri}
        await origin.decide_join(ctx, session, call, inbound.actor, join)


async def _withdraw(ctx: FederationContext, inbound: Inbound, call_uri: str | None) -> None:
    async with ctx.sessions.begin() as session:
        call = await _local_call(session, call_uri)
        if call is None:
            return
        row = await find_pledge(session, call.uri, inbound.actor.uri)
        # "withdrawn" too: a coalition of this server marks its own pledge before its Leave is handled.
        if row is not None and row.state in (ACCEPTED, "withdrawn"):
            await origin.withdraw_at_origin(ctx, session, call, row)


async def handle_leave(ctx: FederationContext, inbound: Inbound) -> None:
    await _withdraw(ctx, inbound, inbound.activity.object_id)


async def handle_undo(ctx: FederationContext, inbound: Inbound) -> None:
    """Undo(Join) withdraws like Leave does (Mobilizon sends Leave; other servers may send Undo)."""
    inner = inbound.activity.object
    if isinstance(inner, Mapping) and inner.get("type") == "Join" and id_of(inner.get("actor")) == inbound.actor.uri:
        await _withdraw(ctx, inbound, id_of(inner.get("object")))


async def _answered_pledge(session: Any, inbound: Inbound) -> Pledge | None:
    """Our pending pledge that an Accept or Reject answers, if the answer comes from the call's server."""
    inner = inbound.activity.object
    join_id = inbound.activity.object_id
    if not join_id:
        return None
    row = await session.scalar(select(Pledge).where(Pledge.uri == join_id))
    if row is None and isinstance(inner, Mapping) and inner.get("type") == "Join":
        call_uri, actor_uri = id_of(inner.get("object")), id_of(inner.get("actor"))
        row = await find_pledge(session, call_uri, actor_uri) if call_uri and actor_uri else None
    if row is None or host_of(row.call_uri) != host_of(inbound.actor.uri):
        return None
    return row


async def handle_accept(ctx: FederationContext, inbound: Inbound) -> None:
    async with ctx.sessions.begin() as session:
        row = await _answered_pledge(session, inbound)
        if row is not None and row.state == "pending":
            row.state, row.updated_at = ACCEPTED, ctx.clock()


async def handle_reject(ctx: FederationContext, inbound: Inbound) -> None:
    async with ctx.sessions.begin() as session:
        row = await _answered_pledge(session, inbound)
        if row is not None and row.state in ("pending", ACCEPTED):
            row.state, row.updated_at = "rejected", ctx.clock()


async def _remote_call_of(ctx: FederationContext, inbound: Inbound, summary: Any) -> StoredObject | None:
    """The stored remote call a notice is about, if the notice comes from that call's author."""
    if not isinstance(summary, Mapping):
        return None
    call_uri = id_of(summary.get("pledgesOf"))
    if not call_uri:
        return None
    async with ctx.sessions() as session:
        call = await session.scalar(select(StoredObject).where(StoredObject.uri == call_uri))
    if call is None or call.is_local or call.attributed_to_id != inbound.actor.id:
        return None
    if id_of(summary.get("id")) != id_of((call.data or {}).get("pledges")):
        return None
    return call


async def handle_add(ctx: FederationContext, inbound: Inbound) -> None:
    call = await _remote_call_of(ctx, inbound, inbound.activity.raw.get("target"))
    if call is not None:
        await mirror.apply_notice(ctx, call, "Add", inbound.activity.object, inbound.activity.raw["target"])


async def handle_remove(ctx: FederationContext, inbound: Inbound) -> None:
    call = await _remote_call_of(ctx, inbound, inbound.activity.raw.get("target"))
    if call is not None:
        await mirror.apply_notice(ctx, call, "Remove", inbound.activity.object_id, inbound.activity.raw["target"])


async def handle_update(ctx: FederationContext, inbound: Inbound) -> None:
    """The pledges summary of a call we show, or a pledged coalition updating its Join (its report)."""
    obj = inbound.activity.object
    if not isinstance(obj, Mapping):
        return
    if obj.get("type") == "OrderedCollection":
        call = await _remote_call_of(ctx, inbound, obj)
        if call is not None:
            await mirror.apply_notice(ctx, call, "Update", None, obj)
        return
    if obj.get("type") != "Join" or id_of(obj.get("actor")) != inbound.actor.uri:
        return
    async with ctx.sessions.begin() as session:
        call = await _local_call(session, id_of(obj.get("object")))
        row = await find_pledge(session, call.uri, inbound.actor.uri) if call is not None else None
        if call is not None and row is not None and row.state == ACCEPTED and row.uri == id_of(obj.get("id")):
            await origin.record_change(ctx, session, call, row, obj)


async def handle_announce(ctx: FederationContext, inbound: Inbound) -> None:
    """A hub announced one of our calls: everyone showing the call learns who carries it."""
    if inbound.actor.hub_scope is None:
        return
    async with ctx.sessions.begin() as session:
        call = await _local_call(session, inbound.activity.object_id)
        if call is not None and call.deleted_at is None:
            await origin.publish_notice(ctx, session, call, "Update")


def register_pledge_handlers(dispatcher: Dispatcher) -> None:
    # After the core handlers: a hub's Announce is recorded as a reaction before we count carriers.
    dispatcher.register("Join", handle_join)
    dispatcher.register("Leave", handle_leave)
    dispatcher.register("Undo", handle_undo)
    dispatcher.register("Accept", handle_accept)
    dispatcher.register("Reject", handle_reject)
    dispatcher.register("Add", handle_add)
    dispatcher.register("Remove", handle_remove)
    dispatcher.register("Update", handle_update)
    dispatcher.register("Announce", handle_announce)
