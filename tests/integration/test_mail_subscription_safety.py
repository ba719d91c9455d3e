"""E-mail subscriptions under attack and out of sight: rate limits per client and per address, no address
on any public page or federated document, calendars and hubs that mail only what they list, and the
admin's counts, export and erasure."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from fedihub.coalitions import calls
from fedihub.hubs import service as hubs
from fedihub.storage.models import Boost, MailSubscription
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import (
    Browser,
    cheap_password_hashing,  # noqa: F401  (fixture)
)
from tests.integration.subscription_helpers import (
    mail_server,
    messages_to,
    rally,
    running_smtp,
    subscribe,
    subscribed,
)
from tests.support.edges import committed
from tests.support.network import FederationNet
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp()


pytestmark = [pytest.mark.all_backends, pytest.mark.usefixtures("cheap_password_hashing")]

HTML = {"accept": "text/html"}
AS2 = {"accept": "application/activity+json"}
READER = "reader@example.org"


async def test_one_client_signing_up_a_list_of_victims_is_stopped(net: FederationNet, smtp: SmtpServer) -> None:
    a = await mail_server(net, smtp)
    answers = [(await subscribe(a, f"victim{n}@example.org")).status_code for n in range(12)]
    assert answers[:10] == [200] * 10
    assert answers[10:] == [429, 429]
    await net.settle()
    assert len(smtp.mailbox.received) == 10


async def test_one_mailbox_is_not_flooded_with_confirmations_from_many_clients(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_server(net, smtp)
    await committed(a.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state")
    pages = ["/g/tenants", "/g/state-hub", "/g/tenants", "/g/state-hub", "/g/tenants"]
    answers = []
    for page in pages:
        # A fresh limiter per request stands for requests from as many client addresses.
        a.app.state.subscribe_limiter._events = {
            key: value for key, value in a.app.state.subscribe_limiter._events.items() if key.startswith("address:")
        }
        answers.append(await subscribe(a, "target@example.org", page=page))
    assert [r.status_code for r in answers] == [200] * 5
    assert len({r.text.count("Check your mailbox") for r in answers}) == 1  # nothing tells them apart
    await net.settle()
    assert len(messages_to(smtp, "target@example.org")) == 3


async def test_no_address_is_on_any_public_page_or_federated_document(net: FederationNet, smtp: SmtpServer) -> None:
    a = await mail_server(net, smtp)
    address = "private.person@example.org"
    await subscribed(net, a, smtp, address)
    await subscribed(net, a, smtp, "calendar.reader@example.org", page="/", movement="housing")
    call = await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()

    documents = {
        "/g/tenants": HTML, "/": HTML, "/g/tenants/outbox?page=1": AS2, "/g/tenants/followers": AS2,
        "/g/tenants/calls.ics": {}, "/g/tenants/feed.atom": {}, "/calls.ics": {}, "/api/v1/calls": {},
        call.uri.removeprefix(a.base_url): HTML, "/.well-known/nodeinfo": {},
    }
    served = {path: await a.get(path, headers=headers) for path, headers in documents.items()}
    served["actor"] = await a.get("/g/tenants", headers=AS2)
    served["call"] = await a.get(call.uri.removeprefix(a.base_url), headers=AS2)
    for path, response in served.items():
        assert response.status_code == 200, path
        for secret in (address, "private.person", "calendar.reader"):
            assert secret not in response.text, path


async def test_a_calendar_subscription_mails_only_the_calls_that_calendar_lists(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_server(net, smtp)
    await subscribed(net, a, smtp, "housing@example.org", page="/", movement="Housing", region="illinois")
    await committed(a.ctx, calls.publish_call, "tenants", rally(net, title="Rent rally"))
    await committed(a.ctx, calls.publish_call, "tenants", rally(net, title="Bus rally", movements=["transit"]))
    await committed(a.ctx, calls.publish_call, "tenants",
                    rally(net, title="Ohio rally", region_state="Ohio"))
    await net.settle()
    subjects = [str(m["Subject"]).strip() for m in messages_to(smtp, "housing@example.org")][1:]
    assert subjects == ["New call to action: Rent rally"]


async def test_a_hubs_subscribers_get_the_calls_it_carries(net: FederationNet, smtp: SmtpServer) -> None:
    from fedihub.federation.actors import resolve_target

    a = await net.add_instance("a.test")
    from fedihub.coalitions import service as coalitions

    await committed(a.ctx, coalitions.create_coalition, "tenants", name="Springfield Tenants")
    s = await mail_server(net, smtp, host="s.test")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "tenants@a.test"))
    await net.settle()
    await subscribed(net, s, smtp, "hub.reader@example.org", page="/g/state-hub")

    call = await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()

    [message] = [m for m in messages_to(smtp, "hub.reader@example.org") if "Rally" in str(m["Subject"]).strip()]
    body = message.get_body(("plain",))
    assert body is not None
    text = str(body.get_content())
    assert "the calls the hub Illinois Hub carries" in text
    assert "/calls/view?url=" in text and "a.test" in text  # opened on the hub's server
    assert call.uri


async def test_an_address_subscribed_to_a_coalition_and_its_hub_gets_one_message(
    net: FederationNet, smtp: SmtpServer
) -> None:
    from fedihub.federation.actors import resolve_target

    a = await mail_server(net, smtp)
    await committed(a.ctx, hubs.create_hub, "city-hub", name="Springfield Hub", scope="local")
    await committed(a.ctx, hubs.add_member, "city-hub", await resolve_target(a.ctx, "tenants@a.test"))
    await net.settle()
    await subscribed(net, a, smtp, READER)
    await subscribed(net, a, smtp, READER, page="/g/city-hub")

    call = await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()
    async with a.ctx.sessions() as session:
        carried = (await session.scalars(select(Boost.object_uri))).all()
    assert carried == [call.uri]  # the hub boosted it: both subscriptions list the call
    assert [str(m["Subject"]).strip() for m in messages_to(smtp, READER)][2:] == [
        "New call to action: Rally for rent control"
    ]


async def test_the_admin_sees_counts_exports_and_erases_an_address(net: FederationNet, smtp: SmtpServer) -> None:
    a = await mail_server(net, smtp)
    await subscribed(net, a, smtp, "asker@example.org")
    await subscribe(a, "pending@example.org")
    await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()
    admin = await organizer(a, "root", is_admin=True)
    try:
        page = await admin.get("/admin/subscriptions")
        assert page.status_code == 200
        row = page.text[page.text.index("Springfield Tenants"):]
        confirmed, pending = '<td data-label="Confirmed">1</td>', '<td data-label="Waiting for confirmation">1</td>'
        assert confirmed in row[:300] and pending in row[:300]  # 1 confirmed, 1 pending
        assert "asker@example.org" not in page.text

        found = await admin.submit("/admin/subscriptions", "/admin/subscriptions/lookup",
                                   {"email": "Asker@Example.org"})
        assert "the calls of Springfield Tenants" in found.text and "confirmed" in found.text

        exported = await admin.submit("/admin/subscriptions", "/admin/subscriptions/export",
                                      {"email": "asker@example.org"})
        assert exported.headers["content-disposition"].startswith("attachment")
        data = json.loads(exported.text)
        assert data["address"] == "asker@example.org"
        assert [s["state"] for s in data["subscriptions"]] == ["confirmed"]
        assert [c["kind"] for c in data["calls_mailed"]] == ["new"]
        assert len(data["messages"]) == 2  # the confirmation and the call
        assert "hash" not in exported.text

        erased = await admin.submit("/admin/subscriptions", "/admin/subscriptions/erase",
                                    {"email": "asker@example.org"})
        assert "Deleted 1 subscription and 2 messages" in erased.text
        async with a.ctx.sessions() as session:
            left = (await session.scalars(select(MailSubscription.address))).all()
        assert left == ["pending@example.org"]

        # Not an admin: nothing to see.
        visitor = Browser(a)
        assert (await visitor.get("/admin/subscriptions")).status_code in (303, 403)
        await visitor.client.aclose()
    finally:
        await admin.client.aclose()
