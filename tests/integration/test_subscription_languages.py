"""E-mail subscribers get their mail in the language of the page they subscribed from."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fedihub.coalitions import calls
from tests.integration.organizers import Browser, cheap_password_hashing
from tests.integration.subscription_helpers import (
    CONFIRM_LINK,
    mail_server,
    messages_to,
    rally,
    running_smtp,
    text_of,
)
from tests.support.edges import committed
from tests.support.network import FederationNet
from tests.support.smtp import SmtpServer

__all__ = ["cheap_password_hashing"]
pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
READER = "lectora@example.org"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from running_smtp()


async def test_a_reader_who_subscribed_in_spanish_is_written_to_in_spanish(
    net: FederationNet, smtp: SmtpServer
) -> None:
    a = await mail_server(net, smtp)
    browser = Browser(a)
    browser.client.headers["Accept-Language"] = "es-MX,es;q=0.9"
    try:
        page = await browser.submit("/g/tenants", "/subscribe",
                                    {"email": READER, "timezone": "America/Mexico_City", "to": "tenants"})
        assert page.status_code == 200
        await net.settle()
        [confirmation] = messages_to(smtp, READER)
        assert confirmation["Subject"] == "Confirma tu suscripción a las convocatorias de Springfield Tenants"
        assert "Alguien, probablemente tú, pidió" in text_of(confirmation)
        link = CONFIRM_LINK.search(text_of(confirmation))
        assert link is not None
        path = link.group(1).removeprefix(a.base_url)
        await browser.submit(path, path)
    finally:
        await browser.client.aclose()

    await committed(a.ctx, calls.publish_call, "tenants", rally(net))
    await net.settle()  # the fan-out job runs in the worker, with no request: the row's language decides
    [letter] = [m for m in messages_to(smtp, READER) if m is not confirmation]
    assert letter["Subject"] == "Nueva convocatoria: Rally for rent control"
    text = text_of(letter)
    assert "sábado, 1 de junio de 2030, 10:00–12:00 (America/Mexico_City)" in text
    assert "Lee más y súmate" in text and "Darse de baja" in text
