"""A coalition's profile as peers see it: the actor document, Update on every change, the avatar URL."""

from __future__ import annotations

import io

from PIL import Image

from fedihub.coalitions.avatars import build_avatar
from fedihub.coalitions.profile import parse_profile_form, save_profile
from fedihub.protocol import jsonld
from fedihub.storage.models import Actor, Follow
from tests.integration.helpers import AS2, count_rows, followed_by, path_of
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

PROFILE = {
    "name": "Tenants Union of Oakland",
    "summary": "We organise **renters** block by block.",
    "movements": ["Tenants", "SolidarityNetwork"],
    "tags": "rent strike",
    "region_city": "Oakland",
    "region_state": "California",
    "region_country": "US",
    "latitude": "37.8044",
    "longitude": "-122.2712",
    "website": "https://tenants.example/join?from=<fedi>",
}


def jpeg(width: int = 800, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (180, 40, 40)).save(out, format="JPEG")
    return out.getvalue()


async def actor_document(instance: Instance, actor: Actor) -> dict:
    response = await instance.get(path_of(actor.uri), headers={"Accept": AS2})
    assert response.status_code == 200
    return response.json()


async def test_the_actor_document_carries_the_profile_in_the_shapes_peers_read(a: Instance, tenants: Actor) -> None:
    await committed(a.ctx, save_profile, "tenants", parse_profile_form(PROFILE), avatar=build_avatar(jpeg()))

    doc = await actor_document(a, tenants)

    assert doc["name"] == "Tenants Union of Oakland"
    assert doc["summary"] == "<p>We organise <strong>renters</strong> block by block.</p>"
    assert doc["icon"]["type"] == "Image" and doc["icon"]["mediaType"] == "image/png"
    assert doc["icon"]["url"].startswith("http://a.test/media/") and doc["icon"]["url"].endswith(".png")
    [website] = doc["attachment"]
    assert website["type"] == "PropertyValue" and website["name"] == "Website"
    # The URL is escaped inside the link Mastodon shows (and verifies with rel="me").
    assert 'href="https://tenants.example/join?from=&lt;fedi&gt;"' in website["value"]
    assert 'rel="nofollow noopener noreferrer me"' in website["value"]
    assert [t["name"] for t in doc["tag"]] == ["#Tenants", "#SolidarityNetwork", "#RentStrike"]
    assert {t["type"] for t in doc["tag"]} == {"Hashtag"}
    assert doc["location"] == {
        "type": "Place",
        "name": "Oakland, California, US",
        "address": {
            "type": "PostalAddress", "addressLocality": "Oakland", "addressRegion": "California",
            "addressCountry": "US",
        },
        "latitude": 37.8044,
        "longitude": -122.2712,
    }
    # Every field that was there before is still there.
    for key in ("inbox", "outbox", "followers", "following", "featured", "publicKey", "endpoints", "webfinger"):
        assert key in doc


async def test_the_profile_terms_expand_to_the_vocabularies_peers_use(a: Instance, tenants: Actor) -> None:
    await committed(a.ctx, save_profile, "tenants", parse_profile_form(PROFILE))

    [expanded] = jsonld.expand(await actor_document(a, tenants))

    [field] = expanded["https://www.w3.org/ns/activitystreams#attachment"]
    assert field["@type"] == ["http://schema.org#PropertyValue"]  # Mastodon's own (hash) spelling
    assert "http://schema.org#value" in field
    assert expanded["https://www.w3.org/ns/activitystreams#tag"][0]["@type"] == [
        "https://www.w3.org/ns/activitystreams#Hashtag"
    ]
    [place] = expanded["https://www.w3.org/ns/activitystreams#location"]
    assert place["@type"] == ["https://www.w3.org/ns/activitystreams#Place"]
    [address] = place["http://schema.org#address"]
    assert address["http://schema.org#addressLocality"] == [{"@value": "Oakland"}]


async def test_an_empty_profile_adds_nothing_to_the_actor_document(a: Instance, tenants: Actor) -> None:
    doc = await actor_document(a, tenants)
    assert not {"attachment", "tag", "location", "icon"} & set(doc)


async def test_followers_receive_an_update_with_the_whole_new_profile(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])

    actor, changed = await committed(a.ctx, save_profile, "tenants", parse_profile_form(PROFILE))
    await net.settle()

    assert changed
    [update] = peer.received("Update")
    assert update["actor"] == update["object"]["id"] == tenants.uri
    assert update["object"]["name"] == "Tenants Union of Oakland"
    assert update["object"]["location"]["name"] == "Oakland, California, US"

    # Saving the same form again changes nothing, so nobody is sent anything.
    _, changed = await committed(a.ctx, save_profile, "tenants", parse_profile_form(PROFILE))
    await net.settle()
    assert not changed
    assert len(peer.received("Update")) == 1


async def test_the_avatar_is_served_from_our_origin_and_cached_for_long(a: Instance, tenants: Actor) -> None:
    actor, _ = await committed(a.ctx, save_profile, "tenants", parse_profile_form(PROFILE), avatar=build_avatar(jpeg()))
    assert actor.icon_url

    response = await a.get(path_of(actor.icon_url))

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert "max-age=31536000" in response.headers["cache-control"]
    assert Image.open(io.BytesIO(response.content)).size == (400, 400)


async def test_a_new_avatar_replaces_the_old_one_at_a_new_address(a: Instance, tenants: Actor) -> None:
    first, _ = await committed(a.ctx, save_profile, "tenants", parse_profile_form(PROFILE), avatar=build_avatar(jpeg()))
    old_url = first.icon_url
    second, _ = await committed(
        a.ctx, save_profile, "tenants", parse_profile_form(PROFILE), avatar=build_avatar(jpeg(300, 300))
    )

    assert second.icon_url != old_url
    assert (await a.get(path_of(old_url or ""))).status_code == 404
    assert (await a.get(path_of(second.icon_url or ""))).status_code == 200


async def test_unknown_media_is_not_found(a: Instance) -> None:
    assert (await a.get("/media/0123456789abcdef0123456789abcdef.png")).status_code == 404


async def test_opening_up_a_locked_coalition_accepts_the_waiting_requests(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor
) -> None:
    await committed(
        a.ctx, save_profile, "tenants", parse_profile_form({**PROFILE, "manually_approves_followers": "on"})
    )
    await followed_by(net, a, peer, tenants.uri, peer.accounts["alice"])
    assert peer.received("Accept") == []
    assert await count_rows(a, Follow, Follow.state == "pending") == 1

    await committed(a.ctx, save_profile, "tenants", parse_profile_form(PROFILE))
    await net.settle()

    [accept] = peer.received("Accept")
    assert accept["object"]["actor"] == peer.accounts["alice"].id
    assert await count_rows(a, Follow, Follow.state == "accepted") == 1
