"""A coalition announces the public posts that mention it (FEP-1b12): its fediverse members' at once,
within an hourly rate, anyone else's after its organizers approve them in the review list.

It is the hubs' machinery with the coalition as the announcing Group: the Announce of the original
object id (as Lemmy and guppe groups send, and as Mastodon renders a boost) is a Boost row, one per
(group, object), so it is undone by the same code when the author deletes or cancels the post; what
waits for a decision is a HeldPost in the group's review list.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.fedi_members import is_member
from fedihub.federation.context import FederationContext
from fedihub.federation.events import InboundEvents
from fedihub.hubs import review
from fedihub.hubs.boosting import send_boost
from fedihub.hubs.limits import boosts_in_window, count_addressed_groups
from fedihub.hubs.rules import BOOSTABLE_TYPES, MAX_ADDRESSED_GROUPS
from fedihub.protocol.reader import mention_hrefs
from fedihub.storage.models import Actor, Boost, StoredObject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MentionLimits:
    """FEDIHUB_MEMBER_ANNOUNCES_PER_HOUR, and FEDIHUB_HUB_MAX_ADDRESSED_GROUPS (the same blast limit as hubs')."""

    announces_per_member_hour: int = 3
    max_addressed_groups: int = MAX_ADDRESSED_GROUPS


async def mentioned_groups(session: AsyncSession, ctx: FederationContext, row: StoredObject) -> Sequence[Actor]:
    """Our Group actors among the post's Mention tags (a name in `cc` alone is not a mention)."""
    hrefs = [href for href in mention_hrefs(row.data or {}) if ctx.urls.is_local(href)]
    if not hrefs:
        return []
    query = select(Actor).where(
        Actor.uri.in_(hrefs), Actor.type == "Group", Actor.is_local.is_(True), Actor.deleted_at.is_(None)
    )
    return (await session.scalars(query)).all()


async def _decided(session: AsyncSession, group_id: int, object_uri: str) -> bool:
    """Announced already, or in the review list (waiting or decided): one decision per (group, post)."""
    boosted = await session.scalar(select(Boost.id).where(Boost.hub_id == group_id, Boost.object_uri == object_uri))
    return boosted is not None or await review.find_held(session, group_id, object_uri) is not None


async def announce_mention(
    ctx: FederationContext, session: AsyncSession, author: Actor, row: StoredObject, limits: MentionLimits
) -> None:
    """A remote post mentions some of our coalitions: each announces it, holds it, or leaves it."""
    # A reply is conversation, not a post for the coalition's followers: Mastodon mentions the
    # author of the post replied to, so every reply under a call would mention its coalition.
    if row.is_local or row.in_reply_to or row.type not in BOOSTABLE_TYPES or row.deleted_at is not None:
        return
    # Public only (Public in `to`): an unlisted post asked to stay out of public timelines, and a
    # followers-only or direct one is never even held.
    if row.visibility != "public":
        return
    groups = await mentioned_groups(session, ctx, row)
    if not groups:
        return
    addressed = await count_addressed_groups(
        session, row.data or {}, author.uri, stop_above=limits.max_addressed_groups
    )
    if addressed > limits.max_addressed_groups:
        log.info("not announcing %s: it addresses %d groups", row.uri, addressed)
        return
    now = ctx.clock()
    for group in groups:
        if await ctx.refuses(session, author.uri, group.id) or await _decided(session, group.id, row.uri):
            continue
        if not await is_member(session, group.id, author.id):
            reason = review.MENTION
        elif await boosts_in_window(session, group.id, author.id, now) >= limits.announces_per_member_hour:
            reason = review.RATE
        else:
            await send_boost(ctx, session, group, row.uri, author, member_id=author.id)
            continue
        if await review.hold_post(session, group.id, author.id, row.uri, reason, now) is not None:
            log.info("group=%s held=%s author=%s reason=%s", group.uri, row.uri, author.uri, reason)


def subscribe_mentions(events: InboundEvents, limits: MentionLimits) -> None:
    """Coalitions announce their mentions as they arrive; hubs/boosting.py already undoes a Boost (and
    takes the post off review lists) when its author deletes or cancels it."""

    async def on_created(ctx: FederationContext, session: AsyncSession, author: Actor, row: StoredObject) -> None:
        await announce_mention(ctx, session, author, row, limits)

    events.object_created.connect(on_created)
