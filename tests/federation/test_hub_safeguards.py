"""Hub safeguards, each tested as the attack: a member's flood, repeated boosts and pledges, a neighbour's
Delete, followers-only and many-group posts, and a paused member."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fedihub.coalitions import calls, service
from fedihub.errors import NotFound
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.federation.outbox import publish
from fedihub.hubs import review
from fedihub.hubs import service as hubs
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.protocol import builders
from fedihub.protocol.vocab import PUBLIC
from fedihub.storage.models import Activity, Actor, Boost, Delivery, HeldPost, Pledge
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

HUB = "http://s.test/g/state-hub"


async def _add_peer_member(net: FederationNet, s: Instance, peer: FakePeer, account: FakeAccount) -> None:
    """The hub asks ``account`` to let it follow; the fake server accepts, as Mastodon does at once."""
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, account.handle))
    await net.settle()
    follow = next(f for f in peer.received("Follow") if f["object"] == account.id)
    assert (await peer.send(s, peer.build_accept(account, follow))).status_code == 202
    await net.settle()


async def _follow(net: FederationNet, instance: Instance, peer: FakePeer, account: FakeAccount, target: str) -> None:
    assert (await peer.send(instance, peer.build_follow(account, target))).status_code == 202
    await net.settle()


@pytest.fixture
async def s(net: FederationNet) -> Instance:
    instance = await net.add_instance("s.test")
    await committed(instance.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state")
    return instance


@pytest.fixture
def origin(net: FederationNet, fixtures_dir: Path) -> FakePeer:
    """The member's server: alice is the member, mallory a neighbour on the same host."""
    return add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice", "mallory"))


@pytest.fixture
def watchers(net: FederationNet, fixtures_dir: Path) -> FakePeer:
    """Where the hubs' followers are: what reaches them is what the hubs sent."""
    return add_fake_peer(net, "watch.test", fixtures_dir, usernames=("watcher",))


@pytest.fixture
async def member_hub(net: FederationNet, s: Instance, origin: FakePeer, watchers: FakePeer) -> Instance:
    """alice is an accepted member of the state hub, and watcher follows the hub."""
    await _add_peer_member(net, s, origin, origin.accounts["alice"])
    await _follow(net, s, watchers, watchers.accounts["watcher"], HUB)
    return s


def _boosted(watchers: FakePeer, actor: str = HUB) -> list[str]:
    return [doc["object"] for doc in watchers.received("Announce") if doc["actor"] == actor]


async def _post(net: FederationNet, s: Instance, peer: FakePeer, create: dict[str, Any]) -> None:
    assert (await peer.send(s, create)).status_code == 202
    await net.settle()


async def _held(instance: Instance) -> list[review.HeldItem]:
    async with instance.ctx.sessions() as session:
        return await review.list_held_posts(session)


async def _all_deliveries(instance: Instance) -> list[str]:
    async with instance.ctx.sessions() as session:
        return list((await session.scalars(select(Delivery.inbox_url).order_by(Delivery.id))).all())


async def _deliveries(instance: Instance, activity_type: str) -> list[str]:
    """The inboxes this instance queued activities of ``activity_type`` for."""
    async with instance.ctx.sessions() as session:
        rows = await session.scalars(
            select(Delivery.inbox_url).join(Activity, Activity.id == Delivery.activity_id)
            .where(Activity.type == activity_type).order_by(Delivery.id)
        )
        return list(rows.all())


# --- A member's flood -------------------------------------------------------------------------------------


async def test_a_members_100_calls_in_a_burst_are_boosted_at_the_rate_and_the_rest_wait_for_review(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer
) -> None:
    s = member_hub
    # An upper hub re-boosts what the state hub boosts: the flood must not climb either.
    n = await net.add_instance("n.test")
    await committed(n.ctx, hubs.create_hub, "national-hub", name="National Hub", scope="national")
    await committed(n.ctx, hubs.add_member, "national-hub", await resolve_target(n.ctx, "state-hub@s.test"))
    await net.settle()
    await _follow(net, n, watchers, watchers.accounts["watcher"], "http://n.test/g/national-hub")
    alice = origin.accounts["alice"]

    creates = [origin.build_create(alice, object_type="Event") for _ in range(100)]
    for create in creates:
        origin.serve(create["object"])  # the upper hub checks each boosted call at its origin
        assert (await origin.send(s, create)).status_code == 202
    await net.settle()

    calls_sent = [create["object"]["id"] for create in creates]
    boosted = _boosted(watchers)
    assert len(boosted) == 4  # which four depends on the order the worker took them in
    assert sorted(_boosted(watchers, "http://n.test/g/national-hub")) == sorted(boosted)
    assert len(await _deliveries(s, "Announce")) == 4 * 3  # the follower, the national hub, the author
    held = await _held(s)
    assert len(held) == 96
    assert sorted([item.object_uri for item in held] + boosted) == sorted(calls_sent)
    assert {(item.hub.uri, item.member.uri, item.reason) for item in held} == {(HUB, alice.id, "rate")}
    assert all(item.object is not None and item.object.type == "Event" for item in held)

    # An hour later the member's next call is boosted again; what waits still waits.
    net.clock.advance(hours=1, minutes=1)
    later = origin.build_create(alice, object_type="Event")
    await _post(net, s, origin, later)
    assert _boosted(watchers)[-1] == later["object"]["id"]
    assert len(await _held(s)) == 96


