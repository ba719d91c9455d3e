"""Host names: the one spelling fedihub stores and compares (UTS-46 mapping, IDNA 2008 punycode)."""

from __future__ import annotations

from urllib.parse import urlsplit

import idna

from fedihub.errors import InvalidInput
from fedihub.i18n.active import gettext


def normalise_host(text: str, *, strict: bool = True) -> str:
    """``Bücher.Example.:8000`` → ``xn--bcher-kva.example:8000``: the host as every part of fedihub
    writes it, with its port (if any) kept.

    Lower case; trailing dots dropped (``example.org.`` names ``example.org``); a name with any
    non-ASCII character mapped by UTS-46 and written as IDNA 2008 A-labels, as browsers and httpx do.
    An ASCII name is only lower-cased, never judged: hosts of ids and blocks that were accepted before
    keep their spelling. IP literals (``[::1]`` included) are kept as written, lower-cased.

    ``strict`` raises InvalidInput for an empty host, a bad port, or a name IDNA 2008 refuses (``☃``,
    which IDNA 2003 allowed); otherwise such a host comes back lower-cased, for callers that compare
    hosts of documents already accepted and must not fail on them.
    """
    name, port = _split_port(text.strip())
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        return _refuse(text, "has an invalid port", strict)
    if not name.startswith("["):
        name = name.rstrip(".")
        if not name.isascii():
            try:
                name = idna.encode(name, uts46=True).decode("ascii")
            except idna.IDNAError as exc:
                return _refuse(text, f"is not a valid domain ({exc})", strict)
            # UTS-46 maps the ideographic full stop (U+3002) and friends to ".", so a trailing
            # dot can appear only now: "bücher.example。" names bücher.example.
            name = name.rstrip(".")
    if not name:
        return _refuse(text, "is not a valid domain", strict)
    name = name.lower()
    return name if port is None else f"{name}:{port}"


def host_of(uri: str) -> str:
    """The normalised host (and port) of a URL, or "" when it has none; never raises.

    A user-info part (``http://x@blocked.example/``) is dropped: the host is where a client
    connects, whatever name precedes it. Ids that carry user-info are refused where they arrive
    (``has_userinfo``); this keeps every comparison of hosts about the real host.
    """
    try:
        netloc = urlsplit(uri).netloc
    except ValueError:
        return ""
    hostport = netloc.rpartition("@")[2]
    return normalise_host(hostport, strict=False) if hostport else ""


def has_userinfo(uri: str) -> bool:
    """Whether a URL names a user before its host (``http://x@example.org/``); never raises.

    No ActivityPub server mints such ids, and they have been used to slip past domain blocks,
    so fedihub refuses them wherever an id enters. A backslash in the authority counts too:
    parsers disagree on whether ``http://good.example\\@blocked.example/`` goes to good.example
    (WHATWG) or blocked.example (httpx).
    """
    if "@" not in uri and "\\" not in uri:
        return False  # the usual case, without parsing: every id of every inbound activity comes here
    try:
        netloc = urlsplit(uri).netloc
    except ValueError:
        return False
    return "@" in netloc or "\\" in netloc


def bare_host(host: str) -> str:
    """A host as given anywhere (``x@Bücher.Example.:8443``) reduced to its normalised name
    without user-info or port (``xn--bcher-kva.example``): what a domain block is compared with."""
    hostport = normalise_host(host.rpartition("@")[2], strict=False)
    name, _ = _split_port(hostport)
    return name


def _split_port(text: str) -> tuple[str, str | None]:
    if text.startswith("["):  # an IPv6 literal: "[::1]" or "[::1]:8000"
        end = text.find("]")
        if end != -1 and text[end + 1 : end + 2] == ":":
            return text[: end + 1], text[end + 2 :]
        return text, None
    name, colon, port = text.rpartition(":")
    return (name, port) if colon and ":" not in name else (text, None)


def _refuse(text: str, why: str, strict: bool) -> str:
    if strict:
        raise InvalidInput(f"{text!r} {why}", public_message=gettext("%(text)r is not a valid host name", text=text))
    return text.strip().lower()
