"""Coalition operations shared by the CLI and the web UI: create, list, post, edit, delete.

Each takes the session of the caller's transaction and never commits: the web handler or command that
calls it opens the transaction, so an operation and the deliveries it queues commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.actor_profile import ensure_profile
from fedihub.coalitions.audience import call_audience_inboxes
from fedihub.coalitions.markdown import render_markdown
from fedihub.directory.listing import mark_discovered
from fedihub.errors import InvalidInput, NotFound
from fedihub.federation.actors import build_local_actor_document, create_local_actor, get_local_actor
from fedihub.federation.collections import count_followers, count_following
from fedihub.federation.context import FederationContext
from fedihub.federation.intake_cache import forget_now_and_on_commit
from fedihub.federation.outbox import follower_inboxes, following_inboxes, publish
from fedihub.i18n.active import gettext
from fedihub.protocol import builders
from fedihub.protocol.limits import MAX_NAME
from fedihub.protocol.vocab import PUBLIC
from fedihub.storage.models import Activity, Actor, StoredObject

MAX_POST = 20_000


@dataclass(frozen=True)
class CoalitionSummary:
    username: str
    name: str
    uri: str
    followers: int
    following: int
    manually_approves_followers: bool
    domain: str = ""  # the host of its handle, as in its id


async def create_coalition(
    ctx: FederationContext,
    session: AsyncSession,
    username: str,
    *,
    name: str,
    summary: str | None = None,
    manually_approves_followers: bool = False,
) -> Actor:
    """A new coalition: a local Group actor with its own key (summary is Markdown); the caller commits."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(
            gettext("a coalition needs a display name of 1 to %(limit)s characters", limit=MAX_NAME), field="name"
        )
    actor = await create_local_actor(
        ctx,
        session,
        username=username,
        actor_type="Group",
        name=name,
        summary=render_markdown(summary) if summary else None,
        manually_approves_followers=manually_approves_followers,
    )
    if summary:
        ensure_profile(actor).summary_source = summary  # the Markdown, so the profile form can edit it
    # create_local_actor leaves the directory to us: a coalition made here is listed as "local",
    # found when it was made.
    mark_discovered(actor, "local", actor.created_at)
    return actor


async def list_coalitions(session: AsyncSession) -> Sequence[CoalitionSummary]:
    """Every coalition hosted here with its follow counts, by handle."""
    actors = (
        await session.scalars(
            select(Actor)
            .where(Actor.is_local.is_(True), Actor.type == "Group", Actor.deleted_at.is_(None))
            .order_by(Actor.local_username)
        )
    ).all()
    return [
        CoalitionSummary(
            username=a.username or "",
            name=a.name or "",
            uri=a.uri,
            followers=await count_followers(session, a.id),
            following=await count_following(session, a.id),
            manually_approves_followers=a.manually_approves_followers,
            domain=a.domain,
        )
        for a in actors
    ]


