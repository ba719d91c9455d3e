"""A call's image between servers: a fedihub follower shows it through its own origin, in the shape
Mastodon and Mobilizon read; removing it reaches the follower as an Update."""

from __future__ import annotations

import io
import re
from urllib.parse import quote, urlsplit

from PIL import Image
from sqlalchemy import select

from fedihub.coalitions import calls
from fedihub.coalitions.banner_image import build_banner
from fedihub.coalitions.banners import BannerChoice
from fedihub.storage.models import StoredObject
from tests.support.edges import committed
from tests.support.following import climate_followed_by_hub
from tests.support.network import FederationNet, Instance

ALT = "A crowd with a banner reading Fund Transit Now outside the Rotes Rathaus"
FORM: dict[str, str | list[str]] = {
    "title": "Rally for transit funding", "description": "We march at noon.", "start": "2030-03-29T11:00",
    "end": "2030-03-29T14:00", "timezone": "Europe/Berlin", "place_name": "Rotes Rathaus",
    "address": "Rathausstraße 15", "online_url": "https://stream.example/transit", "movements": ["climate"],
}


def flyer() -> BannerChoice:
    out = io.BytesIO()
    Image.new("RGB", (1800, 1200), (240, 200, 20)).save(out, format="JPEG")
    return BannerChoice(build_banner(out.getvalue()), ALT)


async def stored(instance: Instance, uri: str) -> StoredObject:
    async with instance.ctx.sessions() as session:
        row = await session.scalar(select(StoredObject).where(StoredObject.uri == uri))
    assert row is not None
    return row


def banner_src(page: str) -> str | None:
    found = re.search(r'<figure class="banner"><img src="([^"]+)" alt="([^"]*)"></figure>', page)
    return found.group(1) if found else None


async def test_the_image_reaches_the_follower_who_shows_it_from_its_own_origin(net: FederationNet) -> None:
    a, b = await climate_followed_by_hub(net)

    call = await committed(a.ctx, calls.publish_call, "climate", calls.parse_call_form(FORM), image=flyer())
    await net.settle()

    event = (await stored(b, call.uri)).data
    picture, website = event["attachment"]
    # Mastodon: image attachments become the post's media, `name` its description (spec §1.8).
    # Mobilizon and Gancio: the first attachment is the event's picture; the Website Link stays (§2.2).
    assert picture == {"type": "Document", "mediaType": "image/jpeg", "url": call.image_url, "name": ALT}
    assert website["type"] == "Link" and website["name"] == "Website"
    assert event["image"] == {"type": "Image", "mediaType": "image/jpeg", "url": call.image_url, "name": ALT}

    # The first view queues b's fetch of the picture; once b's worker has run, the page shows b's copy.
    first = await b.get(f"/calls/view?url={quote(call.uri, safe='')}")
    assert first.status_code == 200 and banner_src(first.text) is None
    await net.settle()
    page = await b.get(f"/calls/view?url={quote(call.uri, safe='')}")
    src = banner_src(page.text)
    assert src is not None and urlsplit(src).netloc == "b.test"  # b's readers never contact a.test
    assert f'alt="{ALT}"' in page.text
    copy = await b.get(urlsplit(src).path)
    original = await a.get(urlsplit(call.image_url or "").path)
    assert copy.status_code == original.status_code == 200
    assert Image.open(io.BytesIO(copy.content)).size == Image.open(io.BytesIO(original.content)).size == (1200, 800)


async def test_removing_the_image_reaches_the_follower_as_an_update(net: FederationNet) -> None:
    a, b = await climate_followed_by_hub(net)
    call = await committed(a.ctx, calls.publish_call, "climate", calls.parse_call_form(FORM), image=flyer())
    await net.settle()

    await committed(
        a.ctx, calls.update_call, call.uri, calls.parse_call_form(FORM), image=BannerChoice(None, "", remove=True),
    )
    await net.settle()

    there = await stored(b, call.uri)
    assert "image" not in there.data
    assert [item["type"] for item in there.data["attachment"]] == ["Link"]
    page = await b.get(f"/calls/view?url={quote(call.uri, safe='')}")
    assert banner_src(page.text) is None
