"""Roster discovery: read the public rosters of known hubs, politely, and list their members as stubs."""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.actor_profile import ensure_profile, set_movements
from fedihub.directory.listing import mark_discovered
from fedihub.errors import FedihubError, RemoteInvalid
from fedihub.federation.actors import find_actor, host_of, store_remote_actor
from fedihub.federation.blocks import blocked_domains, domain_matches
from fedihub.federation.context import FederationContext
from fedihub.hubs.settings import hub_scope_of, set_hub_scope
from fedihub.protocol import fetch
from fedihub.protocol.limits import MAX_NAME, MAX_REGION
from fedihub.protocol.profile_reader import HUB_NAMESPACE, clean_text, read_actor_profile
from fedihub.protocol.reader import as_list, id_of
from fedihub.protocol.urls import http_url
from fedihub.storage.models import Actor, DirectoryListing, HubSettings

log = logging.getLogger(__name__)

# A hub's roster changes slowly; reading it more often than this would only load its server.
ROSTER_FRESH_FOR = timedelta(hours=6)
# Only coalitions and hubs are listed; a person in a roster would be a stub nobody ever sees.
LISTED_TYPES = ("Group",)
USERNAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class RosterLimits:
    depth: int = 2  # 1: the known hubs' rosters only; 2: also those of the hubs they list; …
    max_pages: int = 20  # requests per roster, the collection itself included
    max_items: int = 5000  # roster items taken in one run, all rosters together
    host_delay: float = 1.0  # seconds between two requests to the same host
    # Members on another server than their hub's, fetched from their own server in one run at most:
    # a roster listing thousands of other servers' actors costs those servers this many requests.
    max_member_fetches: int = 200


@dataclass
class RefreshReport:
    rosters_read: int = 0
    rosters_fresh: int = 0  # read less than ROSTER_FRESH_FOR ago: left alone
    members_added: int = 0
    members_updated: int = 0  # stubs from an earlier read, refreshed
    members_kept: int = 0  # already fetched in full (or ours): the roster changes nothing
    members_fetched: int = 0  # on another server than their hub's: read from their own server
    items: int = 0
    requests: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (hub, why its roster was not read)
    notes: list[str] = field(default_factory=list)  # where a limit cut the reading short

    @property
    def out_of_items(self) -> bool:
        return any(note.startswith("item limit") for note in self.notes)


class HostPacer:
    """At most one request per ``delay`` seconds to each host."""

    def __init__(self, delay: float, sleep: Callable[[float], Awaitable[None]] = anyio.sleep) -> None:
        self.delay = delay
        self.sleep = sleep
        self.last: dict[str, float] = {}

    async def wait(self, url: str) -> None:
        host = host_of(url)
        if self.delay > 0 and host in self.last:
            remaining = self.last[host] + self.delay - time.monotonic()
            if remaining > 0:
                await self.sleep(remaining)
        self.last[host] = time.monotonic()


@dataclass(frozen=True)
class RosterItem:
    uri: str
    type: str
    username: str | None
    name: str | None
    url: str | None
    hub_scope: str | None
    hub_region: str | None
    region_city: str | None
    region_state: str | None
    region_country: str | None
    latitude: float | None
    longitude: float | None
    movements: tuple[str, ...]


def read_roster_item(item: Any) -> RosterItem | None:
    """A member as a roster lists it (docs/federation/hubs.md "The roster"), or None if unusable."""
    if not isinstance(item, Mapping):
        return None  # a bare id says nothing to list; members are never fetched one by one
    uri = http_url(item.get("id"))
    kind = item.get("type")
    if uri is None or kind not in LISTED_TYPES:
        return None
    profile = read_actor_profile(item)
    city, state, country = profile.region_city, profile.region_state, profile.region_country
    hub_region = profile.hub_region
    text = clean_text(item.get("fedihub:region", item.get(f"{HUB_NAMESPACE}region")), MAX_REGION * 3)
    if text and not (city or state or country or hub_region):
        # A roster without `location` (fedihub before issue 5) gives the region as one line.
        parts = [part.strip() for part in text.split(",") if part.strip()]
        if len(parts) == 3:
            city, state, country = (part[:MAX_REGION] for part in parts)
        elif profile.hub_scope:
            hub_region = text[:MAX_REGION]
        else:
            city = text[:MAX_REGION]
    username = clean_text(item.get("preferredUsername"), 64)
    return RosterItem(
        uri=uri, type=kind, username=username if username and USERNAME.match(username) else None,
        name=clean_text(item.get("name"), MAX_NAME), url=http_url(item.get("url")),
        hub_scope=profile.hub_scope, hub_region=hub_region, region_city=city, region_state=state,
        region_country=country, latitude=profile.latitude, longitude=profile.longitude, movements=profile.movements,
    )


