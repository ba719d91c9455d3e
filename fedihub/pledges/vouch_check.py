"""The vouch check of one of our calls: which announcing hubs really carry it, which pledges a carrying
hub vouches for, and telling every copy when that changes. Network reads first, then one short
transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select

from fedihub.federation.context import FederationContext
from fedihub.pledges import notices, origin, vouching
from fedihub.pledges.links import Links, Node, accepted_follows, node_of
from fedihub.pledges.queries import find_local_call
from fedihub.pledges.store import ACCEPTED, announcing_hubs, carrier_of, item_of
from fedihub.protocol.pledges import Carrier, build_pledge_item
from fedihub.storage.models import Actor, AnnounceMark, Pledge, Reaction, StoredObject

log = logging.getLogger(__name__)

# Announcing hubs one check considers at most (each may cost a collection read).
MAX_CANDIDATES = 50
VOUCH_SWEEP_JOB = "pledges.vouch-sweep"
VOUCH_SWEEP_EVERY_HOURS = 1
# Calls one sweep re-checks at most: the soonest first, the rest at the next sweep.
SWEEP_LIMIT = 200


async def carrying_hubs(
    links: Links, author: Node, candidates: list[tuple[Node, Carrier]]
) -> list[tuple[Node, Carrier]]:
    """Hubs that follow the call's author, or a hub already found carrying it, with consent (a fixed point)."""
    carrying: list[tuple[Node, Carrier]] = []
    waiting = list(candidates)
    changed = True
    while changed and waiting:
        changed = False
        for hub, carrier in list(waiting):
            targets = [author, *(node for node, _ in carrying)]
            for target in targets:
                if await links.follows(hub, target):
                    carrying.append((hub, carrier))
                    waiting.remove((hub, carrier))
                    changed = True
                    break
    return carrying


async def anchored_hubs(links: Links, author: Node, carrying: list[Node]) -> list[Node]:
    """The carrying hubs whose roster vouches for pledges: trust flows from the call's organizers.

    Following a coalition or a hub costs nothing (both accept followers on their own), so a carrier
    vouches only when it is anchored: one of this server's hubs (its admins created it), a hub the
    call's author follows (the organizers' own choice), or a hub that an anchored hub follows with its
    consent (that hub's admins chose it as a member). A hub a hostile server made, that follows the
    author to be a carrier, vouches for nobody.
    """
    anchored = [hub for hub in carrying if hub.is_local or await links.follows(author, hub)]
    changed = True
    while changed:
        changed = False
        for hub in [hub for hub in carrying if hub not in anchored]:
            for anchor in list(anchored):
                if await links.follows(anchor, hub):
                    anchored.append(hub)
                    changed = True
                    break
    return anchored


def _carriers_json(carriers: list[Carrier]) -> list[dict[str, Any]]:
    return [{"id": c.uri, "name": c.name, "hubScope": c.scope, "url": c.url}
            for c in sorted(carriers, key=lambda c: c.uri)]


