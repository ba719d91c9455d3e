"""The Atom builder on its own: every entry read back by feedparser and by ElementTree, whatever
remote names and descriptions contain."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import feedparser

from fedihub.feeds.atom import FeedInfo, build_feed, entry_title, xml_text
from tests.unit.test_ics import make_call

ATOM = "{http://www.w3.org/2005/Atom}"
INFO = FeedInfo(
    feed_url="https://a.example/g/bay-climate/feed.atom", page_url="https://a.example/g/bay-climate",
    title="Bay Climate <Coalition> & friends", subtitle="Calls", author_name="Bay Climate",
    author_uri="https://a.example/g/bay-climate", generator_version="0.1.0",
    fallback_updated=datetime(2026, 1, 1, tzinfo=UTC),
)


def _page(row: object) -> str:
    return "https://a.example/page?of=" + getattr(row, "uri", "")


def test_entries_carry_id_title_dates_author_link_categories_and_html() -> None:
    row = make_call(updated=datetime(2026, 3, 1, tzinfo=UTC))

    feed = feedparser.parse(build_feed(INFO, [row], _page))

    assert not feed.bozo and feed.version == "atom10"
    assert feed.feed.title == "Bay Climate <Coalition> & friends"
    assert feed.feed.updated == "2026-03-01T00:00:00Z"
    [entry] = feed.entries
    assert entry.id == row.uri and entry.title == "Rally for transit funding"
    assert entry.link == _page(row) and entry.author == "Bay Climate Coalition"
    assert entry.published == "2026-02-20T18:00:00Z" and entry.updated == "2026-03-01T00:00:00Z"
    assert [t.term for t in entry.tags] == ["climate", "transit"]
    assert (
        "<strong>When:</strong> Saturday 14 March 2026, 11:00–14:00 PDT (America/Los_Angeles)"
        in entry.content[0].value
    )


def test_an_empty_feed_is_valid_and_dated() -> None:
    feed = feedparser.parse(build_feed(INFO, [], _page))

    assert not feed.bozo and feed.entries == [] and feed.feed.updated == "2026-01-01T00:00:00Z"


def test_remote_text_with_markup_entities_and_control_characters_stays_text() -> None:
    hostile = make_call(
        name="A </title></entry><entry><id>x</id> &amp; \x00\x01\x08\x0b\x0c\x1f\ufffe ✊",
        content="<p>fine</p><script>bad()</script><![CDATA[ ]]> \x07<p>&lt;b&gt;</p>",
        movements=['"><x', "a&b"],
    )
    hostile.author.name = "Org\x1b]0;title\x07 </name>"

    body = build_feed(INFO, [hostile, make_call(uri="https://a.example/o/2")], _page)

    assert len(ET.fromstring(body).findall(f"{ATOM}entry")) == 2
    feed = feedparser.parse(body)
    assert not feed.bozo
    first = feed.entries[0]
    assert first.title == "A </title></entry><entry><id>x</id> &amp;  ✊"
    assert first.author == "Org]0;title </name>"
    assert [t.term for t in first.tags] == ['"><x', "a&b"]
    assert "<script>" not in first.content[0].value and "&lt;b&gt;" in first.content[0].value


def test_announcements_are_titled_by_their_name_or_the_start_of_their_text() -> None:
    note = make_call(type="Note", name=None, content="<p>" + "word " * 40 + "</p>", start_time=None)
    assert entry_title(note).endswith("…") and len(entry_title(note)) <= 80
    assert entry_title(make_call(type="Note", name=None, content="")) == "Announcement"
    assert entry_title(make_call(event_status="CANCELLED")) == "Cancelled: Rally for transit funding"
    assert xml_text("a\x00b\ud800c\tdé") == "abc\tdé"


def test_entries_come_in_the_order_given() -> None:
    rows = [make_call(uri=f"https://a.example/o/{n}", published=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n))
            for n in (3, 1, 2)]

    feed = feedparser.parse(build_feed(INFO, rows, _page))

    assert [e.id for e in feed.entries] == [r.uri for r in rows]
