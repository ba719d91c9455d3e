"""iCalendar feeds: a coalition's calls, the calls a hub carries, and the instance's calls by filter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import anyio
from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions import ics
from fedihub.feeds.queries import (
    CallFilters,
    carried_by,
    feed_calls,
    filter_conditions,
    public_only,
    public_or_unlisted,
    published_by,
)
from fedihub.hubs.scope_names import scope_name
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import gettext
from fedihub.moderation.visibility import not_blocked_by
from fedihub.storage.models import Actor, StoredObject

# How often subscribed calendar apps are asked to re-read a feed (they may poll less often).
REFRESH = timedelta(hours=1)


async def render(rows: Sequence[StoredObject], *, version: str, title: str, about: str) -> str:
    """The calendar text, written in a worker thread: icalendar needs about 0.5 ms a call, so a full
    feed (UPCOMING_LIMIT + PAST_LIMIT calls) would otherwise hold the event loop for a third of a
    second. The rows are fully loaded (the author is joined), so the thread never touches the session."""
    product = ics.product_id(version)
    return await anyio.to_thread.run_sync(
        lambda: ics.build_calendar(rows, product=product, name=title, description=about, refresh=REFRESH)
    )


def actor_title(actor: Actor) -> str:
    return (actor.name or actor.username or actor.domain or "").strip()


async def actor_calendar(session: AsyncSession, actor: Actor, *, now: datetime, version: str) -> str:
    """A coalition's calls; for a hub, its own calls and every call it carries (boosted, not undone)."""
    name = actor_title(actor)
    scope = hub_scope_of(actor)
    if scope:
        source = or_(published_by(actor), carried_by(actor))
        title = gettext("%(name)s: calls to action it carries", name=name)
        about = gettext(
            "Calls to action boosted by the hub %(name)s (%(scope)s), from its member coalitions.",
            name=name, scope=scope_name(scope),
        )
    else:
        source = published_by(actor)
        title = gettext("%(name)s: calls to action", name=name)
        about = gettext("Calls to action published by %(name)s.", name=name)
    # What the coalition blocked for itself stays off its own calendar (a hub's carried calls).
    rows = await feed_calls(session, [public_or_unlisted(), source, not_blocked_by(actor.id)], now=now)
    return await render(rows, version=version, title=title, about=about)


async def instance_calendar(
    session: AsyncSession, filters: CallFilters, *, now: datetime, version: str, instance_name: str, local_domain: str,
) -> str:
    """The public calls this server shows, its own and remote ones, narrowed by ``filters``."""
    conditions = [public_only(), *await filter_conditions(session, filters, local_domain)]
    rows = await feed_calls(session, conditions, now=now)
    title = gettext("%(name)s: calls to action", name=instance_name)
    if filters.description:
        title = f"{title} ({filters.description})"
    about = gettext(
        "Public calls to action shown on %(name)s, from its coalitions and the coalitions it hears from.",
        name=instance_name,
    )
    return await render(rows, version=version, title=title, about=about)
