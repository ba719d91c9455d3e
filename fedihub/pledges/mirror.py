"""Copies of a remote call's pledges: applied from the origin's notices, re-read from its collection
when the counts disagree or the copy is stale, and each pledge of another server's coalition confirmed
with that coalition's own server before it is shown or counted."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import FedihubError, RemoteGone, RemoteInvalid, RemoteNotFound
from fedihub.federation import jobs
from fedihub.federation.actors import find_actor, resolve_actor
from fedihub.federation.blocks import is_blocked
from fedihub.federation.context import FederationContext
from fedihub.federation.objects import VIEWED
from fedihub.hubs.settings import hub_scope_of
from fedihub.pledges import vouching
from fedihub.pledges.store import ACCEPTED, coalition_of, find_pledge, set_action, set_coalition, set_report
from fedihub.protocol import fetch
from fedihub.protocol.hosts import host_of
from fedihub.protocol.pledges import (
    PledgeItem,
    PledgingCoalition,
    read_carriers,
    read_list_version,
    read_local_action,
    read_message,
    read_pledge_item,
    read_report,
)
from fedihub.protocol.reader import as_list, id_of
from fedihub.protocol.urls import http_url
from fedihub.storage.models import Pledge, StoredObject

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
REFRESH_JOB = "pledges.refresh"
STALE_SWEEP_JOB = "pledges.refresh-stale"
CONFIRM_JOB = "pledges.confirm"
# Remote calls whose copies one sweep re-reads at most: the rest wait for the next sweep.
SWEEP_LIMIT = 100
# A mirrored pledge of a coalition on neither the call's server nor ours: listed by the origin, not
# yet confirmed by the coalition's own server. Never shown, never counted (only "accepted" is).
UNCONFIRMED = "unconfirmed"
MIRRORED_STATES = (ACCEPTED, UNCONFIRMED)


@dataclass(frozen=True)
class MirrorLimits:
    """How much of one remote call's pledges collection a refresh reads and keeps.

    ``max_items`` also bounds the rows an origin's Add notices can make; ``batch_size`` rows are
    written per transaction, so a long copy never holds the database's write lock for long.
    """

    max_items: int = 500
    max_pages: int = 10
    batch_size: int = 100
    # Pledger servers asked to confirm per refresh: a hostile origin naming thousands of another
    # server's coalitions makes at most this many requests there per refresh.
    confirm_per_refresh: int = 100


def _carriers_json(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": c.uri, "name": c.name, "hubScope": c.scope, "url": c.url} for c in read_carriers(summary)
    ]


async def mirrored_count(session: AsyncSession, call_uri: str, *, vouched_only: bool = False) -> int:
    """Rows the origin's list made here (confirmed or not): what its totalItems (or, vouched only,
    its vouchedItems) is compared with."""
    query = select(func.count()).select_from(Pledge).where(
        Pledge.call_uri == call_uri, Pledge.state.in_(MIRRORED_STATES)
    )
    if vouched_only:
        query = query.where(Pledge.vouched_by.is_not(None))
    return int(await session.scalar(query) or 0)


async def _disagrees(session: AsyncSession, call_uri: str, summary: Mapping[str, Any], limits: MirrorLimits) -> bool:
    """Whether the origin's counts differ from our copy's: a notice was lost, came out of order, or a
    re-read overwrote a newer notice with an older page."""
    for key, vouched_only in (("totalItems", False), ("vouchedItems", True)):
        theirs = summary.get(key)
        if isinstance(theirs, int) and not isinstance(theirs, bool):
            if min(theirs, limits.max_items) != await mirrored_count(session, call_uri, vouched_only=vouched_only):
                return True
    return False


def _report_differs(row: Pledge, item: PledgeItem) -> bool:
    report, action = item.report, item.action
    ours = (row.happened, row.turnout, row.report_url, row.action_uri)
    theirs = (
        report.happened if report else None, report.turnout if report else None, report.url if report else None,
        action.uri if action else None,
    )
    return ours != theirs


async def mirror_item(
    ctx: FederationContext, session: AsyncSession, call: StoredObject, item: PledgeItem, *, now: datetime,
    limits: MirrorLimits, from_list: bool = True,
) -> tuple[str | None, bool]:
    """Keep one item of the origin's list: the pledge id kept (None: ignored), and whether its
    coalition's server is asked to confirm it.

    The origin speaks for its own coalitions. A pledge of another server's coalition is kept as
    ``unconfirmed`` (its name and message empty) and a job asks that server for the Join itself;
    our own coalitions' pledges are ours to know, and the origin only confirms their acceptance.
    """
    coalition_uri = item.coalition.uri
    if item.call_uri != call.uri or host_of(item.uri) != host_of(coalition_uri) or http_url(item.uri) is None:
        return None, False  # a Join lives on its actor's server: anything else is not that actor's word
    if ctx.urls.is_local(coalition_uri):
        own = await find_pledge(session, call.uri, coalition_uri)
        if own is None or own.uri != item.uri or own.state not in ("pending", ACCEPTED):
            return None, False
        own.state, own.updated_at = ACCEPTED, now
        own.vouched_by = _vouch_of(item, own.vouched_by, from_list)  # the hint "not vouched yet" reads it
        return own.uri, False
    row = await session.scalar(select(Pledge).where(Pledge.uri == item.uri))
    if row is not None and (row.call_uri != call.uri or row.coalition_uri != coalition_uri):
        return None, False  # a Join id already known for another call or coalition: not this pledge
    row = row or await find_pledge(session, call.uri, coalition_uri)
    if row is not None and row.source != "origin":
        return None, False
    if row is None:
        if await mirrored_count(session, call.uri) >= limits.max_items:
            return None, False
        row = Pledge(uri=item.uri, call_uri=call.uri, coalition_uri=coalition_uri, source="origin",
                     state=UNCONFIRMED, created_at=item.published or now)
        session.add(row)
    elif row.uri != item.uri:
        row.uri, row.state = item.uri, UNCONFIRMED  # a new Join of the same coalition: confirm it again
    row.updated_at = now
    row.vouched_by = _vouch_of(item, row.vouched_by, from_list)
    if host_of(coalition_uri) == host_of(call.uri):
        row.state, row.message = ACCEPTED, item.message
        set_coalition(row, item.coalition)
        set_action(row, item.action)
        set_report(row, item.report)
        return row.uri, False
    if row.state != ACCEPTED or _report_differs(row, item):
        # Unconfirmed, or the origin relays a newer report or local action: either is shown only
        # once the pledger's own server serves it.
        await enqueue_confirm(session, call.uri, item.uri, at=now)
        asked = True
    else:
        asked = False
    if row.state != ACCEPTED:
        row.message = None
        set_coalition(row, _unnamed(coalition_uri))
        set_action(row, None)
        set_report(row, None)
    return row.uri, asked


def _vouch_of(item: PledgeItem, current: str | None, from_list: bool) -> str | None:
    """Whether a pledge counts in the headline is the call's origin's word (its organizers and the hubs
    carrying its call): a copy keeps it on every row it writes, confirmed by the pledger's server or not.

    Notices can arrive out of order (deliveries run side by side and are retried), so one notice never
    takes a vouch back: the older of two Adds would undo the newer one's vouch. The counts then
    disagree with the notice's summary and the origin's list is read again (apply_notice), which has
    the last word (``from_list``).
    """
    if item.vouched:
        return vouching.ORIGIN
    return None if from_list else current


def _unnamed(uri: str) -> PledgingCoalition:
    return PledgingCoalition(uri=uri, url=uri)


async def apply_notice(
    ctx: FederationContext, session: AsyncSession, call: StoredObject, kind: str, obj: Any,
    summary: Mapping[str, Any], *, limits: MirrorLimits = MirrorLimits(),
) -> None:
    """Apply an Add, Remove or Update from the call's author; the caller commits.

    A notice whose ``listVersion`` is not newer than the copy's is older news (deliveries run side by
    side and are retried) and is ignored: a late Add never brings back a pledge a Remove took off.
    When the notice skips versions (one was lost, or the origin folded several changes into it) or
    the origin's total still disagrees with our copy, a job re-reads the whole list from the origin:
    that is network I/O, never done in this transaction. Notices without a version (older peers) are
    applied in the order they come.
    """
    version = read_list_version(summary)
    if version is not None and version <= call.pledges_version:
        log.info("ignoring a %s of %s's pledges: version %d, the copy has %d", kind, call.uri, version,
                 call.pledges_version)
        return
    if kind == "Add":
        item = read_pledge_item(obj)
        if item is not None:
            await mirror_item(ctx, session, call, item, now=ctx.clock(), limits=limits, from_list=False)
    elif kind == "Remove":
        removed = id_of(obj)
        if removed:
            await session.execute(
                delete(Pledge).where(Pledge.call_uri == call.uri, Pledge.uri == removed, Pledge.source == "origin")
            )
    call.pledge_carriers = _carriers_json(summary)
    call.pledges_fetched_at = ctx.clock()
    skipped = version is not None and version > call.pledges_version + 1
    if version is not None:
        call.pledges_version = version
    await session.flush()
    if skipped or await _disagrees(session, call.uri, summary, limits):
        await enqueue_refresh(session, call.uri, at=ctx.clock())


async def enqueue_refresh(session: AsyncSession, call_uri: str, *, at: datetime) -> None:
    await jobs.enqueue(session, REFRESH_JOB, key=jobs.key_of(call_uri), payload={"call": call_uri}, at=at)


async def enqueue_confirm(session: AsyncSession, call_uri: str, pledge_uri: str, *, at: datetime) -> None:
    await jobs.enqueue(
        session, CONFIRM_JOB, key=jobs.key_of(pledge_uri), payload={"call": call_uri, "pledge": pledge_uri}, at=at
    )


@dataclass
class _Reading:
    head: Mapping[str, Any]
    items: list[PledgeItem]
    stopped: str | None = None  # why the reading ended before the collection did


async def _read_items(ctx: FederationContext, collection_id: str, limits: MirrorLimits) -> _Reading | None:
    """Read the collection page by page, within the limits; a `next` seen before, or on another
    host, ends the reading (an endless or looping collection is a hostile one)."""
    try:
        head = await fetch.fetch_activitypub_document(ctx.http, collection_id, auth=ctx.instance_auth)
        reading = _Reading(head=head, items=[])
        seen = {collection_id}
        pages = 0
        page: Any = head.get("first")
        while page is not None:
            if isinstance(page, str):
                if page in seen or host_of(page) != host_of(collection_id):
                    reading.stopped = f"the collection loops or leaves its host at {page}"
                    break
                if pages >= limits.max_pages:
                    reading.stopped = f"page limit ({limits.max_pages})"
                    break
                seen.add(page)
                pages += 1
                page = await fetch.fetch_activitypub_document(ctx.http, page, auth=ctx.instance_auth)
            if not isinstance(page, Mapping):
                break
            room = limits.max_items - len(reading.items)
            found = [item for item in map(read_pledge_item, as_list(page.get("orderedItems"))[:room]) if item]
            reading.items += found
            if len(reading.items) >= limits.max_items:
                reading.stopped = f"item limit ({limits.max_items})"
                break
            page = page.get("next")
            if isinstance(page, Mapping) and id_of(page) in seen:
                reading.stopped = "the collection loops"
                break
    except FedihubError as exc:
        log.info("could not read pledges at %s: %s", collection_id, exc)
        return None
    return reading


async def _needs_asking(session: AsyncSession, item: PledgeItem) -> bool:
    """Whether mirroring this item would ask the pledger's server to confirm it."""
    row = await session.scalar(select(Pledge).where(Pledge.uri == item.uri))
    return row is None or row.state != ACCEPTED or _report_differs(row, item)


