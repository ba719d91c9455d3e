"""The directory: every coalition and hub this server knows, filtered and paginated by indexed queries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.actor_profile import profile_of
from fedihub.directory.listing import DISCOVERED_VIA
from fedihub.errors import InvalidInput
from fedihub.hubs.scope_names import scope_name
from fedihub.hubs.settings import hub_region_of, hub_scope_of
from fedihub.i18n.active import N_, gettext
from fedihub.moderation.visibility import shown_actors
from fedihub.places.regions import region_names
from fedihub.protocol.html import html_to_text
from fedihub.protocol.limits import MAX_PAGE
from fedihub.protocol.movements import movement_key
from fedihub.protocol.profile_reader import HUB_SCOPES
from fedihub.protocol.urls import http_url
from fedihub.storage.models import Actor, ActorMovement, CoalitionProfile, DirectoryListing, HubSettings

Columns = TypeVarTuple("Columns")
PAGE_SIZE = 50
MAX_TEXT = 200
SUMMARY_CHARS = 500
SCOPE_CHOICES = ("coalition", "hub", *HUB_SCOPES)
# Marked for the catalogue; shown through gettext (found_label, the directory's filter).
FOUND_LABELS = {
    "local": N_("On this server"),
    "federation": N_("Followed or seen in federation"),
    "boost": N_("Boosted by a hub"),
    "roster": N_("Listed in a hub's roster"),
    "import": N_("Imported from a list"),
    "lookup": N_("Looked up by an organizer"),
}


@dataclass(frozen=True)
class DirectoryFilter:
    """What the directory page, the JSON API and the map filter on; None means "any"."""

    movement: str | None = None  # a movement key (protocol/movements.py)
    region: str | None = None
    scope: str | None = None  # one of SCOPE_CHOICES
    text: str | None = None
    found: str | None = None  # one of DISCOVERED_VIA
    page: int = 1

    @property
    def is_filtered(self) -> bool:
        return any((self.movement, self.region, self.scope, self.text, self.found))

    def params(self, page: int | None = None) -> dict[str, str]:
        """The query parameters that reproduce this filter (for links and the API's ``next``)."""
        values = {"movement": self.movement, "region": self.region, "scope": self.scope, "q": self.text,
                  "found": self.found}
        params = {key: value for key, value in values.items() if value}
        if (page or self.page) > 1:
            params["page"] = str(page or self.page)
        return params


def _one_line(value: str | None, limit: int = MAX_TEXT) -> str | None:
    return " ".join((value or "").split())[:limit] or None


def parse_filter(params: Mapping[str, str]) -> DirectoryFilter:
    """Read the GET parameters; raises InvalidInput (with the parameter as ``field``) for bad values."""
    movement = _one_line(params.get("movement"))
    scope = _one_line(params.get("scope"))
    found = _one_line(params.get("found"))
    raw_page = (params.get("page") or "1").strip()
    if scope and scope.lower() not in SCOPE_CHOICES:
        raise InvalidInput(gettext("scope must be one of %(scopes)s", scopes=", ".join(SCOPE_CHOICES)), field="scope")
    if found and found.lower() not in DISCOVERED_VIA:
        raise InvalidInput(gettext("found must be one of %(ways)s", ways=", ".join(DISCOVERED_VIA)), field="found")
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise InvalidInput(gettext("page must be a number from 1 to %(limit)s", limit=MAX_PAGE), field="page")
    return DirectoryFilter(
        movement=movement_key(movement) or None if movement else None,
        region=_one_line(params.get("region")),
        scope=scope.lower() if scope else None,
        text=_one_line(params.get("q")),
        found=found.lower() if found else None,
        page=int(raw_page),
    )


@dataclass(frozen=True)
class DirectoryEntry:
    uri: str
    name: str
    handle: str | None  # "tenants@a.example"
    is_local: bool
    hub_scope: str | None
    region_city: str | None
    region_state: str | None
    region_country: str | None
    hub_region: str | None
    movements: list[str]
    summary: str
    url: str | None  # our page for local actors, the actor's own page otherwise
    found: str | None
    discovered_at: datetime | None
    latitude: float | None
    longitude: float | None

    @property
    def kind(self) -> str:
        return "hub" if self.hub_scope else "coalition"

    @property
    def kind_label(self) -> str:
        return scope_name(self.hub_scope) if self.hub_scope else gettext("Coalition")

    @property
    def region(self) -> str:
        parts = [p.strip() for p in (self.region_city, self.region_state, self.region_country) if p and p.strip()]
        return ", ".join(parts) or (self.hub_region or "")

    @property
    def found_label(self) -> str:
        return gettext(FOUND_LABELS.get(self.found or "", N_("Known to this server")))


def entry_of(actor: Actor) -> DirectoryEntry:
    handle = f"{actor.username}@{actor.domain}" if actor.username else None
    summary = " ".join(html_to_text(actor.summary).split()) if actor.summary else ""
    profile, listing = profile_of(actor), actor.listing
    return DirectoryEntry(
        uri=actor.uri, name=actor.name or actor.username or actor.domain, handle=handle, is_local=actor.is_local,
        hub_scope=hub_scope_of(actor), region_city=profile.region_city, region_state=profile.region_state,
        region_country=profile.region_country, hub_region=hub_region_of(actor),
        movements=[m for m in (profile.movements or []) if isinstance(m, str) and m.strip()],
        summary=summary[:SUMMARY_CHARS],
        url=actor.uri if actor.is_local else (http_url(actor.url) or http_url(actor.uri)),
        found=listing.discovered_via if listing else None, discovered_at=listing.discovered_at if listing else None,
        latitude=profile.latitude, longitude=profile.longitude,
    )


def with_listing_rows(query: Select[*Columns]) -> Select[*Columns]:
    """``query`` over actors, outer-joined to the rows the directory filters on (profile, hub, listing)."""
    return (
        query.outerjoin(CoalitionProfile, CoalitionProfile.actor_id == Actor.id)
        .outerjoin(HubSettings, HubSettings.actor_id == Actor.id)
        .outerjoin(DirectoryListing, DirectoryListing.actor_id == Actor.id)
    )


def listed() -> ColumnElement[bool]:
    """Who is in the directory: Group actors (coalitions and hubs), ours and remote, not deleted."""
    return and_(Actor.type == "Group", Actor.deleted_at.is_(None))


def region_names_of(region: str) -> set[str]:
    """The region as typed and under its other names: "IL" also finds profiles that say "Illinois"."""
    return {region.lower(), *region_names(region)}


def region_matches(region: str) -> ColumnElement[bool]:
    wanted = region_names_of(region)
    return or_(*(func.lower(column).in_(wanted) for column in (
        CoalitionProfile.region_city, CoalitionProfile.region_state, CoalitionProfile.region_country,
        HubSettings.region,
    )))


def conditions(directory_filter: DirectoryFilter) -> list[ColumnElement[bool]]:
    """The filter as WHERE clauses over a query built with :func:`with_listing_rows`."""
    found: list[ColumnElement[bool]] = [listed()]
    f = directory_filter
    if f.movement:
        found.append(Actor.id.in_(select(ActorMovement.actor_id).where(ActorMovement.movement == f.movement)))
    if f.region:
        found.append(region_matches(f.region))
    if f.scope == "coalition":
        found.append(HubSettings.scope.is_(None))
    elif f.scope == "hub":
        found.append(HubSettings.scope.is_not(None))
    elif f.scope:
        found.append(HubSettings.scope == f.scope)
    if f.found:
        found.append(DirectoryListing.discovered_via == f.found)
    if f.text:
        found.append(_text_matches(f.text))
    return found


def _text_matches(text: str) -> ColumnElement[bool]:
    text = text.lstrip("@")
    name, at, host = text.partition("@")
    if at and name and host:  # a handle: name@host
        return and_(Actor.username.istartswith(name, autoescape=True), Actor.domain.istartswith(host, autoescape=True))
    return or_(*(column.icontains(text, autoescape=True) for column in (
        Actor.name, Actor.username, Actor.domain, Actor.summary
    )))


def _ordered(query: Select[Any]) -> Select[Any]:
    return query.order_by(func.lower(func.coalesce(Actor.name, Actor.username, Actor.uri)), Actor.id)


@dataclass(frozen=True)
class DirectoryPage:
    entries: list[DirectoryEntry]
    total: int
    page: int
    size: int = PAGE_SIZE

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page * self.size < self.total

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.entries) - 1


