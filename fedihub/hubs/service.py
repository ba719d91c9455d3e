"""Creating hubs and managing their members: the hub follows a member and boosts it once accepted.

Operations take the caller's session and never commit; members are resolved by the caller first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.actor_profile import profile_of
from fedihub.coalitions.service import publish_actor_update
from fedihub.directory.listing import mark_discovered
from fedihub.errors import Conflict, FieldErrors, InvalidInput, NotFound
from fedihub.federation import follows
from fedihub.federation.actors import create_local_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.objects import find_object
from fedihub.hubs import boosting, membership, pauses, review, two_way
from fedihub.hubs.rules import SCOPES
from fedihub.hubs.settings import hub_region_of, hub_scope_of, set_hub_scope
from fedihub.i18n.active import gettext
from fedihub.protocol.limits import MAX_NAME, MAX_REGION
from fedihub.storage.models import Actor, Boost, Follow, HeldPost

ROSTER_PAGE_SIZE = 50


def _clean_list(values: Sequence[str]) -> list[str]:
    return [value.strip() for value in values if value and value.strip()]


async def create_hub(
    ctx: FederationContext,
    session: AsyncSession,
    username: str,
    *,
    name: str,
    scope: str,
    region: str | None = None,
    movements: Sequence[str] = (),
    regions: Sequence[str] = (),
    calls_only: bool = False,
) -> Actor:
    """A new hub: a local Group actor with a scope, whose only life is boosting its members."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(
            gettext("a hub needs a display name of 1 to %(limit)s characters", limit=MAX_NAME), field="name",
        )
    _check_scope(scope)
    actor = await create_local_actor(ctx, session, username=username, actor_type="Group", name=name)
    settings = set_hub_scope(actor, scope, (region or "").strip() or None)
    settings.movements = _clean_list(movements) or None
    settings.regions = _clean_list(regions) or None
    settings.calls_only = calls_only
    # create_local_actor leaves the directory to us: a hub made here is listed as "local",
    # found when it was made.
    mark_discovered(actor, "local", actor.created_at)
    return actor


async def get_hub(session: AsyncSession, username: str) -> Actor:
    """The local hub ``username``; InvalidInput when it is a coalition."""
    return await membership.get_local_hub(session, username)


def _check_scope(scope: str) -> None:
    if scope not in SCOPES:
        raise InvalidInput(gettext("scope must be one of %(scopes)s", scopes=", ".join(SCOPES)), field="scope")


def _check_region(region: str | None, field: str) -> None:
    if len((region or "").strip()) > MAX_REGION:
        raise InvalidInput(gettext("a region has at most %(limit)s characters", limit=MAX_REGION), field=field)


def check_rules(scope: str, region: str | None, regions: Sequence[str]) -> None:
    """A hub's scope, region and region filters, every bad one named at once (InvalidForm)."""
    errors = FieldErrors()
    errors.check(_check_scope, scope)
    errors.check(_check_region, region, "region")
    for value in _clean_list(regions):
        errors.check(_check_region, value, "regions")
    errors.raise_if_any()


async def update_rules(
    ctx: FederationContext,
    session: AsyncSession,
    username: str,
    *,
    scope: str,
    region: str | None,
    movements: Sequence[str],
    regions: Sequence[str],
    calls_only: bool,
) -> bool:
    """Store a hub's scope, region and boost rules; followers get Update when the public part changed."""
    check_rules(scope, region, regions)
    region = (region or "").strip() or None
    cleaned = _clean_list(regions)
    hub = await membership.get_local_hub(session, username)
    public_changed = (hub_scope_of(hub), hub_region_of(hub)) != (scope, region)
    old = hub.hub_settings
    assert old is not None  # get_local_hub returns hubs only
    before = (old.movements, old.regions, bool(old.calls_only))
    settings = set_hub_scope(hub, scope, region)
    settings.movements = _clean_list(movements) or None
    settings.regions = cleaned or None
    settings.calls_only = calls_only
    if public_changed:
        await publish_actor_update(ctx, session, hub)  # scope and region are in the actor document
    return public_changed or before != (settings.movements, settings.regions, calls_only)


