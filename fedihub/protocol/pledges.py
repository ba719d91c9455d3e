"""Pledge documents, pure: the Join a coalition sends to a call, the items of a call's pledges
collection, the Add/Remove/Update notices that keep copies of it current, and tolerant readers."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fedihub.protocol import builders
from fedihub.protocol.builders import format_datetime
from fedihub.protocol.html import html_to_text
from fedihub.protocol.limits import MAX_ACTION_DESCRIPTION, MAX_ADDRESS, MAX_MESSAGE
from fedihub.protocol.movements import hashtag_names
from fedihub.protocol.profile_reader import is_virtual_location, read_place
from fedihub.protocol.reader import as_list, id_of, parse_datetime
from fedihub.protocol.timezones import known_zone, zone_info
from fedihub.protocol.urls import http_url
from fedihub.protocol.vocab import AS_CONTEXT, FEDIHUB_NAMESPACE

# Our extension namespace (docs/federation/hubs.md "The extension terms"); peers that do not know a term
# ignore it. `participationMessage` is Mobilizon's term (spec §2.3, fixture mobilizon/join_event.json)
# so a Mobilizon organizer sees the pledge message as an RSVP message. `superEvent` is schema.org's
# "an event that this event is part of", spelled with Mobilizon's `sc:` prefix (http://schema.org#).
PLEDGE_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "fedihub": FEDIHUB_NAMESPACE,
        "sc": "http://schema.org#",
        "mz": "https://joinmobilizon.org/ns#",
        "participationMessage": {"@id": "mz:participationMessage", "@type": "sc:Text"},
        "timezone": {"@id": "mz:timezone", "@type": "sc:Text"},
        "superEvent": {"@id": "sc:superEvent", "@type": "@id"},
        "localAction": "fedihub:localAction",
        "report": "fedihub:report",
        "happened": "fedihub:happened",
        "turnout": "fedihub:turnout",
        "pledgesOf": {"@id": "fedihub:pledgesOf", "@type": "@id"},
        "carriedBy": "fedihub:carriedBy",
        "vouched": "fedihub:vouched",
        "vouchedItems": "fedihub:vouchedItems",
        "listVersion": "fedihub:listVersion",
        "hubScope": "fedihub:hubScope",
        "Hashtag": "as:Hashtag",
        "PostalAddress": "sc:PostalAddress",
        "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
        "streetAddress": "sc:streetAddress",
        "addressLocality": "sc:addressLocality",
        "addressRegion": "sc:addressRegion",
        "addressCountry": "sc:addressCountry",
        "VirtualLocation": "sc:VirtualLocation",
        "latitude": "sc:latitude",
        "longitude": "sc:longitude",
    },
]

MAX_TEXT = 300
# The plausibility bound of one coalition's turnout: a local action is people in one place, and the
# largest single-city marches counted reach about a million. A report above it is refused.
MAX_TURNOUT = 1_000_000
# A pledge list's version is a 32-bit signed column: one change a second for 68 years.
MAX_LIST_VERSION = 2**31 - 1


@dataclass(frozen=True)
class PledgingCoalition:
    """What a roll-up shows of a pledging coalition."""

    uri: str
    name: str | None = None
    handle: str | None = None
    url: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    movements: tuple[str, ...] = ()


@dataclass(frozen=True)
class LocalAction:
    """A pledging coalition's own event for a call: a child Event on its own server."""

    uri: str
    name: str
    start: datetime | None = None
    timezone: str | None = None
    place: str | None = None
    url: str | None = None
    end: datetime | None = None
    address: str | None = None  # one line: street, postal code, city, region, country as given
    latitude: float | None = None
    longitude: float | None = None
    online_url: str | None = None
    description: str | None = None  # plain text; paragraphs separated by blank lines


@dataclass(frozen=True)
class Report:
    """A pledged coalition's report after the call: did it happen, rough turnout, a link."""

    happened: bool
    turnout: int | None = None
    url: str | None = None
    reported_at: datetime | None = None


@dataclass(frozen=True)
class PledgeItem:
    """One accepted pledge as the call's origin publishes it.

    ``vouched``: the origin vouches for it (docs/security.md "Counts you can believe"); only vouched
    pledges count in the headline numbers and only their reports are published.
    """

    uri: str
    call_uri: str
    coalition: PledgingCoalition
    message: str | None = None
    action: LocalAction | None = None
    report: Report | None = None
    published: datetime | None = None
    vouched: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