async def test_the_review_list_is_bounded_per_member(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review, "MAX_WAITING_PER_MEMBER", 3)
    alice = origin.accounts["alice"]
    for _ in range(10):
        assert (await origin.send(member_hub, origin.build_create(alice))).status_code == 202
    await net.settle()

    assert len(_boosted(watchers)) == 4
    assert len(await _held(member_hub)) == 3


# --- Repeated Announces and Joins -------------------------------------------------------------------------


@pytest.fixture
async def called(net: FederationNet, fixtures_dir: Path) -> tuple[Instance, Instance, Any, FakePeer]:
    """a's tenants call an action; s's hub, which tenants follows, carries it; two accounts of masto.test
    follow tenants."""
    a = await net.add_instance("a.test")
    s = await net.add_instance("s.test")
    fans = add_fake_peer(net, "masto.test", fixtures_dir, usernames=("fan", "other"))
    await committed(a.ctx, service.create_coalition, "tenants", name="Tenants")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state")
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    # "Carried by" lists anchored hubs only: the organizers follow their hub, so its boost is news.
    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "state-hub@s.test"))
    for account in fans.accounts.values():
        await _follow(net, a, fans, account, "http://a.test/g/tenants")
    start = net.clock() + timedelta(days=10)
    call = await committed(a.ctx, calls.publish_call, "tenants", calls.CallInput(
        title="Rent strike", description="Everyone out.", start=start, end=start + timedelta(hours=2),
        timezone="America/Chicago", place_name="City Hall",
    ))
    await net.settle()
    return a, s, call, fans


def _roll_up_notices(peer: FakePeer) -> list[dict]:
    return [doc for doc in peer.inbox_posts if doc.type in ("Add", "Update", "Remove")
            and (doc.type != "Update" or doc.activity["object"].get("type") == "OrderedCollection")]


async def test_twenty_repeated_announces_of_a_call_send_its_roll_up_notice_once(
    net: FederationNet, called: tuple[Instance, Instance, Any, FakePeer]
) -> None:
    a, s, call, fans = called
    assert _roll_up_notices(fans) != []  # the hub's first boost told the call's audience it carries it
    notices_before = _roll_up_notices(fans)
    deliveries_before = len(await _deliveries(a, "Update"))

    # The hub's server sends the same boost again under new ids, and undoes and redoes it.
    async with s.ctx.sessions.begin() as session:
        hub = await session.scalar(select(Actor).where(Actor.uri == HUB))
        assert hub is not None
        for number in range(20):
            announce = builders.build_announce(
                activity_id=f"{HUB}/again/{number}", actor=HUB, object_id=call.uri, published=net.clock(),
                to=[PUBLIC], cc=["http://a.test/g/tenants"],
            )
            await publish(s.ctx, session, actor=hub, activity=announce, inboxes=["http://a.test/g/tenants/inbox"])
            if number % 5 == 0:
                undo = builders.build_undo(activity_id=f"{HUB}/undo/{number}", actor=HUB, activity=announce,
                                           to=[PUBLIC])
                await publish(s.ctx, session, actor=hub, activity=undo, inboxes=["http://a.test/g/tenants/inbox"])
    await net.settle()

    assert _roll_up_notices(fans) == notices_before
    assert len(await _deliveries(a, "Update")) == deliveries_before


