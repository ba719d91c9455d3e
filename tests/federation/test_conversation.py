"""Conversation from the fediverse: Mastodon replies under a call (shown, hidden, edited, deleted, capped),
and a coalition announcing the posts that mention it (members at once, strangers after review)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fedihub.coalitions import calls, fedi_members, service
from fedihub.federation.actors import resolve_target
from fedihub.hubs import review
from fedihub.storage.models import Actor, Boost, HeldPost, StoredObject
from tests.integration.manage_helpers import field_error, notice, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import PUBLIC, FakeAccount, FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

AS2 = {"Accept": "application/activity+json"}
COALITION = "http://a.test/g/tenants"
MENTION = {"type": "Mention", "href": COALITION, "name": "@tenants@a.test"}


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    # Not the defaults, so the tests below show the instance's settings are the ones applied.
    return await net.add_instance("a.test", replies_per_actor_hour=4, member_announces_per_hour=2)


@pytest.fixture
def masto(net: FederationNet, fixtures_dir: Path) -> FakePeer:
    """A Mastodon-shaped server; none of its people follow the coalition, none is followed by it."""
    return add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice", "carol", "mallory"))


@pytest.fixture
def watchers(net: FederationNet, fixtures_dir: Path) -> FakePeer:
    """Where the coalition's followers are: what reaches them is what the coalition sent."""
    return add_fake_peer(net, "watch.test", fixtures_dir, usernames=("watcher",))


@pytest.fixture
async def tenants(net: FederationNet, a: Instance, watchers: FakePeer) -> Actor:
    actor = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    follow = watchers.build_follow(watchers.accounts["watcher"], COALITION)
    assert (await watchers.send(a, follow)).status_code == 202
    await net.settle()
    return actor


@pytest.fixture
async def call(net: FederationNet, a: Instance, tenants: Actor) -> StoredObject:
    form = {"title": "Rent strike assembly", "description": "Bring your lease.", "start": "2030-05-01T18:00",
            "timezone": "America/Chicago", "place_name": "Union hall"}
    row = await committed(a.ctx, calls.publish_call, "tenants", calls.parse_call_form(form))
    await net.settle()
    return row


@pytest.fixture
async def editor(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "erin", tenants, "editor")
    yield browser
    await browser.client.aclose()


@pytest.fixture
async def admin(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "ada", tenants, "admin")
    yield browser
    await browser.client.aclose()


def reply(peer: FakePeer, account: FakeAccount, in_reply_to: str, text: str, *, followers_only: bool = False
          ) -> dict[str, Any]:
    """Mastodon's reply to the coalition's post: inReplyTo, the replied-to author mentioned and in cc."""
    create = peer.build_create(account, content=f"<p>{text}</p>")
    note = create["object"]
    to, cc = ([account.followers], [COALITION]) if followers_only else ([PUBLIC], [account.followers, COALITION])
    note.update(inReplyTo=in_reply_to, inReplyToAtomUri=in_reply_to, tag=[MENTION], to=to, cc=cc)
    create.update(to=to, cc=cc)
    return create


