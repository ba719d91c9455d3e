"""A blocked coalition's call boosted by an allowed hub: neither shown nor re-announced up the tree
(landscape §D 13; Mastodon CVE-2026-23961 let suspended accounts' posts through boosts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls, service
from fedihub.federation import follows
from fedihub.federation.actors import find_local_actor, resolve_target
from fedihub.hubs import service as hubs
from fedihub.moderation import actor_blocks
from fedihub.storage.models import Boost, InboxItem, StoredObject
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

BROWSER = "text/html"
pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


async def _tree(net: FederationNet) -> tuple[Instance, Instance, Instance, Instance]:
    """tenants (a) → state hub (s) → national hub (n) → watchers (f), as in test_hubs.py."""
    a = await net.add_instance("a.test")
    s = await net.add_instance("s.test")
    n = await net.add_instance("n.test")
    f = await net.add_instance("f.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Springfield Tenants")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    await committed(n.ctx, hubs.create_hub, "national-hub", name="National Hub", scope="national")
    await committed(f.ctx, service.create_coalition, "watchers", name="Watchers")
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    await committed(n.ctx, hubs.add_member, "national-hub", await resolve_target(n.ctx, "state-hub@s.test"))
    await committed(f.ctx, follows.follow, "watchers", await resolve_target(f.ctx, "national-hub@n.test"))
    await net.settle()
    return a, s, n, f


def _call(net: FederationNet, title: str) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title=title, description="Rally at city hall.", start=start, end=start + timedelta(hours=2),
        timezone="America/Chicago", place_name="City Hall", movements=["housing"], region_state="Illinois",
    )


async def _received(instance: Instance, kind: str) -> list[dict]:
    async with instance.ctx.sessions() as session:
        items = (await session.scalars(select(InboxItem).where(InboxItem.activity_type == kind))).all()
    return [item.payload for item in items]


async def _announced_at(instance: Instance, object_uri: str) -> list[str]:
    async with instance.ctx.sessions() as session:
        items = (await session.scalars(select(InboxItem).where(InboxItem.activity_type == "Announce"))).all()
    return [item.payload["actor"] for item in items if item.payload.get("object") == object_uri]


async def _boosted(instance: Instance, object_uri: str) -> bool:
    async with instance.ctx.sessions() as session:
        return await session.scalar(select(Boost.id).where(Boost.object_uri == object_uri)) is not None


async def _stored(instance: Instance, object_uri: str) -> bool:
    async with instance.ctx.sessions() as session:
        return await session.scalar(select(StoredObject.id).where(StoredObject.uri == object_uri)) is not None


async def test_a_coalition_blocked_by_an_instance_is_not_shown_nor_reboosted_when_an_allowed_hub_boosts_it(
    net: FederationNet,
) -> None:
    a, s, n, f = await _tree(net)
    before = await committed(a.ctx, calls.publish_call, "tenants", _call(net, "Rent control rally"))
    await net.settle()
    assert await _announced_at(f, before.uri) == ["http://n.test/g/national-hub"]
    assert "Rent control rally" in (await n.get("/g/national-hub", headers={"Accept": BROWSER})).text

    root = await organizer(n, "root", is_admin=True)
    try:
        response = await root.submit("/admin/moderation", "/admin/moderation/actors",
                                     {"actor": "tenants@a.test", "reason": "spam"})
        assert response.status_code == 303
    finally:
        await root.client.aclose()
    await net.settle()
    # What n boosted before the block is withdrawn from its followers.
    assert [u["object"]["object"] for u in await _received(f, "Undo")] == [before.uri]

    # Stored before the block: gone from the hub's page and from every calendar of n.
    assert "Rent control rally" not in (await n.get("/g/national-hub", headers={"Accept": BROWSER})).text
    assert "Rent control rally" not in (await n.get("/g/national-hub/calls.ics")).text
    assert "Rent control rally" not in (await n.get("/calls.ics")).text
    assert "Rent control rally" not in (await n.get("/g/national-hub/feed.atom")).text

    # After the block: the allowed state hub boosts the new call to n, which neither keeps nor boosts it.
    after = await committed(a.ctx, calls.publish_call, "tenants", _call(net, "Second rent rally"))
    await net.settle()
    assert await _announced_at(n, after.uri) == ["http://s.test/g/state-hub"]  # the attack arrived
    assert not await _stored(n, after.uri) and not await _boosted(n, after.uri)
    assert await _announced_at(f, after.uri) == []
    assert "Second rent rally" not in (await n.get("/calls.ics")).text


async def test_a_hub_that_blocks_a_coalition_for_itself_stops_boosting_it_and_nothing_else_changes(
    net: FederationNet,
) -> None:
    a, s, n, f = await _tree(net)
    await committed(n.ctx, service.create_coalition, "neighbours", name="Neighbours")
    async with n.ctx.sessions() as session:
        hub = await find_local_actor(session, "national-hub")
    assert hub is not None
    tenants_at_n = await resolve_target(n.ctx, "tenants@a.test")
    await committed(n.ctx, actor_blocks.block_actor, tenants_at_n, coalition=hub)

    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net, "Tenants march"))
    await net.settle()

    assert await _stored(n, call.uri)  # the instance still takes it: only the hub refused it
    assert not await _boosted(n, call.uri) and await _announced_at(f, call.uri) == []
    assert "Tenants march" in (await n.get("/calls.ics")).text
    assert await _boosted(s, call.uri)  # other hubs, other servers: unaffected


async def test_a_report_between_two_fedihub_servers_reaches_the_reported_coalitions_owners_only(
    net: FederationNet,
) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    spam = await committed(b.ctx, service.create_coalition, "spammers", name="Spam Coalition")
    others = await committed(b.ctx, service.create_coalition, "bystanders", name="Bystanders")
    call = await committed(b.ctx, calls.publish_call, "spammers", _call(net, "Buy our rally tickets"))
    await committed(a.ctx, service.create_coalition, "tenants", name="Tenants")
    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "spammers@b.test"))
    await net.settle()

    reporter = await organizer(a, "ruth", is_admin=True)
    owner = await organizer(b, "otto", spam, "owner")
    bystander = await organizer(b, "bea", others, "owner")
    try:
        response = await reporter.submit("/admin/moderation", "/admin/moderation/reports", {
            "actor": "spammers@b.test", "objects": call.uri, "comment": "Selling tickets to a free rally",
        })
        assert response.status_code == 303
        await net.settle()

        seen = (await owner.get("/manage/spammers/moderation")).text
        assert "Selling tickets to a free rally" in seen and "From <strong>a.test</strong>" in seen
        assert "Buy our rally tickets" in seen
        assert "Selling tickets" not in (await bystander.get("/manage/bystanders/moderation")).text
        assert "ruth" not in seen
    finally:
        for browser in (reporter, owner, bystander):
            await browser.client.aclose()
