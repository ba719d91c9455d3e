"""E-mail through the outbox and a real SMTP server: what the recipient receives, retries while the server is
down (nothing lost, nothing sent twice), refused recipients given up on, and mail off without settings."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult
from sqlalchemy import func, select

from fedihub.coalitions import service
from fedihub.errors import InvalidInput
from fedihub.federation.queue import claim_due
from fedihub.federation.retention import RetentionPolicy, prune
from fedihub.mail.outbox import enqueue_mail
from fedihub.mail.runner import MailRunner
from fedihub.storage.models import Actor, OutboundMail
from fedihub.worker import Worker
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance
from tests.support.smtp import SmtpCertificate, SmtpServer, self_signed

# Leases and the outbox's updates behave differently on each database: both are tested.
pytestmark = [
    pytest.mark.all_backends, pytest.mark.usefixtures("cheap_password_hashing"),
    # aiosmtpd's warning about the servers below that take a login without STARTTLS: on purpose.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
]

SENDER = "Coalitions on a.test <coalitions@a.test>"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp_down() -> Iterator[SmtpServer]:
    """A server that is not running yet: its port refuses connections until the test starts it."""
    server = SmtpServer()
    yield server
    server.stop()


async def mail_instance(net: FederationNet, server: SmtpServer) -> Instance:
    return await net.add_instance("a.test", smtp_url=server.url, mail_from=SENDER)


async def enqueue(instance: Instance, **message: Any) -> int | None:
    fields: dict[str, Any] = {
        "to": "organizer@example.org", "subject": "A new call from the Illinois hub",
        "text": "Rally at the capitol on Saturday.\n", "html": "<p>Rally at the <b>capitol</b> on Saturday.</p>",
    }
    fields.update(message)
    async with instance.ctx.sessions.begin() as session:
        return await enqueue_mail(session, instance.runtime.settings.mail, now=instance.ctx.clock(), **fields)


async def outbox(instance: Instance) -> list[OutboundMail]:
    async with instance.ctx.sessions() as session:
        return list((await session.scalars(select(OutboundMail).order_by(OutboundMail.id))).all())


async def test_the_recipient_receives_from_to_subject_and_both_parts(net: FederationNet, smtp: SmtpServer) -> None:
    a = await mail_instance(net, smtp)
    await enqueue(a, headers={"List-Unsubscribe": "<http://a.test/unsubscribe/abc>"})

    await net.settle()

    [received] = smtp.mailbox.received
    assert received.rcpt_tos == ["organizer@example.org"]
    assert received.mail_from == "coalitions@a.test"
    message = received.message
    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Coalitions on a.test", "coalitions@a.test")
    assert message["To"] == "organizer@example.org"
    assert message["Subject"] == "A new call from the Illinois hub"
    assert message["List-Unsubscribe"] == "<http://a.test/unsubscribe/abc>"
    assert message["Message-ID"].endswith("@a.test>")
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and plain.get_content().strip() == "Rally at the capitol on Saturday."
    assert html is not None and "<b>capitol</b>" in html.get_content()
    [row] = await outbox(a)
    assert (row.state, row.attempts, row.locked_by) == ("sent", 1, None)


async def test_a_text_only_message_arrives_as_plain_text(net: FederationNet, smtp: SmtpServer) -> None:
    a = await mail_instance(net, smtp)
    await enqueue(a, html=None, subject="Report back on Saturday's rally")

    await net.settle()

    [received] = smtp.mailbox.received
    assert received.message.get_content_type() == "text/plain"
    assert received.message.get_content().strip() == "Rally at the capitol on Saturday."


async def test_while_the_server_is_down_mail_waits_then_goes_out_exactly_once(
    net: FederationNet, smtp_down: SmtpServer
) -> None:
    a = await mail_instance(net, smtp_down)
    await enqueue(a, to="first@example.org")
    await enqueue(a, to="second@example.org")

    await net.settle()
    first, second = await outbox(a)
    assert (first.state, first.attempts) == ("pending", 1)
    assert first.last_error and "first@example.org" not in first.last_error
    # The server is down for everyone: the second message waits as long, without spending an attempt.
    assert (second.state, second.attempts) == ("pending", 0)
    assert second.next_attempt_at >= first.next_attempt_at

    assert await net.settle() == 0  # nothing is retried before its back-off has passed

    net.clock.advance(seconds=20)
    await net.settle()
    first, second = await outbox(a)
    assert first.attempts == 2 and first.state == "pending"

    smtp_down.start()
    net.clock.advance(seconds=30)
    await net.settle()

    assert sorted(r.rcpt_tos[0] for r in smtp_down.mailbox.received) == ["first@example.org", "second@example.org"]
    assert [row.state for row in await outbox(a)] == ["sent", "sent"]

    # Recorded sent: never sent again, by this worker or another one, however long we wait.
    other = Worker(a.ctx, a.runtime.processor, name="w2", lanes=a.runtime.worker.lanes)
    net.clock.advance(days=4)
    await net.settle()
    await other.run_once()
    assert len(smtp_down.mailbox.received) == 2


async def test_a_message_another_worker_holds_is_not_sent_until_its_lease_runs_out(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_instance(net, smtp)
    await enqueue(a)
    async with a.ctx.sessions.begin() as session:  # a worker claims it, then dies before sending
        [held] = await claim_due(session, OutboundMail, now=a.ctx.clock(), owner="dead-worker",
                                 lease=timedelta(minutes=5), limit=10)

    await net.settle()
    assert smtp.mailbox.received == []

    net.clock.advance(minutes=6)
    await net.settle()
    assert len(smtp.mailbox.received) == 1
    [row] = await outbox(a)
    assert (row.id, row.state, row.attempts) == (held.id, "sent", 1)


async def test_a_recipient_the_server_refuses_is_given_up_on_and_the_others_still_go(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_instance(net, smtp)
    smtp.mailbox.refuse.add("nobody@example.org")
    await enqueue(a, to="nobody@example.org")
    await enqueue(a, to="organizer@example.org")

    await net.settle()

    refused, accepted = await outbox(a)
    assert (refused.state, refused.attempts) == ("failed", 1)
    assert refused.last_error is not None and "550" in refused.last_error
    # The error is shown on the health page to every coalition's admins: no one's address is in it.
    assert "nobody@example.org" not in refused.last_error
    assert accepted.state == "sent"
    assert [r.rcpt_tos for r in smtp.mailbox.received] == [["organizer@example.org"]]


def text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def login_checker(logins: list[tuple[str, str]]) -> Any:
    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        login = (text(auth_data.login), text(auth_data.password))
        logins.append(login)
        return AuthResult(success=login == ("organizers", "hunter2secret"))

    return authenticator


async def send_with(instance: Instance, certificate: SmtpCertificate) -> int:
    """The worker's mail lane as built for production, except that it trusts the test certificate."""
    mail = instance.runtime.settings.mail
    assert mail is not None
    runner = MailRunner(instance.ctx, mail, owner="w1", lease=timedelta(minutes=5), deadline=10,
                        tls_context=certificate.client)
    return await runner.run_once()


