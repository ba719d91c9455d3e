"""Every form POST of the web app refuses a missing or forged CSRF token and changes nothing.

The routes are read from the application's own route table, so a new form route is covered the day
it is added. Exempt: the ActivityPub inboxes (peers authenticate them with HTTP signatures), the
one-click unsubscribe, and the two forms anyone may send without a session, which refuse instead a
post from another site's page (tested at the end).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.routing import Route

from fedihub.accounts import invites
from fedihub.coalitions import calls, service
from fedihub.hubs import service as hubs
from fedihub.storage.models import Actor, Base
from fedihub.web.app import build_routes
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, cheap_password_hashing, make_account  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

SIGNED_BY_PEERS = {"shared_inbox", "instance_inbox", "actor_inbox"}
# RFC 8058 one-click unsubscribe: mail clients POST to the link without any session; its signature is
# the authorisation (tests/integration/test_mail_subscriptions.py forges one and is refused).
ONE_CLICK = {"unsubscribe"}
# Act with nobody's authority (forms.read_public_form): a token would only cost their pages the cache.
PUBLIC_FORMS = {"remote_follow", "subscribe"}
HUB_PAGES = {"manage_hub_roster", "manage_hub_remove", "manage_hub_decide", "manage_hub_rules", "manage_hub_pause",
             "manage_hub_resume", "manage_hub_review_decide"}


def form_routes() -> list[Route]:
    return [
        route for route in build_routes()
        if isinstance(route, Route) and "POST" in (route.methods or ())
        and route.name not in SIGNED_BY_PEERS | ONE_CLICK | PUBLIC_FORMS
    ]


async def _row_counts(instance: Instance) -> dict[str, int]:
    async with instance.ctx.sessions() as session:
        return {
            table.name: int(await session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture
async def world(a: Instance, tenants: Actor) -> AsyncIterator[tuple[Browser, dict[str, dict[str, Any]]]]:
    """The instance admin logged in, and real values for every path parameter of every form route."""
    ctx = a.ctx
    await committed(ctx, hubs.create_hub, "state-hub", name="State Hub", scope="state")
    start = ctx.clock() + timedelta(days=30)
    call = await committed(ctx, calls.publish_call, "tenants", calls.CallInput(
        title="Rent strike", description="", start=start, end=start + timedelta(hours=2), timezone="UTC",
        place_name="City Hall",
    ))
    note = await committed(ctx, service.post_note, "tenants", "Meeting on Thursday")
    eddie = await make_account(a, "eddie")
    async with ctx.sessions.begin() as session:
        _, invite_token = await invites.create_invite(
            session, actor_id=tenants.id, role="editor", created_by_id=None, now=ctx.clock()
        )
        setup_link = await invites.get_setup_link(
            session, base_url=ctx.base_url, secret_key=a.runtime.settings.secret_key, now=ctx.clock()
        )
    root = await organizer(a, "root", is_admin=True)
    common = {"username": "tenants", "handle": "tenants", "account_id": eddie.id, "action": "disable",
              "decision": "approve", "object_id": call.uri.rsplit("/", 1)[-1], "report_id": 1, "block_id": 1}
    params = {route.name: dict(common) for route in form_routes()}
    for name in HUB_PAGES:
        params[name]["handle"] = "state-hub"
    params["manage_delete_post"]["object_id"] = note.uri.rsplit("/", 1)[-1]
    params["invite"]["token"] = invite_token
    params["setup"]["token"] = setup_link.rsplit("/", 1)[-1]
    params["subscription_confirm"]["token"] = "a-confirmation-token"
    yield root, params
    await root.client.aclose()


def test_the_route_table_has_the_forms_we_expect() -> None:
    names = {route.name for route in form_routes()}
    # So the test below cannot pass by walking an empty list.
    assert len(names) >= 30
    assert {"login", "manage_announce", "pledge", "admin_import_upload", "logout"} <= names
    assert PUBLIC_FORMS <= {route.name for route in build_routes() if isinstance(route, Route)}


@pytest.mark.parametrize("token", [None, "forged-token"])
async def test_every_form_refuses_a_missing_or_forged_token_and_changes_nothing(
    a: Instance, world: tuple[Browser, dict[str, dict[str, Any]]], token: str | None
) -> None:
    root, params = world
    before = await _row_counts(a)
    accepted = []
    for route in form_routes():
        path = route.url_path_for(route.name, **{k: v for k, v in params[route.name].items()
                                                  if k in route.param_convertors})
        data = {"text": "forged", "name": "Forged", "actor": "http://b.test/g/x", "confirm": "on"}
        if token is not None:
            data["csrf_token"] = token
        response = await root.post(str(path), data)
        if response.status_code != 403 or "reload the page" not in response.text:
            accepted.append(f"{route.name} {path}: {response.status_code}")
    assert accepted == []
    assert await _row_counts(a) == before