# --- Builders -----------------------------------------------------------------------------------


def _clean(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if value not in (None, "", [], {})}


def _local_time(moment: datetime, zone_name: str | None) -> str:
    # FEP-8a8e: times in the event's own offset, so the wall-clock time survives; UTC without a zone.
    zone = zone_info(zone_name)
    return moment.astimezone(zone).replace(microsecond=0).isoformat() if zone else format_datetime(moment)


def _paragraphs(text: str) -> str:
    # Plain text as the HTML `content` every Event reader expects (Mastodon, Mobilizon, Gancio).
    blocks = [block.strip() for block in text.split("\n\n") if block.strip()]
    return "".join(f"<p>{html_lib.escape(block).replace(chr(10), '<br>')}</p>" for block in blocks)


def _action_location(action: LocalAction) -> dict[str, Any] | None:
    if action.place:
        # The shape of a call's Place (builders._place_document, spec §2.2): coordinates as floats.
        place: dict[str, Any] = {"type": "Place", "name": action.place}
        if action.address:
            place["address"] = {"type": "PostalAddress", "streetAddress": action.address}
        if action.latitude is not None and action.longitude is not None:
            place.update(latitude=float(action.latitude), longitude=float(action.longitude))
        return place
    if action.online_url:
        return {"type": "VirtualLocation", "name": "Online", "url": action.online_url}
    return None


def build_local_action(action: LocalAction) -> dict[str, Any]:
    """The local action as the Event it is, in a call's shape: a reader of calls reads it too."""
    body = {
        "id": action.uri, "type": "Event", "name": action.name, "url": action.url or action.uri,
        "startTime": _local_time(action.start, action.timezone) if action.start else None,
        "endTime": _local_time(action.end, action.timezone) if action.end and action.start else None,
        "timezone": action.timezone,
        "location": _action_location(action),
        "content": _paragraphs(action.description) if action.description else None,
        "mediaType": "text/html" if action.description else None,
        # Mobilizon's online address: a Link named "Website" with exactly this mediaType (spec §2.2).
        "attachment": [{"type": "Link", "name": "Website", "mediaType": "text/html", "href": action.online_url}]
        if action.online_url else None,
    }
    return _clean(body)


def build_report(report: Report) -> dict[str, Any]:
    body: dict[str, Any] = {"happened": report.happened, "turnout": report.turnout, "url": report.url}
    if report.reported_at:
        body["published"] = format_datetime(report.reported_at)
    return {key: value for key, value in body.items() if value is not None}


def build_join(
    *,
    activity_id: str,
    actor: str,
    call_id: str,
    to: Sequence[str],
    published: datetime,
    message: str | None = None,
    action: LocalAction | None = None,
    report: Report | None = None,
) -> dict[str, Any]:
    """A coalition's pledge: Join of the call, Mobilizon's RSVP shape plus our local action/report."""
    extra: dict[str, Any] = {
        "@context": PLEDGE_CONTEXT[1:], "published": format_datetime(published),
        # Mobilizon sends the key with null when there is no message (fixture join_event.json).
        "participationMessage": message,
    }
    if action is not None:
        extra["localAction"] = build_local_action(action)
    if report is not None:
        extra["report"] = build_report(report)
    return builders.build_join(activity_id=activity_id, actor=actor, object_id=call_id, to=to, extra=extra)


def _coalition_document(coalition: PledgingCoalition) -> dict[str, Any]:
    address = _clean({
        "type": "PostalAddress", "addressLocality": coalition.city, "addressRegion": coalition.state,
        "addressCountry": coalition.country,
    })
    region = ", ".join(part for part in (coalition.city, coalition.state, coalition.country) if part)
    location = {"type": "Place", "name": region, "address": address} if region else None
    return _clean({
        "id": coalition.uri, "type": "Group", "name": coalition.name, "url": coalition.url,
        "preferredUsername": coalition.handle.split("@", 1)[0] if coalition.handle else None,
        "tag": [{"type": "Hashtag", "name": f"#{tag}"} for tag in coalition.movements],
        "location": location,
    })