async def add_member(ctx: FederationContext, session: AsyncSession, hub_username: str, member: Actor) -> Follow:
    """Ask ``member`` (resolved by the caller) to let the hub follow it; boosts start only once it accepts.

    A member that asked to join this hub is approved instead: that request is its consent.
    """
    hub = await membership.get_local_hub(session, hub_username)
    asked = await membership.find_request(session, hub.id, member.id)
    existing = await follows.find_follow(session, hub.id, member.id)
    if existing is not None and existing.of_hub and existing.state == "accepted":
        # The hub follows ``member`` as one of its members already, and was accepted: the same follow
        # makes ``member`` a member of the hub too (two hubs that are members of each other).
        existing.of_hub = False
        return existing
    if existing is not None:
        accepted = existing.state == "accepted"
        raise Conflict(
            gettext("%(member)s is already a member", member=member.handle) if accepted
            else gettext("%(member)s was already asked; waiting for them to accept", member=member.handle)
        )
    if asked is not None and asked.state == "pending":
        await membership.decide_join(ctx, session, hub_username, member, approve=True)
        row = await follows.find_follow(session, hub.id, member.id)
        assert row is not None
        return row
    return await follows.follow(ctx, session, hub_username, member)


async def remove_member(ctx: FederationContext, session: AsyncSession, hub_username: str, member: Actor) -> None:
    """Stop following ``member`` (Undo Follow): the hub no longer boosts it; a request it had is over,
    and its posts waiting for review are discarded."""
    hub = await membership.get_local_hub(session, hub_username)
    await follows.unfollow(ctx, session, hub_username, member)
    await two_way.drop_member_follow(ctx, session, hub, member)
    await membership.mark_ended(ctx, session, hub.id, member.id)
    await pauses.resume(session, hub.id, member.id)
    await review.discard_waiting(session, hub.id, member.id, ctx.clock())


# --- Safeguards: pausing members and the review list ------------------------------------------------


async def _accepted_member(session: AsyncSession, hub: Actor, member: Actor) -> None:
    follow = await follows.find_follow(session, hub.id, member.id)
    if follow is None or follow.state != "accepted":
        raise NotFound(gettext("%(member)s is not a member of %(hub)s", member=member.handle,
                               hub=hub.name or hub.username))


async def pause_member(ctx: FederationContext, session: AsyncSession, hub_username: str, member: Actor) -> bool:
    """Stop boosting ``member``'s posts (they wait for review instead); False when already paused."""
    hub = await membership.get_local_hub(session, hub_username)
    await _accepted_member(session, hub, member)
    return await pauses.pause(session, hub.id, member.id, ctx.clock())


async def resume_member(ctx: FederationContext, session: AsyncSession, hub_username: str, member: Actor) -> bool:
    """Boost ``member``'s new posts again; what waits for review stays there. False when it was not paused."""
    hub = await membership.get_local_hub(session, hub_username)
    return await pauses.resume(session, hub.id, member.id)


async def paused_member_ids(session: AsyncSession, hub_id: int) -> set[int]:
    return await pauses.paused_member_ids(session, hub_id)


async def held_posts(session: AsyncSession, hub_id: int | None) -> list[review.HeldItem]:
    """The hub's review list, oldest first; every local hub's when ``hub_id`` is None."""
    return await review.list_held_posts(session, hub_id)


async def decide_held(
    ctx: FederationContext, session: AsyncSession, hub_username: str, held_id: int, *, boost: bool
) -> str:
    """A hub admin boosts or discards one post of its review list; returns "boosted", "discarded" or
    "retracted" (its author deleted or cancelled it meanwhile, so it cannot be boosted)."""
    hub = await membership.get_local_hub(session, hub_username)
    return await decide_held_for(ctx, session, hub, held_id, boost=boost)


