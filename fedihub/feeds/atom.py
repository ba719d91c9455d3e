"""Atom feeds (RFC 4287) of a coalition's calls and announcements, or of what a hub carries; built
with ElementTree so no remote text can change the document's structure."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions import event_text
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import gettext
from fedihub.moderation.visibility import not_blocked_by, shown_objects
from fedihub.protocol.html import html_to_text, sanitize_html
from fedihub.protocol.timezones import known_zone
from fedihub.protocol.urls import http_url
from fedihub.storage.models import Actor, Boost, StoredObject

CONTENT_TYPE = "application/atom+xml; charset=utf-8"
ATOM = "http://www.w3.org/2005/Atom"
MAX_ENTRIES = 50
FEED_TYPES = ("Event", "Note", "Article", "Page")
TITLE_LENGTH = 80
# Characters XML 1.0 cannot carry at all (§2.2), not even escaped: ElementTree would write them as they
# are and every reader would reject the feed.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(value: str | None) -> str:
    return _NOT_XML.sub("", value or "")


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class FeedInfo:
    """The feed's own facts: its id is its own URL, stable as long as the coalition's handle."""

    feed_url: str
    page_url: str
    title: str
    subtitle: str
    author_name: str
    author_uri: str
    generator_version: str
    fallback_updated: datetime
    icon: str | None = None


def _updated(row: StoredObject) -> datetime:
    return row.updated or row.published or row.created_at


def entry_title(row: StoredObject) -> str:
    """A call's name; an announcement's name or the start of its text (notes have no title)."""
    if row.type == "Event":
        title = (row.name or "").strip() or gettext("Call to action")
        cancelled = (row.event_status or "").upper() == "CANCELLED"
        return gettext("Cancelled: %(title)s", title=title) if cancelled else title
    if (row.name or "").strip():
        return (row.name or "").strip()
    text = " ".join(html_to_text(row.content).split())
    if len(text) > TITLE_LENGTH:
        text = text[: TITLE_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return text or gettext("Announcement")


def entry_html(row: StoredObject) -> str:
    """The entry's HTML: for a call, when and where first (feed readers show no event fields)."""
    body = sanitize_html(row.content)
    if row.type != "Event" or row.start_time is None:
        return body
    zone = known_zone(row.timezone) or "UTC"
    when = escape(event_text.format_when(row.start_time, row.end_time, zone))
    # Labels outside the f-strings: Babel does not extract a gettext() call written inside one.
    when_label, where_label, online_label = gettext("When:"), gettext("Where:"), gettext("Online:")
    facts = [f"<p><strong>{escape(when_label)}</strong> {when}</p>"]
    place = event_text.format_place(row.location_name, row.location_address)
    if place:
        facts.append(f"<p><strong>{escape(where_label)}</strong> {escape(place)}</p>")
    if online := http_url(row.online_url):
        link = f'<a href="{escape(online)}">{escape(online)}</a>'
        facts.append(f"<p><strong>{escape(online_label)}</strong> {link}</p>")
    return "".join(facts) + body


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attributes.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def _entry(feed: ET.Element, row: StoredObject, page: str) -> None:
    entry = _sub(feed, "entry")
    _sub(entry, "id", row.uri)
    _sub(entry, "title", entry_title(row))
    _sub(entry, "updated", rfc3339(_updated(row)))
    _sub(entry, "published", rfc3339(row.published or row.created_at))
    author = _sub(entry, "author")
    _sub(author, "name", (row.author.name or row.author.username or row.author.domain) if row.author else "")
    address = (http_url(row.author.url) or http_url(row.author.uri)) if row.author is not None else None
    if address:
        _sub(author, "uri", address)
    _sub(entry, "link", rel="alternate", type="text/html", href=page)
    for movement in row.movements or []:
        if isinstance(movement, str) and movement.strip():
            _sub(entry, "category", term=movement.strip())
    _sub(entry, "content", entry_html(row), type="html")


def build_feed(info: FeedInfo, rows: Sequence[StoredObject], page_of: Callable[[StoredObject], str]) -> bytes:
    """The Atom document, UTF-8 with an XML declaration; ``page_of`` gives each entry's HTML page."""
    # Plain names under an xmlns on the root: ElementTree's default_namespace refuses the Atom
    # attributes (rel, href), which have no namespace.
    feed = ET.Element("feed", {"xmlns": ATOM})
    _sub(feed, "id", info.feed_url)
    _sub(feed, "title", info.title)
    _sub(feed, "subtitle", info.subtitle)
    newest = max((_updated(row) for row in rows), default=info.fallback_updated)
    _sub(feed, "updated", rfc3339(newest))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=info.feed_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=info.page_url)
    author = _sub(feed, "author")
    _sub(author, "name", info.author_name)
    _sub(author, "uri", info.author_uri)
    _sub(feed, "generator", "fedihub", version=info.generator_version)
    if info.icon:
        _sub(feed, "icon", info.icon)
    for row in rows:
        _entry(feed, row, page_of(row))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


# --- What goes in ---------------------------------------------------------------------------------------


def _own(actor: Actor) -> Select[StoredObject]:
    # As the coalition page: its calls (public or unlisted) and its public announcements.
    return select(StoredObject).where(
        StoredObject.attributed_to_id == actor.id, StoredObject.deleted_at.is_(None),
        StoredObject.type.in_(FEED_TYPES),
        or_(StoredObject.visibility == "public",
            and_(StoredObject.type == "Event", StoredObject.visibility == "unlisted")),
    )


async def actor_entries(session: AsyncSession, actor: Actor) -> list[StoredObject]:
    """The newest MAX_ENTRIES: a coalition's own posts; for a hub, also what it boosted (by boost time)."""
    posted = func.coalesce(StoredObject.published, StoredObject.created_at)
    own = _own(actor).order_by(posted.desc(), StoredObject.id.desc()).limit(MAX_ENTRIES)
    dated: list[tuple[datetime, StoredObject]] = [
        (row.published or row.created_at, row) for row in (await session.scalars(own)).all()
    ]
    if hub_scope_of(actor):
        carried = select(StoredObject, Boost.created_at).join(Boost, Boost.object_uri == StoredObject.uri).where(
            Boost.hub_id == actor.id, Boost.undone_at.is_(None), StoredObject.deleted_at.is_(None),
            StoredObject.type.in_(FEED_TYPES), StoredObject.visibility == "public",
            await shown_objects(session), not_blocked_by(actor.id),
        ).order_by(Boost.created_at.desc(), Boost.id.desc()).limit(MAX_ENTRIES)
        dated += [(boosted_at, row) for row, boosted_at in (await session.execute(carried)).all()]
    dated.sort(key=lambda pair: pair[0], reverse=True)
    seen: set[str] = set()
    entries = []
    for _, row in dated:
        if row.uri not in seen:
            seen.add(row.uri)
            entries.append(row)
    return entries[:MAX_ENTRIES]
