"""Inbound route of moderation: a ``Flag`` (a report) about actors or posts of this server."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.actors import find_actor
from fedihub.federation.context import FederationContext
from fedihub.federation.objects import find_object
from fedihub.federation.routing import Apply, Inbound, Route
from fedihub.moderation.reports import (
    DEFAULT_REPORTS_PER_HOST_HOUR,
    MAX_NAMED,
    flagged_ids,
    read_named,
    store_inbound_report,
)

log = logging.getLogger(__name__)


async def match_flag(ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> list[str] | None:
    """A Flag naming at least one actor or post of ours (reports about others' are not ours to judge)."""
    named = flagged_ids(inbound.activity.raw)[:MAX_NAMED]
    for uri in named:
        if not ctx.urls.is_local(uri):
            continue
        actor = await find_actor(session, uri)
        if (actor is not None and actor.type != "Application") or await find_object(session, uri) is not None:
            return named
    return None


def handle_flag(per_host_hour: int) -> Apply:
    async def apply(ctx: FederationContext, session: AsyncSession, inbound: Inbound, named_uris: list[str]) -> None:
        """Keep the report with the content as we hold it, for the admins and the coalitions concerned."""
        content = inbound.activity.raw.get("content")
        report = await store_inbound_report(
            ctx, session, flag_id=inbound.activity.id, reporter=inbound.actor,
            named=await read_named(session, named_uris), comment=content if isinstance(content, str) else None,
            per_host_hour=per_host_hour,
        )
        if report is None:
            log.warning("report %s from %s not kept: seen before, or over %d reports an hour from that host",
                        inbound.activity.id, inbound.actor.domain, per_host_hour)
        else:
            log.info("report %s from %s kept", inbound.activity.id, inbound.actor.domain)

    return apply


def moderation_routes(*, reports_per_host_hour: int = DEFAULT_REPORTS_PER_HOST_HOUR) -> list[Route]:
    return [Route("Flag", "local actors or posts", match_flag, handle_flag(reports_per_host_hour))]
