"""Copies of a remote call's pledges: applied from the origin's notices, re-read from its collection
when the counts disagree or the copy is stale."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import FedihubError
from fedihub.federation import jobs
from fedihub.federation.context import FederationContext
from fedihub.pledges.store import ACCEPTED, accepted_count, upsert_item
from fedihub.protocol import fetch
from fedihub.protocol.pledges import PledgeItem, read_carriers, read_pledge_item
from fedihub.protocol.reader import as_list, id_of
from fedihub.storage.models import Pledge, StoredObject

log = logging.getLogger(__name__)

MAX_PAGES = 50
STALE_AFTER = timedelta(minutes=10)
REFRESH_JOB = "pledges.refresh"
STALE_SWEEP_JOB = "pledges.refresh-stale"
# Remote calls whose copies one sweep re-reads at most: the rest wait for the next sweep.
SWEEP_LIMIT = 100
# A person is waiting for the page: a slow origin leaves the copy as it was.
REFRESH_SECONDS = 3.0


def _carriers_json(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": c.uri, "name": c.name, "hubScope": c.scope, "url": c.url} for c in read_carriers(summary)
    ]


async def apply_notice(
    ctx: FederationContext, session: AsyncSession, call: StoredObject, kind: str, obj: Any,
    summary: Mapping[str, Any],
) -> None:
    """Apply an Add, Remove or Update from the call's author; the caller commits.

    When the origin's total still disagrees with our copy (a notice was lost, or came out of order),
    a job re-reads the whole list from the origin: that is network I/O, never done in this transaction.
    """
    if kind == "Add":
        item = read_pledge_item(obj)
        if item is not None and item.call_uri == call.uri:
            await upsert_item(session, item, now=ctx.clock(), source="origin")
    elif kind == "Remove":
        removed = id_of(obj)
        if removed:
            await session.execute(delete(Pledge).where(Pledge.call_uri == call.uri, Pledge.uri == removed))
    call.pledge_carriers = _carriers_json(summary)
    call.pledges_fetched_at = ctx.clock()
    total = summary.get("totalItems")
    if isinstance(total, int) and total != await accepted_count(session, call.uri):
        await enqueue_refresh(session, call.uri, at=ctx.clock())


async def enqueue_refresh(session: AsyncSession, call_uri: str, *, at: datetime) -> None:
    await jobs.enqueue(session, REFRESH_JOB, key=call_uri, payload={"call": call_uri}, at=at)


async def _read_items(ctx: FederationContext, collection_id: str) -> tuple[Mapping[str, Any], list[PledgeItem]] | None:
    try:
        head = await fetch.fetch_activitypub_document(ctx.http, collection_id, auth=ctx.instance_auth)
        items: list[PledgeItem] = []
        page: Any = head.get("first")
        for _ in range(MAX_PAGES):
            if page is None:
                break
            if isinstance(page, str):
                page = await fetch.fetch_activitypub_document(ctx.http, page, auth=ctx.instance_auth)
            if not isinstance(page, Mapping):
                break
            items += [item for item in map(read_pledge_item, as_list(page.get("orderedItems"))) if item]
            page = page.get("next")
    except FedihubError as exc:
        log.info("could not read pledges at %s: %s", collection_id, exc)
        return None
    return head, items


async def refresh(ctx: FederationContext, call: StoredObject) -> bool:
    """Replace our copy of a remote call's pledges with its origin's collection; False if unreadable."""
    collection_id = id_of((call.data or {}).get("pledges"))
    if call.is_local or not collection_id or collection_id.split("/")[2:3] != call.uri.split("/")[2:3]:
        return False
    found = await _read_items(ctx, collection_id)
    if found is None:
        return False
    head, items = found
    items = [item for item in items if item.call_uri == call.uri]
    async with ctx.sessions.begin() as session:
        row = await session.get(StoredObject, call.id)
        assert row is not None
        now = ctx.clock()
        kept = {item.uri for item in items}
        stale = await session.scalars(select(Pledge).where(Pledge.call_uri == call.uri, Pledge.state == ACCEPTED))
        for pledge in stale.all():
            if pledge.uri not in kept:
                await session.delete(pledge)
        for item in items:
            await upsert_item(session, item, now=now, source="origin")
        row.pledge_carriers = _carriers_json(head)
        row.pledges_fetched_at = now
    return True


def is_stale(call: StoredObject, now: Any) -> bool:
    if call.is_local or not (call.data or {}).get("pledges"):
        return False
    return call.pledges_fetched_at is None or now - call.pledges_fetched_at > STALE_AFTER


async def refresh_if_stale(ctx: FederationContext, call: StoredObject, *, seconds: float = REFRESH_SECONDS) -> None:
    """Before a page or a command shows a remote call's roll-up: re-read a stale copy from its origin.

    Network I/O, then its own short transaction (never inside the caller's); a person is waiting,
    so an origin slower than ``seconds`` leaves the copy as it was.
    """
    if is_stale(call, ctx.clock()):
        with anyio.move_on_after(seconds):
            await refresh(ctx, call)


async def run_refresh(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """The job behind enqueue_refresh: re-read one remote call's pledges from its origin."""
    async with ctx.sessions() as session:
        call = await session.scalar(select(StoredObject).where(StoredObject.uri == str(payload.get("call") or "")))
    if call is not None and call.deleted_at is None:
        await refresh(ctx, call)


async def run_stale_sweep(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """Periodic: queue a refresh for every remote call not over yet whose copy of the roll-up is stale."""
    now = ctx.clock()
    async with ctx.sessions.begin() as session:
        calls = (
            await session.scalars(
                select(StoredObject)
                .where(
                    StoredObject.is_local.is_(False), StoredObject.type == "Event",
                    StoredObject.deleted_at.is_(None),
                    (StoredObject.end_time >= now)
                    | (StoredObject.end_time.is_(None) & (StoredObject.start_time >= now)),
                    StoredObject.pledges_fetched_at.is_(None) | (StoredObject.pledges_fetched_at < now - STALE_AFTER),
                )
                .order_by(StoredObject.start_time)
            )
        ).all()
        # Events from servers that publish no pledges collection (Mobilizon, Gancio) are never stale.
        for call in [call for call in calls if is_stale(call, now)][:SWEEP_LIMIT]:
            await enqueue_refresh(session, call.uri, at=now)
