"""What's new for organizers, and their e-mail: pledges, withdrawals, cancellations and hubs' new calls from
other servers, e-mail at once and by digest as a real SMTP server receives it, and the report-back reminder."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from fedihub.accounts import service as accounts
from fedihub.coalitions import calls, service
from fedihub.federation import follows
from fedihub.federation.actors import get_local_actor, resolve_target
from fedihub.federation.outbox import publish
from fedihub.hubs import membership
from fedihub.hubs import service as hubs
from fedihub.notices.kinds import (
    CALL_CANCELLED,
    CALL_CHANGED,
    DIGEST,
    FOLLOW_REQUEST,
    MEMBERSHIP_REQUEST,
    NOW,
    OFF,
    PLEDGE,
    WITHDRAWAL,
)
from fedihub.notices.preferences import save_preferences
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.pledges.dashboard import calls_for
from fedihub.protocol.pledges import build_join
from fedihub.storage.models import Account, Notice, NoticeMail, OutboundMail, Pledge, StoredObject
from tests.federation.test_two_way_membership import _call as national_call
from tests.federation.test_two_way_membership import _tree
from tests.integration.organizers import Browser, add_member, cheap_password_hashing, make_account  # noqa: F401
from tests.integration.test_mail_outbox import smtp, smtp_down  # noqa: F401  (fixtures)
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance
from tests.support.smtp import Received, SmtpServer

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SENDER = "Coalitions <coalitions@example.org>"
CALL_TITLE = "National day of action for rent control"
BADGE = re.compile(r'<span class="count-badge">(\d+)<span class="visually-hidden"> unread</span>')


def _call(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title=CALL_TITLE, description="Rally at city hall.", start=start, end=start + timedelta(hours=2),
        timezone="America/Chicago", place_name="City Hall", movements=["housing"],
    )


async def organizer(
    instance: Instance, username: str, coalition: str, email: str | None = None, **choices: str
) -> Account:
    """An account organizing ``coalition`` on ``instance``, with an address and e-mail choices when given."""
    account = await make_account(instance, username)
    async with instance.ctx.sessions.begin() as session:
        await accounts.add_member(session, account.id, (await get_local_actor(session, coalition)).id, "owner",
                                  now=instance.ctx.clock())
        if email:
            await accounts.set_email(session, account.id, email)
        await save_preferences(session, account.id, choices)
    return account


async def browse(instance: Instance, account: Account) -> Browser:
    browser = Browser(instance)
    response = await browser.log_in(account.username)
    assert response.status_code == 303
    return browser


def unread_badges(html: str) -> list[int]:
    return [int(count) for count in BADGE.findall(html)]


def news_lines(html: str) -> list[str]:
    """The notices of a What's new page as a reader sees them: text only, newest first."""
    items = re.findall(r'<p class="news-text">(.*?)</p>', html, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in items]


def body(received: Received, kind: str = "plain") -> str:
    message: EmailMessage = received.message
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


async def notices_of(instance: Instance) -> list[tuple[str, str]]:
    async with instance.ctx.sessions() as session:
        return [(row.kind, row.actor.username or "") for row in
                (await session.scalars(select(Notice).order_by(Notice.id))).all()]


async def _pledging_pair(net: FederationNet, **mail: str) -> tuple[Instance, Instance, StoredObject]:
    """a.test calls, b.test will pledge; both servers with the settings given (mail, or none)."""
    a = await net.add_instance("a.test", **mail)
    b = await net.add_instance("b.test", **mail)
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    await committed(b.ctx, service.create_coalition, "renters", name="Springfield Renters")
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    return a, b, call


async def pledge_from_b(b: Instance, call_uri: str) -> None:
    target = await get_call_target(b.ctx, call_uri)
    await committed(b.ctx, pledges.pledge, "renters", target, message="We will be there")


