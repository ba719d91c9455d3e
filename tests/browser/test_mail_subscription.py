"""Subscribing by e-mail in a real browser against a real `fedihub serve` and a real SMTP server:
subscribe on the coalition's page, confirm from the link in the received mail, receive a call in the
browser's own time zone, unsubscribe from the link in that message."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.browser.conftest import LiveServer, screenshot
from tests.support.processes import FEDIHUB, accepts_connections, fedihub_env, free_port, wait_for
from tests.support.smtp import SmtpServer

ADDRESS = "neighbour@example.org"


def body_of(server: SmtpServer, subject_start: str) -> str:
    for received in server.mailbox.received:
        if str(received.message["Subject"]).strip().startswith(subject_start):
            part = received.message.get_body(("plain",))
            assert part is not None
            return str(part.get_content())
    raise AssertionError(f"no message starting {subject_start!r}")


def has_mail(server: SmtpServer, subject_start: str) -> bool:
    return any(str(r.message["Subject"]).strip().startswith(subject_start) for r in server.mailbox.received)


async def test_subscribe_confirm_receive_and_unsubscribe(browser, server_processes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    smtp = SmtpServer()
    smtp.start()
    try:
        port = free_port("127.0.0.1")
        base_url = f"http://127.0.0.1:{port}"
        env = fedihub_env(
            base_url=base_url, data_dir=tmp_path / "data", allow_private_addresses="1", log_level="INFO",
            smtp_url=smtp.url, mail_from="Calls <calls@example.org>",
        )
        process = server_processes("serve", [FEDIHUB, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env)
        await wait_for(lambda: accepts_connections("127.0.0.1", port), what="fedihub serve to listen", timeout=30,
                       watch=[process])
        server = LiveServer(base_url=base_url, env=env, process=process)
        server.fedihub("coalition", "create", "tenants", "--name", "Springfield Tenants")

        # The reader's browser lives in Chicago: the form sends that zone.
        context = await browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="America/Chicago")
        page = await context.new_page()
        page.set_default_timeout(15_000)
        await page.goto(f"{base_url}/g/tenants")
        await page.get_by_label("Your e-mail address").scroll_into_view_if_needed()
        await screenshot(page, "subscription-form")
        await page.get_by_label("Your e-mail address").fill(ADDRESS)
        await page.get_by_role("button", name="Subscribe by e-mail").click()
        await page.get_by_text("Check your mailbox").wait_for()
        await screenshot(page, "subscription-sent")

        await wait_for(lambda: has_mail(smtp, "Confirm"), what="the confirmation message", timeout=30,
                       watch=[process])
        link = re.search(r"http://\S+/subscriptions/confirm/\S+", body_of(smtp, "Confirm"))
        assert link is not None
        await page.goto(link.group(0))
        await page.get_by_role("button", name="Confirm").click()
        await page.get_by_role("heading", name="You are subscribed").wait_for()

        start = (datetime.now(UTC) + timedelta(days=20)).replace(hour=16, minute=0, second=0, microsecond=0)
        server.fedihub("call", "create", "tenants", "--title", "Rally for rent control",
                       "--start", start.isoformat(), "--timezone", "Europe/Berlin", "--place", "City Hall")
        await wait_for(lambda: has_mail(smtp, "New call"), what="the call by e-mail", timeout=30, watch=[process])
        text = body_of(smtp, "New call")
        assert "11:00 CDT (America/Chicago)" in text or "10:00 CST (America/Chicago)" in text

        unsubscribe = re.search(r"Unsubscribe: (\S+)", text)
        assert unsubscribe is not None
        await page.goto(unsubscribe.group(1))
        await page.get_by_role("button", name="Unsubscribe", exact=True).click()
        await page.get_by_role("heading", name="You are unsubscribed").wait_for()
        await screenshot(page, "subscription-unsubscribed")
        assert server.query("SELECT count(*) FROM mail_subscriptions") == [(0,)]
        await context.close()
    finally:
        smtp.stop()