async def run_vouch_check(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """The job behind vouching.enqueue_vouch_check."""
    call_uri = str(payload.get("call") or "")
    async with ctx.sessions() as session:
        call = await find_local_call(session, call_uri)
        if call is None or call.deleted_at is not None:
            return
        author = node_of(call.author)
        hubs = (await announcing_hubs(session, call_uri))[:MAX_CANDIDATES]
        candidates = [(node_of(hub), carrier_of(hub)) for hub in hubs if hub.id != author.id]
        rows = (await session.scalars(_hub_vouchable(call_uri))).all()
        coalitions = {
            actor.uri: node_of(actor)
            for actor in (
                await session.scalars(select(Actor).where(Actor.uri.in_([row.coalition_uri for row in rows])))
            ).all()
        }
        local_follows = await accepted_follows(session, [author.id, *(node.id for node, _ in candidates)])

    links = Links(ctx, local_follows)
    carrying = await carrying_hubs(links, author, candidates)
    vouching_hubs = await anchored_hubs(links, author, [hub for hub, _ in carrying])
    vouched: set[str] = set()
    for uri, coalition in coalitions.items():
        for hub in vouching_hubs:
            if await links.follows(hub, coalition):
                vouched.add(uri)
                break
    # "Carried by" names only anchored carriers too: a Group that follows the author and announces the
    # call is a claim of its own server; the author's or an anchored hub's follow is the organizers' word.
    await _apply(ctx, call_uri, [carrier for hub, carrier in carrying if hub in vouching_hubs], vouched)


def _hub_vouchable(call_uri: str) -> Select[Pledge]:
    """The call's pledges a hub's vouch decides: accepted or held, not refused, and not vouched otherwise
    (the organizers' approval and a local coalition's own server stand whatever the hubs say)."""
    return select(Pledge).where(
        Pledge.call_uri == call_uri, Pledge.state.in_((ACCEPTED, vouching.HELD)),
        Pledge.source != "refused",
        Pledge.vouched_by.is_(None) | (Pledge.vouched_by == vouching.HUB),
    )


async def _apply(ctx: FederationContext, call_uri: str, carriers: list[Carrier], vouched: set[str]) -> None:
    async with ctx.sessions.begin() as session:
        call = await find_local_call(session, call_uri)
        if call is None or call.deleted_at is not None:
            return
        carried = _carriers_json(carriers)
        carriers_changed = (call.pledge_carriers or []) != carried
        call.pledge_carriers = carried
        rows = (await session.scalars(_hub_vouchable(call_uri).order_by(Pledge.id))).all()
        told = False
        for row in rows:
            now_vouched = row.coalition_uri in vouched
            if now_vouched == (row.vouched_by == vouching.HUB):
                continue
            row.vouched_by, row.updated_at = (vouching.HUB if now_vouched else None), ctx.clock()
            if row.state == vouching.HELD:
                if now_vouched:
                    await origin.accept_pledge(ctx, session, call, row)
                    told = True
                continue
            await notices.publish_notice(ctx, session, call, "Add", build_pledge_item(item_of(row)))
            told = True
        if carriers_changed and not told:
            await notices.publish_notice(ctx, session, call, "Update")
        log.info("vouch check of %s: %d hubs carry it, %d pledges vouched by them", call_uri, len(carriers),
                 len(vouched))


async def run_vouch_sweep(ctx: FederationContext, payload: Mapping[str, Any]) -> None:
    """Periodic: re-check our upcoming calls that hubs announced or coalitions pledged to.

    Memberships change after a pledge (a coalition joins a carrying hub, a hub drops a member), and
    neither sends us anything: the sweep is how a vouch follows them.
    """
    now = ctx.clock()
    announced = select(Reaction.object_uri).where(Reaction.type == "Announce")
    # A hub's mark stays after it undoes its Announce (hubs/announce_marks.py), and the Undo asks for no
    # check: without the marks a call whose only carrier withdrew would keep listing it.
    marked = select(AnnounceMark.object_uri)
    pledged = select(Pledge.call_uri).where(Pledge.state.in_((ACCEPTED, vouching.HELD)))
    async with ctx.sessions.begin() as session:
        uris = (
            await session.scalars(
                select(StoredObject.uri)
                .where(
                    StoredObject.is_local.is_(True), StoredObject.type == "Event", StoredObject.deleted_at.is_(None),
                    (StoredObject.end_time >= now)
                    | (StoredObject.end_time.is_(None) & (StoredObject.start_time >= now)),
                    StoredObject.uri.in_(announced) | StoredObject.uri.in_(marked) | StoredObject.uri.in_(pledged),
                )
                .order_by(StoredObject.start_time).limit(SWEEP_LIMIT)
            )
        ).all()
        for uri in uris:
            await vouching.enqueue_vouch_check(session, uri, at=now)