async def test_a_pledge_and_its_withdrawal_from_another_server_show_under_whats_new(net: FederationNet) -> None:
    a, b, call = await _pledging_pair(net)
    account = await organizer(a, "maria", "tenants")
    browser = await browse(a, account)

    await pledge_from_b(b, call.uri)
    await net.settle()

    # The count shows on the dashboard and in the menu of every organizer page.
    assert unread_badges((await browser.get("/dashboard")).text) == [1]
    assert unread_badges((await browser.get("/manage/tenants/profile")).text) == [1]
    page = await browser.get("/manage/tenants/news")
    assert page.status_code == 200
    assert news_lines(page.text) == [f"New: Springfield Renters pledged to {CALL_TITLE}."]
    assert 'href="http://b.test/g/renters"' in page.text  # who, linked
    # Opening the list marked it read, for this account.
    assert unread_badges((await browser.get("/manage/tenants")).text) == []
    assert unread_badges((await browser.get("/dashboard")).text) == []

    # The same coalition's Join again, under a new id (a peer that lost our Accept): still one notice.
    async with b.ctx.sessions.begin() as session:
        renters = await get_local_actor(session, "renters")
        join = build_join(activity_id=b.ctx.urls.new_activity(), actor=renters.uri, call_id=call.uri,
                          to=["http://a.test/g/tenants"], published=b.ctx.clock())
        await publish(b.ctx, session, actor=renters, activity=join, inboxes=["http://a.test/inbox"])
    await net.settle()
    assert await notices_of(a) == [(PLEDGE, "tenants")]

    await committed(b.ctx, pledges.withdraw, "renters", call.uri)
    await net.settle()

    assert unread_badges((await browser.get("/manage/tenants")).text) == [1]
    lines = news_lines((await browser.get("/manage/tenants/news")).text)
    assert lines == [f"New: Springfield Renters withdrew its pledge to {CALL_TITLE}.",
                     f"Springfield Renters pledged to {CALL_TITLE}."]
    # Another organizer of the same coalition has read nothing yet.
    other = await organizer(a, "sam", "tenants")
    assert unread_badges((await (await browse(a, other)).get("/dashboard")).text) == [2]
    await browser.client.aclose()


async def test_the_cancellation_of_a_call_we_pledged_to_shows_and_is_mailed_at_once(
    net: FederationNet, smtp: SmtpServer  # noqa: F811
) -> None:
    a, b, call = await _pledging_pair(net, smtp_url=smtp.url, mail_from=SENDER)
    await organizer(b, "lee", "renters", email="lee@example.org")  # cancellations: at once, the default
    await organizer(b, "kim", "renters", email="kim@example.org", **{CALL_CANCELLED: OFF})
    await pledge_from_b(b, call.uri)
    await net.settle()

    await committed(a.ctx, calls.cancel_call, call.uri, "The city hall is closed")
    await net.settle()

    assert await notices_of(b) == [(CALL_CANCELLED, "renters")]
    [received] = smtp.mailbox.received
    assert received.rcpt_tos == ["lee@example.org"]
    message = received.message
    cancelled = f"{CALL_TITLE}, which Springfield Renters pledged to, was cancelled by Chicago Tenants."
    assert message["Subject"] == cancelled
    assert message["Auto-Submitted"] == "auto-generated"
    text, html = body(received), body(received, "html")
    assert "http://b.test/manage/renters/news" in text and "http://b.test/account#email" in text
    assert 'href="http://b.test/calls/view?url=' in html
    # Nobody else's address, in either part.
    for part in (text, html):
        assert "kim@example.org" not in part and "lee@example.org" not in part

    browser = await browse(b, (await _account(b, "lee")))
    lines = news_lines((await browser.get("/manage/renters/news")).text)
    assert lines == [f"New: {CALL_TITLE}, which Springfield Renters pledged to, was cancelled by Chicago Tenants."]
    await browser.client.aclose()


async def _account(instance: Instance, username: str) -> Account:
    async with instance.ctx.sessions() as session:
        found = await accounts.find_account_by_username(session, username)
    assert found is not None
    return found


