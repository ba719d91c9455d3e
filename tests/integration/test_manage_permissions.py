"""Who may open and submit which organizer page: checked on the server, never just a hidden button."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fedihub.coalitions import service
from fedihub.storage.models import Actor, StoredObject
from tests.integration.helpers import count_rows
from tests.integration.manage_helpers import organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.edges import committed
from tests.support.network import Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

EDITOR_PAGES = ["", "/announce", "/calls/new", "/following"]
ADMIN_PAGES = ["/profile", "/followers", "/requests", "/deliveries"]


@pytest.fixture
async def climate(a: Instance) -> Actor:
    return await committed(a.ctx, service.create_coalition, "climate", name="Climate Action Now")


@pytest.fixture
async def people(a: Instance, tenants: Actor, climate: Actor) -> AsyncIterator[dict[str, Browser]]:
    """Tenants Union's editor and admin, the climate group's editor, and the server's admin, logged in."""
    browsers = {
        "eddie": await organizer(a, "eddie", tenants, "editor"),
        "ada": await organizer(a, "ada", tenants, "admin"),
        "otto": await organizer(a, "otto", climate, "editor"),
        "root": await organizer(a, "root", is_admin=True),
    }
    yield browsers
    for browser in browsers.values():
        await browser.client.aclose()


@pytest.mark.parametrize("path", ["/dashboard", *(f"/manage/tenants{p}" for p in EDITOR_PAGES + ADMIN_PAGES)])
async def test_visitors_who_are_not_logged_in_are_sent_to_log_in_and_back(
    a: Instance, tenants: Actor, path: str
) -> None:
    browser = Browser(a)
    response = await browser.get(path)
    await browser.client.aclose()

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


@pytest.mark.parametrize(
    ("username", "allowed"),
    [
        ("eddie", EDITOR_PAGES),
        ("ada", EDITOR_PAGES + ADMIN_PAGES),
        ("root", EDITOR_PAGES + ADMIN_PAGES),
        ("otto", []),  # an editor of another coalition
    ],
)
async def test_each_role_opens_exactly_its_pages(people: dict[str, Browser], username: str, allowed: list[str]) -> None:
    for page in EDITOR_PAGES + ADMIN_PAGES:
        response = await people[username].get(f"/manage/tenants{page}")
        expected = 200 if page in allowed else 403
        assert response.status_code == expected, f"{username} on /manage/tenants{page}"
        if expected == 403:
            assert "Not allowed" in response.text


async def test_the_menu_offers_only_what_the_role_may_do(people: dict[str, Browser]) -> None:
    page = (await people["eddie"].get("/manage/tenants")).text
    assert 'href="/manage/tenants/announce"' in page
    assert 'href="/manage/tenants/profile"' not in page
    assert 'href="/manage/tenants/deliveries"' not in page


async def test_an_unknown_coalition_is_not_found(people: dict[str, Browser]) -> None:
    assert (await people["ada"].get("/manage/nobody")).status_code == 404


async def test_the_dashboard_lists_the_coalitions_of_the_account_with_its_role(people: dict[str, Browser]) -> None:
    page = (await people["eddie"].get("/dashboard")).text
    assert "Tenants Union" in page and "editor" in page
    assert "Climate Action Now" not in page

    page = (await people["root"].get("/dashboard")).text
    assert "Tenants Union" in page and "Climate Action Now" in page


async def test_another_coalitions_editor_cannot_post_in_its_name(a: Instance, people: dict[str, Browser]) -> None:
    otto = people["otto"]
    # The forms of his own coalition give him a valid CSRF token; the server still says no.
    note = await otto.submit("/manage/climate/announce", "/manage/tenants/announce", {"text": "Posted by a stranger"})
    call = await otto.submit(
        "/manage/climate/calls/new", "/manage/tenants/calls/new",
        {"title": "Fake", "start": "2030-05-01T10:00", "timezone": "UTC", "place_name": "Nowhere"},
    )

    assert (note.status_code, call.status_code) == (403, 403)
    assert await count_rows(a, StoredObject) == 0


async def test_an_editor_cannot_change_what_only_admins_may_change(
    a: Instance, people: dict[str, Browser], tenants: Actor
) -> None:
    eddie = people["eddie"]
    own_form = "/manage/tenants/announce"
    responses = [
        await eddie.submit(own_form, "/manage/tenants/profile", {"name": "Hijacked"}),
        await eddie.submit(own_form, "/manage/tenants/following", {"target": "x@b.test"}),
        await eddie.submit(own_form, "/manage/tenants/following/remove", {"actor": "http://b.test/g/x"}),
        await eddie.submit(own_form, "/manage/tenants/requests/approve", {"actor": "http://b.test/g/x"}),
        await eddie.submit(own_form, "/manage/tenants/followers/remove", {"actor": "http://b.test/g/x"}),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    async with a.ctx.sessions() as session:
        assert (await session.get(Actor, tenants.id)).name == "Tenants Union"  # type: ignore[union-attr]


async def test_an_editor_cannot_reach_another_coalitions_post_through_their_own_pages(
    a: Instance, people: dict[str, Browser]
) -> None:
    note = await committed(a.ctx, service.post_note, "climate", "Climate news")
    key = note.uri.rsplit("/", 1)[-1]

    response = await people["eddie"].submit(
        "/manage/tenants/announce", f"/manage/tenants/posts/{key}/delete", {"confirm": "on"}
    )

    assert response.status_code == 404
    assert await count_rows(a, StoredObject, StoredObject.deleted_at.is_(None)) == 1


async def test_a_form_without_its_csrf_token_is_refused(a: Instance, people: dict[str, Browser]) -> None:
    response = await people["eddie"].post("/manage/tenants/announce", {"text": "Forged elsewhere"})

    assert response.status_code == 403
    assert "reload the page" in response.text
    assert await count_rows(a, StoredObject) == 0
