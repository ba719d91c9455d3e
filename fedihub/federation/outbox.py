"""Publishing: store an activity, then queue one delivery per distinct inbox (shared preferred)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.blocks import blocked_domains, domain_matches
from fedihub.federation.context import FederationContext
from fedihub.protocol.hosts import has_userinfo, host_of
from fedihub.protocol.reader import ActivityView, has_public, read_activity
from fedihub.storage.models import Activity, Actor, Delivery, Follow, InboxItem


async def follower_inboxes(session: AsyncSession, actor_id: int) -> set[str]:
    """Distinct delivery inboxes of an actor's accepted followers (shared inboxes preferred)."""
    rows = await session.execute(
        select(Actor.shared_inbox, Actor.inbox)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.target_id == actor_id, Follow.state == "accepted", Actor.deleted_at.is_(None))
    )
    return {address for shared, inbox in rows if (address := shared or inbox)}


async def following_inboxes(session: AsyncSession, actor_id: int) -> set[str]:
    """Delivery inboxes of the actors this actor follows (or asked to follow)."""
    rows = await session.execute(
        select(Actor.shared_inbox, Actor.inbox)
        .join(Follow, Follow.target_id == Actor.id)
        .where(Follow.follower_id == actor_id, Actor.deleted_at.is_(None))
    )
    return {address for shared, inbox in rows if (address := shared or inbox)}


async def publish(
    ctx: FederationContext,
    session: AsyncSession,
    *,
    actor: Actor,
    activity: dict,
    inboxes: Iterable[str],
) -> Activity:
    """Store ``activity`` as published by ``actor`` and queue its deliveries; the caller commits.

    Inboxes on this instance get an inbox item directly: the activity is ours, so there is
    nothing to authenticate and no reason to go through HTTP.
    """
    view = read_activity(activity)
    now = ctx.clock()
    row = Activity(
        uri=view.id,
        type=view.type,
        actor_id=actor.id,
        object_uri=view.object_id,
        is_public=has_public(view.to) or has_public(view.cc),
        data=activity,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    blocked = await blocked_domains(session)
    local_inbox_seen = False
    deliveries = []
    for inbox in sorted({inbox for inbox in inboxes if inbox}):
        domain = host_of(inbox)
        # An inbox URL with user-info is how a blocked server hid behind another spelling.
        if has_userinfo(inbox) or any(domain_matches(domain, b) for b in blocked):
            continue
        if ctx.urls.is_local(inbox):
            local_inbox_seen = True
            continue
        deliveries.append(
            {"activity_id": row.id, "inbox_url": inbox, "domain": domain, "state": "pending", "attempts": 0,
             "next_attempt_at": now, "created_at": now}
        )
    if deliveries:
        # One multi-row INSERT: a post to thousands of inboxes must not cost thousands of ORM flushes.
        await session.execute(insert(Delivery), deliveries)
    if local_inbox_seen:
        session.add(_local_inbox_item(view, now))
    ctx.notify_work_on_commit(session)
    return row


def _local_inbox_item(view: ActivityView, now: datetime) -> InboxItem:
    return InboxItem(
        activity_uri=view.id,
        activity_type=view.type,
        actor_uri=view.actor,
        payload=view.raw,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        received_at=now,
    )
