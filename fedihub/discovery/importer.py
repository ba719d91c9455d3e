"""Importing a list of coalitions: resolve each row politely, record what was found, report every row."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import anyio
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.actor_profile import ensure_profile, profile_of, set_movements
from fedihub.directory.listing import mark_discovered
from fedihub.discovery.csv_rows import ImportRow
from fedihub.discovery.lookup import DISCOVERED_TEXT, handle_of, kind_of, region_of
from fedihub.discovery.resolve import (
    FOUND,
    KNOWN,
    OUTCOMES,
    REFUSED,
    Address,
    Resolved,
    explain_failure,
    outcome_label,
    parse_address,
    resolve_address,
)
from fedihub.federation.blocks import blocked_domains
from fedihub.federation.context import FederationContext
from fedihub.i18n.active import N_, gettext
from fedihub.storage.models import Actor

log = logging.getLogger(__name__)

CONCURRENCY = 4  # rows resolved at once
PER_HOST = 2  # of which at most this many on one server: a list of 500 on one instance must not hammer it
ROW_TIMEOUT = 20.0  # seconds for one row: WebFinger, the actor fetch and recording it


@dataclass(frozen=True)
class RowResult:
    line: int
    address: str  # as written in the file
    outcome: str  # one of resolve.OUTCOMES
    reason: str | None = None  # why, for every outcome but found
    handle: str | None = None
    name: str | None = None
    uri: str | None = None
    kind: str | None = None  # "coalition" or "hub" when resolved

    @property
    def label(self) -> str:
        return self.handle or self.address or gettext("(empty address)")

    @property
    def outcome_label(self) -> str:
        return outcome_label(self.outcome)

    @property
    def detail(self) -> str:
        if self.outcome in (FOUND, KNOWN) and not self.reason:
            return self.name or self.label
        return self.reason or ""


@dataclass
class Summary:
    counts: Counter[str] = field(default_factory=Counter)
    results: list[RowResult] = field(default_factory=list)

    def add(self, result: RowResult) -> None:
        self.counts[result.outcome] += 1
        self.results.append(result)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def rows(self) -> list[tuple[str, int]]:
        return [(outcome, self.counts[outcome]) for outcome in OUTCOMES]

    def labelled_rows(self) -> list[tuple[str, str, int]]:
        """(outcome, its name in the reader's language, count), in the order of OUTCOMES."""
        return [(outcome, outcome_label(outcome), count) for outcome, count in self.rows()]

    def not_found_rows(self) -> list[RowResult]:
        """Every row that did not end as "found", in file order: the ones a person goes through."""
        return sorted((r for r in self.results if r.outcome != FOUND), key=lambda r: r.line)


# What an actor that is not a group is, said in a refused row (kind_of's names).
KIND_TEXT = {"person": N_("a person"), "service": N_("a service"), "application": N_("an application"),
             "organization": N_("an organization")}


def _a_kind(kind: str) -> str:
    return gettext(KIND_TEXT[kind]) if kind in KIND_TEXT else gettext("a %(kind)s", kind=kind)


def _refused(row: ImportRow, reason: str) -> RowResult:
    return RowResult(line=row.line, address=row.address, outcome=REFUSED, reason=reason)


def _split_region(text: str) -> tuple[str | None, str | None, str | None]:
    """ "Chicago, Illinois, US" → city, state, country; fewer parts fill from the city down."""
    parts = [p.strip() for p in text.split(",") if p.strip()][:3]
    parts += [None] * (3 - len(parts))  # type: ignore[list-item]
    return parts[0], parts[1], parts[2]


async def record_row(ctx: FederationContext, session: AsyncSession, actor_id: int, row: ImportRow) -> None:
    """Keep the row's note, and fill movements and region the remote profile does not give."""
    stored = await session.get(Actor, actor_id)
    if stored is None:
        return
    listing = mark_discovered(stored, "import", ctx.clock())
    if row.note:
        listing.note = row.note  # the newest import's note wins
    if stored.is_local:
        return  # a local coalition's movements and region are its organizers' to set
    if row.movements and not profile_of(stored).movements:
        await set_movements(session, stored, row.movements)
    if row.region and not region_of(stored):
        profile = ensure_profile(stored)
        profile.region_city, profile.region_state, profile.region_country = _split_region(row.region)


def _known_reason(actor: Actor) -> str:
    how = DISCOVERED_TEXT.get(actor.listing.discovered_via if actor.listing else "")
    return (gettext("this server already knew it (%(how)s)", how=gettext(how)) if how
            else gettext("this server already knew it"))


class _Run:
    """One import: the limits, what was seen, and the work of one row."""

    def __init__(self, ctx: FederationContext, *, dry_run: bool, allow_private: bool, blocked: Sequence[str],
                 row_timeout: float) -> None:
        self.ctx = ctx
        self.dry_run = dry_run
        self.allow_private = allow_private
        self.blocked = blocked
        self.row_timeout = row_timeout
        self.actors_seen: dict[str, int] = {}  # actor uri → the line that found it first

    async def _resolve(self, address: Address) -> Resolved:
        resolve = functools.partial(
            resolve_address, self.ctx, address, via="import", allow_private=self.allow_private,
            blocked=self.blocked, store=not self.dry_run,
        )
        try:
            return await resolve()
        except IntegrityError:
            # Two rows naming the same unknown actor (a handle and a link) stored it at the same
            # moment; the other row's copy is there now.
            return await resolve()

    async def resolve(self, row: ImportRow, address: Address) -> RowResult:
        """Never raises: whatever goes wrong becomes this row's outcome and reason."""
        try:
            with anyio.fail_after(self.row_timeout):
                resolved = await self._resolve(address)
                actor = resolved.actor
                if actor.type != "Group":
                    return _refused(row, gettext("%(handle)s is %(what)s, not a coalition or hub",
                                                 handle=handle_of(actor), what=_a_kind(kind_of(actor))))
                first = self.actors_seen.setdefault(actor.uri, row.line)
                if first != row.line:
                    return _refused(row, gettext("the same coalition as line %(line)d", line=first))
                if not self.dry_run:
                    # Its own short transaction once the row is resolved: an import is a run of
                    # network lookups, and no transaction waits on one.
                    async with self.ctx.sessions.begin() as session:
                        await record_row(self.ctx, session, actor.id, row)
        except Exception as exc:
            failure = explain_failure(exc, address)
            return RowResult(line=row.line, address=row.address, outcome=failure.outcome, reason=failure.reason)
        reason = _known_reason(actor) if resolved.known else None
        handle = resolved.handle or handle_of(actor)
        if resolved.typed_elsewhere:
            elsewhere = gettext("%(typed)s is another server's name for it; its own handle is %(handle)s",
                                typed=resolved.typed_elsewhere, handle=handle)
            reason = f"{reason}; {elsewhere}" if reason else elsewhere
        return RowResult(
            line=row.line, address=row.address, outcome=KNOWN if resolved.known else FOUND,
            reason=reason, handle=handle,
            name=actor.name or actor.username, uri=actor.uri, kind=kind_of(actor),
        )


async def run_import(
    ctx: FederationContext,
    rows: Sequence[ImportRow],
    *,
    dry_run: bool = False,
    allow_private: bool = False,
    concurrency: int = CONCURRENCY,
    per_host: int = PER_HOST,
    row_timeout: float = ROW_TIMEOUT,
) -> AsyncIterator[RowResult]:
    """Yield one result per row as each finishes: malformed and repeated rows at once, then the rest
    with at most ``concurrency`` rows in flight and ``per_host`` per server. ``dry_run`` writes nothing."""
    async with ctx.sessions() as session:
        blocked = list(await blocked_domains(session))
    run = _Run(ctx, dry_run=dry_run, allow_private=allow_private, blocked=blocked, row_timeout=row_timeout)
    pending: list[tuple[ImportRow, Address]] = []
    first_line: dict[str, int] = {}
    for row in rows:
        try:
            address = parse_address(row.address)
        except Exception as exc:
            yield _refused(row, explain_failure(exc, None).reason)
            continue
        first = first_line.setdefault(address.key, row.line)
        if first != row.line:
            yield _refused(row, gettext("the same address as line %(line)d", line=first))
            continue
        pending.append((row, address))

    slots = asyncio.Semaphore(concurrency)
    host_slots: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_host))
    finished: asyncio.Queue[RowResult] = asyncio.Queue()

    async def work(row: ImportRow, address: Address) -> None:
        # The server's slot first: rows waiting for a busy server do not hold a slot others could use.
        try:
            async with host_slots[address.host], slots:
                result = await run.resolve(row, address)
        except Exception as exc:  # run.resolve records failures itself; this only guards the queue
            failure = explain_failure(exc, address)
            result = RowResult(line=row.line, address=row.address, outcome=failure.outcome, reason=failure.reason)
        await finished.put(result)

    tasks = [asyncio.create_task(work(row, address)) for row, address in pending]
    try:
        for _ in tasks:
            yield await finished.get()
    finally:
        # Also when the reader stops early (a browser closing the page): no row keeps running.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
