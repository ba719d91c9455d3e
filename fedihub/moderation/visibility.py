"""What blocks hide at render: posts and actors of blocked domains and blocked actors, stored before or after.

Ingest refuses what blocked actors send from the moment of the block; these conditions make the
query layers (calendars, feeds, the API, the directory, the map, call pages) drop what was stored
before it, so a block takes effect everywhere at once and is lifted just as completely.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.blocks import blocked_domains, domain_matches
from fedihub.protocol.hosts import host_of
from fedihub.storage.models import Actor, ActorBlock, StoredObject

Condition = ColumnElement[bool]


async def hidden_actors(session: AsyncSession) -> Select[int]:
    """Ids of the actors this server shows nothing of: blocked by its admins, or on a blocked domain.

    Domain blocks cover subdomains and ports (federation/blocks.py decides what matches), so they are
    matched against the hosts we know in Python and the query gets the covered hosts by name.
    """
    domains = await blocked_domains(session)
    covered: list[str] = []
    if domains:
        hosts = (await session.scalars(select(Actor.domain).where(Actor.is_local.is_(False)).distinct())).all()
        covered = [host for host in hosts if any(domain_matches(host, blocked) for blocked in domains)]
    by_admins = select(ActorBlock.actor_id).where(ActorBlock.coalition_id.is_(None))
    return select(Actor.id).where(or_(Actor.id.in_(by_admins), Actor.domain.in_(covered)))


async def shown_objects(session: AsyncSession) -> Condition:
    """Posts and calls whose author is not hidden (a WHERE clause over StoredObject)."""
    return StoredObject.attributed_to_id.not_in(await hidden_actors(session))


async def shown_actors(session: AsyncSession) -> Condition:
    """Actors that are not hidden (a WHERE clause over Actor)."""
    return Actor.id.not_in(await hidden_actors(session))


def not_blocked_by(coalition_id: int) -> Condition:
    """Posts whose author the coalition has not blocked for itself: what its own pages may show."""
    return StoredObject.attributed_to_id.not_in(
        select(ActorBlock.actor_id).where(ActorBlock.coalition_id == coalition_id)
    )


async def is_hidden(session: AsyncSession, actor_id: int) -> bool:
    """Whether nothing of this actor may be shown here."""
    hidden = await hidden_actors(session)
    found = await session.scalar(select(Actor.id).where(Actor.id == actor_id, Actor.id.in_(hidden)))
    return found is not None


async def hidden_among(session: AsyncSession, actor_uris: Iterable[str]) -> set[str]:
    """The actor ids (URIs) among ``actor_uris`` that this server shows nothing of, known here or not:
    for lists other servers publish (a remote call's pledges and carrying hubs)."""
    uris = set(actor_uris)
    if not uris:
        return set()
    domains = await blocked_domains(session)
    hidden = {uri for uri in uris if any(domain_matches(host_of(uri), blocked) for blocked in domains)}
    by_admins = select(ActorBlock.actor_id).where(ActorBlock.coalition_id.is_(None))
    hidden.update(await session.scalars(select(Actor.uri).where(Actor.uri.in_(uris), Actor.id.in_(by_admins))))
    return hidden
