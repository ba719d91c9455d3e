"""Media types in Content-Type and Accept headers, and which of them mean ActivityPub (spec §1.5).

One parser for every header and every `type`/`mediaType` a peer sends. RFC 9110 §5.6.6 spells a
parameter value as a token or a double-quoted string with backslash escapes, and §8.3.1 makes the
type, the subtype and the parameter names case-insensitive; a `;` or `,` inside quotes separates
nothing. Beyond the RFC we also read a value in single quotes as quoted: it is not HTTP, but the
profile is an IRI either way and refusing the document would only lose it.

What counts as ActivityPub follows Mastodon (spec §0 finding 3, pitfall P11; GHSA-3fjr-858r-92rw):
`application/activity+json`, or `application/ld+json` whose `profile` lists the ActivityStreams IRI
among its space-separated IRIs (RFC 6906). Mastodon itself only finds the profile in double quotes;
we are lenient about quoting, never about the type.
"""

from __future__ import annotations

import re

from fedihub.protocol.vocab import AS_CONTEXT

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
LD_JSON_PROFILE = f'{LD_JSON}; profile="{AS_CONTEXT}"'
# What we send when we fetch a document: both ActivityPub types, as Mastodon does.
ACCEPT_ACTIVITYPUB = f"{ACTIVITY_JSON}, {LD_JSON_PROFILE}"

_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


def split_outside_quotes(text: str, separator: str) -> list[str]:
    """``text`` split on ``separator`` wherever it is not inside a double-quoted string."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _QUOTED_PAIR.sub(r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]  # not HTTP quoting, but sent by some peers (see the module docstring)
    return value


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """A Content-Type (or one media range of an Accept header) as (lower-cased type/subtype,
    {lower-cased parameter name: unquoted value}); a parameter given twice keeps its last value."""
    pieces = split_outside_quotes(value, ";")
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, equals, raw = piece.partition("=")
        if equals and name.strip():
            params[name.strip().lower()] = _unquote(raw)
    return pieces[0].strip().lower(), params


def media_type_of(value: str | None) -> str:
    """Only the lower-cased type/subtype of a Content-Type; "" for none."""
    return parse_media_type(value)[0] if value else ""


def is_activitypub_media_type(value: str | None) -> bool:
    """True for `application/activity+json`, or `application/ld+json` with the ActivityStreams profile."""
    if not value:
        return False
    media_type, params = parse_media_type(value)
    if media_type == ACTIVITY_JSON:
        return True
    return media_type == LD_JSON and AS_CONTEXT in params.get("profile", "").split()


def _quality(params: dict[str, str]) -> float:
    try:
        return float(params.get("q", "1"))
    except ValueError:
        return 0.0


def accepts_activitypub(accept_header: str) -> bool:
    """True when an `Accept` header asks for ActivityStreams JSON (content negotiation, §1.5).

    Both AS media types count, ld+json with or without the profile (pitfall P12: spec-following
    fetchers such as Smithereen and GoToSocial send the ld+json form). A range with q=0 means
    "not acceptable"; if the client explicitly prefers text/html over every AS type we serve HTML.
    `*/*` alone (browsers) never selects AS2.
    """
    if not accept_header:
        return False
    best_as = 0.0
    best_html = 0.0
    for item in split_outside_quotes(accept_header, ","):
        if not item.strip():
            continue
        media_type, params = parse_media_type(item)
        quality = _quality(params)
        if media_type in (ACTIVITY_JSON, LD_JSON):
            best_as = max(best_as, quality)
        elif media_type == "text/html":
            best_html = max(best_html, quality)
    return best_as > 0 and best_as >= best_html
