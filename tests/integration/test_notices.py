"""Notices when the other party is on this server too (a pledge through the web form, a cancellation, a
request to join our hub), the public record_notice API (replies), the account page, and retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from fedihub.accounts import service as accounts
from fedihub.coalitions import calls, service
from fedihub.federation.actors import get_local_actor
from fedihub.federation.retention import RetentionPolicy, prune
from fedihub.hubs import membership
from fedihub.hubs import service as hubs
from fedihub.notices import kinds
from fedihub.notices.service import Notices
from fedihub.storage.models import Notice, NoticeMail, NoticePreference
from tests.federation.test_notices import news_lines, organizer, unread_badges
from tests.integration.manage_helpers import field_error
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

TITLE = "Rent strike assembly"


def _call(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=5)
    return calls.CallInput(title=TITLE, description="In the park.", start=start, end=start + timedelta(hours=2),
                           timezone="America/Chicago", place_name="Park")


async def _logged_in(instance: Instance, username: str) -> Browser:
    browser = Browser(instance)
    assert (await browser.log_in(username)).status_code == 303
    return browser


async def _two_coalitions(a: Instance) -> None:
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    await committed(a.ctx, service.create_coalition, "renters", name="Oak Park Renters")


async def test_a_pledge_through_the_web_form_and_a_cancellation_on_this_server_make_notices(
    net: FederationNet, a: Instance
) -> None:
    await _two_coalitions(a)
    await organizer(a, "maria", "tenants")
    await organizer(a, "lee", "renters")
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    lee = await _logged_in(a, "lee")

    form = await lee.submit(f"/pledge?call={call.uri}", "/pledge",
                            {"call": call.uri, "coalition": "renters", "message": "Count us in"})
    assert form.status_code == 303, form.text[:500]
    await net.settle()

    maria = await _logged_in(a, "maria")
    assert unread_badges((await maria.get("/manage/tenants")).text) == [1]
    assert news_lines((await maria.get("/manage/tenants/news")).text) == [f"New: Oak Park Renters pledged to {TITLE}."]

    await committed(a.ctx, calls.cancel_call, call.uri)
    await net.settle()
    assert news_lines((await lee.get("/manage/renters/news")).text) == [
        f"New: {TITLE}, which Oak Park Renters pledged to, was cancelled by Chicago Tenants."
    ]
    await lee.client.aclose()
    await maria.client.aclose()


async def test_a_request_to_join_our_hub_from_this_server_is_one_notice(net: FederationNet, a: Instance) -> None:
    await committed(a.ctx, service.create_coalition, "renters", name="Oak Park Renters")
    hub = await committed(a.ctx, hubs.create_hub, "state-hub", name="Illinois Hub", scope="state", region="Illinois")
    await organizer(a, "hal", "state-hub")
    await committed(a.ctx, membership.ask_to_join, "renters", hub)
    await net.settle()

    hal = await _logged_in(a, "hal")
    lines = news_lines((await hal.get("/manage/state-hub/news")).text)
    assert lines == ["New: Oak Park Renters asks to join Illinois Hub."]
    await hal.client.aclose()


async def test_record_notice_tells_of_a_reply_once(net: FederationNet, a: Instance) -> None:
    """The API the replies under a call use: one notice per reply, however often it arrives."""
    await _two_coalitions(a)
    await organizer(a, "maria", "tenants")
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    notices = Notices(None, a.base_url)
    for _ in range(2):
        async with a.ctx.sessions.begin() as session:
            tenants, renters = await get_local_actor(session, "tenants"), await get_local_actor(session, "renters")
            await notices.record_notice(a.ctx, session, recipient=tenants, kind=kinds.REPLY,
                                        key="https://masto.test/statuses/1", party=renters, call=call)

    maria = await _logged_in(a, "maria")
    assert news_lines((await maria.get("/manage/tenants/news")).text) == [f"New: Oak Park Renters replied to {TITLE}."]
    await maria.client.aclose()
    with pytest.raises(ValueError):
        async with a.ctx.sessions.begin() as session:
            await notices.record_notice(a.ctx, session, recipient=tenants, kind="gossip", key="x")


async def test_the_account_page_keeps_the_address_and_the_choices(net: FederationNet) -> None:
    a = await net.add_instance("a.test", smtp_url="smtp://127.0.0.1:2525", mail_from="hub@a.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    await organizer(a, "maria", "tenants")
    maria = await _logged_in(a, "maria")

    page = await maria.get("/account")
    assert "Add your e-mail address above" in page.text and 'name="kind-pledge"' not in page.text

    wrong = await maria.submit("/account", "/account/email", {"email": "maria at example"})
    assert wrong.status_code == 400
    assert field_error(wrong, "account-email") == "Error: that is not an e-mail address, such as name@example.org"
    assert 'value="maria at example"' in wrong.text  # the input is kept

    saved = await maria.submit("/account", "/account/email", {"email": "maria@example.org"})
    assert saved.status_code == 303
    page = await maria.get("/account")
    assert 'name="kind-pledge" value="digest" aria-label="Pledges to your calls: Daily digest" checked' in page.text

    choices = {f"kind-{kind.name}": kinds.OFF for kind in kinds.KINDS} | {"kind-pledge": kinds.NOW}
    assert (await maria.submit("/account", "/account/notices", choices)).status_code == 303
    page = await maria.get("/account")
    assert 'name="kind-pledge" value="now" aria-label="Pledges to your calls: At once" checked' in page.text

    tampered = await maria.submit("/account", "/account/notices", {**choices, "kind-reply": "hourly"})
    assert tampered.status_code == 400
    async with a.ctx.sessions() as session:
        stored = dict((await session.execute(select(NoticePreference.kind, NoticePreference.delivery))).all())
    assert stored["reply"] == kinds.OFF and stored["pledge"] == kinds.NOW
    await maria.client.aclose()


async def test_retention_prunes_old_notices_and_their_mail_marks(net: FederationNet, a: Instance) -> None:
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    account = await organizer(a, "maria", "tenants")
    notices = Notices(None, a.base_url)
    async with a.ctx.sessions.begin() as session:
        tenants = await get_local_actor(session, "tenants")
        old = await notices.record_notice(a.ctx, session, recipient=tenants, kind=kinds.NEW_FOLLOWER, key="old")
        assert old is not None
        session.add(NoticeMail(account_id=account.id, notice_id=old.id, queued_at=a.ctx.clock()))
    net.clock.advance(days=91)
    async with a.ctx.sessions.begin() as session:
        await notices.record_notice(a.ctx, session, recipient=tenants, kind=kinds.NEW_FOLLOWER, key="new")

    pruned = await prune(a.ctx, RetentionPolicy())

    assert pruned.notices == 1
    async with a.ctx.sessions() as session:
        assert (await session.scalars(select(Notice.key))).all() == ["new"]
        assert await session.scalar(select(func.count()).select_from(NoticeMail)) == 0


async def test_an_account_can_remove_its_address(net: FederationNet, a: Instance) -> None:
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    account = await organizer(a, "maria", "tenants", email="maria@example.org")
    maria = await _logged_in(a, "maria")
    assert (await maria.submit("/account", "/account/email", {"email": ""})).status_code == 303
    async with a.ctx.sessions() as session:
        assert (await accounts.find_account(session, account.id)).email is None  # type: ignore[union-attr]
        assert await session.scalar(text("SELECT count(*) FROM notice_preferences")) == 0
    await maria.client.aclose()
