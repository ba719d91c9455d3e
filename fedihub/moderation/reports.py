"""Reports (ActivityPub ``Flag``): those other servers send about our actors and posts, and those we send.

An inbound report keeps what it names and the content as this server had it then; the instance's
admins see every report, a coalition's owners those about the coalition or its posts. An outbound
report goes from the instance actor to the reported actor's server and names nobody here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput, NotFound
from fedihub.federation.actors import find_actor, host_of
from fedihub.federation.context import FederationContext
from fedihub.federation.objects import find_object
from fedihub.federation.outbox import publish
from fedihub.i18n.active import gettext
from fedihub.protocol import builders
from fedihub.protocol.html import html_to_text
from fedihub.protocol.reader import as_list, id_of
from fedihub.storage.models import Actor, ActorBlock, Follow, HubRequest, Pledge, Report, ReportCoalition, StoredObject

# Mastodon's report comment limit (app/models/report.rb COMMENT_SIZE_LIMIT); longer ones are cut.
MAX_COMMENT = 1000
# At most this many actors and posts are kept from one report: a Flag naming thousands is noise.
MAX_NAMED = 50
MAX_SNAPSHOT_TEXT = 2000
DEFAULT_REPORTS_PER_HOST_HOUR = 20
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Named:
    """What a report names, split into actors and posts; ``local`` are those of this server."""

    actor_uris: list[str]
    object_uris: list[str]
    coalition_ids: list[int]  # the local coalitions concerned: named, or authors of named posts
    snapshot: list[dict[str, Any]]


def _text(value: str | None, limit: int) -> str:
    return " ".join(html_to_text(value or "").split())[:limit]


def _actor_snapshot(actor: Actor) -> dict[str, Any]:
    return {"kind": "actor", "uri": actor.uri, "type": actor.type, "name": _text(actor.name, 200),
            "handle": actor.handle if actor.username else None, "text": _text(actor.summary, MAX_SNAPSHOT_TEXT)}


def _object_snapshot(row: StoredObject) -> dict[str, Any]:
    return {"kind": "object", "uri": row.uri, "type": row.type, "name": _text(row.name, 200),
            "author": row.author.uri, "deleted": row.deleted_at is not None,
            "text": _text(row.content or row.summary, MAX_SNAPSHOT_TEXT)}


async def read_named(session: AsyncSession, uris: Sequence[str]) -> Named:
    """Sort the ids a Flag names into actors and posts and record what we hold of each."""
    actors: list[str] = []
    objects: list[str] = []
    coalitions: list[int] = []
    snapshot: list[dict[str, Any]] = []
    for uri in list(dict.fromkeys(uris))[:MAX_NAMED]:
        actor = await find_actor(session, uri)
        if actor is not None:
            actors.append(uri)
            snapshot.append(_actor_snapshot(actor))
            if actor.is_local and actor.type == "Group":
                coalitions.append(actor.id)
            continue
        objects.append(uri)
        row = await find_object(session, uri)
        if row is not None:
            snapshot.append(_object_snapshot(row))
            if row.author.is_local and row.author.type == "Group":
                coalitions.append(row.attributed_to_id)
    return Named(actors, objects, list(dict.fromkeys(coalitions)), snapshot)


def flagged_ids(raw: Mapping[str, Any]) -> list[str]:
    """The ids a Flag's ``object`` names (a single id, a list, or embedded objects)."""
    return [uri for uri in (id_of(item) for item in as_list(raw.get("object"))) if uri]


async def recent_from(session: AsyncSession, host: str, ctx: FederationContext) -> int:
    since = ctx.clock() - WINDOW
    return int(await session.scalar(
        select(func.count()).select_from(Report)
        .where(Report.direction == "inbound", Report.origin_host == host, Report.received_at >= since)
    ) or 0)


async def store_inbound_report(
    ctx: FederationContext, session: AsyncSession, *, flag_id: str, reporter: Actor, named: Named,
    comment: str | None, per_host_hour: int,
) -> Report | None:
    """Keep a report another server sent; None when that server already sent its hourly share
    (landscape §D 15: a Flag flood from one host is dropped, not stored) or the Flag was seen."""
    if await session.scalar(select(Report.id).where(Report.uri == flag_id)) is not None:
        return None
    if await recent_from(session, reporter.domain, ctx) >= per_host_hour:
        return None
    report = Report(
        uri=flag_id, direction="inbound", reporter_uri=reporter.uri, origin_host=reporter.domain,
        target_host=ctx.host, actor_uris=named.actor_uris, object_uris=named.object_uris,
        comment=(comment or "").strip()[:MAX_COMMENT] or None, snapshot=named.snapshot, received_at=ctx.clock(),
    )
    session.add(report)
    await session.flush()
    for coalition_id in named.coalition_ids:
        session.add(ReportCoalition(report_id=report.id, coalition_id=coalition_id))
    return report


# --- Outbound ------------------------------------------------------------------------------------