def _batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start:start + size] for start in range(0, len(items), max(size, 1))]


async def refresh(ctx: FederationContext, call: StoredObject, limits: MirrorLimits = MirrorLimits()) -> bool:
    """Replace our copy of a remote call's pledges with its origin's collection; False if unreadable.

    Network first, then short transactions of at most ``limits.batch_size`` rows each: other
    writers (the inbox, deliveries) get the database between two batches.
    """
    collection_id = id_of((call.data or {}).get("pledges"))
    if call.is_local or not collection_id or host_of(collection_id) != host_of(call.uri):
        return False
    started = ctx.clock()
    reading = await _read_items(ctx, collection_id, limits)
    if reading is None:
        return False
    if reading.stopped:
        log.info("pledges of %s read in part: %s", call.uri, reading.stopped)
    # Rows the origin no longer lists go first, so the cap counts only what the origin lists now.
    listed = {item.uri for item in reading.items}
    async with ctx.sessions() as session:
        rows = await session.execute(
            select(Pledge.id, Pledge.uri).where(
                Pledge.call_uri == call.uri, Pledge.source == "origin", Pledge.state.in_(MIRRORED_STATES)
            )
        )
        stale_ids = [pledge_id for pledge_id, uri in rows.all() if uri not in listed]
    for stale in _batches(stale_ids, limits.batch_size):
        async with ctx.sessions.begin() as session:
            await session.execute(delete(Pledge).where(Pledge.id.in_(stale)))
    confirmations = 0
    for batch in _batches(reading.items, limits.batch_size):
        async with ctx.sessions.begin() as session:
            row = await session.get(StoredObject, call.id)
            if row is None or row.deleted_at is not None:
                return False
            now = ctx.clock()
            for item in batch:
                # Past this run's share of confirmations, pledges of other servers that need one wait for
                # the next run; confirmed ones are still kept up to date (the origin's vouch, above all).
                foreign = host_of(item.coalition.uri) not in (host_of(call.uri), host_of(ctx.base_url))
                if foreign and confirmations >= limits.confirm_per_refresh and await _needs_asking(session, item):
                    continue
                _, asked = await mirror_item(ctx, session, row, item, now=now, limits=limits)
                confirmations += asked
    async with ctx.sessions.begin() as session:
        row = await session.get(StoredObject, call.id)
        if row is not None:
            if row.pledges_fetched_at is not None and row.pledges_fetched_at > started:
                # A notice was applied while we read: our pages may be older than it and have just
                # undone it (a vouch, a withdrawal). Read once more; the notice's carriers stand.
                await enqueue_refresh(session, call.uri, at=ctx.clock())
            else:
                row.pledge_carriers = _carriers_json(reading.head)
                # The list has the last word: a notice older than what we read is ignored from now on.
                row.pledges_version = read_list_version(reading.head) or 0
            row.pledges_fetched_at = ctx.clock()
    return True


