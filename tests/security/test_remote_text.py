"""A hostile server's call to action, with script in every text field and Unicode line breaks in its
names, as the calendar feeds, the Atom feed, the API and the call page show it (landscape §D class 11)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote

import icalendar

from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor, Boost
from tests.integration.feed_helpers import parse_atom
from tests.integration.helpers import BROWSER, follow_peer
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

SCRIPT = '<script>alert(1)</script><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a>'
# NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR end a line for readers that split on Unicode line breaks.
BREAKS = "\u0085UID:evil\u2028X-EVIL:1\u2029STATUS:CANCELLED"


async def hostile_call(net: FederationNet, a: Instance, peer: FakePeer) -> str:
    alice = peer.accounts["alice"]
    await follow_peer(net, a, peer, "tenants", alice)
    create = peer.build_create(alice, object_type="Event", content=f"<p>Come {SCRIPT}</p>")
    create["object"].update(
        name=f"Rally{BREAKS}", summary=SCRIPT, startTime="2030-05-01T18:00:00Z",
        location={"type": "Place", "name": f"Hall{BREAKS}", "address": SCRIPT},
    )
    assert (await peer.send(a, create)).status_code == 202
    await net.settle()
    return str(create["object"]["id"])


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.live: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        if tag == "img" and dict(attrs).get("src") == "x":
            self.live.append("img[src=x]")
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith(("javascript:", "data:")):
                self.live.append(f"{tag}[{name}={value}]")

    def handle_data(self, data: str) -> None:
        if self._in_script and "alert" in data:
            self.live.append("script alert")


def live_markup(html: str) -> list[str]:
    """What of the hostile markup in ``html`` a browser would run: its script, handlers and script links.
    Escaped text (``&lt;script&gt;``) is text, and is not counted."""
    parser = _Markup()
    parser.feed(html)
    return parser.live


async def test_the_calendar_keeps_unicode_line_breaks_inside_their_values(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    uri = await hostile_call(net, a, peer)

    response = await a.get("/calls.ics")

    text = response.text
    assert not {"\u0085", "\u2028", "\u2029"} & set(text)
    lines = text.splitlines()  # splits on every Unicode line break, as a lenient reader would
    assert not any(line.startswith(("UID:evil", "X-EVIL", "STATUS:CANCELLED")) for line in lines)
    [event] = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert str(event["UID"]) == uri
    assert str(event["SUMMARY"]) == "Rally\nUID:evil\nX-EVIL:1\nSTATUS:CANCELLED"
    assert str(event["STATUS"]) == "CONFIRMED"


async def test_feeds_api_and_pages_carry_only_sanitised_remote_html(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    uri = await hostile_call(net, a, peer)
    hub = await committed(a.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state")
    async with a.ctx.sessions.begin() as session:
        session.add(Boost(hub_id=hub.id, object_uri=uri, activity_uri=f"{uri}#boost", created_at=a.ctx.clock()))

    atom = await a.get("/g/illinois/feed.atom")
    api = await a.get("/api/v1/calls")
    page = await a.get(f"/calls/view?url={quote(uri, safe='')}", headers={"Accept": BROWSER})
    calendar = await a.get("/calls.ics")

    [entry] = parse_atom(atom).entries
    assert entry.id == uri and "Come" in entry.content[0].value
    assert live_markup(entry.content[0].value) == []  # the HTML a feed reader renders
    [item] = api.json()["items"]
    # The API serves plain text, never HTML: the description is the text of the sanitised content.
    assert item["id"] == uri and item["description"] == "Come x"
    [event] = icalendar.Calendar.from_ical(calendar.text).walk("VEVENT")
    assert str(event["DESCRIPTION"]).startswith("Come x")  # text of the sanitised HTML, no markup
    assert page.status_code == 200 and "Come" in page.text
    assert live_markup(page.text) == []
