"""Coalitions on other servers pledge to a call: Join → Accept, and every copy shows the same roll-up."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions import calls, service
from fedihub.federation import blocks, follows
from fedihub.federation.actors import resolve_target
from fedihub.federation.context import FederationContext
from fedihub.federation.objects import find_object
from fedihub.pledges import origin
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.pledges.queries import find_local_call, rollup_of
from fedihub.pledges.rollup import build_rollup
from fedihub.pledges.store import accepted_pledges, item_of
from fedihub.storage.models import Pledge, StoredObject
from tests.integration.helpers import BROWSER
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance


def _call(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title="National day of action for rent control", description="Rally at city hall.",
        start=start, end=start + timedelta(hours=2), timezone="America/Chicago", place_name="City Hall",
        movements=["housing"], region_state="Illinois",
    )


async def _rollup(instance: Instance, call_uri: str):  # type: ignore[no-untyped-def]
    async with instance.ctx.sessions() as session:
        rows = await accepted_pledges(session, call_uri)
    return build_rollup([item_of(row) for row in rows])


async def approve(ctx: FederationContext, session: AsyncSession, call_uri: str, coalition_uri: str) -> None:
    """The call's organizers vouch for a pledge (the approve button of the call page)."""
    call = await find_local_call(session, call_uri)
    assert call is not None
    await origin.approve_pledge(ctx, session, call, coalition_uri)


async def test_a_remote_coalition_pledges_with_a_local_action(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    await committed(b.ctx, service.create_coalition, "renters", name="Springfield Renters")
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()

    start = net.clock() + timedelta(days=10, hours=1)
    row = await committed(
        b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri), message="We will be there",
        action=pledges.LocalActionInput(title="Springfield rally", start=start, timezone="America/Chicago",
                                        place="Springfield capitol"),
    )
    assert row.state == "pending"
    await net.settle()

    async with b.ctx.sessions() as session:
        mine = await session.scalar(select(Pledge).where(Pledge.uri == row.uri))
    assert mine is not None and mine.state == "accepted"
    # Accepted, but nobody vouches for it yet: listed apart, not in the headline.
    at_origin = await _rollup(a, call.uri)
    assert (at_origin.pledged, at_origin.unvouched) == (0, 1)

    await committed(a.ctx, approve, call.uri, "http://b.test/g/renters")
    await net.settle()
    at_origin = await _rollup(a, call.uri)
    assert (at_origin.pledged, at_origin.unvouched) == (1, 0)
    assert at_origin.actions[0].action.name == "Springfield rally"
    assert at_origin.pledges[0].message == "We will be there"


async def _three_servers(net: FederationNet) -> tuple[Instance, Instance, Instance, StoredObject]:
    """a calls; b pledges; c only follows the calling coalition and shows the call."""
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    c = await net.add_instance("c.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    await committed(b.ctx, service.create_coalition, "renters", name="Springfield Renters")
    await committed(c.ctx, service.create_coalition, "watchers", name="Peoria Watchers")
    await committed(c.ctx, follows.follow, "watchers", await resolve_target(c.ctx, "tenants@a.test"))
    await net.settle()
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    return a, b, c, call


@pytest.mark.all_backends  # roll-up counts are aggregate SQL
async def test_every_server_showing_the_call_shows_the_same_rollup(net: FederationNet) -> None:
    a, b, c, call = await _three_servers(net)
    start = net.clock() + timedelta(days=10, hours=1)
    await committed(
        b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri),
        action=pledges.LocalActionInput(title="Springfield rally", start=start, timezone="America/Chicago",
                                        place="Springfield capitol"),
    )
    await net.settle()
    await committed(a.ctx, approve, call.uri, "http://b.test/g/renters")
    await net.settle()

    expected = await _rollup(a, call.uri)
    assert expected.pledged == 1
    for instance in (b, c):
        seen = await _rollup(instance, call.uri)
        assert (seen.pledged, seen.by_region, [i.action.name for i in seen.actions]) == (
            expected.pledged, expected.by_region, ["Springfield rally"]
        ), instance.base_url

    # The pledger's local action is its own Event on its own server, linked to the call.
    async with b.ctx.sessions() as session:
        action = await session.scalar(select(StoredObject).where(StoredObject.name == "Springfield rally"))
    assert action is not None and action.data["superEvent"] == call.uri

    # The Event document served by the origin counts the pledge (Mobilizon's participantCount).
    async with a.ctx.sessions() as session:
        origin_call = await session.get(StoredObject, call.id)
    assert origin_call is not None and origin_call.data["participantCount"] == 1
    assert origin_call.data["joinMode"] == "free"


