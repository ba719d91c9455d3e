"""A remote call's page shows the counts this server holds and how old they are; it never waits for
the call's server, and the worker's re-read brings the new counts to the next view."""

from __future__ import annotations

from datetime import timedelta

import anyio
import httpx
from sqlalchemy import delete
from starlette.types import Receive, Scope, Send

from fedihub.coalitions import calls, service
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.storage.models import Pledge
from fedihub.web.views import remote_call_path
from tests.federation.test_pledges import _call, _three_servers, approve
from tests.integration.helpers import BROWSER
from tests.support.edges import committed
from tests.support.network import FederationNet

# Not a timing assertion: a page that did wait on the hanging server would otherwise hang the test.
GUARD_SECONDS = 60


class HangingServer:
    """The call's server gone unresponsive: it takes every request and never answers."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.asked.append(scope.get("path", ""))
        await anyio.sleep_forever()


async def test_a_remote_calls_page_never_waits_for_its_server_and_shows_how_old_its_counts_are(
    net: FederationNet,
) -> None:
    a, b, c, call = await _three_servers(net)
    await committed(b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, call.uri))
    await net.settle()
    await committed(a.ctx, approve, call.uri, "http://b.test/g/renters")
    await net.settle()
    page = remote_call_path(call.uri)
    assert 'data-rollup="pledged">1<' in (await c.get(page, headers={"accept": BROWSER})).text

    # c's copy lost the pledge (a notice that never came), it has gone stale, and a.test hangs.
    async with c.ctx.sessions.begin() as session:
        await session.execute(delete(Pledge).where(Pledge.call_uri == call.uri))
    net.clock.advance(minutes=11)
    origin_transport, hanging = net.hosts["a.test"], HangingServer()
    net.hosts["a.test"] = httpx.ASGITransport(app=hanging)

    with anyio.fail_after(GUARD_SECONDS):
        stale = await c.get(page, headers={"accept": BROWSER})
        spanish = await c.get(page, headers={"accept": BROWSER, "accept-language": "es"})

    assert stale.status_code == 200 and hanging.asked == []
    assert "No coalition has pledged yet." in stale.text
    assert "Counts as of 11 minutes ago" in stale.text
    assert "Cifras actualizadas hace 11 minutos" in spanish.text

    # The server answers again; the worker re-reads the list once, and the next view shows it.
    net.hosts["a.test"] = origin_transport
    await net.settle()

    fresh = await c.get(page, headers={"accept": BROWSER})
    assert 'data-rollup="pledged">1<' in fresh.text
    assert "Counts as of 11 minutes ago" not in fresh.text and "Counts as of" in fresh.text
    assert hanging.asked == []


async def test_our_own_calls_counts_carry_no_age(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    net.clock.advance(hours=1)
    page = await a.get(call.uri.removeprefix(a.base_url), headers={"accept": BROWSER})
    assert page.status_code == 200 and "Who is taking part" in page.text and "Counts as of" not in page.text


def test_the_age_is_said_in_the_readers_language() -> None:
    from fedihub.i18n import dates
    from fedihub.i18n.active import using
    from fedihub.i18n.catalogues import Catalogues

    catalogues = Catalogues()
    for code, expected in (("en", "5 minutes ago"), ("es", "hace 5 minutos"), ("fr", "il y a 5 minutes")):
        with using(code, catalogues.get(code)):
            assert dates.ago(timedelta(minutes=5)) == expected