async def decide_held_for(
    ctx: FederationContext, session: AsyncSession, hub: Actor, held_id: int, *, boost: bool
) -> str:
    """decide_held for any local Group with a review list: a hub, or a coalition's held mentions."""
    held = await session.get(HeldPost, held_id)
    if held is None or held.hub_id != hub.id or held.decided_at is not None:
        raise NotFound(gettext("that post is not waiting in this hub's review list"))
    now = ctx.clock()
    if not boost:
        review.decide(held, "discarded", now)
        return "discarded"
    row = await find_object(session, held.object_uri)
    if row is None or row.deleted_at is not None or (row.event_status or "").upper() == "CANCELLED":
        review.decide(held, "retracted", now)
        return "retracted"
    already = await session.scalar(select(Boost.id).where(Boost.hub_id == hub.id, Boost.object_uri == row.uri))
    if already is None:
        await boosting.send_boost(ctx, session, hub, row.uri, row.author, member_id=held.member_id)
    review.decide(held, "boosted", now)
    return "boosted"


async def pending_members(session: AsyncSession, hub_id: int) -> list[Actor]:
    """Actors the hub asked to follow that have not accepted yet."""
    return list(
        (
            await session.scalars(
                select(Actor).join(Follow, Follow.target_id == Actor.id)
                .where(Follow.follower_id == hub_id, Follow.state == "pending", Follow.of_hub.is_(False),
                       Actor.deleted_at.is_(None))
                .order_by(Follow.id)
            )
        ).all()
    )


@dataclass(frozen=True)
class RosterEntry:
    uri: str
    type: str
    name: str | None
    handle: str
    url: str | None
    is_hub: bool
    scope: str | None
    region: str | None
    movements: tuple[str, ...]
    actor: Actor | None = field(default=None, compare=False, repr=False)  # for organizer pages


def _region(actor: Actor) -> str | None:
    profile = profile_of(actor)
    parts = [part for part in (profile.region_city, profile.region_state, profile.region_country) if part]
    return ", ".join(parts) or hub_region_of(actor)


def _members_condition(hub_id: int) -> ColumnElement[bool]:
    # A hub's own follow of a hub it is a member of (of_hub) makes no member.
    return (Follow.follower_id == hub_id) & (Follow.state == "accepted") & Follow.of_hub.is_(False) & (
        Actor.deleted_at.is_(None))


async def count_members(session: AsyncSession, hub_id: int) -> int:
    query = select(func.count()).select_from(Actor).join(Follow, Follow.target_id == Actor.id)
    return int(await session.scalar(query.where(_members_condition(hub_id))) or 0)


def _entry(actor: Actor) -> RosterEntry:
    return RosterEntry(
        uri=actor.uri, type=actor.type, name=actor.name, handle=actor.handle, url=actor.url or actor.uri,
        is_hub=hub_scope_of(actor) is not None, scope=hub_scope_of(actor), region=_region(actor),
        movements=tuple(profile_of(actor).movements or ()), actor=actor,
    )


async def list_members(
    session: AsyncSession, hub_id: int, *, offset: int = 0, limit: int | None = None
) -> list[RosterEntry]:
    """The public roster: members whose follow by the hub was accepted (both sides consented)."""
    rows = (
        await session.scalars(
            select(Actor)
            .join(Follow, Follow.target_id == Actor.id)
            .where(_members_condition(hub_id))
            .order_by(func.lower(Actor.name), Actor.id)
            .offset(offset).limit(limit)
        )
    ).all()
    return [_entry(actor) for actor in rows]


@dataclass(frozen=True)
class RosterPage:
    """One page of a roster: ``number`` counts from 1; a page past the end is empty."""

    entries: list[RosterEntry]
    total: int
    number: int
    size: int = ROSTER_PAGE_SIZE

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * self.size < self.total

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1


async def roster_page(session: AsyncSession, hub_id: int, number: int = 1, size: int = ROSTER_PAGE_SIZE) -> RosterPage:
    if number < 1:
        raise InvalidInput(gettext("pages count from 1"))
    total = await count_members(session, hub_id)
    entries = await list_members(session, hub_id, offset=(number - 1) * size, limit=size) if total else []
    return RosterPage(entries=entries, total=total, number=number, size=size)
