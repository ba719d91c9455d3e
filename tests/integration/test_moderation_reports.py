"""Reports (Flag) as peers send and receive them: kept and shown to the right people, throttled per host,
and sent by the instance actor without the reporter's identity (landscape §D 15)."""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from fedihub.coalitions import calls, service
from fedihub.storage.models import Actor, Report
from tests.integration.feed_helpers import call_input
from tests.integration.helpers import BROWSER, count_rows, follow_peer
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
async def capped(net: FederationNet) -> Instance:
    return await net.add_instance("a.test", reports_per_host_hour=3)


@pytest.fixture
async def root(a: Instance) -> AsyncIterator[Browser]:
    browser = await organizer(a, "root", is_admin=True)
    yield browser
    await browser.client.aclose()


def build_flag(peer: FakePeer, reporter: FakeAccount, objects: list[str], comment: str) -> dict[str, Any]:
    """Mastodon's report as its server forwards it: the instance actor, the ids, the comment."""
    return {
        "@context": "https://www.w3.org/ns/activitystreams", "id": f"http://{peer.host}/{uuid.uuid4()}",
        "type": "Flag", "actor": reporter.id, "content": comment, "object": objects,
    }


async def test_a_flag_about_a_coalition_is_shown_to_the_admins_and_its_owners_and_nobody_else(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, root: Browser
) -> None:
    nurses = await committed(a.ctx, service.create_coalition, "nurses", name="Nurses United")
    call = await committed(a.ctx, calls.publish_call, "tenants", call_input(title="Rent strike kickoff"))
    owner = await organizer(a, "olga", tenants, "owner")
    other_owner = await organizer(a, "nina", nurses, "owner")
    bakers = await committed(a.ctx, service.create_coalition, "bakers", name="Bakers")
    stranger = await organizer(a, "bert", bakers, "owner")
    tenants_admin = await organizer(a, "adam", tenants, "admin")
    try:
        nurses_note = await committed(a.ctx, service.post_note, "nurses", "Shift change on Friday")
        flag = build_flag(peer, peer.accounts["carol"], [tenants.uri, call.uri, nurses_note.uri],
                          "Spam about a fake strike")
        assert (await peer.send(a, flag)).status_code == 202
        await net.settle()

        admin_page = (await root.get("/admin/moderation")).text
        assert "Spam about a fake strike" in admin_page and "masto.test" in admin_page
        assert "Rent strike kickoff" in admin_page  # the reported content, as we hold it
        assert "Shift change on Friday" in admin_page
        seen_by_owner = (await owner.get("/manage/tenants/moderation")).text
        assert "Spam about a fake strike" in seen_by_owner and "Rent strike kickoff" in seen_by_owner
        assert "Shift change on Friday" not in seen_by_owner  # another coalition's post: not theirs to read
        # The nurses' owners see the report (it names their post), but only what is theirs.
        seen_by_nurses = (await other_owner.get("/manage/nurses/moderation")).text
        assert "Shift change on Friday" in seen_by_nurses and "Rent strike kickoff" not in seen_by_nurses
        assert "Spam about a fake strike" not in (await stranger.get("/manage/bakers/moderation")).text
        assert (await tenants_admin.get("/manage/tenants/moderation")).status_code == 403

        # A coalition the report is not about cannot resolve it; one it is about can.
        report_id = (await count_rows(a, Report))
        assert (await stranger.submit("/manage/bakers/moderation",
                                      f"/manage/bakers/moderation/reports/{report_id}/resolve")).status_code == 404
        assert (await owner.submit("/manage/tenants/moderation",
                                   f"/manage/tenants/moderation/reports/{report_id}/resolve")).status_code == 303
        assert ">resolved" in (await root.get("/admin/moderation")).text.replace("\n", "").replace(" ", "")
    finally:
        for browser in (owner, other_owner, stranger, tenants_admin):
            await browser.client.aclose()


