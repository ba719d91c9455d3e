"""The profile page: the form as an admin fills it in, its errors, and the avatar upload."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from fedihub.coalitions.avatars import MAX_UPLOAD_BYTES
from fedihub.storage.models import Actor, Media
from tests.integration.helpers import count_rows, followed_by, path_of
from tests.integration.manage_helpers import field_error, notice, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PAGE = "/manage/tenants/profile"
FORM = {
    "name": "Tenants Union of Oakland",
    "summary": "We organise **renters**.",
    "movements": ["Tenants", "AntiAusterity"],
    "tags": "rent strike",
    "region_city": "Oakland",
    "region_state": "California",
    "region_country": "US",
    "latitude": "",
    "longitude": "",
    "website": "tenants.example",
}


@pytest.fixture
async def ada(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "ada", tenants, "admin")
    yield browser
    await browser.client.aclose()


async def stored(instance: Instance, actor: Actor) -> Actor:
    async with instance.ctx.sessions() as session:
        row = await session.get(Actor, actor.id)
        assert row is not None
        return row


def image(fmt: str = "PNG", size: tuple[int, int] = (640, 480)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, format=fmt)
    return out.getvalue()


async def test_the_form_shows_the_current_profile_with_labels_for_every_field(ada: Browser) -> None:
    page = await ada.get(PAGE)

    assert page.status_code == 200
    assert 'value="Tenants Union"' in page.text
    assert "We organise *renters*." in page.text  # the Markdown as written, not the HTML
    for field in ("name", "summary", "tags", "region_city", "region_state", "region_country", "latitude", "longitude",
                  "website", "avatar", "manually_approves_followers"):
        assert f'<label for="profile-{field}">' in page.text, field
    for label in ("Anti-racism", "Housing and tenants", "Migrants&#39; rights"):
        assert label in page.text
    assert 'enctype="multipart/form-data"' in page.text


async def test_saving_stores_the_profile_and_followers_get_an_update(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, ada: Browser
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])

    response = await ada.submit(PAGE, PAGE, FORM)

    assert response.status_code == 303
    shown = await ada.get(response.headers["location"])
    assert notice(shown) == "The profile is saved. Your followers' servers are getting the new version."
    assert 'value="Tenants Union of Oakland"' in shown.text
    assert 'value="rent strike"' not in shown.text and 'value="RentStrike"' in shown.text
    actor = await stored(a, tenants)
    profile = actor.profile
    assert profile is not None
    assert (actor.name, profile.summary_source) == ("Tenants Union of Oakland", "We organise **renters**.")
    assert profile.movements == ["Tenants", "AntiAusterity", "RentStrike"]
    assert profile.website == "https://tenants.example"
    await net.settle()
    [update] = peer.received("Update")
    assert update["object"]["name"] == "Tenants Union of Oakland"


async def test_the_public_page_shows_the_new_name(a: Instance, ada: Browser) -> None:
    await ada.submit(PAGE, PAGE, FORM)
    assert "Tenants Union of Oakland" in (await a.get("/g/tenants", headers={"Accept": "text/html"})).text


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": ""}, "name", "display name"),
        ({"website": "javascript:alert(1)"}, "website", "https://"),
        ({"latitude": "123", "longitude": "10"}, "latitude", "between -90 and 90"),
        ({"latitude": "45"}, "longitude", "both"),
        ({"tags": "1234"}, "tags", "letter"),
    ],
)
async def test_a_mistake_is_shown_next_to_its_field_and_nothing_changes(
    a: Instance, tenants: Actor, ada: Browser, changes: dict[str, str], field: str, words: str
) -> None:
    response = await ada.submit(PAGE, PAGE, {**FORM, **changes})

    assert response.status_code == 400
    error = field_error(response, f"profile-{field}")
    assert error is not None and words in error
    assert 'aria-invalid="true"' in response.text
    assert "Nothing was saved" in response.text
    # What was typed is still there to correct.
    assert 'value="Oakland"' in response.text
    assert (await stored(a, tenants)).name == "Tenants Union"


async def test_an_avatar_upload_becomes_the_coalitions_icon(a: Instance, tenants: Actor, ada: Browser) -> None:
    response = await ada.submit(PAGE, PAGE, FORM, files={"avatar": ("me.jpg", image("JPEG"), "image/jpeg")})

    assert response.status_code == 303
    actor = await stored(a, tenants)
    assert actor.icon_url and actor.icon_url.startswith("http://a.test/media/")
    served = await a.get(path_of(actor.icon_url))
    assert served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).size == (400, 400)
    assert f'src="{actor.icon_url}"' in (await ada.get(PAGE)).text


@pytest.mark.parametrize(
    ("upload", "words"),
    [
        (("evil.png", b"<svg onload=alert(1)></svg>", "image/png"), "not a PNG, JPEG, WebP or GIF"),
        (("scan.bmp", image("BMP"), "image/bmp"), "not a PNG, JPEG, WebP or GIF"),
        (("huge.png", b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_UPLOAD_BYTES, "image/png"), "2 MB"),
    ],
)
async def test_a_bad_avatar_is_refused_next_to_the_field_and_nothing_changes(
    a: Instance, tenants: Actor, ada: Browser, upload: tuple[str, bytes, str], words: str
) -> None:
    response = await ada.submit(PAGE, PAGE, FORM, files={"avatar": upload})

    assert response.status_code in (400, 413)
    error = field_error(response, "profile-avatar")
    assert error is not None and words in error
    actor = await stored(a, tenants)
    assert actor.icon_url is None and actor.name == "Tenants Union"
    assert await count_rows(a, Media) == 0


async def test_saving_without_choosing_a_file_keeps_the_avatar(a: Instance, tenants: Actor, ada: Browser) -> None:
    await ada.submit(PAGE, PAGE, FORM, files={"avatar": ("me.png", image(), "image/png")})
    icon = (await stored(a, tenants)).icon_url

    await ada.submit(PAGE, PAGE, {**FORM, "name": "Renamed"}, files={"avatar": ("", b"", "application/octet-stream")})

    assert (await stored(a, tenants)).icon_url == icon

    await ada.submit(PAGE, PAGE, {**FORM, "remove_avatar": "on"})
    assert (await stored(a, tenants)).icon_url is None
    assert await count_rows(a, Media) == 0


async def test_approve_followers_manually_is_a_checkbox(a: Instance, tenants: Actor, ada: Browser) -> None:
    await ada.submit(PAGE, PAGE, {**FORM, "manually_approves_followers": "on"})
    assert (await stored(a, tenants)).manually_approves_followers is True
    assert "checked" in (await ada.get(PAGE)).text.split('id="profile-manually_approves_followers"')[1][:80]

    await ada.submit(PAGE, PAGE, FORM)  # unticked: a browser sends nothing for it
    assert (await stored(a, tenants)).manually_approves_followers is False