async def test_twenty_repeated_joins_of_a_call_tell_its_audience_once(
    net: FederationNet, called: tuple[Instance, Instance, Any, FakePeer]
) -> None:
    a, _s, call, fans = called
    b = await net.add_instance("b.test")
    await committed(b.ctx, service.create_coalition, "renters", name="Renters")
    await committed(b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri))
    await net.settle()
    adds = fans.received("Add")
    assert len(adds) == 1  # one shared inbox of masto.test heard of the pledge
    sent_before = len(await _deliveries(a, "Add"))
    accepts_before = await _deliveries(a, "Accept")
    all_before = await _all_deliveries(a)

    async with b.ctx.sessions.begin() as session:
        renters = await session.scalar(select(Actor).where(Actor.uri == "http://b.test/g/renters"))
        assert renters is not None
        for number in range(20):
            join = builders.build_join(activity_id=f"http://b.test/again/{number}", actor=renters.uri,
                                       object_id=call.uri, to=["http://a.test/g/tenants"])
            await publish(b.ctx, session, actor=renters, activity=join, inboxes=["http://a.test/g/tenants/inbox"])
    await net.settle()

    assert fans.received("Add") == adds
    assert len(await _deliveries(a, "Add")) == sent_before
    # Only the sender hears back: an Accept of each of its own Joins.
    new_accepts = (await _deliveries(a, "Accept"))[len(accepts_before):]
    assert len(new_accepts) == 20 and set(new_accepts) == {"http://b.test/g/renters/inbox"}
    assert set((await _all_deliveries(a))[len(all_before):]) == {"http://b.test/g/renters/inbox"}
    async with a.ctx.sessions() as session:
        pledged = await session.scalar(select(func.count()).select_from(Pledge).where(Pledge.call_uri == call.uri))
    assert pledged == 1


# --- A neighbour's Delete ---------------------------------------------------------------------------------


async def test_a_neighbour_on_the_same_host_cannot_make_the_hub_retract_a_members_call(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer
) -> None:
    s = member_hub
    alice, mallory = origin.accounts["alice"], origin.accounts["mallory"]
    create = origin.build_create(alice, object_type="Event")
    origin.serve(create["object"])  # alice's call is there for anyone who asks its server
    await _post(net, s, origin, create)
    call_id = create["object"]["id"]
    assert _boosted(watchers) == [call_id]

    # mallory, a neighbour on masto.test, sends a Delete of alice's call, signed with her own key.
    forged = origin.build_delete(mallory, call_id)
    forged["id"] = f"{mallory.id}#deletes/1"
    await _post(net, s, origin, forged)

    assert watchers.received("Undo") == []
    async with s.ctx.sessions() as session:
        boost = await session.scalar(select(Boost).where(Boost.object_uri == call_id))
        assert boost is not None and boost.undone_at is None
    assert origin.fetches_of(call_id) >= 1  # the origin was asked, and says the call is still there

    # alice's own Delete retracts it.
    del origin.documents[call_id]
    await _post(net, s, origin, origin.build_delete(alice, call_id))
    undos = watchers.received("Undo")
    assert [(undo["actor"], undo["object"]["object"]) for undo in undos] == [(HUB, call_id)]


async def test_a_delete_by_someone_else_retracts_only_when_the_origin_confirms_it_is_gone(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer
) -> None:
    """A moderator on the member's server removed the call: its origin answers 404, so the boost goes."""
    alice, mallory = origin.accounts["alice"], origin.accounts["mallory"]
    create = origin.build_create(alice, object_type="Event")
    await _post(net, member_hub, origin, create)  # not served: the origin answers 404 for it
    call_id = create["object"]["id"]

    removal = origin.build_delete(mallory, call_id)
    removal["id"] = f"{mallory.id}#deletes/1"
    await _post(net, member_hub, origin, removal)

    assert [undo["object"]["object"] for undo in watchers.received("Undo")] == [call_id]


# --- What is never boosted ----------------------------------------------------------------------------------


def _addressed(create: dict[str, Any], to: list[str], cc: list[str], **extra: Any) -> dict[str, Any]:
    create["to"], create["cc"] = to, cc
    create["object"].update(to=to, cc=cc, **extra)
    return create


async def test_a_followers_only_post_is_never_boosted_nor_held(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer
) -> None:
    alice = origin.accounts["alice"]
    private = _addressed(origin.build_create(alice, object_type="Event"), [alice.followers], [])
    await _post(net, member_hub, origin, private)
    # Every spelling of the Public collection is public (AS2 §5.6, and JSON-LD compaction's "as:Public").
    spelled = [
        _addressed(origin.build_create(alice), ["as:Public"], [alice.followers]),
        _addressed(origin.build_create(alice), [alice.followers], ["Public"]),
    ]
    for create in spelled:
        await _post(net, member_hub, origin, create)

    assert _boosted(watchers) == [create["object"]["id"] for create in spelled]
    assert await _held(member_hub) == []