def mention(peer: FakePeer, account: FakeAccount, text: str, *, to: list[str] | None = None,
            cc: list[str] | None = None, also: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """A top-level post that @-mentions the coalition (and ``also`` these actors), public unless told."""
    create = peer.build_create(account, content=f"<p>@tenants {text}</p>")
    note = create["object"]
    names = [COALITION, *also]
    to = to if to is not None else [PUBLIC]
    cc = cc if cc is not None else [account.followers, *names]
    note.update(to=to, cc=cc, tag=[{"type": "Mention", "href": uri, "name": uri} for uri in names])
    create.update(to=to, cc=cc)
    return create


async def send(net: FederationNet, a: Instance, peer: FakePeer, activity: dict[str, Any]) -> None:
    assert (await peer.send(a, activity)).status_code == 202
    await net.settle()


def path(uri: str) -> str:
    return uri.removeprefix("http://a.test")


def reply_ids(page: str) -> list[str]:
    return re.findall(r'<li class="post" id="reply-(\d+)"', page)


def discussion(page: str) -> str:
    found = re.search(r'<section aria-labelledby="replies-heading".*?</section>', page, re.S)
    assert found, "the call page has no discussion"
    return found.group(0)


async def collection_items(a: Instance, call: StoredObject) -> list[str]:
    response = await a.get(path(call.uri) + "/replies", headers=AS2)
    assert response.status_code == 200
    doc = response.json()
    assert doc["type"] == "OrderedCollection" and doc["id"] == f"{call.uri}/replies"
    return list(doc["first"]["orderedItems"])


async def held_and_boosted(a: Instance) -> tuple[int, int]:
    """Posts in any review list, and Announces sent, on ``a``."""
    async with a.ctx.sessions() as session:
        held = await session.scalar(select(func.count()).select_from(HeldPost))
        boosted = await session.scalar(select(func.count()).select_from(Boost))
    return int(held or 0), int(boosted or 0)


def announced(watchers: FakePeer) -> list[str]:
    return [doc["object"] for doc in watchers.received("Announce") if doc["actor"] == COALITION]


# --- Replies under a call ---------------------------------------------------------------------------


async def test_replies_from_strangers_on_mastodon_appear_under_the_call_newest_last_with_their_author(
    net: FederationNet, a: Instance, masto: FakePeer, call: StoredObject, editor: Browser
) -> None:
    event = (await a.get(path(call.uri), headers=AS2)).json()
    assert event["replies"] == f"{call.uri}/replies"

    first = reply(masto, masto.accounts["carol"], call.uri, "I will bring the banner")
    await send(net, a, masto, first)
    # Mastodon shows the call's change as a Note replying to the Event: replying to it is replying to the call.
    await committed(a.ctx, calls.cancel_call, call.uri, "The hall is closed")
    await net.settle()
    async with a.ctx.sessions() as session:
        change_note = await session.scalar(
            select(StoredObject.uri).where(StoredObject.in_reply_to == call.uri, StoredObject.is_local.is_(True))
        )
    second = reply(masto, masto.accounts["alice"], change_note, "Where do we meet instead?")
    await send(net, a, masto, second)

    page = (await a.get(path(call.uri))).text
    section = discussion(page)
    assert section.index("I will bring the banner") < section.index("Where do we meet instead?")
    assert "@carol@masto.test" in section and "@alice@masto.test" in section
    assert 'href="http://masto.test/users/carol"' in section or 'href="http://masto.test/@carol"' in section
    assert '<time datetime="' in section
    assert await collection_items(a, call) == [first["object"]["id"], second["object"]["id"]]
    # The organizers are told under What's new, once per reply, whoever sent it.
    await send(net, a, masto, first)
    news = html.unescape((await editor.get("/manage/tenants/news")).text)
    assert news.count("replied to") == 2 and "Carol" in news and "Alice" in news, news[-3000:]


async def test_reply_html_is_sanitised_like_other_remote_content(
    net: FederationNet, a: Instance, masto: FakePeer, call: StoredObject
) -> None:
    attack = reply(masto, masto.accounts["mallory"], call.uri, "hi")
    attack["object"]["content"] = '<p onclick="steal()">hi<script>alert(1)</script><img src=x onerror=alert(2)></p>'
    await send(net, a, masto, attack)

    section = discussion((await a.get(path(call.uri))).text)
    assert "hi" in section
    assert "<script" not in section and "onerror" not in section and "onclick" not in section


async def test_organizers_hide_a_reply_from_the_call_page_and_show_it_again(
    net: FederationNet, a: Instance, masto: FakePeer, call: StoredObject, editor: Browser
) -> None:
    kept = reply(masto, masto.accounts["carol"], call.uri, "See you there")
    rude = reply(masto, masto.accounts["mallory"], call.uri, "Buy cheap watches")
    await send(net, a, masto, kept)
    await send(net, a, masto, rude)
    ids = reply_ids((await a.get(path(call.uri))).text)
    assert len(ids) == 2

    hidden = await editor.submit(
        path(call.uri), f"/manage/tenants/calls/{call.uri.rsplit('/', 1)[1]}/replies/hide",
        {"reply": ids[1], "back": "call"},
    )
    assert hidden.status_code == 303 and hidden.headers["location"].endswith(f"#reply-{ids[1]}")

    public = (await a.get(path(call.uri))).text
    assert "Buy cheap watches" not in public and "See you there" in public
    assert await collection_items(a, call) == [kept["object"]["id"]]
    assert (await a.get(f"{path(call.uri)}/replies/{ids[1]}")).status_code == 404
    assert (await a.get(f"{path(call.uri)}/replies/{ids[0]}")).status_code == 303
    # The organizers still see it, marked, with the button to show it again.
    mine = (await editor.get(path(call.uri))).text
    assert "Buy cheap watches" in mine and "Show again" in mine

    manage = f"/manage/tenants/calls/{call.uri.rsplit('/', 1)[1]}/replies"
    shown = await editor.submit(manage, f"{manage}/show", {"reply": ids[1], "back": "manage"})
    assert shown.status_code == 303
    assert notice(await editor.get(shown.headers["location"])) == "Shown again under the call."
    assert "Buy cheap watches" in (await a.get(path(call.uri))).text
    assert len(await collection_items(a, call)) == 2


async def test_only_the_calls_own_organizers_can_hide_its_replies(
    net: FederationNet, a: Instance, masto: FakePeer, call: StoredObject
) -> None:
    await send(net, a, masto, reply(masto, masto.accounts["carol"], call.uri, "Count me in"))
    rid = reply_ids((await a.get(path(call.uri))).text)[0]
    other = await committed(a.ctx, service.create_coalition, "other", name="Another coalition")
    outsider = await organizer(a, "olga", other, "owner")
    try:
        page = (await outsider.get(path(call.uri))).text
        assert "Hide" not in discussion(page)
        response = await outsider.post(
            f"/manage/tenants/calls/{call.uri.rsplit('/', 1)[1]}/replies/hide",
            {"reply": rid, "back": "call", "csrf_token": outsider.session_csrf_token()},
        )
        assert response.status_code == 403
    finally:
        await outsider.client.aclose()
    assert "Count me in" in (await a.get(path(call.uri))).text


async def test_an_edited_reply_changes_and_a_deleted_one_disappears(
    net: FederationNet, a: Instance, masto: FakePeer, call: StoredObject
) -> None:
    carol = masto.accounts["carol"]
    create = reply(masto, carol, call.uri, "Meeting at six")
    await send(net, a, masto, create)
    rid = reply_ids((await a.get(path(call.uri))).text)[0]

    await send(net, a, masto, masto.build_update(create, content="<p>Meeting at seven, sorry</p>"))
    page = (await a.get(path(call.uri))).text
    assert "Meeting at seven, sorry" in page and "Meeting at six" not in page

    await send(net, a, masto, masto.build_delete(carol, create["object"]["id"]))
    assert "Meeting at seven" not in (await a.get(path(call.uri))).text
    assert await collection_items(a, call) == []
    assert (await a.get(f"{path(call.uri)}/replies/{rid}")).status_code == 410


async def test_a_flood_of_replies_from_one_actor_is_capped_per_call_and_hour(
    net: FederationNet, a: Instance, masto: FakePeer, call: StoredObject
) -> None:
    mallory, carol = masto.accounts["mallory"], masto.accounts["carol"]
    for number in range(30):
        await send(net, a, masto, reply(masto, mallory, call.uri, f"spam number {number}"))
    await send(net, a, masto, reply(masto, carol, call.uri, "A real question"))

    page = (await a.get(path(call.uri))).text
    cap = a.runtime.settings.replies_per_actor_hour
    assert len(re.findall(r"spam number \d+", discussion(page))) == cap
    assert "A real question" in page  # others are not crowded out

    net.clock.advance(hours=1, minutes=1)
    await send(net, a, masto, reply(masto, mallory, call.uri, "spam number 99"))
    assert "spam number 99" in (await a.get(path(call.uri))).text


async def test_followers_only_replies_are_neither_kept_nor_shown(
    net: FederationNet, a: Instance, masto: FakePeer, call: StoredObject
) -> None:
    private = reply(masto, masto.accounts["carol"], call.uri, "Only for my followers", followers_only=True)
    await send(net, a, masto, private)

    async with a.ctx.sessions() as session:
        assert await session.scalar(select(StoredObject.id).where(StoredObject.uri == private["object"]["id"])) is None
    assert "Only for my followers" not in (await a.get(path(call.uri))).text


# --- Mentions announced (FEP-1b12) ----------------------------------------------------------------------


async def _list_member(a: Instance, tenants: Actor, handle: str) -> None:
    actor = await resolve_target(a.ctx, handle)
    async with a.ctx.sessions.begin() as session:
        await fedi_members.add_member(session, tenants, actor, account_id=None, now=a.ctx.clock())


async def test_a_members_public_mention_is_announced_once_with_the_original_id(
    net: FederationNet, a: Instance, masto: FakePeer, watchers: FakePeer, tenants: Actor
) -> None:
    await _list_member(a, tenants, "alice@masto.test")
    post = mention(masto, masto.accounts["alice"], "the rent strike starts Monday")
    await send(net, a, masto, post)
    # The same post again (Mastodon retries under the same id; a relay might send a new one).
    again = {**post, "id": post["id"] + "/again"}
    await send(net, a, masto, again)

    assert announced(watchers) == [post["object"]["id"]]
    announce = watchers.received("Announce")[0]
    assert PUBLIC in announce["to"] and masto.accounts["alice"].id in announce["cc"]
    # The author's server hears of it too (it is in cc), as guppe groups do.
    assert [doc["object"] for doc in masto.received("Announce")] == [post["object"]["id"]]


async def test_deleting_the_original_undoes_the_announce(
    net: FederationNet, a: Instance, masto: FakePeer, watchers: FakePeer, tenants: Actor
) -> None:
    alice = masto.accounts["alice"]
    await _list_member(a, tenants, alice.handle)
    post = mention(masto, alice, "meeting tonight")
    await send(net, a, masto, post)
    await send(net, a, masto, masto.build_delete(alice, post["object"]["id"]))

    undo = [doc for doc in watchers.received("Undo") if doc["actor"] == COALITION]
    assert len(undo) == 1 and undo[0]["object"]["object"] == post["object"]["id"]


async def test_a_strangers_mention_waits_for_review_and_is_announced_once_approved(
    net: FederationNet, a: Instance, masto: FakePeer, watchers: FakePeer, tenants: Actor, admin: Browser
) -> None:
    post = mention(masto, masto.accounts["carol"], "please share our eviction defence")
    await send(net, a, masto, post)
    assert announced(watchers) == []

    page = (await admin.get("/manage/tenants/fediverse")).text
    assert "please share our eviction defence" in page and "not a listed member" in page
    held = re.findall(r'name="held" value="(\d+)"', page)[0]
    approved = await admin.submit("/manage/tenants/fediverse", "/manage/tenants/fediverse/mentions/boost",
                                  {"held": held})
    assert approved.status_code == 303
    await net.settle()
    assert announced(watchers) == [post["object"]["id"]]
    assert "please share our eviction defence" not in (await admin.get("/manage/tenants/fediverse")).text


async def test_a_dismissed_mention_is_never_announced(
    net: FederationNet, a: Instance, masto: FakePeer, watchers: FakePeer, tenants: Actor, admin: Browser
) -> None:
    post = mention(masto, masto.accounts["mallory"], "follow my crypto channel")
    await send(net, a, masto, post)
    page = (await admin.get("/manage/tenants/fediverse")).text
    held = re.findall(r'name="held" value="(\d+)"', page)[0]
    await admin.submit("/manage/tenants/fediverse", "/manage/tenants/fediverse/mentions/discard", {"held": held})
    await send(net, a, masto, {**post, "id": post["id"] + "/resent"})
    await net.settle()
    assert announced(watchers) == []
    assert "follow my crypto channel" not in (await admin.get("/manage/tenants/fediverse")).text


async def test_followers_only_and_direct_mentions_are_neither_announced_nor_held(
    net: FederationNet, a: Instance, masto: FakePeer, watchers: FakePeer, tenants: Actor
) -> None:
    alice, carol = masto.accounts["alice"], masto.accounts["carol"]
    await _list_member(a, tenants, alice.handle)
    await send(net, a, masto, mention(masto, alice, "followers only", to=[alice.followers], cc=[COALITION]))
    await send(net, a, masto, mention(masto, carol, "a direct message", to=[COALITION], cc=[]))
    # Unlisted (Public in cc only) asked to stay out of public timelines: not announced either.
    await send(net, a, masto, mention(masto, alice, "unlisted", to=[alice.followers], cc=[PUBLIC, COALITION]))

    assert announced(watchers) == []
    assert await held_and_boosted(a) == (0, 0)


async def test_a_post_mentioning_more_than_a_handful_of_groups_is_never_announced(
    net: FederationNet, a: Instance, masto: FakePeer, watchers: FakePeer, tenants: Actor
) -> None:
    alice = masto.accounts["alice"]
    await _list_member(a, tenants, alice.handle)
    limit = a.runtime.settings.hub_max_addressed_groups
    others = []
    for number in range(limit):
        await committed(a.ctx, service.create_coalition, f"group{number}", name=f"Group {number}")
        others.append(f"http://a.test/g/group{number}")
    await send(net, a, masto, mention(masto, alice, "everyone look at this", also=others))

    assert announced(watchers) == []
    assert await held_and_boosted(a) == (0, 0)


async def test_a_member_over_the_hourly_rate_waits_for_review(
    net: FederationNet, a: Instance, masto: FakePeer, watchers: FakePeer, tenants: Actor
) -> None:
    alice = masto.accounts["alice"]
    await _list_member(a, tenants, alice.handle)
    rate = a.runtime.settings.member_announces_per_hour
    posts = [mention(masto, alice, f"update number {n}") for n in range(rate + 2)]
    for post in posts:
        await send(net, a, masto, post)

    assert announced(watchers) == [post["object"]["id"] for post in posts[:rate]]
    async with a.ctx.sessions() as session:
        held = await review.list_held_posts(session, tenants.id)
    assert [item.object_uri for item in held] == [post["object"]["id"] for post in posts[rate:]]
    assert {item.reason for item in held} == {review.RATE}


async def test_a_reply_that_mentions_the_coalition_is_conversation_not_announced(
    net: FederationNet, a: Instance, masto: FakePeer, watchers: FakePeer, tenants: Actor, call: StoredObject
) -> None:
    alice = masto.accounts["alice"]
    await _list_member(a, tenants, alice.handle)
    await send(net, a, masto, reply(masto, alice, call.uri, "Great call"))
    assert announced(watchers) == []
    assert "Great call" in (await a.get(path(call.uri))).text


# --- The members list -------------------------------------------------------------------------------------


async def test_admins_list_fediverse_members_by_handle_and_remove_them(
    net: FederationNet, a: Instance, masto: FakePeer, tenants: Actor, admin: Browser, editor: Browser
) -> None:
    added = await admin.submit("/manage/tenants/fediverse", "/manage/tenants/fediverse",
                               {"member": "@alice@masto.test"})
    assert added.status_code == 303
    page = (await admin.get("/manage/tenants/fediverse")).text
    assert "@alice@masto.test" in page

    unknown = await admin.submit("/manage/tenants/fediverse", "/manage/tenants/fediverse",
                                 {"member": "@nobody@masto.test"})
    assert unknown.status_code == 404 or unknown.status_code == 400
    assert field_error(unknown, "fedi-member") and "@nobody@masto.test" in unknown.text  # kept in the field

    # Not public: an editor cannot see it, and the coalition's page does not name members.
    assert (await editor.get("/manage/tenants/fediverse")).status_code == 403
    assert "alice@masto.test" not in (await a.get("/g/tenants")).text

    removed = await admin.submit("/manage/tenants/fediverse", "/manage/tenants/fediverse/remove",
                                 {"actor": masto.accounts["alice"].id})
    assert removed.status_code == 303
    async with a.ctx.sessions() as session:
        assert list(await fedi_members.list_members(session, tenants.id)) == []