async def test_a_national_call_coming_down_through_the_state_hub_is_new_for_the_city_coalition(
    net: FederationNet,
) -> None:
    c, s, n, o = await _tree(net)
    account = await organizer(c, "ana", "city-tenants")
    hub_admin = await organizer(s, "hal", "state-hub")

    call = await committed(o.ctx, calls.publish_call, "national-org", national_call(net))
    await net.settle()

    browser = await browse(c, account)
    # The new call, and (from when the test's tree was built) the membership the hub's follow made.
    assert unread_badges((await browser.get("/dashboard")).text) == [2]
    lines = news_lines((await browser.get("/manage/city-tenants/news")).text)
    assert lines == [f"New: Illinois Hub brought a new call: {CALL_TITLE}.",
                     "New: Springfield Tenants is now a member of Illinois Hub."]
    async with c.ctx.sessions() as session:
        assert await session.scalar(select(func.count(Notice.id)).where(Notice.call_uri == call.uri)) == 1
    # The state hub is told that the city coalition became its member (when the test's tree was built).
    hub_lines = news_lines((await (await browse(s, hub_admin)).get("/manage/state-hub/news")).text)
    assert "New: Springfield Tenants is now a member of Illinois Hub." in hub_lines
    await browser.client.aclose()


async def test_a_local_action_passed_down_with_a_national_call_is_not_told_as_a_new_call(net: FederationNet) -> None:
    c, s, n, o = await _tree(net)
    # Another direct member of the national hub, which pledges to the national call with a local action.
    x = await net.add_instance("x.test")
    await committed(x.ctx, service.create_coalition, "ohio-org", name="Cleveland Solidarity")
    await committed(x.ctx, membership.ask_to_join, "ohio-org", await resolve_target(x.ctx, "national-hub@n.test"))
    await net.settle()
    await committed(n.ctx, membership.decide_join, "national-hub", await resolve_target(n.ctx, "ohio-org@x.test"),
                    approve=True)
    await net.settle()
    account = await organizer(c, "ana", "city-tenants")
    call = await committed(o.ctx, calls.publish_call, "national-org", national_call(net))
    await net.settle()

    action = pledges.LocalActionInput(title="Cleveland march for rent control", start=net.clock() + timedelta(days=10),
                                      timezone="America/New_York", place="Public Square")
    await committed(x.ctx, pledges.pledge, "ohio-org", await get_call_target(x.ctx, call.uri), action=action)
    await net.settle()

    # The local action came down the tree too (shown under its call), but it is no call of its own.
    async with x.ctx.sessions() as session:
        action_uri = await session.scalar(select(Pledge.action_uri))
    async with c.ctx.sessions() as session:
        assert action_uri and await session.scalar(select(StoredObject.id).where(StoredObject.uri == action_uri))
    ana = await browse(c, account)
    lines = news_lines((await ana.get("/manage/city-tenants/news")).text)
    assert lines == [f"New: Illinois Hub brought a new call: {CALL_TITLE}.",
                     "New: Springfield Tenants is now a member of Illinois Hub."]
    # Nor is it one of the "Calls for you" to pledge to: only the national call is.
    async with c.ctx.sessions() as session:
        coalition = await get_local_actor(session, "city-tenants")
        listed = [item.call.uri for item in await calls_for(session, coalition, net.clock())]
    assert listed == [call.uri]
    await ana.client.aclose()


async def test_the_daily_digest_sends_what_was_not_mailed_once_and_nothing_when_there_is_nothing(
    net: FederationNet, smtp: SmtpServer  # noqa: F811
) -> None:
    a, b, call = await _pledging_pair(net, smtp_url=smtp.url, mail_from=SENDER)
    await organizer(a, "maria", "tenants", email="maria@example.org", **{PLEDGE: DIGEST, WITHDRAWAL: NOW})
    await organizer(a, "quiet", "tenants", email="quiet@example.org", **{PLEDGE: OFF, WITHDRAWAL: OFF})
    await pledge_from_b(b, call.uri)
    await net.settle()
    assert smtp.mailbox.received == []  # the pledge waits for the digest

    await committed(b.ctx, pledges.withdraw, "renters", call.uri)
    await net.settle()
    [at_once] = smtp.mailbox.received  # the withdrawal went at once
    assert "withdrew its pledge" in at_once.message["Subject"]

    net.clock.advance(days=1, minutes=1)
    await net.settle()
    assert len(smtp.mailbox.received) == 2
    digest = smtp.mailbox.received[1]
    assert digest.rcpt_tos == ["maria@example.org"]
    assert digest.message["Subject"] == "What's new: 1 notice for Chicago Tenants"
    text = body(digest)
    assert f"Springfield Renters pledged to {CALL_TITLE}." in text
    assert "withdrew" not in text  # mailed at once already: never twice
    assert "http://a.test/manage/tenants/news" in text and "http://a.test/account#email" in text

    # A day later with nothing new: no digest at all.
    net.clock.advance(days=1, minutes=1)
    await net.settle()
    assert len(smtp.mailbox.received) == 2


