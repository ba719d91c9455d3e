"""A coalition's own local action for a call, as an organizer describes it: checked here once for the
pledge form and the `fedihub pledge` command alike."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_decimal

from fedihub.coalitions.calls import MAX_PLACE, MAX_TITLE, parse_local_datetime
from fedihub.coalitions.link_messages import link_problem
from fedihub.errors import InvalidForm, InvalidInput
from fedihub.i18n.active import N_, gettext, language
from fedihub.places.gazetteer import find_place
from fedihub.protocol.limits import MAX_ACTION_DESCRIPTION, MAX_ADDRESS

MAX_ACTION_TITLE = MAX_TITLE  # the local action is validated as a call

Coordinates = tuple[float, float]


@dataclass(frozen=True)
class LocalActionInput:
    """A coalition's own event for the call, as an organizer describes it."""

    title: str
    start: datetime
    timezone: str
    place: str
    end: datetime | None = None
    description: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    online_url: str = ""


class IncompleteAction(InvalidForm):
    """Some of a local action's title, start and place (or online link) were given, not all three.

    ``errors`` names every missing one (``field`` the first); a command line names its own options instead.
    """


def _line(value: str | None) -> str:
    return " ".join((value or "").split())


def _bounded(value: str | None, field: str, limit: int, too_long: str) -> str:
    """``too_long`` is an N_-marked sentence with ``%(limit)s`` (never 1: no plural needed)."""
    text = _line(value)
    if len(text) > limit:
        raise InvalidInput(gettext(too_long, limit=limit), field=field)
    return text


def _coordinate(value: str | None, field: str, limit: int) -> float | None:
    text = (value or "").strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")  # a decimal comma, as typed in much of the world
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not -limit <= number <= limit:
        message = (
            N_("latitude is a number from -%(limit)s to %(limit)s, like %(example)s") if limit == 90
            else N_("longitude is a number from -%(limit)s to %(limit)s, like %(example)s")
        )
        raise InvalidInput(gettext(message, limit=limit, example="41.88" if limit == 90 else "-87.63"), field=field)
    return number


def find_action_coordinates(
    *, place: str, address: str, latitude: float | None, longitude: float | None,
) -> Coordinates | None:
    """Where the local action is on a map: the coordinates typed, else its town found offline from the
    place and address (the call form's gazetteer), else None.

    The first look-up reads the gazetteer (seconds): callers on the event loop run this in a thread.
    """
    if latitude is not None and longitude is not None:
        return latitude, longitude
    words = ", ".join(part for part in (place, address) if part)
    found = find_place(address=words) if words else None
    return (found.latitude, found.longitude) if found is not None else None


def read_local_action(
    *, title: str | None, start: str | None, place: str | None, timezone: str | None = None,
    end: str | None = None, description: str | None = None, default_timezone: str | None = None,
    address: str | None = None, latitude: str | None = None, longitude: str | None = None,
    online_url: str | None = None,
) -> LocalActionInput | None:
    """The local action from what an organizer typed, or None when all its fields are empty.

    Times are wall-clock times in ``timezone`` (else ``default_timezone``, the call's, else UTC), or ISO
    times with an offset. It happens at a place, online, or both. Errors name the form field they are
    about (``action_title`` …).
    """
    title, start, place = (value.strip() if value else "" for value in (title, start, place))
    link = (online_url or "").strip()
    others = (end, description, address, latitude, longitude, link)
    if not (title or start or place or any(value and value.strip() for value in others)):
        return None
    missing = {
        field: gettext(message) for field, message, given in (
            ("action_title", N_("give your local action a title, or leave all its fields empty"), title),
            ("action_start", N_("when does your local action start?"), start),
            ("action_place", N_("where does your local action happen?"), place or link),
        ) if not given
    }
    if missing:
        # Every missing part named at once (the form shows each next to its field).
        raise IncompleteAction(missing)
    zone = (timezone or "").strip() or default_timezone or "UTC"
    try:
        moment = parse_local_datetime(start, zone, "action_start")
        ends = parse_local_datetime(end, zone, "action_end") if end and end.strip() else None
    except (ValueError, KeyError) as exc:
        raise InvalidInput(
            gettext("%(zone)s is not a time zone we know", zone=repr(zone)), field="action_timezone"
        ) from exc
    if len(title) > MAX_ACTION_TITLE:
        raise InvalidInput(
            gettext("a title has at most %(limit)s characters", limit=MAX_ACTION_TITLE), field="action_title"
        )
    if ends is not None and ends <= moment:
        raise InvalidInput(gettext("your local action must end after it starts"), field="action_end")
    place = _bounded(place, "action_place", MAX_PLACE, N_("the place name has at most %(limit)s characters"))
    street = _bounded(address, "action_address", MAX_ADDRESS, N_("the address has at most %(limit)s characters"))
    problem = link and link_problem(
        link, not_web=N_("the online link must be a web address starting with https://"),
        too_long=N_("the online link has at most %(limit)s characters"),
    )
    if problem:
        raise InvalidInput(problem, field="action_online_url")
    text = (description or "").strip()
    if len(text) > MAX_ACTION_DESCRIPTION:
        raise InvalidInput(
            gettext("a description has at most %(limit)s characters",
                    limit=format_decimal(MAX_ACTION_DESCRIPTION, locale=language())),
            field="action_description",
        )
    lat, lon = _coordinate(latitude, "action_latitude", 90), _coordinate(longitude, "action_longitude", 180)
    if (lat is None) != (lon is None):
        absent = "action_longitude" if lon is None else "action_latitude"
        raise InvalidInput(gettext("give the latitude and the longitude together, or neither"), field=absent)
    point = find_action_coordinates(place=place, address=street, latitude=lat, longitude=lon)
    return LocalActionInput(
        title=title, start=moment, timezone=zone, place=place, end=ends, description=text, address=street,
        latitude=point[0] if point else None, longitude=point[1] if point else None, online_url=link,
    )