def is_stale(call: StoredObject, now: Any) -> bool:
    if call.is_local or not (call.data or {}).get("pledges"):
        return False
    return call.pledges_fetched_at is None or now - call.pledges_fetched_at > STALE_AFTER


async def refresh_if_stale(ctx: FederationContext, call: StoredObject) -> None:
    """Before a page or a command shows a remote call's roll-up: queue a re-read of a stale copy.

    Never the re-read itself: a page request does no network I/O for it and holds no write lock
    but this one short insert; the worker reads the origin, and the next view shows the result.
    """
    if is_stale(call, ctx.clock()):
        async with ctx.sessions.begin() as session:
            await enqueue_refresh(session, call.uri, at=ctx.clock())
        ctx.notify_work()


def refresh_job(limits: MirrorLimits) -> jobs.JobFunction:
    """The job behind enqueue_refresh: re-read one remote call's pledges from its origin."""

    async def run_refresh(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
        async with ctx.sessions() as session:
            call = await session.scalar(
                select(StoredObject).where(StoredObject.uri == str(payload.get("call") or ""))
            )
        if call is not None and call.deleted_at is None:
            await refresh(ctx, call, limits)

    return run_refresh


# --- Confirmation by the pledging coalition's own server ----------------------------------------------


def _confirms(join: Mapping[str, Any], pledge_uri: str, coalition_uri: str, call_uri: str) -> bool:
    return (
        join.get("type") == "Join" and join.get("id") == pledge_uri and id_of(join.get("actor")) == coalition_uri
        and id_of(join.get("object")) == call_uri
    )


async def run_confirm(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """Ask the pledging coalition's server for the Join the origin lists: shown only if it says so.

    The Join is fetched from its id (on the coalition's server, signed by our instance actor); its
    actor must be the coalition and its object this call. The name, region and movements shown come
    from the coalition's own actor document; the message, local action and report from that Join.
    """
    call_uri, pledge_uri = str(payload.get("call") or ""), str(payload.get("pledge") or "")
    async with ctx.sessions() as session:
        row = await session.scalar(select(Pledge).where(Pledge.uri == pledge_uri, Pledge.call_uri == call_uri))
        blocked = await is_blocked(session, host_of(pledge_uri))
    if row is None or row.source != "origin" or host_of(pledge_uri) != host_of(row.coalition_uri) or blocked:
        return  # a blocked server is never asked, and its coalitions' pledges stay unshown
    coalition_uri = row.coalition_uri
    try:
        join = await fetch.fetch_activitypub_document(ctx.http, pledge_uri, auth=ctx.instance_auth)
        if not _confirms(join, pledge_uri, coalition_uri, call_uri):
            raise RemoteInvalid(f"{pledge_uri} is not a Join of {call_uri} by {coalition_uri}")
        actor = await resolve_actor(ctx, coalition_uri)
        if actor.type != "Group" or hub_scope_of(actor) is not None or actor.deleted_at is not None:
            raise RemoteInvalid(f"{coalition_uri} is not a coalition")
    except (RemoteGone, RemoteNotFound, RemoteInvalid) as exc:
        # The coalition's server does not vouch for this pledge: it stays unshown.
        log.info("pledge %s to %s not confirmed: %s", pledge_uri, call_uri, exc)
        async with ctx.sessions.begin() as session:
            refuted = await session.scalar(select(Pledge).where(Pledge.uri == pledge_uri, Pledge.source == "origin"))
            if refuted is not None:
                refuted.state, refuted.message, refuted.updated_at = UNCONFIRMED, None, ctx.clock()
                set_coalition(refuted, _unnamed(refuted.coalition_uri))
                set_action(refuted, None)
                set_report(refuted, None)
        return
    async with ctx.sessions.begin() as session:
        confirmed = await session.scalar(
            select(Pledge).where(Pledge.uri == pledge_uri, Pledge.call_uri == call_uri, Pledge.source == "origin")
        )
        coalition = await find_actor(session, coalition_uri)
        if confirmed is None or coalition is None:
            return
        action = read_local_action(join.get("localAction"))
        confirmed.state, confirmed.message, confirmed.updated_at = ACCEPTED, read_message(join), ctx.clock()
        set_coalition(confirmed, coalition_of(coalition))
        set_action(confirmed, action if action and host_of(action.uri) == host_of(coalition_uri) else None)
        set_report(confirmed, read_report(join.get("report")))


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
                    # A call only looked at is shown to nobody: its copy is read when someone opens it.
                    StoredObject.visibility != VIEWED,
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
