"""Handles (``@name@host``): the one way they are written, and the grammar they are read with."""

from __future__ import annotations

import re

from fedihub.errors import InvalidInput
from fedihub.i18n.active import gettext
from fedihub.protocol.hosts import normalise_host

# Mastodon's USERNAME_RE (app/models/account.rb), case-insensitive.
_USERNAME = re.compile(r"[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*", re.IGNORECASE)
_MAX_USERNAME = 2048  # Mastodon rejects longer remote usernames (§1.10)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*(?::(?P<port>[0-9]{{1,5}}))?")


def _normalise_host(host: str) -> str:
    """The host of a handle in its one spelling (hosts.py), which must then be a DNS name or IPv4."""
    ascii_host = normalise_host(host)
    # No underscores, empty labels or stray characters: a handle's host goes into a URL we fetch.
    if _HOST.fullmatch(ascii_host) is None or len(ascii_host) > 253:
        raise InvalidInput(f"{host!r} is not a valid domain",
                           public_message=gettext("%(host)r is not a valid domain", host=host))
    return ascii_host


def format_handle(username: str, host: str) -> str:
    """``@name@host``, the one way a handle is shown (pages, mail, notices, the CLI).

    ``host`` is the authority of the actor's id: its port stays when it has one, since that handle is
    what another server sends to WebFinger, and without the port it would ask the wrong server.
    """
    return f"@{username}@{host}"


def parse_handle(text: str) -> tuple[str, str]:
    """``name@host``, ``@name@host`` or ``acct:name@host`` → (name, lowercased host)."""
    handle = text.strip()
    if handle[:5].lower() == "acct:":
        handle = handle[5:]
    elif handle.startswith("@"):
        handle = handle[1:]
    name, sep, host = handle.partition("@")
    if not sep or not name or not host:
        raise InvalidInput(f"{text!r} is not a handle like name@example.org",
                           public_message=gettext("%(text)r is not a handle like name@example.org", text=text))
    if len(name) > _MAX_USERNAME or _USERNAME.fullmatch(name) is None:
        raise InvalidInput(
            f"{name!r} is not a valid user name: use letters, digits and _, with . or - only between them",
            public_message=gettext("%(name)r is not a valid user name: use letters, digits and _, "
                                   "with . or - only between them", name=name),
        )
    return name, _normalise_host(host)
