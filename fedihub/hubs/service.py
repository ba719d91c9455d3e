"""Creating hubs and managing their members: the hub follows a member and boosts it once accepted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from fedihub.errors import InvalidInput
from fedihub.federation import follows
from fedihub.federation.actors import create_local_actor, get_local_actor
from fedihub.federation.context import FederationContext
from fedihub.hubs.rules import SCOPES
from fedihub.storage.models import Actor, Follow

MAX_NAME = 200


def _clean_list(values: Sequence[str]) -> list[str]:
    return [value.strip() for value in values if value and value.strip()]


async def create_hub(
    ctx: FederationContext,
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
        raise InvalidInput(f"a hub needs a display name of 1 to {MAX_NAME} characters")
    if scope not in SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}")
    async with ctx.sessions.begin() as session:
        actor = await create_local_actor(ctx, session, username=username, actor_type="Group", name=name)
        actor.hub_scope = scope
        actor.hub_region = (region or "").strip() or None
        actor.hub_movements = _clean_list(movements) or None
        actor.hub_regions = _clean_list(regions) or None
        actor.hub_calls_only = calls_only
        return actor


async def get_hub(ctx: FederationContext, username: str) -> Actor:
    async with ctx.sessions() as session:
        actor = await get_local_actor(session, username)
    if actor.hub_scope is None:
        raise InvalidInput(f"{username} is not a hub")
    return actor


async def add_member(ctx: FederationContext, hub_username: str, target: str) -> Follow:
    """Ask ``target`` (handle or URL) to let the hub follow it; boosts start only once it accepts."""
    await get_hub(ctx, hub_username)
    return await follows.follow(ctx, hub_username, target)


async def remove_member(ctx: FederationContext, hub_username: str, target: str) -> None:
    await get_hub(ctx, hub_username)
    await follows.unfollow(ctx, hub_username, target)


@dataclass(frozen=True)
class RosterEntry:
    uri: str
    name: str | None
    handle: str
    url: str | None
    is_hub: bool
    scope: str | None
    region: str | None
    movements: tuple[str, ...]


def _region(actor: Actor) -> str | None:
    parts = [part for part in (actor.region_city, actor.region_state, actor.region_country) if part]
    return ", ".join(parts) or actor.hub_region


async def list_members(ctx: FederationContext, hub_id: int) -> list[RosterEntry]:
    """The public roster: members whose follow by the hub was accepted (both sides consented)."""
    async with ctx.sessions() as session:
        rows = (
            await session.scalars(
                select(Actor)
                .join(Follow, Follow.target_id == Actor.id)
                .where(Follow.follower_id == hub_id, Follow.state == "accepted", Actor.deleted_at.is_(None))
                .order_by(Actor.name, Actor.id)
            )
        ).all()
    return [
        RosterEntry(
            uri=actor.uri, name=actor.name, handle=actor.handle, url=actor.url or actor.uri,
            is_hub=actor.hub_scope is not None, scope=actor.hub_scope, region=_region(actor),
            movements=tuple(actor.movements or ()),
        )
        for actor in rows
    ]
