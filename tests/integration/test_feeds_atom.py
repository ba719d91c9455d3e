"""Atom feeds as a feed reader sees them (feedparser), and as XML: a coalition's calls and
announcements, a hub's carried calls, and remote text that must stay text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import update

from fedihub.coalitions import service
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor, Boost, StoredObject
from tests.integration.feed_helpers import NOW, parse_atom, post_call, remote_call
from tests.support.edges import committed
from tests.support.network import Clock, FederationNet, Instance

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    net.clock = Clock(NOW)
    return await net.add_instance("a.test")


async def boost(instance: Instance, hub: Actor, uri: str, *, undone: bool = False) -> None:
    """A Boost row as hubs/boosting.py writes it when the hub announces ``uri``."""
    now = instance.ctx.clock()
    async with instance.ctx.sessions.begin() as session:
        session.add(Boost(hub_id=hub.id, object_uri=uri, activity_uri=f"{uri}#boost-{hub.id}", created_at=now,
                          undone_at=now if undone else None))


async def test_a_coalition_feed_has_its_calls_and_announcements_newest_first(
    a: Instance, net: FederationNet, tenants: Actor
) -> None:
    call = await post_call(a, "tenants")
    net.clock.advance(minutes=5)
    note = await committed(
        a.ctx, service.post_note, "tenants", "Our **assembly** was a success & more are coming.\n\nThank you all."
    )

    feed = parse_atom(await a.get("/g/tenants/feed.atom"))

    assert feed.feed.title == "Tenants Union"
    assert feed.feed.id == "http://a.test/g/tenants/feed.atom"
    assert feed.feed.link == "http://a.test/g/tenants"
    assert [e.id for e in feed.entries] == [note.uri, call.uri]
    announcement, rally = feed.entries
    assert announcement.title == "Our assembly was a success & more are coming. Thank you all."
    assert "<strong>assembly</strong>" in announcement.content[0].value
    assert rally.title == "Rent control now" and rally.link == call.uri
    assert rally.author == "Tenants Union" and [t.term for t in rally.tags] == ["housing"]
    html = rally.content[0].value
    assert "<strong>When:</strong> Thursday 11 March 2027, 11:00–13:00 CST (America/Chicago)" in html
    assert "Daley Plaza, 50 W Washington St, Chicago" in html
    assert "<strong>city hall</strong>" in html
    assert rally.published_parsed[:5] == NOW.timetuple()[:5]


async def test_a_feed_keeps_the_newest_fifty_entries(a: Instance, tenants: Actor) -> None:
    async with a.ctx.sessions.begin() as session:
        for n in range(60):
            published = NOW - timedelta(hours=n)
            session.add(StoredObject(
                uri=f"http://a.test/o/note-{n}", type="Note", attributed_to_id=tenants.id, is_local=True,
                visibility="public" if n != 1 else "followers", content=f"<p>Note {n}</p>", url=f"http://a.test/o/note-{n}",
                published=published, created_at=published, data={},
            ))

    feed = parse_atom(await a.get("/g/tenants/feed.atom"))

    assert len(feed.entries) == 50
    assert [e.title for e in feed.entries[:3]] == ["Note 0", "Note 2", "Note 3"]  # followers-only stays out


async def test_a_hub_feed_lists_what_the_hub_boosted_and_not_what_it_undid(a: Instance) -> None:
    hub = await committed(a.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state")
    carried = await remote_call(a, "https://other.example/o/carried", name="Carried rally")
    dropped = await remote_call(a, "https://other.example/o/dropped", name="Boost undone")
    await remote_call(a, "https://other.example/o/never", name="Never boosted")
    await boost(a, hub, carried.uri)
    await boost(a, hub, dropped.uri, undone=True)

    feed = parse_atom(await a.get("/g/illinois/feed.atom"))

    assert [e.id for e in feed.entries] == [carried.uri]
    assert feed.entries[0].link == f"http://a.test/calls/view?url={quote(carried.uri, safe='')}"
    assert "carried by Illinois Hub (state hub)" in feed.feed.subtitle


async def test_remote_names_and_descriptions_cannot_change_the_xml(a: Instance) -> None:
    hub = await committed(a.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state")
    # No NUL: PostgreSQL cannot store one (the unit tests cover it in the builder).
    title = 'Rally </title><entry><id>evil</id></entry> & "more" \x01\x07\x1b ✊'
    content = "<p>ok</p><script>alert(1)</script>]]><!-- --><p>\x0bafter & &amp;</p>"
    hostile = await remote_call(
        a, "https://other.example/o/hostile", name=title, content=content, movements=['a"b<c>'],
        author="https://other.example/g/evil<x>",
    )
    await boost(a, hub, hostile.uri)
    async with a.ctx.sessions.begin() as session:
        await session.execute(update(Actor).where(Actor.uri == "https://other.example/g/evil<x>").values(
            name="Evil </name></author><entry>", url="javascript:alert(1)"))

    response = await a.get("/g/illinois/feed.atom")

    root = ET.fromstring(response.content)
    assert len(root.findall(f"{ATOM}entry")) == 1
    feed = parse_atom(response)
    [entry] = feed.entries
    assert entry.title == 'Rally </title><entry><id>evil</id></entry> & "more"  ✊'
    assert entry.author == "Evil </name></author><entry>"
    assert "javascript" not in response.text
    assert "<script>" not in entry.content[0].value and "after &amp; &amp;" in entry.content[0].value
    assert [t.term for t in entry.tags] == ['a"b<c>']


async def test_an_unknown_or_deleted_coalition_has_no_feed(a: Instance, tenants: Actor) -> None:
    assert (await a.get("/g/nobody/feed.atom")).status_code == 404
    await committed(a.ctx, service.delete_coalition, "tenants")
    assert (await a.get("/g/tenants/feed.atom")).status_code == 410
    assert (await a.get("/g/tenants/calls.ics")).status_code == 410
