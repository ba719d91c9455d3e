"""Banner images from the organizer forms: upload with alt text, kept after an error, replaced, removed, federated."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from fedihub.coalitions.pending_images import KEEP_FOR, MAX_KEPT
from fedihub.coalitions.upload_limits import UploadRateLimiter
from fedihub.storage.models import Actor, Media, StoredObject
from tests.integration.helpers import count_rows, followed_by
from tests.integration.manage_helpers import field_error, organizer
from tests.integration.organizers import Browser, cheap_password_hashing  # noqa: F401  (fixture)
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance
from tests.support.stored import only_event

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

NEW = "/manage/tenants/calls/new"
PROFILE = "/manage/tenants/profile"
ALT = "Tenants holding a banner that says Rent Control Now on the City Hall steps"
CALL = {
    "title": "Rally for rent control", "description": "Bring signs.", "start": "2031-03-14T11:00",
    "end": "2031-03-14T14:00", "timezone": "America/Los_Angeles", "place_name": "City Hall steps",
    "address": "1 Frank H Ogawa Plaza, Oakland", "online_url": "", "movements": ["Tenants"], "tags": "",
    "region_city": "Oakland", "region_state": "California", "region_country": "US", "latitude": "", "longitude": "",
}
PROFILE_FORM = {
    "name": "Tenants Union", "summary": "We organise renters.", "movements": ["Tenants"], "tags": "",
    "region_city": "Oakland", "region_state": "California", "region_country": "US", "latitude": "", "longitude": "",
    "website": "",
}
KEPT = re.compile(r'<input type="hidden" name="image_token" value="([^"]*)">')


def photo(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (1600, 900)) -> bytes:
    """A phone photo with the camera's make and where it was taken."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (37.0, 48.0, 17.0), 3: "W", 4: (122.0, 16.0, 19.0)}
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(data: bytes | None = None, name: str = "flyer.jpg") -> dict[str, Any]:
    return {"files": {"image": (name, photo() if data is None else data, "image/jpeg")}}


@pytest.fixture
async def eddie(a: Instance, tenants: Actor) -> AsyncIterator[Browser]:
    browser = await organizer(a, "eddie", tenants, "admin")
    yield browser
    await browser.client.aclose()


def kept_token(page: httpx.Response) -> str:
    found = KEPT.search(page.text)
    assert found is not None, page.text[:500]
    return found.group(1)


async def test_a_call_with_an_image_shows_it_with_its_alt_text_and_mastodon_gets_it_as_an_attachment(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, eddie: Browser
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])

    response = await eddie.submit(NEW, NEW, {**CALL, "image_alt": ALT}, **upload())

    assert response.status_code == 303, response.text[:800]
    row = await only_event(a)
    assert row.image_url is not None and row.image_alt == ALT
    page = (await eddie.get(urlsplit(row.uri).path)).text
    assert f'<img src="{row.image_url}" alt="{ALT}">' in page
    assert f'<meta property="og:image" content="{row.image_url}">' in page

    served = await eddie.client.get(urlsplit(row.image_url).path)
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in served.headers["cache-control"] and "max-age=31536000" in served.headers["cache-control"]
    assert b"PhoneMaker" not in served.content
    assert Image.open(io.BytesIO(served.content)).getexif() == {}  # no GPS, no camera
    assert Image.open(io.BytesIO(served.content)).size == (1200, 675)
    thumbnail = await eddie.client.get(urlsplit(row.image_url).path.replace(".jpg", "-thumb.jpg"))
    assert thumbnail.status_code == 200 and Image.open(io.BytesIO(thumbnail.content)).size == (400, 225)

    await net.settle()
    [create] = peer.received("Create")
    event = create["object"]
    # The first attachment, with the alt text as `name`: what Mastodon imports as the post's media.
    assert event["attachment"][0] == {"type": "Document", "mediaType": "image/jpeg", "url": row.image_url, "name": ALT}
    assert event["image"]["url"] == row.image_url and event["image"]["name"] == ALT