def build_pledge_item(item: PledgeItem) -> dict[str, Any]:
    """A collection item: the accepted Join, with the coalition's name, region and movements inline.

    An unvouched pledge's report is left out: its turnout is shown nowhere until it is vouched.
    """
    body: dict[str, Any] = {
        "id": item.uri, "type": "Join", "actor": _coalition_document(item.coalition), "object": item.call_uri,
        "participationMessage": item.message, "vouched": item.vouched,
    }
    if item.published:
        body["published"] = format_datetime(item.published)
    if item.action is not None:
        body["localAction"] = build_local_action(item.action)
    if item.report is not None and item.vouched:
        body["report"] = build_report(item.report)
    return body


@dataclass(frozen=True)
class Carrier:
    """A hub that announced the call."""

    uri: str
    name: str | None = None
    scope: str | None = None
    url: str | None = None


def build_collection_summary(
    *, collection_id: str, call_id: str, total: int, carriers: Sequence[Carrier], updated: datetime,
    first: str | None = None, vouched: int = 0, version: int | None = None,
) -> dict[str, Any]:
    """The pledges collection without its items: what a notice carries and the collection's head.

    ``totalItems`` counts every published pledge (copies compare it with theirs); ``vouchedItems``
    those the origin vouches for, the headline number; ``listVersion`` orders the notices, which
    ``updated`` (to the second) cannot.
    """
    body: dict[str, Any] = {
        "id": collection_id, "type": "OrderedCollection", "totalItems": total, "vouchedItems": vouched,
        "pledgesOf": call_id, "updated": format_datetime(updated),
        "carriedBy": [_clean({"id": c.uri, "type": "Group", "name": c.name, "hubScope": c.scope, "url": c.url})
                      for c in carriers],
    }
    if version is not None:
        body["listVersion"] = version
    if first:
        body["first"] = first
    return body


def build_notice(
    *, kind: str, activity_id: str, actor: str, obj: Any, summary: Mapping[str, Any], to: Sequence[str],
) -> dict[str, Any]:
    """Add (a pledge accepted or changed), Remove (withdrawn or refused) or Update (carriers changed).

    Add/Remove name the collection as `target`; Update carries the collection summary as its object.
    Mastodon ignores all three here: it only reads Add/Remove aimed at an actor's featured collection
    and Updates of actors and statuses (spec §1.7).
    """
    body: dict[str, Any] = {"@context": PLEDGE_CONTEXT, "id": activity_id, "type": kind, "actor": actor,
                            "to": list(to)}
    if kind == "Update":
        body["object"] = dict(summary)
    else:
        body["object"] = obj
        body["target"] = dict(summary)
    return body


# --- Readers ------------------------------------------------------------------------------------


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return text[:limit] or None


def _http_url(value: Any) -> str | None:
    return http_url(id_of(value))


def read_list_version(summary: Mapping[str, Any]) -> int | None:
    """A pledges collection's ``listVersion``; None when absent (older peers) or not a whole number a
    database integer column holds (a hostile origin's 10**30 would fail the notice's transaction)."""
    value = summary.get("listVersion")
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_LIST_VERSION:
        return value
    return None


def read_message(doc: Mapping[str, Any]) -> str | None:
    value = doc.get("participationMessage", doc.get("content"))
    if not isinstance(value, str):
        return None
    return value.strip()[:MAX_MESSAGE] or None


def _online_link(value: Mapping[str, Any], locations: list[Any]) -> str | None:
    """A VirtualLocation's url (FEP-8a8e), else Mobilizon's attachment Link named "Website" (spec §2.2)."""
    for item in locations:
        if is_virtual_location(item) and (url := _http_url(item.get("url"))):
            return url
    for item in as_list(value.get("attachment"))[:20]:
        if isinstance(item, Mapping) and item.get("type") == "Link" and (
            str(item.get("name", "")).casefold() == "website"
        ) and (url := _http_url(item.get("href"))):
            return url
    return None


def _plain_text(content: Any) -> str:
    # Paragraphs stay apart by a blank line, as they were typed (and as _paragraphs sends them); the
    # empty paragraphs Mobilizon writes between them add nothing.
    if not isinstance(content, str):
        return ""
    text = html_to_text(re.sub(r"</p\s*>", "</p>\n", content[:MAX_ACTION_DESCRIPTION * 4], flags=re.IGNORECASE))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.splitlines())).strip()


