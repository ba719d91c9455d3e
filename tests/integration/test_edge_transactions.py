"""A coalition operation runs in the one transaction its edge (page, command) opens: a failure halfway
leaves no rows and no deliveries behind, and doing it again sends each activity once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from fedihub.accounts import service as accounts
from fedihub.coalitions import calls, service
from fedihub.storage.models import Activity, Actor, Delivery, Membership, StoredObject
from tests.integration.helpers import AS2, count_rows, followed_by, path_of
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, browsers, cheap_password_hashing, make_account
from tests.support.edges import committed, read
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance
from tests.support.stored import only_event

# Transactions and their rollback behave differently on each database: both are tested.
pytestmark = [pytest.mark.all_backends, pytest.mark.usefixtures("cheap_password_hashing")]
__all__ = ["browsers", "cheap_password_hashing"]  # fixtures used by name below

NEW = "/manage/tenants/calls/new"
CALL = {
    "title": "Rally for rent control", "description": "Bring signs.", "start": "2031-03-14T11:00",
    "end": "2031-03-14T14:00", "timezone": "America/Los_Angeles", "place_name": "City Hall steps",
    "address": "", "online_url": "", "movements": ["Tenants"], "tags": "", "region_city": "Oakland",
    "region_state": "California", "region_country": "US", "latitude": "", "longitude": "",
}


class Crash(RuntimeError):
    """What a failure halfway through an operation looks like (the database went away, a bug)."""


def crash_once_after(module: Any, name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make ``module.name`` do its work and then fail, the first time only; the list records the crash."""
    real = getattr(module, name)
    crashes: list[str] = []

    async def work_then_crash(*args: Any, **kwargs: Any) -> Any:
        result = await real(*args, **kwargs)
        if not crashes:
            crashes.append(name)
            raise Crash(f"{name} failed after its work was done")
        return result

    monkeypatch.setattr(module, name, work_then_crash)
    return crashes


@pytest.fixture
async def eddie(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "eddie", tenants, "editor")
    yield browser
    await browser.client.aclose()


async def test_an_edit_that_fails_after_its_update_leaves_the_call_as_it_was_and_sends_nothing(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, eddie: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    assert (await eddie.submit(NEW, NEW, CALL)).status_code == 303
    await net.settle()
    call = await only_event(a)
    edit = f"/manage/tenants/calls/{call.uri.rsplit('/', 1)[-1]}/edit"
    activities, deliveries, objects = await count_rows(a, Activity), await count_rows(a, Delivery), await count_rows(
        a, StoredObject
    )
    # The Update(Event) is queued; then writing the reply note that tells Mastodon users fails.
    crashes = crash_once_after(calls, "_publish_reply", monkeypatch)

    moved = {**CALL, "title": "Rally for rent control, moved indoors", "place_name": "Public library"}
    failed = await eddie.submit(edit, edit, moved)

    assert crashes and failed.status_code == 500
    assert (await only_event(a)).name == "Rally for rent control"  # the edit is not half-saved
    assert await count_rows(a, Activity) == activities  # neither the Update nor the note's Create
    assert await count_rows(a, Delivery) == deliveries  # and nothing queued for anyone
    assert await count_rows(a, StoredObject) == objects
    await net.settle()
    assert peer.received("Update") == []

    again = await eddie.submit(edit, edit, moved)

    assert again.status_code == 303
    await net.settle()
    assert [u["object"]["name"] for u in peer.received("Update")] == ["Rally for rent control, moved indoors"]
    replies = [c for c in peer.received("Create") if c["object"].get("inReplyTo") == call.uri]
    assert len(replies) == 1


async def test_a_coalition_deletion_that_fails_halfway_leaves_it_and_its_posts_in_place(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    note = await committed(a.ctx, service.post_note, "tenants", "Assembly on Sunday")
    await net.settle()
    deliveries = await count_rows(a, Delivery)
    # Its posts are tombstoned and the Delete(actor) is queued; then the operation fails.
    crashes = crash_once_after(service, "publish", monkeypatch)

    with pytest.raises(Crash):
        await committed(a.ctx, service.delete_coalition, "tenants")

    assert crashes
    assert (await a.get("/g/tenants", headers={"accept": AS2})).status_code == 200
    assert (await a.get(path_of(note.uri), headers={"accept": AS2})).status_code == 200
    assert await count_rows(a, Activity, Activity.type == "Delete") == 0
    assert await count_rows(a, Delivery) == deliveries
    await net.settle()
    assert peer.received("Delete") == []

    await committed(a.ctx, service.delete_coalition, "tenants")

    assert (await a.get("/g/tenants", headers={"accept": AS2})).status_code == 410
    assert (await a.get(path_of(note.uri), headers={"accept": AS2})).status_code == 410
    await net.settle()
    assert len(peer.received("Delete")) == 1


async def test_a_coalition_made_on_the_admin_page_never_exists_without_its_owner(
    a: Instance, browsers: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = await make_account(a, "root", is_admin=True)
    admin = await browsers(a, root)
    crashes = crash_once_after(accounts, "add_member", monkeypatch)
    form = {"handle": "climate", "name": "Climate Action Now", "summary": ""}

    failed = await admin.submit("/admin", "/admin/coalitions", form)

    assert crashes and failed.status_code == 500
    assert await read(a.ctx, service.list_coalitions) == []
    assert (await a.get("/g/climate", headers={"accept": AS2})).status_code == 404
    assert await count_rows(a, Membership) == 0

    created = await admin.submit("/admin", "/admin/coalitions", form)

    assert created.status_code == 303 and created.headers["location"] == "/manage/climate"
    assert [c.username for c in await read(a.ctx, service.list_coalitions)] == ["climate"]
    assert await count_rows(a, Membership, Membership.role == "owner") == 1
