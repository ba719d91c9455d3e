"""Hubs boosting: a member's public objects are announced once per hub, within the member's boost rate
(the rest wait in the hub's review list), and the boost is undone when the owner retracts them. Runs as
subscribers of the inbound events, inside the inbound handler's transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.actor_profile import profile_of
from fedihub.errors import FedihubError, RemoteGone, RemoteNotFound
from fedihub.federation import jobs
from fedihub.federation.actors import host_of
from fedihub.federation.blocks import is_blocked
from fedihub.federation.context import FederationContext
from fedihub.federation.events import InboundEvents
from fedihub.federation.objects import find_object
from fedihub.federation.outbox import follower_inboxes, publish
from fedihub.hubs import pauses, review
from fedihub.hubs.limits import DEFAULT_LIMITS, HubLimits, boosts_in_window, count_addressed_groups
from fedihub.hubs.rules import Candidate, HubRules, refusal_reason
from fedihub.hubs.settings import hub_scope_of
from fedihub.protocol import builders, fetch
from fedihub.protocol.movements import hashtag_names
from fedihub.protocol.reader import as_list, read_object, unwrap_announced
from fedihub.protocol.vocab import PUBLIC
from fedihub.storage.models import Activity, Actor, Boost, CoalitionProfile, Follow, HubSettings, StoredObject
from fedihub.subscriptions.triggers import call_changed

log = logging.getLogger(__name__)

RETRACTION_CHECK = "hubs.retraction-check"


async def _member_hubs(session: AsyncSession, member_id: int) -> Sequence[Actor]:
    """Local hubs whose follow of ``member_id`` was accepted: consent on both sides."""
    return (
        await session.scalars(
            select(Actor)
            .join(Follow, Follow.follower_id == Actor.id)
            .join(HubSettings, HubSettings.actor_id == Actor.id)  # only hubs have a row
            .where(
                Follow.target_id == member_id, Follow.state == "accepted", Follow.of_hub.is_(False),
                Actor.is_local.is_(True), Actor.deleted_at.is_(None),
            )
        )
    ).all()


async def _hubs_member_of(session: AsyncSession, hub_id: int) -> Sequence[Actor]:
    """Local hubs that are members of ``hub_id``: they follow it as members (two-way membership)."""
    return (
        await session.scalars(
            select(Actor)
            .join(Follow, Follow.follower_id == Actor.id)
            .join(HubSettings, HubSettings.actor_id == Actor.id)
            .where(
                Follow.target_id == hub_id, Follow.state == "accepted", Follow.of_hub.is_(True),
                Actor.is_local.is_(True), Actor.deleted_at.is_(None),
            )
        )
    ).all()


def _rules(hub: Actor, limits: HubLimits) -> HubRules:
    settings = hub.hub_settings
    if settings is None:  # not a hub (any more): no filters, as a hub with none
        return HubRules(hub_uri=hub.uri, max_addressed_groups=limits.max_addressed_groups)
    return HubRules(
        hub_uri=hub.uri, movements=tuple(settings.movements or ()), regions=tuple(settings.regions or ()),
        calls_only=bool(settings.calls_only), max_addressed_groups=limits.max_addressed_groups,
    )


def _regions(*sources: StoredObject | CoalitionProfile) -> tuple[str, ...]:
    """City, state and country of a call and of its author's profile, as the region filter matches them."""
    found = []
    for item in sources:
        found += [item.region_city, item.region_state, item.region_country]
    return tuple(value for value in found if value)


async def _already_boosted(session: AsyncSession, hub_id: int, object_id: str) -> bool:
    found = await session.scalar(select(Boost.id).where(Boost.hub_id == hub_id, Boost.object_uri == object_id))
    return found is not None