async def post_note(ctx: FederationContext, session: AsyncSession, username: str, text: str) -> StoredObject:
    """Publish a public Note (Markdown) to the coalition's followers; the caller commits."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(gettext("the post is empty"))
    if len(text) > MAX_POST:
        raise InvalidInput(gettext("a post has at most %(limit)s characters", limit=MAX_POST))
    html = render_markdown(text)
    actor = await get_local_actor(session, username)
    now = ctx.clock()
    object_id = ctx.urls.new_object()
    note = builders.build_note(
        object_id=object_id,
        attributed_to=actor.uri,
        content_html=html,
        published=now,
        to=[PUBLIC],
        cc=[actor.followers_uri or ctx.urls.followers(actor.uri)],
        url=object_id,
    )
    create = builders.build_create(activity_id=f"{object_id}/activity", actor=actor.uri, obj=note)
    row = StoredObject(
        uri=object_id, type="Note", attributed_to_id=actor.id, is_local=True, visibility="public",
        content=html, url=object_id, published=now, data=note, created_at=now,
    )
    session.add(row)
    await publish(ctx, session, actor=actor, activity=create, inboxes=await follower_inboxes(session, actor.id))
    return row


async def delete_object(ctx: FederationContext, session: AsyncSession, object_uri: str) -> None:
    """Delete one of our objects: a Tombstone from now on and a Delete to the author's followers."""
    row = await session.scalar(select(StoredObject).where(StoredObject.uri == object_uri))
    if row is None or not row.is_local or row.deleted_at is not None:
        raise NotFound(gettext("no post %(uri)s on this server", uri=object_uri))
    actor = row.author
    now = ctx.clock()
    row.deleted_at = now
    for activity in (await session.scalars(select(Activity).where(Activity.object_uri == object_uri))).all():
        activity.withdrawn_at = now
    delete = builders.build_delete(
        activity_id=ctx.urls.new_activity(), actor=actor.uri, object_id=object_uri, former_type=row.type,
        to=[PUBLIC], cc=[actor.followers_uri or ""],
    )
    # A call is also held by the coalitions pledged to it and the hubs carrying it.
    inboxes = await call_audience_inboxes(session, row.uri, actor.id)
    await publish(ctx, session, actor=actor, activity=delete, inboxes=inboxes)


async def update_profile(
    ctx: FederationContext,
    session: AsyncSession,
    username: str,
    *,
    name: str | None = None,
    summary: str | None = None,
    manually_approves_followers: bool | None = None,
) -> Actor:
    """Change a coalition's profile and send Update(actor) to its followers."""
    actor = await get_local_actor(session, username)
    if name is not None:
        if not name.strip() or len(name) > MAX_NAME:
            raise InvalidInput(gettext("a display name has 1 to %(limit)s characters", limit=MAX_NAME))
        actor.name = name.strip()
    if summary is not None:
        actor.summary = render_markdown(summary)
        ensure_profile(actor).summary_source = summary
    if manually_approves_followers is not None:
        actor.manually_approves_followers = manually_approves_followers
    await publish_actor_update(ctx, session, actor)
    return actor


async def publish_actor_update(ctx: FederationContext, session: AsyncSession, actor: Actor) -> None:
    """Send Update with the actor's whole current document to its followers (spec §1.2 "Update")."""
    actor.updated_at = ctx.clock()
    document = build_local_actor_document(ctx, actor)
    update = builders.build_update(
        activity_id=ctx.urls.new_activity(), actor=actor.uri, obj=document, to=[PUBLIC],
        cc=[actor.followers_uri or ""],
    )
    await publish(ctx, session, actor=actor, activity=update, inboxes=await follower_inboxes(session, actor.id))


async def delete_coalition(ctx: FederationContext, session: AsyncSession, username: str) -> None:
    """Delete a coalition: Delete(actor) to everyone it knows; its URLs answer 410 afterwards."""
    actor = await get_local_actor(session, username)
    now = ctx.clock()
    # Its posts go with it, as peers drop them on Delete(actor): their ids answer 410 here too.
    await session.execute(
        update(StoredObject)
        .where(StoredObject.attributed_to_id == actor.id, StoredObject.deleted_at.is_(None))
        .values(deleted_at=now)
    )
    await session.execute(
        update(Activity).where(Activity.actor_id == actor.id, Activity.withdrawn_at.is_(None)).values(withdrawn_at=now)
    )
    inboxes = await follower_inboxes(session, actor.id) | await following_inboxes(session, actor.id)
    delete = builders.build_delete_actor(activity_id=ctx.urls.new_activity(), actor=actor.uri, to=[PUBLIC])
    await publish(ctx, session, actor=actor, activity=delete, inboxes=inboxes)
    actor.deleted_at = now
    uri, keys = actor.uri, ctx.key_cache
    forget_now_and_on_commit(session, lambda: keys.forget_actor(uri))
