"""Blocks of single actors: by the instance's admins for everyone, or by one coalition for itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput
from fedihub.federation.actors import host_of
from fedihub.federation.blocks import is_blocked
from fedihub.federation.context import FederationContext
from fedihub.i18n.active import gettext
from fedihub.storage.models import Actor, ActorBlock, Follow, HubRequest


async def refuses(session: AsyncSession, actor_uri: str, toward: int | None) -> bool:
    """Whether this server refuses what ``actor_uri`` sends: its domain or the actor itself is blocked
    here, or (``toward``) the local coalition it addresses blocked it. The composition root hands this
    to federation as ``FederationContext.refuses``."""
    if await is_blocked(session, host_of(actor_uri)):
        return True
    scopes: list[ColumnElement[bool]] = [ActorBlock.coalition_id.is_(None)]
    if toward is not None:
        scopes.append(ActorBlock.coalition_id == toward)
    found = await session.scalar(
        select(ActorBlock.id).join(Actor, Actor.id == ActorBlock.actor_id)
        .where(Actor.uri == actor_uri, or_(*scopes)).limit(1)
    )
    return found is not None


def _scope(coalition_id: int | None) -> ColumnElement[bool]:
    """The admins' blocks (None), or one coalition's own."""
    return ActorBlock.coalition_id.is_(None) if coalition_id is None else ActorBlock.coalition_id == coalition_id


async def find_block(session: AsyncSession, actor_id: int, coalition_id: int | None) -> ActorBlock | None:
    scope = _scope(coalition_id)
    return await session.scalar(select(ActorBlock).where(ActorBlock.actor_id == actor_id, scope))


async def block_actor(
    ctx: FederationContext, session: AsyncSession, actor: Actor, *, coalition: Actor | None = None,
    reason: str | None = None,
) -> bool:
    """Block ``actor`` everywhere (``coalition`` None) or for ``coalition`` only; the caller commits.

    What the actor already has with those it is blocked from goes too: follows both ways and its
    requests to join. (Its pledges and our hubs' boosts of it belong to pledges/ and hubs/: the caller
    ends them in the same transaction, see pledges/blocked.py and hubs/unboosting.py.) Returns False
    when already blocked.
    """
    if actor.is_local:
        raise InvalidInput(gettext("accounts and coalitions of this server are managed here, not blocked"),
                           field="actor")
    if actor.type == "Application" and coalition is None:
        raise InvalidInput(gettext("that is a server's own actor: block its domain instead"), field="actor")
    if await find_block(session, actor.id, coalition.id if coalition else None) is not None:
        return False
    session.add(ActorBlock(
        actor_id=actor.id, coalition_id=coalition.id if coalition else None, reason=reason or None,
        created_at=ctx.clock(),
    ))
    await _end_relations(ctx, session, actor, coalition)
    return True


async def _end_relations(ctx: FederationContext, session: AsyncSession, actor: Actor, coalition: Actor | None) -> None:
    if coalition is None:
        follows = (Follow.follower_id == actor.id) | (Follow.target_id == actor.id)
        requests = HubRequest.member_id == actor.id
    else:
        follows = ((Follow.follower_id == actor.id) & (Follow.target_id == coalition.id)) | (
            (Follow.follower_id == coalition.id) & (Follow.target_id == actor.id))
        requests = (HubRequest.member_id == actor.id) & (HubRequest.hub_id == coalition.id)
    await session.execute(delete(Follow).where(follows))
    await session.execute(
        update(HubRequest).where(requests, HubRequest.state.in_(("pending", "approved")))
        .values(state="refused", decided_at=ctx.clock())
    )


async def unblock_actor(session: AsyncSession, block_id: int, *, coalition_id: int | None) -> bool:
    """Lift one block of this scope (an instance admin's, or the coalition's own); the caller commits."""
    scope = _scope(coalition_id)
    result = cast(CursorResult[Any], await session.execute(delete(ActorBlock).where(ActorBlock.id == block_id, scope)))
    return bool(result.rowcount)


async def list_actor_blocks(session: AsyncSession, *, coalition_id: int | None) -> Sequence[ActorBlock]:
    """The instance's blocks (``coalition_id`` None) or one coalition's, newest first."""
    scope = _scope(coalition_id)
    return (await session.scalars(select(ActorBlock).where(scope).order_by(ActorBlock.created_at.desc()))).all()