async def _hold_reason(
    session: AsyncSession, hub: Actor, member_id: int, limits: HubLimits, now: datetime
) -> str | None:
    """Why a post the rules let through waits for the hub's admins instead, or None to boost it now."""
    if await pauses.is_paused(session, hub.id, member_id):
        return review.PAUSED
    if await boosts_in_window(session, hub.id, member_id, now) >= limits.boosts_per_member_hour:
        return review.RATE
    return None


async def _consider(
    ctx: FederationContext, session: AsyncSession, hub: Actor, candidate: Candidate, author: Actor,
    member_id: int, limits: HubLimits,
) -> None:
    """Boost, hold for review, or leave: the rules first, then the member's pause and boost rate."""
    if await ctx.refuses(session, author.uri, hub.id):
        log.debug("hub %s does not boost %s: its author is blocked", hub.uri, candidate.object_id)
        return
    reason = refusal_reason(_rules(hub, limits), candidate)
    if reason is not None:
        log.debug("hub %s does not boost %s: %s", hub.uri, candidate.object_id, reason)
        return
    if await review.find_held(session, hub.id, candidate.object_id) is not None:
        return  # waiting for the hub's admins, or they decided already
    now = ctx.clock()
    hold = await _hold_reason(session, hub, member_id, limits, now)
    if hold is not None:
        if await review.hold_post(session, hub.id, member_id, candidate.object_id, hold, now) is not None:
            log.info("hub=%s held=%s member=%s reason=%s", hub.uri, candidate.object_id, member_id, hold)
        return
    await send_boost(ctx, session, hub, candidate.object_id, author, member_id=member_id)


async def send_boost(
    ctx: FederationContext, session: AsyncSession, hub: Actor, object_id: str, author: Actor, *, member_id: int | None
) -> None:
    """Send the hub's one Announce of the original object (spec §3.8 R1, R4)."""
    now = ctx.clock()
    uri = ctx.urls.new_activity()
    # The unique (hub, object) row is the loop guard: a concurrent second receipt fails to commit,
    # and its retry finds the boost.
    session.add(Boost(hub_id=hub.id, object_uri=object_id, activity_uri=uri, created_at=now, member_id=member_id))
    followers = hub.followers_uri or ctx.urls.followers(hub.uri)
    announce = builders.build_announce(
        activity_id=uri, actor=hub.uri, object_id=object_id, published=now,
        to=[PUBLIC], cc=[followers, author.uri],
    )
    inboxes = await follower_inboxes(session, hub.id) | {author.delivery_inbox or ""}
    await publish(ctx, session, actor=hub, activity=announce, inboxes=inboxes)
    # The hub's e-mail subscribers hear of what it carries (the job skips what is not a call).
    await call_changed(session, object_id, now=now)


async def boost_new_object(
    ctx: FederationContext, session: AsyncSession, author: Actor, row: StoredObject, limits: HubLimits = DEFAULT_LIMITS
) -> None:
    """A member published something: each accepting hub boosts it if its rules say so."""
    hubs = await _member_hubs(session, author.id)
    if not hubs:
        return
    blocked = await is_blocked(session, author.domain)
    groups = await count_addressed_groups(
        session, row.data or {}, author.uri, stop_above=limits.max_addressed_groups
    )
    for hub in hubs:
        candidate = Candidate(
            object_id=row.uri, type=row.type, author_uri=author.uri,
            is_public=row.visibility in ("public", "unlisted"), in_reply_to=row.in_reply_to,
            movements=tuple(row.movements or profile_of(author).movements or ()),
            regions=_regions(row, profile_of(author)), via_accepted_member=True, author_blocked=blocked,
            already_boosted=await _already_boosted(session, hub.id, row.uri), addressed_groups=groups,
        )
        await _consider(ctx, session, hub, candidate, author, author.id, limits)


