"""What a person reads about a link they typed into a form, as a whole sentence in their language."""

from __future__ import annotations

from fedihub.i18n.active import gettext
from fedihub.protocol.urls import MAX_URL, http_url_problem


def link_problem(url: str, *, not_web: str, too_long: str) -> str | None:
    """None for a good link; else ``not_web`` or ``too_long`` (N_-marked, ``%(limit)s`` the longest
    link) translated. Whole sentences per field, because "the website" and "the online link" are not
    the same gender in Spanish and French: http_url_problem's English tail cannot be glued on."""
    if http_url_problem(url) is None:
        return None
    if len(url) > MAX_URL and http_url_problem(url[:MAX_URL]) is None:
        return gettext(too_long, limit=MAX_URL)
    return gettext(not_web)