async def test_alt_text_is_required_and_the_chosen_file_is_kept_for_the_next_try(
    net: FederationNet, a: Instance, eddie: Browser
) -> None:
    refused = await eddie.submit(NEW, NEW, {**CALL, "image_alt": "  "}, **upload(name="march flyer.jpg"))

    assert refused.status_code == 400
    assert field_error(refused, "call-image_alt") == "Error: describe the image for people who cannot see it (alt text)"
    assert await count_rows(a, StoredObject) == 0
    assert "Image kept: <strong>march flyer.jpg</strong> (choose another to replace)" in refused.text
    token = kept_token(refused)
    assert token

    saved = await eddie.submit(NEW, NEW, {**CALL, "image_alt": ALT, "image_token": token})

    assert saved.status_code == 303
    row = await only_event(a)
    assert row.image_url is not None and row.image_alt == ALT
    async with a.ctx.sessions() as session:  # the kept upload became the banner: nothing pending is left
        assert (await session.scalars(select(Media.purpose))).all() == ["banner"]


async def test_a_mistake_in_another_field_keeps_the_chosen_file(a: Instance, eddie: Browser) -> None:
    refused = await eddie.submit(NEW, NEW, {**CALL, "title": "", "image_alt": ALT}, **upload())

    assert refused.status_code == 400 and field_error(refused, "call-title")
    assert "Image kept: <strong>flyer.jpg</strong>" in refused.text
    assert f'value="{ALT}"' in refused.text

    saved = await eddie.submit(NEW, NEW, {**CALL, "image_alt": ALT, "image_token": kept_token(refused)})

    assert saved.status_code == 303
    assert (await only_event(a)).image_url is not None


async def test_a_kept_upload_is_its_owners_only(a: Instance, tenants: Actor, eddie: Browser) -> None:
    """Another organizer who learns the token (a shared screen, a log) cannot publish that image;
    the form says it has no image for them rather than publishing without a word."""
    refused = await eddie.submit(NEW, NEW, {**CALL, "title": "", "image_alt": ALT}, **upload())
    token = kept_token(refused)
    mallory = await organizer(a, "mallory", tenants, "editor")
    try:
        response = await mallory.submit(NEW, NEW, {**CALL, "image_alt": ALT, "image_token": token})
    finally:
        await mallory.client.aclose()

    assert response.status_code == 400
    expired = "Error: the image kept from your last try has expired: choose it again"
    assert field_error(response, "call-image") == expired
    assert await count_rows(a, StoredObject) == 0


async def test_an_expired_kept_upload_is_asked_for_again(
    a: Instance, eddie: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = await eddie.submit(NEW, NEW, {**CALL, "title": "", "image_alt": ALT}, **upload())
    later = a.ctx.clock() + KEEP_FOR + timedelta(minutes=1)
    monkeypatch.setattr(a.ctx, "clock", lambda: later)

    response = await eddie.submit(NEW, NEW, {**CALL, "image_alt": ALT, "image_token": kept_token(refused)})

    assert response.status_code == 400 and "expired" in (field_error(response, "call-image") or "")
    assert "Image kept" not in response.text
    assert await count_rows(a, StoredObject) == 0


@pytest.mark.parametrize(("data", "name", "status"), [
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "flyer.jpg", 415),
    (b"%PDF-1.7 not a picture", "flyer.png", 415),
    (b"\xff\xd8\xff\xe0 truncated jpeg", "flyer.jpg", 400),
])
async def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_kept_or_published(
    a: Instance, eddie: Browser, data: bytes, name: str, status: int
) -> None:
    response = await eddie.submit(NEW, NEW, {**CALL, "image_alt": ALT}, **upload(data, name))

    assert response.status_code == status
    assert field_error(response, "call-image")
    assert await count_rows(a, StoredObject) == 0 and await count_rows(a, Media) == 0
    assert kept_token(response) == ""


