"""ActivityStreams vocabulary constants and AS2 media-type checks used everywhere in fedihub."""

from __future__ import annotations

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

# fedihub's own extension terms (hubs, pledges; docs/federation/hubs.md "The extension terms"). A
# placeholder until the project has a domain of its own: peers that do not know a term ignore it.
FEDIHUB_NAMESPACE = "https://fedihub.example/ns#"
# Spec §0 finding 23, §1.7 and pitfall P14: Mastodon accepts all three spellings and compacted
# JSON-LD produces "as:Public", so we accept them all on input but only ever emit the full IRI.
PUBLIC_ALIASES = frozenset({PUBLIC, "as:Public", "Public"})

# Mastodon's FetchRemoteActorService SUPPORTED_TYPES (spec §1.2).
ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})

# Object types fedihub ingests as posts or calls to action.
OBJECT_TYPES = frozenset({"Note", "Article", "Page", "Event"})

# Activity types the reader recognises when `type` is a list (so it can pick the meaningful one).
ACTIVITY_TYPES = frozenset(
    {
        "Accept", "Add", "Announce", "Block", "Create", "Delete", "Dislike", "Flag", "Follow",
        "Ignore", "Invite", "Join", "Leave", "Like", "Move", "Reject", "Remove",
        "TentativeAccept", "TentativeReject", "Undo", "Update", "View",
    }
)

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
LD_JSON_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split on `sep` except inside double-quoted strings (profile values are quoted)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _parse_media_range(text: str) -> tuple[str, dict[str, str]]:
    """Return (lower-cased type/subtype, {lower-cased param: unquoted value})."""
    pieces = _split_outside_quotes(text, ";")
    media_type = pieces[0].strip().lower()
    params: dict[str, str] = {}
    for piece in pieces[1:]:
        name, eq, value = piece.partition("=")
        if not eq:
            continue
        params[name.strip().lower()] = value.strip().strip("\"'").strip()
    return media_type, params


def _has_as_profile(params: dict[str, str]) -> bool:
    # RFC 6906: a profile parameter is a space-separated list of URIs.
    return AS_CONTEXT in params.get("profile", "").split()


def is_activitypub_media_type(content_type: str) -> bool:
    """True for `application/activity+json` or `application/ld+json` with the AS profile.

    Spec §0 finding 3 / pitfall P11: Mastodon discards anything else, and so do we; charset,
    whitespace and the quote style around the profile do not matter.
    """
    if not content_type:
        return False
    media_type, params = _parse_media_range(content_type)
    if media_type == ACTIVITY_JSON:
        return True
    return media_type == LD_JSON and _has_as_profile(params)


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
    for item in _split_outside_quotes(accept_header, ","):
        if not item.strip():
            continue
        media_type, params = _parse_media_range(item)
        quality = _quality(params)
        if media_type in (ACTIVITY_JSON, LD_JSON):
            best_as = max(best_as, quality)
        elif media_type == "text/html":
            best_html = max(best_html, quality)
    return best_as > 0 and best_as >= best_html
