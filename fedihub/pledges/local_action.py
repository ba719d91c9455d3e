"""A coalition's own local action for a call, as an organizer describes it: checked here once for the
pledge form and the `fedihub pledge` command alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedihub.coalitions.calls import MAX_TITLE, parse_local_datetime
from fedihub.errors import InvalidForm, InvalidInput

MAX_ACTION_TITLE = MAX_TITLE  # the local action is validated as a call


@dataclass(frozen=True)
class LocalActionInput:
    """A coalition's own event for the call, as an organizer describes it."""

    title: str
    start: datetime
    timezone: str
    place: str
    end: datetime | None = None
    description: str = ""


class IncompleteAction(InvalidForm):
    """Some of a local action's title, start and place were given, not all three.

    ``errors`` names every missing one (``field`` the first); a command line names its own options instead.
    """


def read_local_action(
    *, title: str | None, start: str | None, place: str | None, timezone: str | None = None,
    end: str | None = None, description: str | None = None, default_timezone: str | None = None,
) -> LocalActionInput | None:
    """The local action from what an organizer typed, or None when title, start and place are all empty.

    Times are wall-clock times in ``timezone`` (else ``default_timezone``, the call's, else UTC), or ISO
    times with an offset. Errors name the form field they are about (``action_title`` …).
    """
    title, start, place = (value.strip() if value else "" for value in (title, start, place))
    if not (title or start or place):
        return None
    missing = {
        field: message for field, message, given in (
            ("action_title", "give your local action a title, or leave all its fields empty", title),
            ("action_start", "when does your local action start?", start),
            ("action_place", "where does your local action happen?", place),
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
        raise InvalidInput(f"{zone!r} is not a time zone we know", field="action_timezone") from exc
    if len(title) > MAX_ACTION_TITLE:
        raise InvalidInput(f"a title has at most {MAX_ACTION_TITLE} characters", field="action_title")
    if ends is not None and ends <= moment:
        raise InvalidInput("your local action must end after it starts", field="action_end")
    return LocalActionInput(
        title=title, start=moment, timezone=zone, place=place, end=ends, description=(description or "").strip(),
    )