async def test_a_flag_about_nothing_of_ours_is_not_kept(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    flag = build_flag(peer, peer.accounts["carol"], [peer.accounts["alice"].id, "http://elsewhere.test/1"], "x")
    assert (await peer.send(a, flag)).status_code == 202
    await net.settle()
    assert await count_rows(a, Report) == 0


async def test_a_flag_flood_from_one_host_is_capped_per_hour_and_other_hosts_still_heard(
    net: FederationNet, capped: Instance, fixtures_dir: Path
) -> None:
    await committed(capped.ctx, service.create_coalition, "tenants", name="Tenants Union")
    hostile = add_fake_peer(net, "flood.test", fixtures_dir, usernames=("mod",))
    honest = add_fake_peer(net, "honest.test", fixtures_dir, usernames=("mod",))
    target = "http://a.test/g/tenants"

    for n in range(12):
        flag = build_flag(hostile, hostile.accounts["mod"], [target], f"flood {n}")
        assert (await hostile.send(capped, flag)).status_code == 202
    assert (await honest.send(capped, build_flag(honest, honest.accounts["mod"], [target], "real"))).status_code == 202
    await net.settle()

    assert await count_rows(capped, Report, Report.origin_host == "flood.test") == 3
    assert await count_rows(capped, Report, Report.origin_host == "honest.test") == 1

    net.clock.advance(hours=1, minutes=1)
    flag = build_flag(hostile, hostile.accounts["mod"], [target], "an hour later")
    assert (await hostile.send(capped, flag)).status_code == 202
    await net.settle()
    assert await count_rows(capped, Report, Report.origin_host == "flood.test") == 4


async def test_an_outbound_report_is_sent_by_the_instance_actor_and_names_nobody_here(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, root: Browser
) -> None:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice, content="<p>Buy followers now</p>")
    assert (await peer.send(a, create)).status_code == 202
    await net.settle()
    status = create["object"]["id"]

    response = await root.submit("/admin/moderation", "/admin/moderation/reports", {
        "actor": alice.handle, "objects": status, "comment": "Spam bot",
    })
    assert response.status_code == 303
    await net.settle()

    [post] = [p for p in peer.inbox_posts if p.type == "Flag"]
    flag = post.activity
    assert post.path == "/inbox"  # the server's shared inbox
    assert flag["actor"] == "http://a.test/actor"
    assert flag["object"] == [alice.id, status] and flag["content"] == "Spam bot"
    assert set(flag) == {"@context", "id", "type", "actor", "object", "content"}
    assert 'keyId="http://a.test/actor#' in post.headers["signature"]
    assert "root" not in json.dumps(flag) and "root" not in json.dumps(post.headers)
    # The Flag is the reported server's alone: it is not published at its id.
    assert (await a.get(flag["id"].removeprefix("http://a.test"), headers={"Accept": "application/activity+json"})
            ).status_code == 404
    page = (await root.get("/admin/moderation")).text
    assert "Sent to <strong>masto.test</strong>" in page and "Buy followers now" in page


async def test_a_coalition_owner_reports_only_what_was_addressed_to_the_coalition(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    alice, carol = peer.accounts["alice"], peer.accounts["carol"]
    owner = await organizer(a, "olga", tenants, "owner")
    try:
        assert (await peer.send(a, peer.build_follow(alice, tenants.uri))).status_code == 202
        await net.settle()
        refused = await owner.submit("/manage/tenants/moderation", "/manage/tenants/moderation/reports",
                                     {"actor": carol.handle, "comment": "not ours to judge"})
        assert refused.status_code == 400 and field_error(refused, "report-actor")
        sent = await owner.submit("/manage/tenants/moderation", "/manage/tenants/moderation/reports",
                                  {"actor": alice.handle, "comment": "follows us to harass"})
        assert sent.status_code == 303
        await net.settle()
        assert [f["object"] for f in peer.received("Flag")] == [[alice.id]]
        assert all("olga" not in json.dumps(f) for f in peer.received("Flag"))

        # Blocked first (which ends her follow), reported after: still the coalition's to report.
        blocked = await owner.submit("/manage/tenants/moderation", "/manage/tenants/moderation/blocks",
                                     {"actor": alice.handle})
        assert blocked.status_code == 303
        again = await owner.submit("/manage/tenants/moderation", "/manage/tenants/moderation/reports",
                                   {"actor": alice.handle, "comment": "and again"})
        assert again.status_code == 303
    finally:
        await owner.client.aclose()


async def test_the_moderation_forms_need_the_csrf_token(a: Instance, root: Browser, peer: FakePeer) -> None:
    for path in ("/admin/moderation/reports", "/admin/moderation/actors", "/admin/moderation/domains"):
        response = await root.post(path, {"actor": peer.accounts["alice"].handle, "domain": "masto.test"},
                                   headers={"Accept": BROWSER})
        assert response.status_code == 403, path
    assert await count_rows(a, Report) == 0


async def test_an_admin_reports_a_remote_call_from_its_page(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, root: Browser
) -> None:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice, object_type="Event")
    assert (await peer.send(a, create)).status_code == 202
    await net.settle()
    event_id = create["object"]["id"]

    page = (await root.get(f"/calls/view?url={quote(event_id, safe='')}")).text
    link = re.search(r'<a href="(/admin/moderation\?[^"]+)">Report it to masto.test</a>', page)
    assert link is not None
    form = (await root.get(html.unescape(link.group(1)))).text
    assert f'value="{alice.handle}"' in form and event_id in form
    anonymous = (await a.get(f"/calls/view?url={quote(event_id, safe='')}", headers={"Accept": BROWSER})).text
    assert "Report it" not in anonymous