async def boost_what_member_hubs_boost(
    ctx: FederationContext, session: AsyncSession, announcer: Actor, object_id: str, row: StoredObject | None,
    limits: HubLimits = DEFAULT_LIMITS,
) -> None:
    """A member hub boosted X, or a hub we are a member of did: boost X itself (never the Announce),
    checked at its origin. Calls climb the tree through the first and come down it through the second.

    The inbound Announce handler already holds X as its origin serves it — ours, or fetched from the
    origin and stored because a local hub follows the announcing hub — so no request is made here.
    The announcing hub is the member whose boost rate and pause apply, either way.
    """
    if hub_scope_of(announcer) is None:
        return
    found = [*await _member_hubs(session, announcer.id), *await _hubs_member_of(session, announcer.id)]
    hubs = list({hub.id: hub for hub in found if hub.uri != announcer.uri}.values())
    # Checked first: in a cycle the boost comes back, and must cost nothing.
    pending = [hub for hub in hubs if not await _already_boosted(session, hub.id, object_id)]
    if not pending or row is None or row.deleted_at is not None or not row.data:
        return
    doc = dict(row.data)
    view = read_object(doc)
    if view.id != object_id or not view.attributed_to or host_of(view.attributed_to) != host_of(object_id):
        log.info("%s is not attributed to an actor of its own origin; not boosted", object_id)
        return
    author = row.author
    blocked = await is_blocked(session, author.domain)
    groups = await count_addressed_groups(session, doc, author.uri, stop_above=limits.max_addressed_groups)
    for hub in pending:
        candidate = Candidate(
            object_id=object_id, type=view.type, author_uri=author.uri, is_public=view.is_public,
            in_reply_to=doc.get("inReplyTo") if isinstance(doc.get("inReplyTo"), str) else None,
            movements=tuple(hashtag_names(doc)) or tuple(profile_of(author).movements or ()),
            regions=_regions(profile_of(author)),
            via_accepted_member=True, author_blocked=blocked, addressed_groups=groups,
        )
        await _consider(ctx, session, hub, candidate, author, announcer.id, limits)


async def undo_boosts(ctx: FederationContext, session: AsyncSession, object_id: str) -> None:
    """Every local hub that boosted X sends Undo of its Announce (§3.8 R8)."""
    boosts = (
        await session.scalars(select(Boost).where(Boost.object_uri == object_id, Boost.undone_at.is_(None)))
    ).all()
    await undo_each(ctx, session, boosts)


async def undo_each(ctx: FederationContext, session: AsyncSession, boosts: Sequence[Boost]) -> int:
    """Each boost's hub sends Undo of its Announce to its followers and the author; returns how many were sent."""
    undone = 0
    for boost in boosts:
        hub = await session.get(Actor, boost.hub_id)
        sent = await session.scalar(select(Activity).where(Activity.uri == boost.activity_uri))
        if hub is None or sent is None:
            continue
        boost.undone_at = ctx.clock()
        undo = builders.build_undo(
            activity_id=ctx.urls.new_activity(), actor=hub.uri, activity=sent.data,
            to=[PUBLIC], cc=list(sent.data.get("cc", [])),
        )
        author_inbox = await _author_inbox(session, sent.data)
        inboxes = await follower_inboxes(session, hub.id) | {author_inbox}
        await publish(ctx, session, actor=hub, activity=undo, inboxes=inboxes)
        undone += 1
    return undone


async def _author_inbox(session: AsyncSession, announce: Mapping[str, Any]) -> str:
    for uri in as_list(announce.get("cc")):
        actor = await session.scalar(select(Actor).where(Actor.uri == uri)) if isinstance(uri, str) else None
        if actor is not None and not actor.is_local:
            return actor.delivery_inbox or ""
    return ""


