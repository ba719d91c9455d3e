"""The boost decision of a hub, as a pure function of the candidate object and the hub's rules (§3.8)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from fedihub.protocol.movements import movement_key

# A post addressed to more Group actors than this is a cross-posting blast, not a member's call:
# no hub boosts it (FEDIHUB_HUB_MAX_ADDRESSED_GROUPS).
MAX_ADDRESSED_GROUPS = 5
SCOPES = ("local", "regional", "state", "macro-regional", "national", "international")
BOOSTABLE_TYPES = frozenset({"Note", "Article", "Page", "Event"})


@dataclass(frozen=True)
class HubRules:
    """One hub's identity and filters; empty filters match everything."""

    hub_uri: str
    movements: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    calls_only: bool = False
    max_addressed_groups: int = MAX_ADDRESSED_GROUPS


@dataclass(frozen=True)
class Candidate:
    """An object that reached a hub, with what the hub knows about how it got there."""

    object_id: str
    type: str
    author_uri: str
    is_public: bool
    in_reply_to: str | None = None
    movements: tuple[str, ...] = ()
    regions: tuple[str, ...] = field(default=())  # city, state, country: any of them may match
    # Consent: the author is a member whose follow by the hub was accepted, or the object came
    # through an accepted member hub and was checked at its origin.
    via_accepted_member: bool = False
    author_blocked: bool = False
    already_boosted: bool = False
    # Known Group actors among to, cc, audience and Mention tags (hubs/limits.py).
    addressed_groups: int = 0


def _folded(values: Collection[str]) -> set[str]:
    return {value.strip().casefold() for value in values if value and value.strip()}


def _movement_keys(values: Collection[str]) -> set[str]:
    # protocol/movements.py: "#housing", "Housing" and "housing" are one movement.
    return {key for key in map(movement_key, values) if key}


def refusal_reason(rules: HubRules, candidate: Candidate) -> str | None:
    """Why the hub must not boost ``candidate``, or None when it should boost it exactly now."""
    if candidate.already_boosted:
        return "already boosted (one Announce per hub and object)"
    if candidate.author_uri == rules.hub_uri:
        return "the hub's own object"
    if candidate.type == "Announce":
        return "an Announce is never boosted; boost the original object"
    if not candidate.via_accepted_member:
        return "not from an accepted member"
    if candidate.author_blocked:
        return "the author is blocked"
    if not candidate.is_public:
        return "not public"
    if candidate.in_reply_to:
        return "a reply"
    if candidate.addressed_groups > rules.max_addressed_groups:
        return f"addressed to {candidate.addressed_groups} groups (more than {rules.max_addressed_groups})"
    allowed = frozenset({"Event"}) if rules.calls_only else BOOSTABLE_TYPES
    if candidate.type not in allowed:
        return f"type {candidate.type} is not boosted by this hub"
    if rules.movements and not _movement_keys(rules.movements) & _movement_keys(candidate.movements):
        return "no matching movement"
    if rules.regions and not _folded(rules.regions) & _folded(candidate.regions):
        return "no matching region"
    return None


def should_boost(rules: HubRules, candidate: Candidate) -> bool:
    return refusal_reason(rules, candidate) is None