async def directory_page(
    session: AsyncSession, directory_filter: DirectoryFilter, *, size: int = PAGE_SIZE
) -> DirectoryPage:
    # Blocked actors and those of blocked domains are not listed, whenever we met them.
    where = [*conditions(directory_filter), await shown_actors(session)]
    counted = with_listing_rows(select(func.count()).select_from(Actor)).where(*where)
    total = int(await session.scalar(counted) or 0)
    rows: list[Actor] = []
    if total > (directory_filter.page - 1) * size:
        # Ids first, then their rows: the sort carries one narrow column instead of whole actors,
        # which keeps deep pages fast (page 100 of 10,000 on SQLite: ~80 ms → ~13 ms).
        query = (
            _ordered(with_listing_rows(select(Actor.id)).where(*where))
            .offset((directory_filter.page - 1) * size).limit(size)
        )
        ids = list((await session.scalars(query)).all())
        by_id = {actor.id: actor for actor in (await session.scalars(select(Actor).where(Actor.id.in_(ids)))).all()}
        rows = [by_id[actor_id] for actor_id in ids if actor_id in by_id]
    return DirectoryPage(entries=[entry_of(row) for row in rows], total=total, page=directory_filter.page, size=size)


async def movement_counts(session: AsyncSession, *, limit: int = 200) -> list[tuple[str, int]]:
    """The movements of listed actors, most common first, with how many entries give each."""
    count = func.count(ActorMovement.actor_id)
    query = (
        select(ActorMovement.movement, count).join(Actor, Actor.id == ActorMovement.actor_id)
        .where(listed(), await shown_actors(session))
        .group_by(ActorMovement.movement).order_by(count.desc(), ActorMovement.movement).limit(limit)
    )
    return [(movement, int(n)) for movement, n in (await session.execute(query)).all()]


async def known_regions(session: AsyncSession, *, limit: int = 300) -> list[str]:
    """States, countries and hub regions of listed actors (the region field's suggestions), most common first."""
    counts: dict[str, tuple[str, int]] = {}
    query = (
        with_listing_rows(select(
            CoalitionProfile.region_state, CoalitionProfile.region_country, HubSettings.region, func.count()
        ).select_from(Actor))
        .where(listed(), await shown_actors(session))
        .group_by(CoalitionProfile.region_state, CoalitionProfile.region_country, HubSettings.region)
    )
    for *values, n in (await session.execute(query)).all():
        for value in {v.strip() for v in values if v and v.strip()}:
            spelling, seen = counts.get(value.casefold(), (value, 0))
            counts[value.casefold()] = (spelling, seen + int(n))
    ranked = sorted(counts.values(), key=lambda item: (-item[1], item[0].casefold()))
    return [spelling for spelling, _ in ranked[:limit]]