@pytest.mark.parametrize("scheme", ["smtp", "smtps"])
async def test_with_starttls_or_tls_the_login_and_message_go_encrypted(
    net: FederationNet, tmp_path: Path, scheme: str
) -> None:
    certificate = self_signed(tmp_path)
    logins: list[tuple[str, str]] = []
    # With STARTTLS, aiosmtpd offers AUTH only after the upgrade; with smtps the socket is TLS from the
    # first byte (aiosmtpd does not count that as TLS for auth_require_tls, hence False there).
    tls: dict[str, Any] = (
        {"tls_context": certificate.server, "require_starttls": True, "auth_require_tls": True}
        if scheme == "smtp" else {"ssl_context": certificate.server, "auth_require_tls": False}
    )
    server = SmtpServer(authenticator=login_checker(logins), auth_required=True, **tls)
    server.start()
    try:
        a = await net.add_instance(
            "a.test", smtp_url=f"{scheme}://organizers:hunter2secret@127.0.0.1:{server.port}", mail_from=SENDER
        )
        await enqueue(a)
        assert await send_with(a, certificate) == 1
    finally:
        server.stop()

    assert logins == [("organizers", "hunter2secret")]
    [received] = server.mailbox.received
    assert received.message["Subject"] == "A new call from the Illinois hub"
    assert [row.state for row in await outbox(a)] == ["sent"]


async def test_a_certificate_nobody_vouches_for_is_not_trusted(net: FederationNet, tmp_path: Path) -> None:
    """Someone in the middle answering with their own certificate gets neither the login nor the message."""
    certificate = self_signed(tmp_path)
    logins: list[tuple[str, str]] = []
    server = SmtpServer(
        authenticator=login_checker(logins), auth_required=True, ssl_context=certificate.server, auth_require_tls=False
    )
    server.start()
    try:
        a = await net.add_instance(
            "a.test", smtp_url=f"smtps://organizers:hunter2secret@127.0.0.1:{server.port}", mail_from=SENDER
        )
        await enqueue(a)
        await net.settle()  # the production lane: the system's authorities only
    finally:
        server.stop()

    assert logins == [] and server.mailbox.received == []
    [row] = await outbox(a)
    assert row.state == "pending" and row.attempts == 1 and row.last_error


