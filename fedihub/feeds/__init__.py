"""Calendars (iCalendar), Atom feeds and the read-only calls API: what other software reads of the calls."""