async def test_the_day_after_a_call_a_reminder_asks_for_the_report_back_once(
    net: FederationNet, smtp: SmtpServer  # noqa: F811
) -> None:
    a, b, call = await _pledging_pair(net, smtp_url=smtp.url, mail_from=SENDER)
    await organizer(b, "lee", "renters", email="lee@example.org")  # reminders: at once, the default
    await pledge_from_b(b, call.uri)
    await net.settle()

    net.clock.advance(days=10, hours=3)  # the call is over, but not a day ago
    await net.settle()
    assert smtp.mailbox.received == []

    net.clock.advance(days=1)
    await net.settle()
    [reminder] = [r for r in smtp.mailbox.received if r.rcpt_tos == ["lee@example.org"]]
    assert reminder.message["Subject"] == f"How did {CALL_TITLE} go? Report back for Springfield Renters."
    assert "http://b.test/pledge/report?call=" in body(reminder)
    assert "coalition=renters" in body(reminder)

    net.clock.advance(days=2)
    await net.settle()
    assert len([r for r in smtp.mailbox.received if r.rcpt_tos == ["lee@example.org"]]) == 1

    browser = await browse(b, await _account(b, "lee"))
    page = await browser.get("/manage/renters/news")
    assert "/pledge/report?call=" in page.text
    report = await browser.get(re.findall(r'href="(/pledge/report\?[^"]+)"', page.text)[0].replace("&amp;", "&"))
    assert report.status_code == 200  # the link opens the report-back form
    await browser.client.aclose()


async def test_while_smtp_is_down_notices_mail_waits_then_goes_once(
    net: FederationNet, smtp_down: SmtpServer  # noqa: F811
) -> None:
    a, b, call = await _pledging_pair(net, smtp_url=smtp_down.url, mail_from=SENDER)
    await organizer(a, "maria", "tenants", email="maria@example.org", **{PLEDGE: NOW})
    await pledge_from_b(b, call.uri)
    await net.settle()
    async with a.ctx.sessions() as session:
        [row] = (await session.scalars(select(OutboundMail))).all()
    assert (row.state, row.attempts) == ("pending", 1)

    smtp_down.start()
    net.clock.advance(seconds=60)
    await net.settle()
    net.clock.advance(days=1, minutes=1)  # the digest finds nothing: the pledge was mailed at once
    await net.settle()

    assert [r.rcpt_tos for r in smtp_down.mailbox.received] == [["maria@example.org"]]
    async with a.ctx.sessions() as session:
        assert [r.state for r in (await session.scalars(select(OutboundMail))).all()] == ["sent"]
        assert await session.scalar(select(func.count()).select_from(NoticeMail)) == 1


async def test_with_mail_off_the_options_are_hidden_and_nothing_fails(net: FederationNet) -> None:
    a, b, call = await _pledging_pair(net)
    account = await organizer(a, "maria", "tenants", email="maria@example.org", **{PLEDGE: NOW})
    await pledge_from_b(b, call.uri)
    await net.settle()
    net.clock.advance(days=1, minutes=1)  # the digest job runs, and does nothing
    await net.settle()

    assert await notices_of(a) == [(PLEDGE, "tenants")]
    async with a.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboundMail)) == 0
    browser = await browse(a, account)
    page = await browser.get("/account")
    assert page.status_code == 200
    assert "This server does not send e-mail" in page.text
    assert 'name="kind-pledge"' not in page.text
    news = await browser.get("/manage/tenants/news")
    assert "This server does not send e-mail" in news.text
    await browser.client.aclose()