async def unboost_deleted(ctx: FederationContext, session: AsyncSession, actor: Actor, object_id: str) -> None:
    """X's owner deleted it: every local hub that boosted X undoes its Announce, and it leaves review lists.

    Only the owner's Delete counts: the actor we stored X as attributed to. Anyone else on X's server
    (a neighbour, or a moderator there) only makes us ask the origin whether X is gone (the retraction
    check): a neighbour must not make our hubs send Undo(Announce) of someone else's call.
    """
    row = await find_object(session, object_id)
    if row is not None and row.attributed_to_id == actor.id:
        await undo_boosts(ctx, session, object_id)
        await review.retract_held(session, object_id, ctx.clock())
        return
    boosted = await session.scalar(
        select(Boost.id).where(Boost.object_uri == object_id, Boost.undone_at.is_(None)).limit(1)
    )
    if boosted is not None:
        log.info("Delete of %s by %s, not its owner: asking its origin", object_id, actor.uri)
        await jobs.enqueue(session, RETRACTION_CHECK, key=object_id, payload={"object": object_id}, at=ctx.clock())


async def unboost_cancelled(ctx: FederationContext, session: AsyncSession, actor: Actor, row: StoredObject) -> None:
    """A cancelled call (its stored copy now says so) is no longer boosted."""
    if (row.event_status or "").upper() == "CANCELLED":
        await undo_boosts(ctx, session, row.uri)
        await review.retract_held(session, row.uri, ctx.clock())


async def check_unboosted(
    ctx: FederationContext, session: AsyncSession, actor: Actor, announce: Mapping[str, Any]
) -> None:
    """A member hub undid its boost of X: if the origin retracted X, so do we (origins only tell members).

    Asking the origin is network I/O, so it is a job, enqueued with the handler's other effects.
    """
    if hub_scope_of(actor) is None:
        return
    object_id, _ = unwrap_announced(announce)
    if object_id is None:
        return
    boosted = await session.scalar(
        select(Boost.id).where(Boost.object_uri == object_id, Boost.undone_at.is_(None)).limit(1)
    )
    if boosted is not None:
        await jobs.enqueue(session, RETRACTION_CHECK, key=object_id, payload={"object": object_id}, at=ctx.clock())


async def _is_retracted(ctx: FederationContext, object_id: str) -> bool:
    """Whether the origin deleted or cancelled X; errors other than 404/410 count as "not known"."""
    if ctx.urls.is_local(object_id):
        async with ctx.sessions() as session:
            row = await session.scalar(select(StoredObject).where(StoredObject.uri == object_id))
        return row is None or row.deleted_at is not None or (row.event_status or "").upper() == "CANCELLED"
    try:
        doc = await fetch.fetch_activitypub_document(ctx.http, object_id, auth=ctx.instance_auth)
    except (RemoteGone, RemoteNotFound):
        return True
    except FedihubError:
        return False
    status = " ".join(str(doc.get(key, "")) for key in ("eventStatus", "ical:status")).casefold()
    return doc.get("type") == "Tombstone" or "cancel" in status


async def run_retraction_check(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """The job behind check_unboosted: ask X's origin, and undo our hubs' boosts if X is gone."""
    object_id = str(payload.get("object") or "")
    if object_id and await _is_retracted(ctx, object_id):
        async with ctx.sessions.begin() as session:
            await undo_boosts(ctx, session, object_id)
            await review.retract_held(session, object_id, ctx.clock())


def subscribe_boosting(events: InboundEvents, limits: HubLimits = DEFAULT_LIMITS) -> None:
    """Hubs react to members' posts and boosts, and to their retraction; ``limits`` are the instance's."""

    async def on_created(ctx: FederationContext, session: AsyncSession, author: Actor, row: StoredObject) -> None:
        await boost_new_object(ctx, session, author, row, limits)

    async def on_announced(
        ctx: FederationContext, session: AsyncSession, announcer: Actor, object_id: str, row: StoredObject | None
    ) -> None:
        await boost_what_member_hubs_boost(ctx, session, announcer, object_id, row, limits)

    events.object_created.connect(on_created)
    events.object_announced.connect(on_announced)
    events.object_deleted.connect(unboost_deleted)
    events.object_updated.connect(unboost_cancelled)
    events.announce_undone.connect(check_unboosted)