async def test_a_post_addressed_to_twenty_groups_is_never_boosted(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer
) -> None:
    s = member_hub
    groups = []
    for number in range(20):
        group = await committed(s.ctx, service.create_coalition, f"group{number}", name=f"Group {number}")
        groups.append(group.uri)
    alice = origin.accounts["alice"]
    blast = _addressed(origin.build_create(alice, object_type="Event"), [PUBLIC], [alice.followers, *groups[:10]],
                       tag=[{"type": "Mention", "href": uri, "name": "@g"} for uri in groups[10:]])
    await _post(net, s, origin, blast)
    # Five groups (the default limit) is an ordinary call addressed to its partners.
    partners = _addressed(origin.build_create(alice, object_type="Event"), [PUBLIC], [alice.followers],
                          audience=groups[:5])
    await _post(net, s, origin, partners)

    assert _boosted(watchers) == [partners["object"]["id"]]
    assert await _held(s) == []


# --- A paused member ----------------------------------------------------------------------------------------


async def test_a_paused_members_posts_are_not_boosted_until_resumed(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer
) -> None:
    s = member_hub
    alice = origin.accounts["alice"]
    member = await resolve_target(s.ctx, alice.id)
    assert await committed(s.ctx, hubs.pause_member, "state-hub", member) is True

    paused = origin.build_create(alice, object_type="Event")
    await _post(net, s, origin, paused)
    assert _boosted(watchers) == []
    assert [(item.object_uri, item.reason) for item in await _held(s)] == [(paused["object"]["id"], "paused")]

    assert await committed(s.ctx, hubs.resume_member, "state-hub", member) is True
    resumed = origin.build_create(alice, object_type="Event")
    await _post(net, s, origin, resumed)
    assert _boosted(watchers) == [resumed["object"]["id"]]
    assert len(await _held(s)) == 1  # what waited still waits for an admin


@pytest.mark.usefixtures("cheap_password_hashing")
async def test_the_instance_admins_see_every_held_post_on_the_moderation_page(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer
) -> None:
    s = member_hub
    alice = origin.accounts["alice"]
    await committed(s.ctx, hubs.pause_member, "state-hub", await resolve_target(s.ctx, alice.id))
    held = origin.build_create(alice, object_type="Event")
    await _post(net, s, origin, held)

    root = await organizer(s, "root", is_admin=True)
    try:
        page = (await root.get("/admin/moderation")).text
    finally:
        await root.client.aclose()
    assert "No posts are held." not in page
    assert held["object"]["id"] in page and "Illinois Hub" in page
    assert 'href="/manage/state-hub/review"' in page


async def test_removing_a_member_empties_its_review_list(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer
) -> None:
    s = member_hub
    member = await resolve_target(s.ctx, origin.accounts["alice"].id)
    await committed(s.ctx, hubs.pause_member, "state-hub", member)
    await _post(net, s, origin, origin.build_create(origin.accounts["alice"]))
    assert len(await _held(s)) == 1

    await committed(s.ctx, hubs.remove_member, "state-hub", member)

    assert await _held(s) == []
    async with s.ctx.sessions() as session:
        assert await session.scalar(select(HeldPost.decision)) == "discarded"


async def test_a_held_post_its_owner_deletes_leaves_the_review_list_and_cannot_be_boosted(
    net: FederationNet, member_hub: Instance, origin: FakePeer, watchers: FakePeer
) -> None:
    s = member_hub
    alice = origin.accounts["alice"]
    await committed(s.ctx, hubs.pause_member, "state-hub", await resolve_target(s.ctx, alice.id))
    kept, deleted = origin.build_create(alice), origin.build_create(alice)
    for create in (kept, deleted):
        await _post(net, s, origin, create)
    held = {item.object_uri: item.id for item in await _held(s)}

    await _post(net, s, origin, origin.build_delete(alice, deleted["object"]["id"]))

    assert [item.object_uri for item in await _held(s)] == [kept["object"]["id"]]
    with pytest.raises(NotFound):
        await committed(s.ctx, hubs.decide_held, "state-hub", held[deleted["object"]["id"]], boost=True)
    assert await committed(s.ctx, hubs.decide_held, "state-hub", held[kept["object"]["id"]], boost=True) == "boosted"
    await net.settle()
    assert _boosted(watchers) == [kept["object"]["id"]]
