"""Followers, follow requests, following other coalitions, the timeline, and delivery health, from the pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from fedihub.coalitions import calls, service
from fedihub.coalitions.profile import parse_profile_form, save_profile
from fedihub.storage.models import Actor, Follow
from tests.integration.helpers import count_rows, find_follow, followed_by
from tests.integration.manage_helpers import field_error, notice, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
async def ada(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "ada", tenants, "admin")
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def b(net: FederationNet) -> Instance:
    """A second fedihub server, with a climate coalition."""
    instance = await net.add_instance("b.test")
    await committed(instance.ctx, service.create_coalition, "climate", name="Climate Action Now")
    return instance


async def lock(instance: Instance, username: str, name: str) -> None:
    await committed(
        instance.ctx, save_profile, username, parse_profile_form({"name": name, "manually_approves_followers": "on"})
    )


# --- Follow requests and followers ----------------------------------------------------------------


async def test_an_admin_approves_one_request_and_rejects_another(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, ada: Browser
) -> None:
    await lock(a, "tenants", "Tenants Union")
    alice, bob = peer.accounts["alice"], peer.accounts["bob"]
    await followed_by(net, a, peer, tenants.uri, alice, bob)

    page = await ada.get("/manage/tenants/requests")
    assert "alice@masto.test" in page.text and "bob@masto.test" in page.text
    assert "2 follow requests waiting" in (await ada.get("/manage/tenants")).text

    approved = await ada.submit("/manage/tenants/requests", "/manage/tenants/requests/approve", {"actor": alice.id})
    rejected = await ada.submit("/manage/tenants/requests", "/manage/tenants/requests/reject", {"actor": bob.id})
    await net.settle()

    assert (approved.status_code, rejected.status_code) == (303, 303)
    assert notice(await ada.get(rejected.headers["location"])) == "Request rejected."
    [accept] = peer.received("Accept")
    [reject] = peer.received("Reject")
    assert (accept["object"]["actor"], reject["object"]["actor"]) == (alice.id, bob.id)
    assert "No follow requests are waiting." in (await ada.get("/manage/tenants/requests")).text
    followers = (await ada.get("/manage/tenants/followers")).text
    assert "alice@masto.test" in followers and "bob@masto.test" not in followers


async def test_removing_a_follower_tells_their_server(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, ada: Browser
) -> None:
    alice = peer.accounts["alice"]
    await followed_by(net, a, peer, tenants.uri, alice)

    response = await ada.submit("/manage/tenants/followers", "/manage/tenants/followers/remove", {"actor": alice.id})
    await net.settle()

    assert response.status_code == 303
    assert notice(await ada.get(response.headers["location"])) == "Follower removed. Their server has been told."
    [reject] = peer.received("Reject")
    assert reject["object"]["type"] == "Follow" and reject["object"]["actor"] == alice.id
    assert await count_rows(a, Follow) == 0
    assert "No followers yet" in (await ada.get("/manage/tenants/followers")).text


# --- Following other coalitions --------------------------------------------------------------------


@pytest.mark.parametrize("target", ["@climate@b.test", "climate@b.test", "http://b.test/g/climate"])
async def test_an_admin_follows_a_coalition_on_another_server_by_handle_or_address(
    net: FederationNet, a: Instance, b: Instance, tenants: Actor, ada: Browser, target: str
) -> None:
    response = await ada.submit("/manage/tenants/following", "/manage/tenants/following", {"target": target})

    assert response.status_code == 303
    waiting = await ada.get(response.headers["location"])
    assert "Climate Action Now" in waiting.text and "Waiting for them to accept" in waiting.text

    await net.settle()  # b.test accepts at once

    follow = await find_follow(a, tenants.uri, "http://b.test/g/climate")
    assert follow is not None and follow.state == "accepted"
    assert ">Following<" in (await ada.get("/manage/tenants/following")).text


async def test_the_overview_shows_calls_and_posts_of_followed_coalitions(
    net: FederationNet, a: Instance, b: Instance, tenants: Actor, ada: Browser
) -> None:
    await ada.submit("/manage/tenants/following", "/manage/tenants/following", {"target": "climate@b.test"})
    await net.settle()

    await committed(b.ctx, service.post_note, "climate", "Join the **climate strike** committee")
    net.clock.advance(minutes=5)  # published times travel in whole seconds
    start = datetime(2031, 9, 20, 16, tzinfo=UTC)
    await committed(b.ctx, calls.publish_call, "climate", calls.CallInput(
        title="Climate strike", description="Walk out at noon.", start=start, end=start + timedelta(hours=3),
        timezone="Europe/Berlin", place_name="Alexanderplatz", address=None, online_url=None, movements=["Climate"],
    ))
    await net.settle()

    page = (await ada.get("/manage/tenants")).text
    timeline = page.split('id="timeline-heading"')[1]
    assert "Climate strike" in timeline and "Alexanderplatz" in timeline
    assert "<strong>climate strike</strong>" in timeline
    assert "Climate Action Now" in timeline and "@climate@b.test" in timeline
    # The newest first: the call was published after the post.
    assert timeline.index("Climate strike") < timeline.index("committee")


async def test_nothing_from_unfollowed_coalitions_is_in_the_timeline(
    net: FederationNet, a: Instance, b: Instance, tenants: Actor, ada: Browser
) -> None:
    await committed(a.ctx, service.post_note, "tenants", "Our own news")
    page = (await ada.get("/manage/tenants")).text
    assert "Our own news" not in page.split('id="timeline-heading"')[1]
    assert "Follow other coalitions" in page


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("not a handle", "is not a handle"),
        ("nobody@b.test", "b.test"),
        ("someone@offline.test", "offline.test"),
        ("", "give the handle"),
    ],
)
async def test_a_handle_that_cannot_be_followed_is_explained_next_to_the_field(
    a: Instance, b: Instance, ada: Browser, target: str, words: str
) -> None:
    response = await ada.submit("/manage/tenants/following", "/manage/tenants/following", {"target": target})

    assert response.status_code >= 400
    error = field_error(response, "follow-target")
    assert error is not None and words in error, error
    assert f'value="{target}"' in response.text
    assert await count_rows(a, Follow) == 0


async def test_following_twice_is_explained(net: FederationNet, a: Instance, b: Instance, ada: Browser) -> None:
    await ada.submit("/manage/tenants/following", "/manage/tenants/following", {"target": "climate@b.test"})
    again = await ada.submit("/manage/tenants/following", "/manage/tenants/following", {"target": "climate@b.test"})

    assert again.status_code == 409
    assert "already follows" in (field_error(again, "follow-target") or "")


async def test_unfollowing_sends_undo(
    net: FederationNet, a: Instance, b: Instance, tenants: Actor, ada: Browser
) -> None:
    await ada.submit("/manage/tenants/following", "/manage/tenants/following", {"target": "climate@b.test"})
    await net.settle()

    response = await ada.submit(
        "/manage/tenants/following", "/manage/tenants/following/remove", {"actor": "http://b.test/g/climate"}
    )
    await net.settle()

    assert response.status_code == 303
    assert await count_rows(a, Follow) == 0
    assert await count_rows(b, Follow) == 0  # b.test got the Undo and dropped the follower
    assert "does not follow anyone yet" in (await ada.get("/manage/tenants/following")).text


async def test_editors_see_whom_the_coalition_follows_but_cannot_change_it(
    net: FederationNet, a: Instance, b: Instance, tenants: Actor, ada: Browser
) -> None:
    await ada.submit("/manage/tenants/following", "/manage/tenants/following", {"target": "climate@b.test"})
    eddie = await organizer(a, "eddie", tenants, "editor")
    try:
        page = await eddie.get("/manage/tenants/following")
    finally:
        await eddie.client.aclose()
    assert page.status_code == 200
    assert "Climate Action Now" in page.text
    assert "Follow a coalition" not in page.text and "Unfollow" not in page.text


# --- Delivery health -------------------------------------------------------------------------------


async def test_delivery_health_in_plain_words(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, ada: Browser, fixtures_dir: Path
) -> None:
    down = add_fake_peer(net, "down.test", fixtures_dir, usernames=("dana",))
    gone = add_fake_peer(net, "gone.test", fixtures_dir, usernames=("gus",))
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    await followed_by(net, a, down, tenants.uri, down.accounts["dana"])
    await followed_by(net, a, gone, tenants.uri, gone.accounts["gus"])
    net.add_handler("down.test", lambda request: httpx.Response(503))  # the server is having a bad day
    net.add_handler("gone.test", lambda request: httpx.Response(410))  # the account was deleted there

    await committed(a.ctx, service.post_note, "tenants", "Rent strike on Thursday")
    await net.settle()
    page = await ada.get("/manage/tenants/deliveries")

    assert page.status_code == 200
    rows = {row.split("</th>")[0].rsplit(">", 1)[-1]: row for row in page.text.split("<th scope=\"row\">")[1:]}
    assert "Having trouble" in rows["down.test"]
    assert "1 message waiting, being retried." in rows["down.test"]
    assert "Last problem: the server had a problem on its side (code 503)." in rows["down.test"]
    assert "Some messages were not delivered" in rows["gone.test"]
    assert "the account or inbox no longer exists there (code 410)" in rows["gone.test"]
    assert "Working" in rows["masto.test"] and "Last problem" not in rows["masto.test"]
    assert "2 messages delivered." in rows["masto.test"]  # the Accept of the follow, then the post
    # Problems are listed first.
    assert page.text.index("gone.test") < page.text.index("down.test") < page.text.index("masto.test")


async def test_delivery_health_before_anything_was_sent(ada: Browser) -> None:
    page = await ada.get("/manage/tenants/deliveries")
    assert "Nothing has been sent to other servers yet." in page.text


async def test_delivery_health_shows_only_this_coalitions_messages(
    net: FederationNet, a: Instance, tenants: Actor, ada: Browser, fixtures_dir: Path
) -> None:
    climate = await committed(a.ctx, service.create_coalition, "climate", name="Climate Action Now")
    elsewhere = add_fake_peer(net, "elsewhere.test", fixtures_dir, usernames=("eve",))
    await followed_by(net, a, elsewhere, climate.uri, elsewhere.accounts["eve"])
    await committed(a.ctx, service.post_note, "climate", "Climate news")
    await net.settle()

    page = await ada.get("/manage/tenants/deliveries")

    assert "elsewhere.test" not in page.text
    assert "Nothing has been sent to other servers yet." in page.text
