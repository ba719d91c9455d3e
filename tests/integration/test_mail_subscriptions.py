"""The public subscribes by e-mail, against a real SMTP server: double opt-in, a call arriving with a
valid .ics (read back by an independent parser), changes and cancellation, one-click unsubscribe as a
mail client does it, the SMTP server down then up, and mail off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from ical.calendar_stream import IcsCalendarStream
from sqlalchemy import func, select

from fedihub.accounts.site import save_site_info
from fedihub.coalitions import calls
from fedihub.storage.models import MailSubscription, OutboundMail, SubscriptionMail
from fedihub.worker import Worker
from tests.integration.organizers import (
    Browser,
    cheap_password_hashing,  # noqa: F401  (fixture)
)
from tests.integration.subscription_helpers import (
    CONFIRM_LINK,
    mail_server,
    messages_to,
    rally,
    running_smtp,
    subscribe,
    subscribed,
    text_of,
)
from tests.support.edges import committed
from tests.support.network import FederationNet
from tests.support.smtp import SmtpServer


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp()


pytestmark = [pytest.mark.all_backends, pytest.mark.usefixtures("cheap_password_hashing")]

READER = "reader@example.org"


async def subscriptions(instance) -> list[MailSubscription]:  # type: ignore[no-untyped-def]
    async with instance.ctx.sessions() as session:
        return list((await session.scalars(select(MailSubscription).order_by(MailSubscription.id))).all())


async def test_subscribing_sends_one_confirmation_and_nothing_else_until_confirmed(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_server(net, smtp)
    response = await subscribe(a, READER)
    assert response.status_code == 200 and "Check your mailbox" in response.text
    await net.settle()

    [message] = messages_to(smtp, READER)
    assert message["Subject"] == "Confirm your subscription to the calls of Springfield Tenants"
    link = CONFIRM_LINK.search(text_of(message))
    assert link is not None
    html = message.get_body(("html",))
    assert html is not None and link.group(1) in html.get_content()
    [row] = await subscriptions(a)
    assert row.state == "pending" and row.timezone == "America/Chicago"
    token = link.group(1).rsplit("/", 1)[1]
    assert row.confirm_token_hash and token not in row.confirm_token_hash  # stored hashed

    # Unconfirmed: a new call mails nobody.
    await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()
    assert len(messages_to(smtp, READER)) == 1

    # A mail scanner following the link changes nothing; the person pressing Confirm does.
    path = link.group(1).removeprefix(a.base_url)
    scanned = await a.get(path)
    assert scanned.status_code == 200 and "Confirm" in scanned.text
    assert (await subscriptions(a))[0].state == "pending"
    browser = Browser(a)
    confirmed = await browser.submit(path, path)
    assert "You are subscribed" in confirmed.text
    assert (await subscriptions(a))[0].state == "confirmed"
    again = await browser.get(path)  # a link works once
    assert again.status_code == 404
    await browser.client.aclose()


async def test_a_new_call_arrives_with_the_time_in_the_readers_zone_a_link_and_a_valid_ics(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_server(net, smtp)
    await subscribed(net, a, smtp, READER)

    call = await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()

    [message] = [m for m in messages_to(smtp, READER) if not str(m["Subject"]).strip().startswith("Confirm")]
    assert message["Subject"] == "New call to action: Rally for rent control"
    text = text_of(message)
    assert call.uri in text
    start = call.start_time
    assert start is not None
    # The reader's zone (America/Chicago, captured at subscription), not the call's (Europe/Berlin).
    assert "(America/Chicago)" in text and "Europe/Berlin" not in text
    assert "City Hall" in text
    # Folded onto its own line when long (RFC 5322 §2.2.3), as mail clients read it.
    unsubscribe = str(message["List-Unsubscribe"]).strip()
    assert re.fullmatch(r"<http://a\.test/subscriptions/unsubscribe/\d+/[A-Za-z0-9_-]+>", unsubscribe)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe[1:-1] in text  # the visible link too

    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == "rally-for-rent-control.ics"
    calendar = IcsCalendarStream.calendar_from_ics(attachment.get_content())
    [event] = calendar.events
    assert event.summary == "Rally for rent control"
    assert event.dtstart == start and event.dtend == call.end_time
    assert event.uid == call.uri and event.location == "City Hall"

    # The same call, read again by a rerun of the job, is not mailed twice.
    await committed(a.ctx, calls.update_call, call.uri, rally(net, description="Bring water too."))
    await net.settle()
    assert len(messages_to(smtp, READER)) == 2


async def test_a_change_and_a_cancellation_each_send_one_message(net: FederationNet, smtp: SmtpServer) -> None:
    a = await mail_server(net, smtp)
    await subscribed(net, a, smtp, READER)
    call = await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()

    moved = rally(net, place_name="Courthouse square", start=rally(net).start + timedelta(hours=1))
    await committed(a.ctx, calls.update_call, call.uri, moved)
    await net.settle()
    await committed(a.ctx, calls.cancel_call, call.uri, "The permit was refused.")
    await net.settle()

    subjects = [str(m["Subject"]).strip() for m in messages_to(smtp, READER)][1:]
    assert subjects == [
        "New call to action: Rally for rent control", "Changed: Rally for rent control",
        "Cancelled: Rally for rent control",
    ]
    changed, cancelled = messages_to(smtp, READER)[2:]
    assert "Courthouse square" in text_of(changed)
    assert "cancelled" in text_of(cancelled)
    [ics] = list(cancelled.iter_attachments())
    [event] = IcsCalendarStream.calendar_from_ics(ics.get_content()).events
    assert str(event.status).endswith("CANCELLED")
    async with a.ctx.sessions() as session:
        kinds = (await session.scalars(select(SubscriptionMail.kind).order_by(SubscriptionMail.id))).all()
    assert kinds == ["new", "changed", "cancelled"]


async def test_one_click_unsubscribe_is_a_post_to_the_header_link_without_cookies(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_server(net, smtp)
    await subscribed(net, a, smtp, READER)
    await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()
    message = messages_to(smtp, READER)[-1]
    url = str(message["List-Unsubscribe"]).strip().strip("<>")

    # A scanner's GET shows a page and unsubscribes nobody.
    page = await a.get(url.removeprefix(a.base_url), headers={"accept": "text/html"})
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert len(await subscriptions(a)) == 1

    # RFC 8058 §3.2: the mail client POSTs exactly this body to the URL, with no cookie or token.
    transport = httpx.ASGITransport(app=a.app)
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.post(
            url, content=str(message["List-Unsubscribe-Post"]),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code == 200
        assert await subscriptions(a) == []
        # A client that retries is answered the same way.
        retried = await client.post(url, content="List-Unsubscribe=One-Click",
                                    headers={"content-type": "application/x-www-form-urlencoded"})
        assert retried.status_code == 200

    await committed(a.ctx, calls.publish_call, "tenants", rally(net, title="Second rally"))
    await net.settle()
    assert "Second rally" not in " ".join(str(m["Subject"]).strip() for m in messages_to(smtp, READER))


async def test_a_forged_unsubscribe_link_unsubscribes_nobody(net: FederationNet, smtp: SmtpServer) -> None:
    a = await mail_server(net, smtp)
    await subscribed(net, a, smtp, READER)
    [row] = await subscriptions(a)
    response = await a.post(f"/subscriptions/unsubscribe/{row.id}/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                            content="List-Unsubscribe=One-Click",
                            headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200  # the same answer as for a subscription already gone …
    assert len(await subscriptions(a)) == 1  # … and nothing changed


async def test_while_the_smtp_server_is_down_nothing_is_lost_and_nothing_sent_twice(net: FederationNet) -> None:
    server = SmtpServer()
    server.start()
    try:
        a = await mail_server(net, server)
        await subscribed(net, a, server, READER)
        await subscribed(net, a, server, "second@example.org")
        server.stop()

        await committed(a.ctx, calls.publish_call, "tenants", rally(net))
        await net.settle()
        async with a.ctx.sessions() as session:
            waiting = (await session.scalars(select(OutboundMail).where(OutboundMail.state == "pending"))).all()
        assert len(waiting) == 2 and all(row.attempts <= 1 for row in waiting)

        server.start()
        net.clock.advance(minutes=5)
        await net.settle()
        other = Worker(a.ctx, a.runtime.processor, name="w2", lanes=a.runtime.worker.lanes)
        net.clock.advance(days=4)
        await net.settle()
        await other.run_once()
    finally:
        server.stop()

    calls_mailed = [r.rcpt_tos[0] for r in server.mailbox.received if "Rally" in str(r.message["Subject"]).strip()]
    assert sorted(calls_mailed) == ["reader@example.org", "second@example.org"]


async def test_the_answer_is_the_same_whether_or_not_the_address_was_there(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_server(net, smtp)
    await subscribed(net, a, smtp, READER)

    def visible(response: httpx.Response) -> str:
        return re.sub(r'name="csrf_token" value="[^"]+"', "", response.text)

    known = await subscribe(a, READER)
    unknown = await subscribe(a, "stranger@example.org")
    assert known.status_code == unknown.status_code == 200
    assert visible(known) == visible(unknown)
    await net.settle()
    # The confirmed subscriber is not asked again; the subscription is untouched.
    assert len(messages_to(smtp, READER)) == 1
    assert [row.state for row in await subscriptions(a)] == ["confirmed", "pending"]


async def test_a_bad_address_is_refused_with_the_input_kept(net: FederationNet, smtp: SmtpServer) -> None:
    a = await mail_server(net, smtp)
    response = await subscribe(a, "not an address")
    assert response.status_code == 400
    assert 'role="alert"' in response.text and "give an e-mail address" in response.text
    assert 'value="not an address"' in response.text
    assert await subscriptions(a) == []


async def test_with_mail_off_the_form_is_hidden_and_subscribing_is_not_offered(net: FederationNet) -> None:
    from fedihub.coalitions import service as coalitions

    a = await net.add_instance("a.test")
    await committed(a.ctx, coalitions.create_coalition, "tenants", name="Springfield Tenants")
    page = await a.get("/g/tenants", headers={"accept": "text/html"})
    assert page.status_code == 200 and 'action="/subscribe"' not in page.text
    home = await a.get("/", headers={"accept": "text/html"})
    assert 'action="/subscribe"' not in home.text
    assert (await a.get("/subscribe?to=tenants", headers={"accept": "text/html"})).status_code == 404
    await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    assert await net.settle() >= 0
    async with a.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboundMail)) == 0


async def test_every_error_of_the_form_is_reported_at_once_with_the_input_kept(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_server(net, smtp)
    response = await subscribe(a, "nobody", page="/", movement="x" * 101, region="Illinois")
    assert response.status_code == 400
    assert "give an e-mail address" in response.text and "movement has at most" in response.text
    assert 'value="Illinois"' in response.text and 'value="nobody"' in response.text
    assert await subscriptions(a) == []


async def test_an_attachment_named_like_a_path_is_refused_and_nothing_is_queued(
    net: FederationNet, smtp: SmtpServer
) -> None:
    from fedihub.errors import InvalidInput
    from fedihub.mail.outbox import Attachment, enqueue_mail

    a = await mail_server(net, smtp)
    with pytest.raises(InvalidInput):
        async with a.ctx.sessions.begin() as session:
            await enqueue_mail(session, a.runtime.settings.mail, to=READER, subject="Hi", text="Hi", now=a.ctx.clock(),
                               attachments=[Attachment("../../etc/passwd", "text/plain", b"x")])
    async with a.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboundMail)) == 0


async def test_a_remote_call_reaches_calendar_subscribers_and_so_does_its_cancellation(
    net: FederationNet, smtp: SmtpServer
) -> None:
    from fedihub.coalitions import service as coalitions
    from fedihub.federation import follows
    from fedihub.federation.actors import resolve_target

    a = await mail_server(net, smtp)
    b = await net.add_instance("b.test")
    await committed(b.ctx, coalitions.create_coalition, "climate", name="Climate Coalition")
    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "climate@b.test"))
    await net.settle()
    await subscribed(net, a, smtp, READER, page="/", movement="housing")

    call = await committed(b.ctx, calls.publish_call, "climate", rally(net, title="Remote rally"))
    await net.settle()
    await committed(b.ctx, calls.cancel_call, call.uri, None)
    await net.settle()

    mailed = messages_to(smtp, READER)[1:]
    subjects = [str(m["Subject"]).strip() for m in mailed]
    assert subjects == ["New call to action: Remote rally", "Cancelled: Remote rally"]
    assert "http://a.test/calls/view?url=http%3A%2F%2Fb.test%2Fo%2F" in text_of(mailed[0])


async def test_mail_names_the_instance_as_its_admins_named_it(net: FederationNet, smtp: SmtpServer) -> None:
    a = await mail_server(net, smtp)
    await committed(a.ctx, save_site_info, "Springfield Coalitions", None)
    await subscribed(net, a, smtp, READER)

    await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()

    confirmation, news = messages_to(smtp, READER)
    assert "asked Springfield Coalitions to e-mail this address" in text_of(confirmation)
    assert "on Springfield Coalitions" in text_of(news) and "on a.test" not in text_of(news)


# --- The form anyone may send ---------------------------------------------------------------------


async def test_the_form_needs_no_session_and_keeps_the_coalition_page_shared(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_server(net, smtp)
    page = await a.get("/g/tenants", headers={"accept": "text/html"})
    assert 'action="/subscribe"' in page.text and "csrf_token" not in page.text
    assert "set-cookie" not in page.headers and page.headers["cache-control"] == "public, no-cache"

    # Posted as a fresh browser does from that page: no cookie, its Origin, no token.
    response = await a.post("/subscribe", data={"to": "tenants", "email": READER, "timezone": "UTC"},
                            headers={"origin": a.base_url, "sec-fetch-site": "same-origin"})
    assert response.status_code == 200 and "Check your mailbox" in response.text
    assert len(await subscriptions(a)) == 1


@pytest.mark.parametrize("headers", [
    {"origin": "https://attacker.example"},
    {"origin": "null"},  # a sandboxed frame or a page opened from a file
    {"sec-fetch-site": "cross-site", "origin": "http://a.test"},
    {"sec-fetch-site": "same-site"},  # a sibling subdomain is another site's page too
])
async def test_a_subscription_posted_from_another_sites_page_is_refused_and_sends_nothing(
    net: FederationNet, smtp: SmtpServer, headers: dict[str, str]
) -> None:
    # Another site's page making its visitors' browsers subscribe an address would spread the
    # per-address limit over all of their IPs: a mail bomb sent from other people's computers.
    a = await mail_server(net, smtp)
    response = await a.post("/subscribe", data={"to": "tenants", "email": READER}, headers=headers)
    await net.settle()

    assert response.status_code == 403
    assert "can only be sent from this site's own pages" in response.text
    assert await subscriptions(a) == [] and messages_to(smtp, READER) == []
