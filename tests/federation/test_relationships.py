"""Coalitions on several instances: following, approval, unfollowing, profiles, posts and deletion."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from fedihub.coalitions import service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.storage.models import Activity, Actor, Delivery, Follow, StoredObject
from tests.support.edges import committed, read
from tests.support.network import FederationNet, Instance

AS2 = {"Accept": "application/activity+json"}


async def follow_state(instance: Instance, follower_uri: str, target_uri: str) -> str | None:
    """The state of the follow as ``instance`` records it, or None when it knows of none."""
    async with instance.ctx.sessions() as session:
        follower = await session.scalar(select(Actor.id).where(Actor.uri == follower_uri))
        target = await session.scalar(select(Actor.id).where(Actor.uri == target_uri))
        return await session.scalar(
            select(Follow.state).where(Follow.follower_id == follower, Follow.target_id == target)
        )


async def stored(instance: Instance, uri: str) -> StoredObject | None:
    async with instance.ctx.sessions() as session:
        return await session.scalar(select(StoredObject).where(StoredObject.uri == uri))


async def cached_actor(instance: Instance, uri: str) -> Actor | None:
    async with instance.ctx.sessions() as session:
        return await session.scalar(select(Actor).where(Actor.uri == uri))


async def follower_count(instance: Instance, username: str) -> int:
    """``totalItems`` of the followers collection, as any peer would read it."""
    response = await instance.get(f"/g/{username}/followers", headers=AS2)
    assert response.status_code == 200
    return response.json()["totalItems"]


async def deliveries_of(instance: Instance, activity_uri: str) -> list[Delivery]:
    async with instance.ctx.sessions() as session:
        activity_id = await session.scalar(select(Activity.id).where(Activity.uri == activity_uri))
        return list((await session.scalars(select(Delivery).where(Delivery.activity_id == activity_id))).all())


class Wiretap(httpx.AsyncBaseTransport):
    """Passes requests on to a host's transport and remembers them, as a packet capture would."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def inbox_posts(self) -> int:
        return sum(1 for r in self.requests if r.method == "POST" and r.url.path.endswith("inbox"))


def wiretap(net: FederationNet, host: str) -> Wiretap:
    tap = Wiretap(net.hosts[host])
    net.hosts[host] = tap
    return tap


