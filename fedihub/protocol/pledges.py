"""Pledge documents, pure: the Join a coalition sends to a call, the items of a call's pledges
collection, the Add/Remove/Update notices that keep copies of it current, and tolerant readers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fedihub.protocol import builders
from fedihub.protocol.builders import format_datetime
from fedihub.protocol.limits import MAX_MESSAGE
from fedihub.protocol.movements import hashtag_names
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
        "hubScope": "fedihub:hubScope",
        "Hashtag": "as:Hashtag",
        "PostalAddress": "sc:PostalAddress",
        "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
        "addressLocality": "sc:addressLocality",
        "addressRegion": "sc:addressRegion",
        "addressCountry": "sc:addressCountry",
    },
]

MAX_TEXT = 300
# The plausibility bound of one coalition's turnout: a local action is people in one place, and the
# largest single-city marches counted reach about a million. A report above it is refused.
MAX_TURNOUT = 1_000_000


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


def build_local_action(action: LocalAction) -> dict[str, Any]:
    body = {
        "id": action.uri, "type": "Event", "name": action.name, "url": action.url or action.uri,
        "startTime": _local_time(action.start, action.timezone) if action.start else None,
        "timezone": action.timezone,
        "location": {"type": "Place", "name": action.place} if action.place else None,
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
    first: str | None = None, vouched: int = 0,
) -> dict[str, Any]:
    """The pledges collection without its items: what a notice carries and the collection's head.

    ``totalItems`` counts every published pledge (copies compare it with theirs); ``vouchedItems``
    those the origin vouches for, the headline number.
    """
    body: dict[str, Any] = {
        "id": collection_id, "type": "OrderedCollection", "totalItems": total, "vouchedItems": vouched,
        "pledgesOf": call_id, "updated": format_datetime(updated),
        "carriedBy": [_clean({"id": c.uri, "type": "Group", "name": c.name, "hubScope": c.scope, "url": c.url})
                      for c in carriers],
    }
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


def read_message(doc: Mapping[str, Any]) -> str | None:
    value = doc.get("participationMessage", doc.get("content"))
    if not isinstance(value, str):
        return None
    return value.strip()[:MAX_MESSAGE] or None


def read_local_action(value: Any) -> LocalAction | None:
    if not isinstance(value, Mapping):
        return None
    uri, name = _http_url(value.get("id")), _text(value.get("name"))
    if uri is None or name is None:
        return None
    location = value.get("location")
    place = _text(location.get("name")) if isinstance(location, Mapping) else _text(location)
    zone = value.get("timezone")
    return LocalAction(
        uri=uri, name=name, start=parse_datetime(value.get("startTime")),
        timezone=known_zone(zone), place=place,
        url=_http_url(value.get("url")) or uri,
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
