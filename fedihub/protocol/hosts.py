"""Host names: the one spelling fedihub stores and compares (UTS-46 mapping, IDNA 2008 punycode)."""

from __future__ import annotations

from urllib.parse import urlsplit

import idna

from fedihub.errors import InvalidInput


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
    if not name:
        return _refuse(text, "is not a valid domain", strict)
    name = name.lower()
    return name if port is None else f"{name}:{port}"


def host_of(uri: str) -> str:
    """The normalised host (and port) of a URL, or "" when it has none; never raises.

    The user-info part of a URL, when present, is kept in front of the host as the code that compares
    hosts has always seen it (refusing such ids is a decision of its own).
    """
    try:
        netloc = urlsplit(uri).netloc
    except ValueError:
        return ""
    userinfo, at, hostport = netloc.rpartition("@")
    return userinfo.lower() + at + normalise_host(hostport, strict=False) if hostport else netloc.lower()


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
        raise InvalidInput(f"{text!r} {why}", public_message=f"{text!r} is not a valid host name")
    return text.strip().lower()