def _address_line(*parts: str | None) -> str | None:
    # Mobilizon splits the address (street, postal code, locality, region, country); we keep one line,
    # without repeating a part the street line already names.
    line: list[str] = []
    for part in parts:
        if part and not any(part.casefold() in kept.casefold() for kept in line):
            line.append(part)
    return ", ".join(line)[:MAX_ADDRESS] or None


def read_local_action(value: Any) -> LocalAction | None:
    """A peer's local action: a fedihub summary or a whole Event (Mobilizon's shape), every field bounded.

    A hostile peer controls all of it: texts are capped, coordinates outside the globe dropped, an end
    before the start dropped, and links other than http(s) (``javascript:``…) never kept.
    """
    if not isinstance(value, Mapping):
        return None
    uri, name = _http_url(value.get("id")), _text(value.get("name"))
    if uri is None or name is None:
        return None
    locations = [item for item in as_list(value.get("location"))[:10] if isinstance(item, (str, Mapping))]
    found = read_place(next((item for item in locations if not is_virtual_location(item)), None))
    zone = value.get("timezone")
    start, end = parse_datetime(value.get("startTime")), parse_datetime(value.get("endTime"))
    if end is not None and (start is None or end <= start):
        end = None
    description = _plain_text(value.get("content"))
    has_coordinates = found.latitude is not None and found.longitude is not None
    return LocalAction(
        uri=uri, name=name, start=start, end=end,
        timezone=known_zone(zone), place=found.name[:MAX_TEXT] if found.name else None,
        url=_http_url(value.get("url")) or uri,
        address=_address_line(found.address, found.city, found.state, found.country),
        latitude=found.latitude if has_coordinates else None, longitude=found.longitude if has_coordinates else None,
        online_url=_online_link(value, locations),
        description=description.strip()[:MAX_ACTION_DESCRIPTION] or None,
    )


def read_report(value: Any) -> Report | None:
    if not isinstance(value, Mapping) or not isinstance(value.get("happened"), bool):
        return None
    turnout = value.get("turnout")
    if isinstance(turnout, bool) or not isinstance(turnout, int) or not 0 <= turnout <= MAX_TURNOUT:
        turnout = None
    return Report(happened=value["happened"], turnout=turnout, url=_http_url(value.get("url")),
                  reported_at=parse_datetime(value.get("published")))


def _read_coalition(value: Any) -> PledgingCoalition | None:
    uri = id_of(value)
    if not uri:
        return None
    if not isinstance(value, Mapping):
        return PledgingCoalition(uri=uri)
    location = value.get("location")
    address = location.get("address") if isinstance(location, Mapping) else None
    address = address if isinstance(address, Mapping) else {}
    username = _text(value.get("preferredUsername"), 100)
    host = uri.split("/")[2] if uri.count("/") >= 2 else ""
    return PledgingCoalition(
        uri=uri, name=_text(value.get("name")), handle=f"{username}@{host}" if username else None,
        url=_http_url(value.get("url")) or uri, city=_text(address.get("addressLocality"), 200),
        state=_text(address.get("addressRegion"), 200), country=_text(address.get("addressCountry"), 200),
        movements=tuple(hashtag_names(value)),
    )


def read_pledge_item(doc: Any) -> PledgeItem | None:
    """A pledge from a collection or a notice; None when it is not a readable Join of a call."""
    if not isinstance(doc, Mapping) or doc.get("type") != "Join":
        return None
    uri, call = id_of(doc.get("id")), id_of(doc.get("object"))
    coalition = _read_coalition(doc.get("actor"))
    if not uri or not call or coalition is None:
        return None
    return PledgeItem(
        uri=uri, call_uri=call, coalition=coalition, message=read_message(doc),
        action=read_local_action(doc.get("localAction")), report=read_report(doc.get("report")),
        published=parse_datetime(doc.get("published")),
        # Only an explicit true: an origin that does not vouch (older fedihub, another server) vouches for none.
        vouched=doc.get("vouched") is True,
    )


def read_carriers(summary: Mapping[str, Any]) -> list[Carrier]:
    carriers = []
    for value in as_list(summary.get("carriedBy"))[:200]:
        uri = id_of(value)
        if not uri:
            continue
        data = value if isinstance(value, Mapping) else {}
        scope = data.get("hubScope")
        carriers.append(Carrier(uri=uri, name=_text(data.get("name")), scope=scope if isinstance(scope, str) else None,
                                url=_http_url(data.get("url")) or uri))
    return carriers