async def test_a_server_that_offers_no_starttls_never_gets_the_password(
    net: FederationNet, caplog: pytest.LogCaptureFixture
) -> None:
    """A server (or someone in the middle stripping STARTTLS) that would take the login in the clear."""
    caplog.set_level(logging.DEBUG)
    logins: list[Any] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        logins.append(auth_data)
        return AuthResult(success=True)

    server = SmtpServer(authenticator=authenticator, auth_require_tls=False)
    server.start()
    try:
        a = await net.add_instance(
            "a.test", smtp_url=f"smtp://organizers:hunter2secret@127.0.0.1:{server.port}", mail_from=SENDER
        )
        await enqueue(a)
        await net.settle()
    finally:
        server.stop()

    assert logins == []
    assert server.mailbox.received == []
    [row] = await outbox(a)
    assert row.state == "pending" and row.last_error is not None and "STARTTLS" in row.last_error
    assert "mail 1 retry" in caplog.text  # the attempt is logged …
    for text in (row.last_error, caplog.text, repr(a.runtime.settings)):
        assert "hunter2secret" not in text  # … the password nowhere


async def test_a_message_is_given_up_on_after_the_delivery_attempts(
    net: FederationNet, smtp_down: SmtpServer
) -> None:
    a = await mail_instance(net, smtp_down)
    await enqueue(a)
    for _ in range(30):
        await net.settle()
        net.clock.advance(days=1)
    [row] = await outbox(a)
    assert row.state == "failed" and row.last_error


async def test_sent_mail_is_pruned_after_the_retention_period_and_failed_mail_later(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_instance(net, smtp)
    smtp.mailbox.refuse.add("nobody@example.org")
    await enqueue(a, to="nobody@example.org")
    await enqueue(a, to="organizer@example.org")
    await net.settle()
    policy = RetentionPolicy(done_for=timedelta(days=30), failed_for=timedelta(days=90))

    net.clock.advance(days=31)
    assert (await prune(a.ctx, policy)).mail == 1
    assert [row.recipient for row in await outbox(a)] == ["nobody@example.org"]

    net.clock.advance(days=60)
    assert (await prune(a.ctx, policy)).mail == 1
    assert await outbox(a) == []


@pytest.mark.parametrize(
    "field",
    [
        {"to": "organizer@example.org\r\nBcc: everyone@example.org"},
        {"to": "Organizer <organizer@example.org>, other@example.org"},
        {"to": "not an address"},
        {"subject": "Hello\r\nBcc: everyone@example.org"},
        {"headers": {"List-Unsubscribe": "<http://a.test/u>\r\nBcc: everyone@example.org"}},
        {"headers": {"From": "mayor@city.example"}},
        {"headers": {"Bad Header": "x"}},
    ],
)
async def test_header_injection_is_refused_and_nothing_is_stored(
    net: FederationNet, smtp: SmtpServer, field: dict[str, Any]
) -> None:
    a = await mail_instance(net, smtp)
    with pytest.raises(InvalidInput):
        await enqueue(a, **field)
    assert await outbox(a) == []
    await net.settle()
    assert smtp.mailbox.received == []


async def test_without_mail_settings_enqueueing_stores_nothing_and_nothing_fails(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    assert a.runtime.settings.mail is None
    assert "mail" not in a.runtime.worker.lanes

    assert await enqueue(a) is None

    await net.settle()
    async with a.ctx.sessions() as session:
        assert await session.scalar(select(func.count(OutboundMail.id))) == 0


async def admin_page(instance: Instance) -> str:
    tenants: Actor = await committed(instance.ctx, service.create_coalition, "tenants", name="Tenants Union")
    browser = await organizer(instance, "ada", tenants, "admin")
    try:
        page = await browser.get("/manage/tenants/deliveries")
    finally:
        await browser.client.aclose()
    assert page.status_code == 200
    return page.text


async def test_the_delivery_health_page_counts_mail_and_shows_the_last_problem(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_instance(net, smtp)
    smtp.mailbox.refuse.add("nobody@example.org")
    await enqueue(a, to="nobody@example.org")
    await enqueue(a, to="organizer@example.org")
    await net.settle()
    await enqueue(a, to="later@example.org")  # not sent yet: no worker pass since

    page = await admin_page(a)

    assert "E-mail" in page
    assert "<strong>1</strong> waiting to be sent" in page
    assert "<strong>1</strong> sent" in page
    assert "<strong>1</strong> given up on" in page
    assert "Recipient address rejected" in page
    for address in ("nobody@example.org", "organizer@example.org", "later@example.org"):
        assert address not in page


async def test_without_mail_settings_the_health_page_says_nothing_about_mail(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    page = await admin_page(a)
    assert "E-mail" not in page