def _apply_item(actor: Actor, item: RosterItem, now: datetime) -> None:
    actor.type = item.type
    actor.username = item.username
    actor.name = item.name
    actor.url = item.url
    set_hub_scope(actor, item.hub_scope, item.hub_region)
    has_place = any((item.region_city, item.region_state, item.region_country)) or item.latitude is not None
    if has_place or actor.profile is not None:
        profile = ensure_profile(actor)
        profile.region_city = item.region_city
        profile.region_state = item.region_state
        profile.region_country = item.region_country
        profile.latitude = item.latitude
        profile.longitude = item.longitude
    actor.updated_at = now


class RosterReader:
    """One run of roster discovery: a breadth-first walk down the tree of hubs, within the limits."""

    def __init__(
        self, ctx: FederationContext, limits: RosterLimits, *, sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    ) -> None:
        self.ctx = ctx
        self.limits = limits
        self.pacer = HostPacer(limits.host_delay, sleep)
        self.report = RefreshReport()
        self.blocked: list[str] = []

    def _blocked(self, uri: str) -> bool:
        host = host_of(uri)
        return any(domain_matches(host, blocked) for blocked in self.blocked)

    async def run(self) -> RefreshReport:
        async with self.ctx.sessions() as session:
            self.blocked = list(await blocked_domains(session))
            # Hubs met through a roster are reached again from the roster that lists them, so the
            # depth limit holds from one run to the next.
            known = list(await session.scalars(
                select(Actor.uri)
                .join(HubSettings, HubSettings.actor_id == Actor.id)
                .outerjoin(DirectoryListing, DirectoryListing.actor_id == Actor.id)
                .where(
                    Actor.is_local.is_(False), Actor.deleted_at.is_(None),
                    or_(DirectoryListing.discovered_via.is_(None), DirectoryListing.discovered_via != "roster"),
                ).order_by(Actor.id)
            ))
        queue = deque((uri, 1) for uri in known)
        queued = set(known)
        while queue and not self.report.out_of_items:
            hub_uri, level = queue.popleft()
            for member_hub in await self.read_hub(hub_uri):
                if level < self.limits.depth and member_hub not in queued:
                    queued.add(member_hub)
                    queue.append((member_hub, level + 1))
        return self.report

    async def _get(self, url: str, *, actor: bool = False) -> dict[str, Any]:
        await self.pacer.wait(url)
        self.report.requests += 1
        if actor:
            return await fetch.fetch_actor_document(self.ctx.http, url, auth=self.ctx.instance_auth)
        return await fetch.fetch_activitypub_document(self.ctx.http, url, auth=self.ctx.instance_auth)

    async def _roster_url(self, hub: Actor) -> str | None:
        doc = hub.data
        if hub.fetched_at is None or not doc:
            # A roster stub: its roster's address is only in its own actor document.
            doc = await self._get(hub.uri, actor=True)
            async with self.ctx.sessions.begin() as session:
                await store_remote_actor(self.ctx, session, doc, discovered_via="roster")
        url = id_of(doc.get("fedihub:members", doc.get(f"{HUB_NAMESPACE}members")))
        if url is None:
            return None
        if http_url(url) is None or host_of(url) != host_of(hub.uri):
            raise RemoteInvalid(f"{hub.uri} gives a roster on another host: {url}")
        return url

    async def read_hub(self, hub_uri: str) -> list[str]:
        """Read one hub's roster; returns the member hubs it lists."""
        now = self.ctx.clock()
        async with self.ctx.sessions.begin() as session:
            hub = await find_actor(session, hub_uri)
            if hub is None or hub.is_local or hub.deleted_at is not None or self._blocked(hub_uri):
                return []
            listing = mark_discovered(hub, "federation", now)
            if listing.roster_fetched_at is not None and now - listing.roster_fetched_at < ROSTER_FRESH_FOR:
                self.report.rosters_fresh += 1
                return []
            # Marked before reading: a roster that fails is not asked again for the next six hours.
            listing.roster_fetched_at = now
        try:
            roster_url = await self._roster_url(hub)
            if roster_url is None:
                return []
            member_hubs = await self._read_pages(hub_uri, roster_url)
        except FedihubError as exc:
            log.info("could not read the roster of %s: %s", hub_uri, exc)
            self.report.failures.append((hub_uri, exc.public_message))
            return []
        self.report.rosters_read += 1
        return member_hubs

    async def _read_pages(self, hub_uri: str, roster_url: str) -> list[str]:
        head = await self._get(roster_url)
        requests = 1
        seen = {roster_url}
        member_hubs = await self._take(head, roster_url)
        page: Any = head.get("first")
        while page is not None and not self.report.out_of_items:
            if isinstance(page, str):
                if page in seen:
                    self.report.notes.append(f"loop in the roster of {hub_uri} at {page}: stopped there")
                    break
                if host_of(page) != host_of(roster_url) or http_url(page) is None:
                    self.report.notes.append(f"the roster of {hub_uri} leads to another host: stopped there")
                    break
                if requests >= self.limits.max_pages:
                    self.report.notes.append(f"page limit ({self.limits.max_pages}) in the roster of {hub_uri}")
                    break
                seen.add(page)
                requests += 1
                page = await self._get(page)
            if not isinstance(page, Mapping):
                break
            if isinstance(page.get("id"), str):
                seen.add(page["id"])
            member_hubs += await self._take(page, roster_url)
            page = page.get("next")
            if isinstance(page, Mapping) and page.get("id") in seen:
                self.report.notes.append(f"loop in the roster of {hub_uri}: stopped there")
                break
        return member_hubs

    async def _take(self, page: Mapping[str, Any], roster_url: str) -> list[str]:
        """Store the items of one page (within the run's item budget); the member hubs among them.

        A hub's server speaks for its own actors: members on the roster's host are listed as the
        roster describes them. For a member on any other server the roster is only the claim that it
        is a member: its name, handle, region and movements come from its own actor document,
        fetched from its own server (or it is not listed).
        """
        raw = as_list(page.get("orderedItems", page.get("items")))
        room = self.limits.max_items - self.report.items
        if len(raw) > room:
            raw = raw[:max(room, 0)]
            self.report.notes.append(f"item limit ({self.limits.max_items}) reached: the rest waits for the next run")
        self.report.items += len(raw)
        items = [item for item in map(read_roster_item, raw) if item is not None]
        items = [item for item in items if not self.ctx.urls.is_local(item.uri) and not self._blocked(item.uri)]
        if not items:
            return []
        own = [item for item in items if host_of(item.uri) == host_of(roster_url)]
        others = [item.uri for item in items if host_of(item.uri) != host_of(roster_url)]
        member_hubs = [item.uri for item in own if item.hub_scope]
        if own:
            now = self.ctx.clock()
            async with self.ctx.sessions.begin() as session:
                for item in own:
                    await self._store(session, item, now)
        for uri in others:
            if await self._fetch_member(uri):
                member_hubs.append(uri)
        return member_hubs

    async def _fetch_member(self, uri: str) -> bool:
        """List a member of another server from its own actor document; True if it is a hub."""
        async with self.ctx.sessions() as session:
            actor = await find_actor(session, uri)
            if actor is not None and (actor.is_local or actor.fetched_at is not None or actor.deleted_at is not None):
                self.report.members_kept += 1
                return actor.deleted_at is None and hub_scope_of(actor) is not None
        if self.report.members_fetched >= self.limits.max_member_fetches:
            if not any(note.startswith("member fetch limit") for note in self.report.notes):
                self.report.notes.append(
                    f"member fetch limit ({self.limits.max_member_fetches}): the rest waits for the next run"
                )
            return False
        self.report.members_fetched += 1
        try:
            doc = await self._get(uri, actor=True)
            if doc.get("type") not in LISTED_TYPES:
                return False
            async with self.ctx.sessions.begin() as session:
                fetched = await store_remote_actor(self.ctx, session, doc, discovered_via="roster")
                is_hub = hub_scope_of(fetched) is not None
        except FedihubError as exc:
            log.info("could not read roster member %s from its own server: %s", uri, exc)
            return False
        if actor is None:
            self.report.members_added += 1
        else:
            self.report.members_updated += 1
        return is_hub

    async def _store(self, session: AsyncSession, item: RosterItem, now: datetime) -> None:
        actor = await find_actor(session, item.uri)
        if actor is not None and (actor.is_local or actor.fetched_at is not None or actor.deleted_at is not None):
            # What the actor's own document says wins over what a hub says about it.
            self.report.members_kept += 1
            return
        if actor is None:
            actor = Actor(uri=item.uri, is_local=False, domain=host_of(item.uri), created_at=now, discoverable=True)
            session.add(actor)
            self.report.members_added += 1
        else:
            self.report.members_updated += 1
        _apply_item(actor, item, now)
        mark_discovered(actor, "roster", now)
        await set_movements(session, actor, item.movements)


async def refresh_directory(
    ctx: FederationContext, limits: RosterLimits | None = None,
    *, sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> RefreshReport:
    """Read the rosters of the hubs this server knows and list their members in the directory.

    Worker-friendly: every database write is its own short transaction, none is held across a
    request, and a second run within six hours costs no request for the rosters already read.
    """
    return await RosterReader(ctx, limits or RosterLimits(), sleep=sleep).run()


ROSTER_JOB = "directory.rosters"


async def run_roster_job(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """The periodic job: read known hubs' rosters with the default limits."""
    report = await refresh_directory(ctx)
    log.info("rosters read for the directory: %s", report)