async def _concerns(session: AsyncSession, coalition: Actor, reported: Actor, object_uris: Sequence[str]) -> bool:
    """Whether what a coalition's owner reports was addressed to the coalition: posts of the reported
    actor that name it in their audience or mentions or reply to its posts, or (no posts) an actor
    that follows it, asked to join it, pledged to its calls, or that it blocked."""
    if object_uris:
        for uri in object_uris:
            row = await find_object(session, uri)
            if row is None or row.attributed_to_id != reported.id or not await _addressed(session, row, coalition):
                return False
        return True
    follows = await session.scalar(
        select(Follow.id).where(Follow.follower_id == reported.id, Follow.target_id == coalition.id).limit(1))
    joins = await session.scalar(
        select(HubRequest.id).where(HubRequest.member_id == reported.id, HubRequest.hub_id == coalition.id).limit(1))
    pledges = await session.scalar(
        select(Pledge.id).join(StoredObject, StoredObject.uri == Pledge.call_uri)
        .where(Pledge.coalition_uri == reported.uri, StoredObject.attributed_to_id == coalition.id).limit(1))
    # A block ends the follow, the join and the pledge: blocking first must not forbid reporting after.
    blocked = await session.scalar(
        select(ActorBlock.id).where(ActorBlock.actor_id == reported.id, ActorBlock.coalition_id == coalition.id))
    return any(found is not None for found in (follows, joins, pledges, blocked))


async def _addressed(session: AsyncSession, row: StoredObject, coalition: Actor) -> bool:
    data = row.data or {}
    audience = {id_of(v) for key in ("to", "cc", "audience") for v in as_list(data.get(key))}
    mentions = {id_of(t.get("href")) for t in as_list(data.get("tag")) if isinstance(t, dict)}
    if coalition.uri in audience | mentions:
        return True
    replied = await find_object(session, row.in_reply_to) if row.in_reply_to else None
    return replied is not None and replied.attributed_to_id == coalition.id


async def send_report(
    ctx: FederationContext, session: AsyncSession, *, reported: Actor, object_uris: Sequence[str], comment: str,
    sent_by: int | None, coalition: Actor | None = None,
) -> Report:
    """Report a remote actor (and posts of it) to its own server, as the instance actor; the caller commits.

    With ``coalition`` an owner reports for that coalition, which may only report what was addressed
    to it. The Flag carries the instance actor, the ids and the comment; who asked stays here.
    """
    if reported.is_local:
        raise InvalidInput(gettext("that is an actor of this server; deal with it here"), field="actor")
    inbox = reported.shared_inbox or reported.inbox
    if not inbox:
        raise InvalidInput(gettext("that actor's server has no inbox to send a report to"), field="actor")
    uris = [uri.strip() for uri in object_uris if uri.strip()]
    if len(uris) > MAX_NAMED:
        raise InvalidInput(gettext("a report names at most %(max)d posts", max=MAX_NAMED), field="objects")
    server = host_of(reported.uri)
    for uri in uris:
        if host_of(uri) != server:
            raise InvalidInput(gettext("%(uri)s is not on %(server)s: a report goes to one server about its own posts",
                                       uri=uri, server=server), field="objects")
    if coalition is not None and not await _concerns(session, coalition, reported, uris):
        raise InvalidInput(gettext("a coalition reports only what was addressed to it: posts to it or replies, "
                                   "or an actor that follows, joins or pledged to it"), field="actor")
    instance = await find_actor(session, ctx.urls.instance_actor())
    if instance is None:
        raise NotFound(gettext("this server's instance actor is missing"))
    text = comment.strip()[:MAX_COMMENT]
    flag_id = ctx.urls.new_activity()
    flag = builders.build_flag(activity_id=flag_id, actor=instance.uri, objects=[reported.uri, *uris], content=text)
    named = await read_named(session, [reported.uri, *uris])
    report = Report(
        uri=flag_id, direction="outbound", reporter_uri=instance.uri, origin_host=ctx.host, target_host=server,
        actor_uris=named.actor_uris, object_uris=named.object_uris, comment=text or None,
        snapshot=named.snapshot, sent_by_id=sent_by, received_at=ctx.clock(),
    )
    session.add(report)
    await session.flush()
    if coalition is not None:
        session.add(ReportCoalition(report_id=report.id, coalition_id=coalition.id))
    await publish(ctx, session, actor=instance, activity=flag, inboxes=[inbox])
    return report


# --- Reading and resolving --------------------------------------------------------------------------


async def list_reports(
    session: AsyncSession, *, coalition_id: int | None = None, limit: int = 200
) -> Sequence[Report]:
    """Reports, newest first: all of them (``coalition_id`` None, for instance admins) or those about
    one coalition (for its owners). Unresolved ones come first."""
    query = select(Report)
    if coalition_id is not None:
        query = query.join(ReportCoalition, ReportCoalition.report_id == Report.id).where(
            ReportCoalition.coalition_id == coalition_id)
    query = query.order_by(Report.resolved_at.is_not(None), Report.received_at.desc(), Report.id.desc())
    return (await session.scalars(query.limit(limit))).all()


async def resolve_report(
    ctx: FederationContext, session: AsyncSession, report_id: int, *, account_id: int, coalition_id: int | None = None,
) -> Report:
    """Mark a report resolved (or open again when it was); owners only reach their coalition's."""
    query = select(Report).where(Report.id == report_id)
    if coalition_id is not None:
        query = query.join(ReportCoalition, ReportCoalition.report_id == Report.id).where(
            ReportCoalition.coalition_id == coalition_id)
    report = await session.scalar(query)
    if report is None:
        raise NotFound(gettext("there is no such report"))
    if report.resolved_at is None:
        report.resolved_at, report.resolved_by_id = ctx.clock(), account_id
    else:
        report.resolved_at, report.resolved_by_id = None, None
    return report