@pytest.mark.all_backends  # an end-to-end drill between servers
async def test_follow_post_unfollow_and_delete_between_two_instances(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    climate = await committed(b.ctx, service.create_coalition, "climate", name="Climate Coalition")

    await committed(b.ctx, follows.follow, "climate", await resolve_target(b.ctx, "tenants@a.test"))
    assert await follower_count(a, "tenants") == 0
    await net.settle()
    assert await follow_state(b, climate.uri, tenants.uri) == "accepted"
    assert await follow_state(a, climate.uri, tenants.uri) == "accepted"
    assert await follower_count(a, "tenants") == 1

    note = await committed(a.ctx, service.post_note, "tenants", "Rent strike meeting on *Thursday*")
    await net.settle()
    received = await stored(b, note.uri)
    assert received is not None and "<em>Thursday</em>" in (received.content or "")

    await committed(a.ctx, service.delete_object, note.uri)
    await net.settle()
    received = await stored(b, note.uri)
    assert received is not None and received.deleted_at is not None
    gone = await a.get(note.uri.removeprefix(a.base_url), headers=AS2)
    assert gone.status_code == 410 and gone.json()["type"] == "Tombstone"

    await committed(b.ctx, follows.unfollow, "climate", await resolve_target(b.ctx, "tenants@a.test"))
    await net.settle()
    assert await follow_state(a, climate.uri, tenants.uri) is None
    assert await follow_state(b, climate.uri, tenants.uri) is None
    assert await follower_count(a, "tenants") == 0

    after = await committed(a.ctx, service.post_note, "tenants", "Nobody follows us from b.test any more")
    await net.settle()
    assert await stored(b, after.uri) is None
    assert await deliveries_of(a, f"{after.uri}/activity") == []


async def test_a_profile_update_reaches_the_followers_cached_copy(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    await committed(b.ctx, service.create_coalition, "climate", name="Climate Coalition")
    await committed(b.ctx, follows.follow, "climate", await resolve_target(b.ctx, "tenants@a.test"))
    await net.settle()
    cached = await cached_actor(b, tenants.uri)
    assert cached is not None and cached.name == "Tenants Union"

    await committed(
        a.ctx, service.update_profile, "tenants", name="Bay Area Tenants Union", summary="We organise *buildings*."
    )
    await net.settle()

    cached = await cached_actor(b, tenants.uri)
    assert cached is not None
    assert cached.name == "Bay Area Tenants Union"
    assert "<em>buildings</em>" in (cached.summary or "")


async def test_a_post_reaches_followers_on_two_other_instances_with_one_delivery_each(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    c = await net.add_instance("c.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    for instance, handles in ((b, ("climate", "wages")), (c, ("housing",))):
        for handle in handles:
            await committed(instance.ctx, service.create_coalition, handle, name=handle.title())
            await committed(instance.ctx, follows.follow, handle, await resolve_target(instance.ctx, "tenants@a.test"))
    await net.settle()
    assert await follower_count(a, "tenants") == 3
    taps = {peer.host: wiretap(net, peer.host) for peer in (b, c)}

    note = await committed(a.ctx, service.post_note, "tenants", "General assembly on Saturday")
    await net.settle()

    for peer in (b, c):
        received = await stored(peer, note.uri)
        assert received is not None and received.author.uri == tenants.uri
    # Two followers on b.test share its inbox: one signed POST per server, not per follower.
    deliveries = await deliveries_of(a, f"{note.uri}/activity")
    assert sorted(d.inbox_url for d in deliveries) == ["http://b.test/inbox", "http://c.test/inbox"]
    assert all(d.state == "delivered" and d.attempts == 1 for d in deliveries)
    assert {host: tap.inbox_posts() for host, tap in taps.items()} == {"b.test": 1, "c.test": 1}


async def test_a_coalition_that_approves_followers_holds_the_request_until_approved(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    tenants = await committed(
        a.ctx, service.create_coalition, "tenants", name="Tenants Union", manually_approves_followers=True
    )
    climate = await committed(b.ctx, service.create_coalition, "climate", name="Climate Coalition")

    await committed(b.ctx, follows.follow, "climate", await resolve_target(b.ctx, "tenants@a.test"))
    await net.settle()
    assert await follow_state(a, climate.uri, tenants.uri) == "pending"
    assert await follow_state(b, climate.uri, tenants.uri) == "pending"
    assert [r.follower.uri for r in await read(a.ctx, follows.pending_requests, "tenants")] == [climate.uri]
    assert await follower_count(a, "tenants") == 0

    # A pending follower gets nothing: the coalition has not consented yet.
    early = await committed(a.ctx, service.post_note, "tenants", "Members only so far")
    await net.settle()
    assert await stored(b, early.uri) is None

    await committed(
        a.ctx, follows.decide_request, "tenants", await resolve_target(a.ctx, "climate@b.test"), approve=True
    )
    await net.settle()
    assert await follow_state(a, climate.uri, tenants.uri) == "accepted"
    assert await follow_state(b, climate.uri, tenants.uri) == "accepted"
    assert await read(a.ctx, follows.pending_requests, "tenants") == []

    note = await committed(a.ctx, service.post_note, "tenants", "Welcome, climate coalition")
    await net.settle()
    assert await stored(b, note.uri) is not None


async def test_a_rejected_follow_request_disappears_on_both_sides(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    tenants = await committed(
        a.ctx, service.create_coalition, "tenants", name="Tenants Union", manually_approves_followers=True
    )
    climate = await committed(b.ctx, service.create_coalition, "climate", name="Climate Coalition")
    await committed(b.ctx, follows.follow, "climate", await resolve_target(b.ctx, "tenants@a.test"))
    await net.settle()
    assert await follow_state(b, climate.uri, tenants.uri) == "pending"

    await committed(
        a.ctx, follows.decide_request, "tenants", await resolve_target(a.ctx, "climate@b.test"), approve=False
    )
    await net.settle()

    assert await follow_state(a, climate.uri, tenants.uri) is None
    assert await follow_state(b, climate.uri, tenants.uri) is None
    assert await read(a.ctx, follows.pending_requests, "tenants") == []
    # Rejected is not blocked: the coalition may ask again.
    await committed(b.ctx, follows.follow, "climate", await resolve_target(b.ctx, "tenants@a.test"))
    await net.settle()
    assert await follow_state(a, climate.uri, tenants.uri) == "pending"


async def test_deleting_a_coalition_tells_every_server_that_knows_it(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    c = await net.add_instance("c.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    climate = await committed(b.ctx, service.create_coalition, "climate", name="Climate Coalition")
    housing = await committed(c.ctx, service.create_coalition, "housing", name="Housing Now")
    await committed(b.ctx, follows.follow, "climate", await resolve_target(b.ctx, "tenants@a.test"))  # a follower
    # someone it follows
    await committed(
        a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "housing@c.test")
    )
    await net.settle()
    note = await committed(a.ctx, service.post_note, "tenants", "Our last meeting")
    await net.settle()
    assert (await stored(b, note.uri)) is not None

    await committed(a.ctx, service.delete_coalition, "tenants")
    await net.settle()

    for peer in (b, c):
        copy = await cached_actor(peer, tenants.uri)
        assert copy is not None and copy.deleted_at is not None, peer.host
    assert await follow_state(b, climate.uri, tenants.uri) is None
    assert await follow_state(c, tenants.uri, housing.uri) is None
    assert await follower_count(c, "housing") == 0
    received = await stored(b, note.uri)
    assert received is not None and received.deleted_at is not None
    for path in ("/g/tenants", "/g/tenants/outbox", "/g/tenants/followers"):
        assert (await a.get(path, headers=AS2)).status_code == 410, path
    assert (await a.get("/g/tenants")).status_code == 410  # the HTML page too
    assert (await a.get("/.well-known/webfinger", params={"resource": "acct:tenants@a.test"})).status_code == 410
    note_path = note.uri.removeprefix(a.base_url)
    assert (await a.get(note_path, headers=AS2)).status_code == 410
    assert (await a.get(f"{note_path}/activity", headers=AS2)).status_code == 410


async def test_two_coalitions_on_one_instance_follow_each_other_without_http(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    climate = await committed(a.ctx, service.create_coalition, "climate", name="Climate Coalition")

    tap = wiretap(net, "a.test")
    await committed(a.ctx, follows.follow, "climate", await resolve_target(a.ctx, "tenants@a.test"))
    await net.settle()
    assert await follow_state(a, climate.uri, tenants.uri) == "accepted"
    assert await follower_count(a, "tenants") == 1
    following = await a.get("/g/climate/following", headers=AS2)
    assert following.json()["totalItems"] == 1

    await committed(a.ctx, service.post_note, "tenants", "Local news")
    await net.settle()
    async with a.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert tap.requests == []

    await committed(a.ctx, follows.unfollow, "climate", await resolve_target(a.ctx, "tenants@a.test"))
    await net.settle()
    assert await follow_state(a, climate.uri, tenants.uri) is None
    assert await follower_count(a, "tenants") == 0
