"""ActivityStreams vocabulary constants used everywhere in fedihub (media types: protocol/media_types.py)."""

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
