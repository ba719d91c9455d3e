"""One handle format: @name@host with the port when the server has one, on every page, in WebFinger and the CLI.

A handle shown without its port cannot be followed: WebFinger would go to the default port.
"""

from __future__ import annotations

import re

import pytest

from fedihub.coalitions import service
from fedihub.storage.models import Follow
from tests.integration.helpers import find_follow
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import FederationNet

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

HANDLE = "@tenants@a.test:8443"


def handles_in(text: str) -> set[str]:
    return set(re.findall(r"@tenants@a\.test[:0-9]*", text))


async def test_a_handle_shown_anywhere_is_the_one_a_peer_can_follow(net: FederationNet) -> None:
    a = await net.add_instance("a.test:8443")
    b = await net.add_instance("b.test")
    tenants = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    await committed(b.ctx, service.create_coalition, "climate", name="Climate")
    owner = await organizer(a, "olga", tenants, "owner", is_admin=True)
    other = await organizer(b, "bo", None, is_admin=True)

    pages = [(await owner.get(path)).text for path in (
        "/dashboard", "/manage/tenants", "/manage/tenants/followers", "/manage/tenants/fediverse", "/admin",
    )]
    pages.append((await a.get("/g/tenants", headers={"accept": "text/html"})).text)
    for text in pages:
        assert handles_in(text) == {HANDLE}, handles_in(text)
    assert "@handle@a.test:8443" in pages[4], "the admin form's hint shows the handle's host with its port"

    jrd = (await a.get(f"/.well-known/webfinger?resource=acct:{HANDLE[1:]}")).json()
    assert jrd["subject"] == f"acct:{HANDLE[1:]}", "the subject is the handle the pages show"
    actor = (await a.get("/g/tenants", headers={"accept": "application/activity+json"})).json()
    assert actor.get("webfinger", HANDLE[1:]) == HANDLE[1:]

    # The handle as shown, pasted into another server's follow form, finds the coalition.
    followed = await other.submit("/manage/climate/following", "/manage/climate/following", {"target": HANDLE})
    assert followed.status_code == 303, followed.text[:500]
    await net.settle()
    follow = await find_follow(b, "http://b.test/g/climate", tenants.uri)
    assert isinstance(follow, Follow) and follow.state == "accepted"
    assert handles_in((await other.get("/manage/climate/following")).text) == {HANDLE}
