"""Web links: which strings are http(s) URLs we may store, link to or fetch, for peers' documents and
organizers' forms alike.

The rule: an absolute ``http`` or ``https`` URL (any case) with a host name, at most ``MAX_URL``
characters, and no whitespace or control character anywhere. Every other scheme is refused: a
``javascript:`` or ``data:`` link from a peer must never reach an href, and an iCalendar URI value
is written unescaped (RFC 5545 §3.3.13), so a line break in it would start a property of its own.
Mastodon's sanitizer allows more schemes in post HTML (spec §1.7); those links stay inside
sanitised HTML (protocol/html.py) and never become a field of their own.

Whether a URL may be *fetched* (public address, port, SSRF guard) is protocol/fetch.py's question;
this module only says whether a string is a web link at all.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

# The URI columns are String(2048); browsers and sitemaps (sitemaps.org) work to the same limit.
MAX_URL = 2048

_SCHEMES = ("http://", "https://")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def has_http_scheme(text: str) -> bool:
    """Whether ``text`` starts with http:// or https:// in any case: what a person pasted is a link,
    not a handle such as name@host (whether it is a *good* link is :func:`http_url`'s question)."""
    return text[:8].lower().startswith(_SCHEMES)


def _is_web_address(value: str) -> bool:
    if not value or _SPACE_OR_CONTROL.search(value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # "https://[::1" and other broken authorities
        return False
    return parts.scheme in ("http", "https") and bool(host)


def http_url(value: Any) -> str | None:
    """``value`` when it is a web link by the module's rule, else None (also for non-strings)."""
    if not isinstance(value, str) or len(value) > MAX_URL or not _is_web_address(value):
        return None
    return value


def http_url_problem(text: str) -> str | None:
    """What is wrong with a link a person typed, said so that it follows "the link …"; None if nothing."""
    if not _is_web_address(text):
        return "must be a web address starting with https://"
    if len(text) > MAX_URL:
        return f"has at most {MAX_URL} characters"
    return None
