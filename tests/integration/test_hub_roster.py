"""A hub's public roster is paged: 50 members a page, as HTML (?page=N) and as an AS2 OrderedCollection."""

from __future__ import annotations

import re

import pytest

from fedihub.federation.actors import resolve_target
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor, CoalitionProfile, Follow
from tests.integration.helpers import AS2, BROWSER
from tests.support.edges import committed
from tests.support.network import Instance

MEMBERS = 120


@pytest.fixture
async def big_hub(a: Instance) -> Actor:
    """A national hub with 120 accepted members (remote coalitions, stored directly)."""
    hub = await committed(a.ctx, hubs.create_hub, "national", name="National Hub", scope="national")
    now = a.ctx.clock()
    async with a.ctx.sessions.begin() as session:
        for n in range(MEMBERS):
            member = Actor(
                uri=f"http://m{n:03d}.test/g/coalition", type="Group", username="coalition", domain=f"m{n:03d}.test",
                name=f"Coalition {n:03d}", url=f"http://m{n:03d}.test/g/coalition",
                profile=CoalitionProfile(region_state="Ohio", movements=["Tenants"]), created_at=now, updated_at=now,
            )
            session.add(member)
            await session.flush()
            session.add(Follow(uri=f"http://a.test/a/follow-{n}", follower_id=hub.id, target_id=member.id,
                               state="accepted", created_at=now, updated_at=now))
    return hub


def names(page: str) -> list[str]:
    return re.findall(r">(Coalition \d{3})</a>", page)


async def test_the_collection_embeds_its_first_page_and_links_the_next(a: Instance, big_hub: Actor) -> None:
    response = await a.get("/g/national/members", headers={"Accept": AS2})
    roster = response.json()

    assert response.headers["content-type"].startswith("application/activity+json")
    assert (roster["type"], roster["id"], roster["totalItems"]) == (
        "OrderedCollection", "http://a.test/g/national/members", MEMBERS,
    )
    first = roster["first"]
    assert (first["type"], first["id"], first["partOf"]) == (
        "OrderedCollectionPage", "http://a.test/g/national/members?page=1", roster["id"],
    )
    assert len(first["orderedItems"]) == 50 and first["next"] == "http://a.test/g/national/members?page=2"
    assert "prev" not in first
    assert first["orderedItems"][0] == {
        "id": "http://m000.test/g/coalition", "type": "Group", "name": "Coalition 000",
        "preferredUsername": "coalition", "url": "http://m000.test/g/coalition", "fedihub:region": "Ohio",
        "location": {"type": "Place", "name": "Ohio", "address": {"type": "PostalAddress", "addressRegion": "Ohio"}},
        "tag": [{"type": "Hashtag", "name": "#Tenants"}],
    }
    assert {"fedihub": "https://fedihub.example/ns#"} in roster["@context"]


async def test_following_next_walks_every_member_once(a: Instance, big_hub: Actor) -> None:
    seen: list[str] = []
    url: str | None = "http://a.test/g/national/members?page=1"
    pages = []
    while url:
        page = (await a.get(url.removeprefix("http://a.test"), headers={"Accept": AS2})).json()
        pages.append(page)
        assert page["partOf"] == "http://a.test/g/national/members" and page["totalItems"] == MEMBERS
        seen += [item["id"] for item in page["orderedItems"]]
        url = page.get("next")

    assert [len(p["orderedItems"]) for p in pages] == [50, 50, 20]
    assert pages[2]["prev"] == "http://a.test/g/national/members?page=2"
    assert len(seen) == len(set(seen)) == MEMBERS
    beyond = (await a.get("/g/national/members?page=4", headers={"Accept": AS2})).json()
    assert beyond["orderedItems"] == [] and "next" not in beyond
    assert (await a.get("/g/national/members?page=0", headers={"Accept": AS2})).status_code == 404


async def test_the_hub_page_shows_fifty_members_with_links_to_the_others(a: Instance, big_hub: Actor) -> None:
    first = await a.get("/g/national", headers={"Accept": BROWSER})
    last = await a.get("/g/national?page=3", headers={"Accept": BROWSER})

    assert names(first.text) == [f"Coalition {n:03d}" for n in range(50)]
    assert "Members 1–50 of 120" in first.text and 'href="?page=2#roster" rel="next"' in first.text
    assert 'rel="prev"' not in first.text
    assert names(last.text) == [f"Coalition {n:03d}" for n in range(100, 120)]
    assert "Members 101–120 of 120" in last.text and 'href="?page=2#roster" rel="prev"' in last.text
    assert 'rel="next"' not in last.text
    assert (await a.get("/g/national?page=abc", headers={"Accept": BROWSER})).status_code == 404


async def test_a_small_roster_has_no_page_links(a: Instance, tenants: Actor) -> None:
    await committed(a.ctx, hubs.create_hub, "city", name="City Hub", scope="local")
    await committed(a.ctx, hubs.add_member, "city", await resolve_target(a.ctx, "tenants@a.test"))

    page = (await a.get("/g/city", headers={"Accept": BROWSER})).text
    roster = (await a.get("/g/city/members", headers={"Accept": AS2})).json()

    assert "No members yet." in page and "Pages of members" not in page  # asked, not accepted yet
    assert roster["totalItems"] == 0 and roster["first"]["orderedItems"] == [] and "next" not in roster["first"]
