"""Domain blocks: servers this instance refuses to federate with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput
from fedihub.federation.context import FederationContext
from fedihub.federation.intake_cache import forget_now_and_on_commit
from fedihub.i18n.active import N_, gettext
from fedihub.protocol.hosts import bare_host, normalise_host
from fedihub.protocol.urls import has_http_scheme
from fedihub.storage.models import Actor, Delivery, DomainBlock, Follow

NOT_A_DOMAIN = N_("%(domain)r is not a domain name (expected something like mastodon.example)")


def normalise_domain(domain: str) -> str:
    value = domain.strip()
    if has_http_scheme(value):
        value = value.split("://", 1)[1].split("/", 1)[0]
    if not value.rstrip(".") or "/" in value or "@" in value or " " in value:
        raise InvalidInput(gettext(NOT_A_DOMAIN, domain=domain))
    try:
        normalise_host(value)
    except InvalidInput:
        raise InvalidInput(gettext(NOT_A_DOMAIN, domain=domain)) from None
    # A block is of a server's name: one typed with a port covers that name on every port.
    return bare_host(value)


def domain_matches(domain: str, blocked: str) -> bool:
    """A block covers the domain itself and its subdomains, on any port.

    Both sides are reduced to their normalised name (``bare_host``): user-info, a port, a trailing
    dot, upper case and Unicode spellings of a name never make a blocked server look like another,
    whether they are in the host we check or in a block stored before hosts were normalised.
    """
    host, blocked = bare_host(domain), bare_host(blocked)
    return bool(blocked) and (host == blocked or host.endswith("." + blocked))


async def blocked_domains(session: AsyncSession) -> Sequence[str]:
    return (await session.scalars(select(DomainBlock.domain))).all()


async def list_blocks(session: AsyncSession) -> Sequence[DomainBlock]:
    return (await session.scalars(select(DomainBlock).order_by(DomainBlock.domain))).all()


async def is_blocked(session: AsyncSession, domain: str) -> bool:
    return any(domain_matches(domain, blocked) for blocked in await blocked_domains(session))


async def is_refused_domain(ctx: FederationContext, domain: str) -> bool:
    """``is_blocked`` from this process's copy of the blocks (intake_cache.BlockCache), read when forgotten."""
    cache = ctx.block_cache
    domains = cache.domains
    if domains is None:
        generation = cache.generation
        async with ctx.reading() as session:
            domains = tuple(await blocked_domains(session))
        cache.remember(domains, generation)
    return any(domain_matches(domain, blocked) for blocked in domains)


async def block_domain(ctx: FederationContext, session: AsyncSession, domain: str, reason: str | None = None) -> bool:
    """Block a domain: drop follows with its actors and pending deliveries to it; the caller commits.

    Returns False when the domain was already blocked.
    """
    domain = normalise_domain(domain)
    if await session.get(DomainBlock, domain) is not None:
        return False
    session.add(DomainBlock(domain=domain, reason=reason, created_at=ctx.clock()))
    forget_now_and_on_commit(session, ctx.block_cache.forget)
    remote_ids = [
        actor.id
        for actor in (await session.scalars(select(Actor).where(Actor.is_local.is_(False)))).all()
        if domain_matches(actor.domain, domain)
    ]
    if remote_ids:
        await session.execute(
            delete(Follow).where(Follow.follower_id.in_(remote_ids) | Follow.target_id.in_(remote_ids))
        )
    pending = (await session.scalars(select(Delivery).where(Delivery.state == "pending"))).all()
    for delivery in pending:
        if domain_matches(delivery.domain, domain):
            delivery.state = "dead"
            delivery.last_error = "domain blocked"
    return True


async def unblock_domain(ctx: FederationContext, session: AsyncSession, domain: str) -> bool:
    domain = normalise_domain(domain)
    forget_now_and_on_commit(session, ctx.block_cache.forget)
    # A DELETE answers with a CursorResult, which has the rowcount; AsyncSession.execute is
    # annotated with the Result every statement returns.
    result = cast(CursorResult[Any], await session.execute(delete(DomainBlock).where(DomainBlock.domain == domain)))
    return bool(result.rowcount)