async def test_replacing_and_removing_a_calls_image_sends_updates_and_forgets_the_old_file(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, eddie: Browser
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    await eddie.submit(NEW, NEW, {**CALL, "image_alt": ALT}, **upload())
    row = await only_event(a)
    first = row.image_url
    assert first is not None
    edit = f"/manage/tenants/calls/{row.uri.rsplit('/', 1)[-1]}/edit"
    form = (await eddie.get(edit)).text
    assert f'value="{ALT}"' in form and "Remove the image" in form

    replaced = await eddie.submit(edit, edit, {**CALL, "image_alt": "A blue flyer"}, **upload(photo((20, 40, 200))))
    assert replaced.status_code == 303
    second = (await only_event(a)).image_url
    assert second is not None and second != first
    assert (await eddie.client.get(urlsplit(first).path)).status_code == 404

    removed = await eddie.submit(edit, edit, {**CALL, "remove_image": "on"})
    assert removed.status_code == 303
    assert (await only_event(a)).image_url is None
    assert (await eddie.client.get(urlsplit(second).path)).status_code == 404
    assert await count_rows(a, Media) == 0

    await net.settle()
    # Two Updates (their delivery order is not fixed): the new picture, then none at all.
    images = sorted(str(u.get("image", {}).get("name")) for u in (u["object"] for u in peer.received("Update")))
    assert images == ["A blue flyer", "None"]
    without = next(u["object"] for u in peer.received("Update") if "image" not in u["object"])
    assert without["attachment"] == []


async def test_editing_alt_text_away_is_refused(a: Instance, eddie: Browser) -> None:
    await eddie.submit(NEW, NEW, {**CALL, "image_alt": ALT}, **upload())
    row = await only_event(a)
    edit = f"/manage/tenants/calls/{row.uri.rsplit('/', 1)[-1]}/edit"

    response = await eddie.submit(edit, edit, {**CALL, "image_alt": ""})

    assert response.status_code == 400 and field_error(response, "call-image_alt")
    assert (await only_event(a)).image_alt == ALT


async def test_a_coalition_banner_is_its_actors_image_and_shows_on_its_page(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, eddie: Browser
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    alt = "Our members at the spring assembly"

    response = await eddie.submit(PROFILE, PROFILE, {**PROFILE_FORM, "image_alt": alt}, **upload(name="assembly.jpg"))

    assert response.status_code == 303, response.text[:800]
    document = (await eddie.client.get(tenants.uri, headers={"Accept": "application/activity+json"})).json()
    image = document["image"]
    assert image["type"] == "Image" and image["mediaType"] == "image/jpeg" and image["name"] == alt
    page = (await eddie.get("/g/tenants")).text
    assert f'<img src="{image["url"]}" alt="{alt}">' in page
    assert f'<meta property="og:image" content="{image["url"]}">' in page
    await net.settle()
    assert peer.received("Update")[-1]["object"]["image"]["url"] == image["url"]

    missing_alt = await eddie.submit(PROFILE, PROFILE, {**PROFILE_FORM, "image_alt": ""})
    assert missing_alt.status_code == 400 and field_error(missing_alt, "profile-image_alt")

    removed = await eddie.submit(PROFILE, PROFILE, {**PROFILE_FORM, "remove_image": "on"})
    assert removed.status_code == 303
    document = (await eddie.client.get(tenants.uri, headers={"Accept": "application/activity+json"})).json()
    assert "image" not in document


async def test_uploads_are_rate_limited_per_account_and_kept_ones_are_bounded(a: Instance, eddie: Browser) -> None:
    """A stolen session or a script cannot make the server decode and keep images without end."""
    a.app.state.upload_limiter = UploadRateLimiter(per_account=12)
    small = photo(size=(64, 48))
    for _ in range(12):
        refused = await eddie.submit(NEW, NEW, {**CALL, "title": ""}, **upload(small))
        assert refused.status_code == 400
    async with a.ctx.sessions() as session:
        kept = (await session.scalars(select(Media.purpose).where(Media.purpose == "pending"))).all()
    assert len(kept) == MAX_KEPT

    limited = await eddie.submit(NEW, NEW, {**CALL, "image_alt": ALT}, **upload(small))

    assert limited.status_code == 429
    assert "You have uploaded 12 images in the last hour" in limited.text
    assert await count_rows(a, StoredObject) == 0


async def test_a_kept_upload_is_not_served_to_anyone(a: Instance, eddie: Browser) -> None:
    refused = await eddie.submit(NEW, NEW, {**CALL, "title": ""}, **upload())
    token = kept_token(refused)

    for path in (f"/media/{token}.png", f"/images/{token}.jpg", f"/images/{token}-thumb.jpg"):
        assert (await eddie.client.get(path)).status_code == 404, path