async def test_a_hub_nobody_asked_to_join_is_a_follower_not_a_membership(net: FederationNet) -> None:
    b = await net.add_instance("b.test")
    hostile = await net.add_instance("evil.test")
    await committed(b.ctx, service.create_coalition, "renters", name="Springfield Renters")
    await organizer(b, "lee", "renters")
    await committed(hostile.ctx, hubs.create_hub, "fake-hub", name="Fake Hub", scope="national")
    await committed(hostile.ctx, hubs.add_member, "fake-hub", await resolve_target(hostile.ctx, "renters@b.test"))
    await net.settle()

    lee = await browse(b, await _account(b, "lee"))
    lines = news_lines((await lee.get("/manage/renters/news")).text)
    assert lines == ["New: Fake Hub now follows Springfield Renters."]
    await lee.client.aclose()


async def test_a_change_to_a_call_we_pledged_to_shows_under_whats_new_as_a_change(net: FederationNet) -> None:
    a, b, call = await _pledging_pair(net)
    account = await organizer(b, "lee", "renters")
    await pledge_from_b(b, call.uri)
    await net.settle()

    net.clock.advance(minutes=5)
    await committed(a.ctx, calls.update_call, call.uri, replace(_call(net), place_name="Daley Plaza"))
    await net.settle()

    # Told as a change, not as a new call or a cancellation, to the coalition that pledged.
    assert await notices_of(b) == [(CALL_CHANGED, "renters")]
    lee = await browse(b, account)
    assert unread_badges((await lee.get("/dashboard")).text) == [1]
    page = (await lee.get("/manage/renters/news")).text
    changed = f"New: {CALL_TITLE}, which Springfield Renters pledged to, was changed by Chicago Tenants."
    assert news_lines(page) == [changed]
    assert "/calls/view?url=" in page  # the call, linked, to see what changed
    await lee.client.aclose()


async def test_a_follow_request_to_a_coalition_that_approves_followers_by_hand_shows_under_whats_new(
    net: FederationNet,
) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    await committed(b.ctx, service.create_coalition, "renters", name="Springfield Renters",
                    manually_approves_followers=True)
    account = await organizer(b, "lee", "renters")

    await committed(a.ctx, follows.follow, "tenants", await resolve_target(a.ctx, "renters@b.test"))
    await net.settle()

    assert await notices_of(b) == [(FOLLOW_REQUEST, "renters")]
    lee = await browse(b, account)
    assert unread_badges((await lee.get("/manage/renters")).text) == [1]
    page = (await lee.get("/manage/renters/news")).text
    assert news_lines(page) == ["New: Chicago Tenants asks to follow Springfield Renters."]
    assert 'href="http://a.test/g/tenants"' in page  # who asks, linked
    await lee.client.aclose()


async def test_a_hub_asking_a_coalition_to_become_its_member_shows_under_whats_new(net: FederationNet) -> None:
    s = await net.add_instance("s.test")
    b = await net.add_instance("b.test")
    await committed(s.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    # A coalition that approves followers by hand: the hub's follow is a question to its organizers.
    await committed(b.ctx, service.create_coalition, "renters", name="Springfield Renters",
                    manually_approves_followers=True)
    account = await organizer(b, "lee", "renters")

    await committed(s.ctx, hubs.add_member, "state-hub", await resolve_target(s.ctx, "renters@b.test"))
    await net.settle()

    assert await notices_of(b) == [(MEMBERSHIP_REQUEST, "renters")]
    lee = await browse(b, account)
    assert unread_badges((await lee.get("/dashboard")).text) == [1]
    lines = news_lines((await lee.get("/manage/renters/news")).text)
    # Worded as the hub asking for a membership, not as a follow request nor a member asking to join.
    assert lines == ["New: Illinois Hub asks Springfield Renters to become one of its members."]
    await lee.client.aclose()
