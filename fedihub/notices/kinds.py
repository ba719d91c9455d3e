"""The kinds of notice, how each reads as a sentence with links, and how each is e-mailed by default."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from fedihub.i18n.active import N_, gettext
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
# Labels marked for the catalogue (N_), shown through gettext on the account page.
DELIVERIES = {OFF: N_("No e-mail"), NOW: N_("At once"), DIGEST: N_("Daily digest")}


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # on the preferences form: "<label>: at once / digest / no e-mail"
    default: str


# In the order the preferences form lists them.
KINDS = (
    Kind(MEMBERSHIP_REQUEST, N_("Requests to join your hub, and hubs asking you to be a member"), NOW),
    Kind(FOLLOW_REQUEST, N_("Follow requests"), DIGEST),
    Kind(NEW_MEMBER, N_("New members of your hub, and hubs you became a member of"), DIGEST),
    Kind(NEW_FOLLOWER, N_("New followers"), OFF),
    Kind(PLEDGE, N_("Pledges to your calls"), DIGEST),
    Kind(WITHDRAWAL, N_("Pledges withdrawn from your calls"), DIGEST),
    Kind(NEW_CALL, N_("New calls from your hubs"), DIGEST),
    Kind(CALL_CANCELLED, N_("Cancellations of calls you pledged to"), NOW),
    Kind(CALL_CHANGED, N_("Changes to calls you pledged to"), DIGEST),
    Kind(REPLY, N_("Replies to your calls"), DIGEST),
    Kind(REPORT_DUE, N_("Reminders to report back after a call you pledged to"), NOW),
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


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _parts(template: str, **named: Part) -> list[Part]:
    """A translated sentence as parts: ``%(name)s`` becomes the named (linked) part, the rest plain
    text, so each language orders the sentence its own way."""
    parts: list[Part] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            parts.append(Part(template[position:match.start()]))
        parts.append(named[match.group(1)])
        position = match.end()
    if position < len(template):
        parts.append(Part(template[position:]))
    return parts


def sentence(notice: Notice) -> list[Part]:
    """What happened, in the words the list and the e-mail both use, in the active language."""
    who = Part(notice.party_name or notice.party_uri or gettext("Someone"), notice.party_url)
    call = Part(notice.call_title or gettext("a call to action"),
                call_path(notice.call_uri) if notice.call_uri else None)
    us = Part(notice.actor.name or notice.actor.username or gettext("your coalition"))
    kind = notice.kind
    if kind == FOLLOW_REQUEST:
        template = gettext("%(who)s asks to follow %(us)s.")
    elif kind == NEW_FOLLOWER:
        template = gettext("%(who)s now follows %(us)s.")
    elif kind == MEMBERSHIP_REQUEST and notice.detail == "hub-asks":
        template = gettext("%(who)s asks %(us)s to become one of its members.")
    elif kind == MEMBERSHIP_REQUEST:
        template = gettext("%(who)s asks to join %(us)s.")
    elif kind == NEW_MEMBER and notice.detail == "joined-hub":
        template = gettext("%(us)s is now a member of %(who)s.")
    elif kind == NEW_MEMBER:
        template = gettext("%(who)s is now a member of %(us)s.")
    elif kind == PLEDGE and notice.detail == "held":
        template = gettext("%(who)s pledged to %(call)s. It waits for your decision.")
    elif kind == PLEDGE:
        template = gettext("%(who)s pledged to %(call)s.")
    elif kind == WITHDRAWAL:
        template = gettext("%(who)s withdrew its pledge to %(call)s.")
    elif kind == NEW_CALL:
        template = gettext("%(who)s brought a new call: %(call)s.")
    elif kind == CALL_CANCELLED and notice.detail == "deleted":
        template = gettext("%(call)s, which %(us)s pledged to, was deleted by %(who)s.")
    elif kind == CALL_CANCELLED:
        template = gettext("%(call)s, which %(us)s pledged to, was cancelled by %(who)s.")
    elif kind == CALL_CHANGED:
        template = gettext("%(call)s, which %(us)s pledged to, was changed by %(who)s.")
    elif kind == REPLY:
        template = gettext("%(who)s replied to %(call)s.")
    elif kind == REPORT_DUE:
        report = Part(gettext("Report back"), report_path(notice.call_uri or "", notice.actor.username or ""))
        return _parts(gettext("How did %(call)s go? %(report)s for %(us)s."), call=call, report=report, us=us)
    else:
        template = gettext("Something happened for %(us)s.")
    return _parts(template, who=who, call=call, us=us)


def plain(parts: list[Part]) -> str:
    return "".join(part.text for part in parts)
