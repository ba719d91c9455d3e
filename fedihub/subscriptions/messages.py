"""The words of subscription mail: the confirmation request and the message about a new, changed or
cancelled call, each as plain text and HTML with the unsubscribe link and headers (RFC 2369, RFC 8058)."""

from __future__ import annotations

from markupsafe import Markup, escape

from fedihub.coalitions import ics
from fedihub.coalitions.event_text import format_place, format_when
from fedihub.i18n import dates
from fedihub.i18n.active import N_, gettext, language
from fedihub.i18n.languages import DEFAULT_LANGUAGE
from fedihub.mail.outbox import Attachment, Letter
from fedihub.protocol.html import html_to_text
from fedihub.protocol.timezones import known_zone
from fedihub.protocol.urls import http_url
from fedihub.storage.models import StoredObject
from fedihub.subscriptions.mailing import Mailing, call_page

SUBJECT_LIMIT = 200
EXCERPT = 600
LEADS = {"new": N_("New call to action"), "changed": N_("Changed"), "cancelled": N_("Cancelled")}


def list_headers(unsubscribe: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail clients show an Unsubscribe button that POSTs to the link at once."""
    return {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _page(mailing: Mailing, title: str, paragraphs: list[Markup]) -> str:
    body = Markup("\n").join(Markup("<p>{}</p>").format(p) for p in paragraphs)
    return str(Markup(
        '<!doctype html><html><head><meta charset="utf-8"><title>{}</title></head>'
        '<body style="font-family: sans-serif; line-height: 1.5; max-width: 40em">{}'
        '<hr><p style="color: #555; font-size: 0.9em">{}</p></body></html>'
    ).format(title, body, mailing.instance_name))


def _link(url: str, label: str | None = None) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, label or url)


def confirmation(mailing: Mailing, *, what: str, confirm: str) -> Letter:
    """The one message an unconfirmed address gets: nothing more follows unless its owner confirms."""
    subject = gettext("Confirm your subscription to %(what)s", what=what)[:SUBJECT_LIMIT]
    asked = gettext("Someone, probably you, asked %(instance)s to e-mail this address about %(what)s.")
    ignore = gettext("If it was not you, ignore this message: you will not hear from us again, and the request "
                     "is forgotten after a week.")
    text = (
        f"{asked % {'instance': mailing.instance_name, 'what': what}}\n\n"
        f"{gettext('To confirm, open this link and press Confirm:')}\n{confirm}\n\n{ignore}\n"
    )
    html = _page(mailing, subject, [
        Markup(escape(asked)) % {"instance": mailing.instance_name, "what": what},
        Markup(escape(gettext("To confirm, open this link and press %(confirm)s: %(link)s"))) % {
            "confirm": Markup("<strong>{}</strong>").format(gettext("Confirm")), "link": _link(confirm)},
        escape(ignore),
    ])
    return Letter(subject=subject, text=text, html=html, headers={})


def _when(row: StoredObject, zone: str | None) -> str:
    assert row.start_time is not None
    shown_zone = known_zone(zone) or known_zone(row.timezone) or "UTC"
    if language() != DEFAULT_LANGUAGE:
        return dates.event_when(row.start_time, row.end_time, shown_zone)
    return format_when(row.start_time, row.end_time, shown_zone)


def _description(row: StoredObject) -> str:
    text = html_to_text(row.content or "").strip()
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "…"


def call_letter(
    mailing: Mailing, row: StoredObject, *, kind: str, zone: str | None, why: str, unsubscribe: str,
) -> Letter:
    """A call as its reader needs it: what, when (in the reader's zone when known), where, the link,
    why they receive it, how to stop, and the call as an .ics file their calendar app imports."""
    title = (row.name or "").strip() or gettext("Call to action")
    author = row.author
    organiser = (author.name or author.username or author.domain) if author is not None else ""
    link = call_page(mailing, row)
    when = _when(row, zone)
    place = format_place(row.location_name, row.location_address, (row.region_city, row.region_state,
                                                                   row.region_country))
    online = http_url(row.online_url)
    subject = gettext("%(lead)s: %(title)s", lead=gettext(LEADS[kind]), title=title)[:SUBJECT_LIMIT]
    facts = [(gettext("When"), when)] + ([(gettext("Where"), place)] if place else []) + (
        [(gettext("Online"), online)] if online else [])
    intro = {
        "new": gettext("%(organiser)s calls to action:", organiser=organiser),
        "changed": gettext("%(organiser)s changed this call to action:", organiser=organiser),
        "cancelled": gettext("%(organiser)s cancelled this call to action. Do not go.", organiser=organiser),
    }[kind]
    description = _description(row) if kind == "new" else ""
    text_lines = [intro, "", title, *[f"{label}: {value}" for label, value in facts], ""]
    if description:
        text_lines += [description, ""]
    because = gettext("You receive this because you subscribed to %(why)s on %(instance)s.")
    text_lines += [
        f"{gettext('Read more and pledge')}: {link}", "",
        gettext("The attached .ics file adds it to your calendar."), "",
        "--", because % {"why": why, "instance": mailing.instance_name},
        f"{gettext('Unsubscribe')}: {unsubscribe}",
    ]
    html = _page(mailing, subject, [
        escape(intro),
        Markup("<strong>{}</strong><br>{}").format(
            title, Markup("<br>").join(Markup("{}: {}").format(label, value) for label, value in facts)
        ),
        *([escape(description)] if description else []),
        _link(link, gettext("Read more and pledge")),
        escape(gettext("The attached .ics file adds it to your calendar.")),
        Markup("{} {}").format(
            Markup(escape(because)) % {"why": why, "instance": mailing.instance_name},
            _link(unsubscribe, gettext("Unsubscribe")),
        ),
    ])
    calendar = ics.build_calendar([row], product=ics.product_id(mailing.version))
    attachment = Attachment(filename=ics.filename_for(row), content_type="text/calendar",
                            data=calendar.encode("utf-8"))
    return Letter(subject=subject, text="\n".join(text_lines), html=html, headers=list_headers(unsubscribe),
                  attachments=(attachment,))
