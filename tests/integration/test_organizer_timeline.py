"""The organizer timeline (coalitions/timeline.py): what the actors a coalition follows posted or boosted.

The rows are written straight into the database, as the inbox would store them, so each rule of the
query is visible on its own: who counts as followed, which posts show, in which order, and who boosted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fedihub.coalitions.timeline import TimelineEntry, organizer_timeline
from fedihub.storage.models import Actor, Follow, Reaction, StoredObject
from tests.support.edges import read
from tests.support.network import Instance

T0 = datetime(2031, 3, 1, 12, tzinfo=UTC)


class Fediverse:
    """Remote actors, follows, posts and boosts in one instance's database."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.count = 0

    async def add(self, *rows: object) -> None:
        async with self.instance.ctx.sessions.begin() as session:
            session.add_all(rows)

    async def actor(self, name: str, host: str = "b.test") -> Actor:
        row = Actor(
            uri=f"http://{host}/users/{name}", type="Group", username=name, domain=host, is_local=False,
            name=name.title(), inbox=f"http://{host}/users/{name}/inbox", created_at=T0, updated_at=T0,
        )
        await self.add(row)
        return row

    async def follow(self, follower: Actor, target: Actor, state: str = "accepted") -> None:
        await self.add(Follow(
            uri=f"{follower.uri}/follows/{target.username}", follower_id=follower.id, target_id=target.id,
            state=state, created_at=T0, updated_at=T0,
        ))

    async def post(self, author: Actor, text: str, *, minutes: int, visibility: str = "public",
                   deleted: bool = False) -> StoredObject:
        self.count += 1
        uri = f"{author.uri}/statuses/{self.count}"
        row = StoredObject(
            uri=uri, type="Note", attributed_to_id=author.id, visibility=visibility, content=f"<p>{text}</p>",
            published=T0 + timedelta(minutes=minutes), deleted_at=T0 if deleted else None,
            data={"id": uri, "type": "Note"}, created_at=T0,
        )
        await self.add(row)
        return row

    async def react(self, actor: Actor, post: StoredObject, kind: str = "Announce") -> None:
        self.count += 1
        await self.add(Reaction(
            uri=f"{actor.uri}/activities/{self.count}", type=kind, actor_id=actor.id, object_uri=post.uri,
            created_at=T0,
        ))


@pytest.fixture
def fediverse(a: Instance) -> Fediverse:
    return Fediverse(a)


def texts(entries: list[TimelineEntry]) -> list[str]:
    return [entry.row.content or "" for entry in entries]


async def test_posts_of_followed_actors_come_newest_first(a: Instance, tenants: Actor, fediverse: Fediverse) -> None:
    climate, stranger = await fediverse.actor("climate"), await fediverse.actor("stranger", "x.test")
    await fediverse.follow(tenants, climate)
    await fediverse.post(climate, "first", minutes=1)
    await fediverse.post(climate, "second", minutes=2)
    await fediverse.post(stranger, "not followed", minutes=3)

    timeline = await read(a.ctx, organizer_timeline, tenants.id)

    assert texts(timeline) == ["<p>second</p>", "<p>first</p>"]
    assert all(entry.boosted_by == [] for entry in timeline)


async def test_only_accepted_follows_count_and_only_public_or_unlisted_posts_that_still_exist(
    a: Instance, tenants: Actor, fediverse: Fediverse
) -> None:
    climate, waiting = await fediverse.actor("climate"), await fediverse.actor("waiting")
    await fediverse.follow(tenants, climate)
    await fediverse.follow(tenants, waiting, state="pending")
    await fediverse.post(waiting, "not accepted yet", minutes=1)
    await fediverse.post(climate, "public", minutes=2)
    await fediverse.post(climate, "unlisted", minutes=3, visibility="unlisted")
    await fediverse.post(climate, "followers only", minutes=4, visibility="followers")
    await fediverse.post(climate, "deleted", minutes=5, deleted=True)

    timeline = await read(a.ctx, organizer_timeline, tenants.id)

    assert texts(timeline) == ["<p>unlisted</p>", "<p>public</p>"]


async def test_what_a_followed_hub_boosted_shows_with_the_hubs_that_boosted_it(
    a: Instance, tenants: Actor, fediverse: Fediverse
) -> None:
    hub, other_hub = await fediverse.actor("illinois", "h.test"), await fediverse.actor("midwest", "m.test")
    stranger, unfollowed = await fediverse.actor("peoria", "p.test"), await fediverse.actor("someone", "s.test")
    await fediverse.follow(tenants, hub)
    await fediverse.follow(tenants, other_hub)
    carried = await fediverse.post(stranger, "carried by two hubs", minutes=1)
    liked = await fediverse.post(stranger, "only liked", minutes=2)
    elsewhere = await fediverse.post(stranger, "boosted by someone we do not follow", minutes=3)
    await fediverse.react(hub, carried)
    await fediverse.react(other_hub, carried)
    await fediverse.react(hub, liked, kind="Like")
    await fediverse.react(unfollowed, elsewhere)

    timeline = await read(a.ctx, organizer_timeline, tenants.id)

    assert [(entry.row.uri, entry.boosted_by) for entry in timeline] == [(carried.uri, ["Illinois", "Midwest"])]


async def test_the_timeline_stops_at_its_limit(a: Instance, tenants: Actor, fediverse: Fediverse) -> None:
    climate = await fediverse.actor("climate")
    await fediverse.follow(tenants, climate)
    for minute in range(5):
        await fediverse.post(climate, f"post {minute}", minutes=minute)

    timeline = await read(a.ctx, organizer_timeline, tenants.id, limit=3)

    assert texts(timeline) == ["<p>post 4</p>", "<p>post 3</p>", "<p>post 2</p>"]


async def test_a_coalition_that_follows_nobody_has_an_empty_timeline(
    a: Instance, tenants: Actor, fediverse: Fediverse
) -> None:
    climate = await fediverse.actor("climate")
    await fediverse.post(climate, "nobody here follows us", minutes=1)

    assert await read(a.ctx, organizer_timeline, tenants.id) == []
