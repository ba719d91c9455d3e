"""The kinds of notice, how each reads as a sentence with links, and how each is e-mailed by default."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fedihub.storage.models import Notice

FOLLOW_REQUEST = "follow_request"
NEW_FOLLOWER = "new_follower"
MEMBERSHIP_REQUEST = "membership_request"
NEW_MEMBER = "new_member"
PLEDGE = "pledge"
WITHDRAWAL = "withdrawal"
NEW_CALL = "new_call"
CALL_CANCELLED = "call_cancelled"
CALL_CHANGED = "call_changed"
REPLY = "reply"
REPORT_DUE = "report_due"

# How a kind reaches an account by e-mail.
OFF, NOW, DIGEST = "off", "now", "digest"
DELIVERIES = {OFF: "No e-mail", NOW: "At once", DIGEST: "Daily digest"}


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # on the preferences form: "<label>: at once / digest / no e-mail"
    default: str


# In the order the preferences form lists them.
KINDS = (
    Kind(MEMBERSHIP_REQUEST, "Requests to join your hub, and hubs asking you to be a member", NOW),
    Kind(FOLLOW_REQUEST, "Follow requests", DIGEST),
    Kind(NEW_MEMBER, "New members of your hub, and hubs you became a member of", DIGEST),
    Kind(NEW_FOLLOWER, "New followers", OFF),
    Kind(PLEDGE, "Pledges to your calls", DIGEST),
    Kind(WITHDRAWAL, "Pledges withdrawn from your calls", DIGEST),
    Kind(NEW_CALL, "New calls from your hubs", DIGEST),
    Kind(CALL_CANCELLED, "Cancellations of calls you pledged to", NOW),
    Kind(CALL_CHANGED, "Changes to calls you pledged to", DIGEST),
    Kind(REPLY, "Replies to your calls", DIGEST),
    Kind(REPORT_DUE, "Reminders to report back after a call you pledged to", NOW),
)
BY_NAME = {kind.name: kind for kind in KINDS}


@dataclass(frozen=True)
class Part:
    """One piece of a notice's sentence: plain text, or text with a link (a path here or another server's URL)."""

    text: str
    href: str | None = None


def call_path(call_uri: str) -> str:
    # Opens any call, ours or another server's (web/remote_calls.py redirects ours to their own page).
    return f"/calls/view?{urlencode({'url': call_uri})}"


def report_path(call_uri: str, coalition: str) -> str:
    return f"/pledge/report?{urlencode({'call': call_uri, 'coalition': coalition})}"


def sentence(notice: Notice) -> list[Part]:
    """What happened, in the words the list and the e-mail both use."""
    who = Part(notice.party_name or notice.party_uri or "Someone", notice.party_url)
    call = Part(notice.call_title or "a call to action", call_path(notice.call_uri) if notice.call_uri else None)
    us = Part(notice.actor.name or notice.actor.username or "your coalition")
    kind = notice.kind
    parts: list[Part]
    if kind == FOLLOW_REQUEST:
        parts = [who, Part(" asks to follow "), us, Part(".")]
    elif kind == NEW_FOLLOWER:
        parts = [who, Part(" now follows "), us, Part(".")]
    elif kind == MEMBERSHIP_REQUEST and notice.detail == "hub-asks":
        parts = [who, Part(" asks "), us, Part(" to become one of its members.")]
    elif kind == MEMBERSHIP_REQUEST:
        parts = [who, Part(" asks to join "), us, Part(".")]
    elif kind == NEW_MEMBER and notice.detail == "joined-hub":
        parts = [us, Part(" is now a member of "), who, Part(".")]
    elif kind == NEW_MEMBER:
        parts = [who, Part(" is now a member of "), us, Part(".")]
    elif kind == PLEDGE:
        held = " It waits for your decision." if notice.detail == "held" else ""
        parts = [who, Part(" pledged to "), call, Part("." + held)]
    elif kind == WITHDRAWAL:
        parts = [who, Part(" withdrew its pledge to "), call, Part(".")]
    elif kind == NEW_CALL:
        parts = [who, Part(" brought a new call: "), call, Part(".")]
    elif kind == CALL_CANCELLED and notice.detail == "deleted":
        parts = [call, Part(", which "), us, Part(" pledged to, was deleted by "), who, Part(".")]
    elif kind == CALL_CANCELLED:
        parts = [call, Part(", which "), us, Part(" pledged to, was cancelled by "), who, Part(".")]
    elif kind == CALL_CHANGED:
        parts = [call, Part(", which "), us, Part(" pledged to, was changed by "), who, Part(".")]
    elif kind == REPLY:
        parts = [who, Part(" replied to "), call, Part(".")]
    elif kind == REPORT_DUE:
        parts = [Part("How did "), call, Part(" go? "),
                 Part("Report back", report_path(notice.call_uri or "", notice.actor.username or "")),
                 Part(" for "), us, Part(".")]
    else:
        parts = [Part("Something happened for "), us, Part(".")]
    return parts


def plain(parts: list[Part]) -> str:
    return "".join(part.text for part in parts)