async def test_a_copy_hides_the_pledges_of_a_server_blocked_after_they_were_copied(net: FederationNet) -> None:
    a, b, c, call = await _three_servers(net)
    await committed(b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri), message="Count us in")
    await net.settle()
    await committed(a.ctx, approve, call.uri, "http://b.test/g/renters")
    await net.settle()
    view = f"/calls/view?url={quote(call.uri, safe='')}"
    assert "Springfield Renters" in (await c.get(view, headers={"Accept": BROWSER})).text

    await committed(c.ctx, blocks.block_domain, "B.TEST.")  # any spelling of the host

    async with c.ctx.sessions() as session:
        stored = await find_object(session, call.uri)
        assert stored is not None
        shown = await rollup_of(session, stored)
    assert (shown.pledged, shown.unvouched, shown.pledges) == (0, 0, [])
    assert "Springfield Renters" not in (await c.get(view, headers={"Accept": BROWSER})).text
    # The call's own server is not told anything by c's block: it still counts the pledge.
    assert (await _rollup(a, call.uri)).pledged == 1


async def test_a_withdrawal_reaches_every_copy(net: FederationNet) -> None:
    a, b, c, call = await _three_servers(net)
    await committed(b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri), message="Count us in")
    await net.settle()
    assert (await _rollup(c, call.uri)).unvouched == 1

    await committed(b.ctx, pledges.withdraw, "renters", call.uri)
    await net.settle()

    for instance in (a, b, c):
        rollup = await _rollup(instance, call.uri)
        assert (rollup.pledged, rollup.unvouched) == (0, 0), instance.base_url


async def test_reports_after_the_call_add_up_everywhere(net: FederationNet) -> None:
    a, b, c, call = await _three_servers(net)
    d = await net.add_instance("d.test")
    await committed(d.ctx, service.create_coalition, "union", name="Decatur Union")
    await committed(b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri))
    await committed(d.ctx, pledges.pledge, "union", await get_call_target(d.ctx, call.uri))
    await net.settle()
    for pledger in ("http://b.test/g/renters", "http://d.test/g/union"):
        await committed(a.ctx, approve, call.uri, pledger)
    await net.settle()

    net.clock.advance(days=11)
    await committed(
        b.ctx, pledges.report, "renters", call.uri, happened=True, turnout=120, url="https://photos.example/1"
    )
    await committed(d.ctx, pledges.report, "union", call.uri, happened=False)
    await net.settle()

    for instance in (a, b, c, d):
        rollup = await _rollup(instance, call.uri)
        assert (rollup.pledged, rollup.reported, rollup.happened, rollup.turnout) == (2, 2, 1, 120), instance.base_url


async def test_deleting_a_call_reaches_the_coalitions_that_pledged(net: FederationNet) -> None:
    a, b, c, call = await _three_servers(net)
    await committed(b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri))
    await net.settle()

    await committed(a.ctx, service.delete_object, call.uri)
    await net.settle()

    for instance in (b, c):
        async with instance.ctx.sessions() as session:
            row = await session.scalar(select(StoredObject).where(StoredObject.uri == call.uri))
        assert row is not None and row.deleted_at is not None, instance.base_url
