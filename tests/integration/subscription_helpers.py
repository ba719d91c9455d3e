"""Shared steps of the e-mail subscription tests: a server with mail on, a visitor subscribing, the links
read back out of the messages the real SMTP server received."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import httpx

from fedihub.coalitions import calls
from fedihub.coalitions import service as coalitions
from tests.integration.organizers import Browser
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance
from tests.support.smtp import SmtpServer

SENDER = "Calls on a.test <calls@a.test>"
CONFIRM_LINK = re.compile(r"(http://[^\s]+/subscriptions/confirm/[A-Za-z0-9_-]+)")


def running_smtp() -> Iterator[SmtpServer]:
    """A started SMTP server for a test's ``smtp`` fixture, stopped after the test."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


async def mail_server(net: FederationNet, smtp: SmtpServer, host: str = "a.test") -> Instance:
    instance = await net.add_instance(host, smtp_url=smtp.url, mail_from=SENDER)
    await committed(instance.ctx, coalitions.create_coalition, "tenants", name="Springfield Tenants")
    return instance


async def subscribe(instance: Instance, address: str, *, page: str = "/g/tenants", **fields: str) -> httpx.Response:
    """A visitor loads ``page`` and submits its e-mail form, as a browser would (with its zone filled in)."""
    browser = Browser(instance)
    try:
        data = {"email": address, "timezone": "America/Chicago", **fields}
        if page.startswith("/g/") and "to" not in fields:
            data["to"] = page.removeprefix("/g/")
        return await browser.submit(page, "/subscribe", data)
    finally:
        await browser.client.aclose()


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def messages_to(smtp: SmtpServer, address: str) -> list[EmailMessage]:
    return [r.message for r in smtp.mailbox.received if address in r.rcpt_tos]


async def confirm_by_mail(net: FederationNet, instance: Instance, smtp: SmtpServer, address: str) -> None:
    """Open the link in the confirmation message and press Confirm."""
    await net.settle()
    message = [m for m in messages_to(smtp, address) if str(m["Subject"]).strip().startswith("Confirm")][-1]
    link = CONFIRM_LINK.search(text_of(message))
    assert link is not None
    path = link.group(1).removeprefix(instance.base_url)
    browser = Browser(instance)
    try:
        confirmed = await browser.submit(path, path)
    finally:
        await browser.client.aclose()
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text


async def subscribed(net: FederationNet, instance: Instance, smtp: SmtpServer, address: str, **fields: str) -> None:
    response = await subscribe(instance, address, **fields)
    assert response.status_code == 200, response.text[:500]
    await confirm_by_mail(net, instance, smtp, address)


# Fixed, so every rally() of a test describes the same moment: only what a test changes is a change.
RALLY_START = datetime(2030, 6, 1, 16, 0, tzinfo=UTC)


def rally(net: FederationNet, **changes: object) -> calls.CallInput:
    start = RALLY_START
    data = calls.CallInput(
        title="Rally for rent control", description="Bring signs; we march to city hall at noon.",
        start=start, end=start + timedelta(hours=2), timezone="Europe/Berlin", place_name="City Hall",
        movements=["housing"], region_state="Illinois",
    )
    for name, value in changes.items():
        setattr(data, name, value)
    return data
