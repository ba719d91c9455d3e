"""Dates and times as readers of each language write them (Babel's CLDR data).

English keeps the house style ("Saturday 14 March 2026"); Spanish and French use CLDR's full
date ("sábado, 14 de marzo de 2026", "samedi 14 mars 2026"). Times are 24-hour in all three.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_timedelta

from fedihub.i18n.active import language

_LONG = {"en": "EEEE d MMMM y"}
_DATE = {"es": "d 'de' MMMM 'de' y"}
_DAY_MONTH = {"en": "EEEE d MMMM", "es": "EEEE, d 'de' MMMM", "fr": "EEEE d MMMM"}


def long_date(moment: datetime) -> str:
    """The weekday, day, month and year of ``moment`` (already in the zone to show)."""
    code = language()
    return format_date(moment.date(), _LONG.get(code, "full"), locale=code)


def day_and_month(moment: datetime) -> str:
    """The weekday, day and month: the end of an event that runs past midnight."""
    code = language()
    return format_date(moment.date(), _DAY_MONTH.get(code, "EEEE d MMMM"), locale=code)


def month_badge(moment: datetime) -> str:
    """The short month on a date badge: "Mar", "mar", "mars"."""
    return format_date(moment.date(), "LLL", locale=language()).rstrip(".")


def ago(elapsed: timedelta) -> str:
    """How long ago, as the reader's language says it: "5 minutes ago", "hace 5 minutos", "il y a 5 minutes"."""
    return format_timedelta(-max(elapsed, timedelta()), add_direction=True, locale=language())


def clock(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def short_date(moment: datetime) -> str:
    """A day in a table: "14 Mar 2026", "14 mar 2026", "14 mars 2026"."""
    code = language()
    return format_date(moment.date(), "d MMM y" if code == "en" else "medium", locale=code)


def date_time(moment: datetime) -> str:
    """A timestamp in lists (last login, news): "14 March 2026, 18:00" in the reader's language."""
    code = language()
    return f"{format_date(moment.date(), _DATE.get(code, 'd MMMM y'), locale=code)}, {clock(moment)}"


def event_when(start: datetime, end: datetime | None, zone_name: str) -> str:
    """ "sábado, 14 de marzo de 2026, 11:00–14:00 (Europe/Madrid)": a call's time in a letter."""
    zone = ZoneInfo(zone_name)
    local_start = start.astimezone(zone)
    text = f"{long_date(local_start)}, {clock(local_start)}"
    if end is not None and end > start:
        local_end = end.astimezone(zone)
        same_day = local_end.date() == local_start.date()
        text += f"–{clock(local_end)}" if same_day else f" – {long_date(local_end)}, {clock(local_end)}"
    return f"{text} ({zone_name})"
