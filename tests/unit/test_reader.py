"""The plain-JSON reader reads every captured real-world payload in tests/fixtures."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fedihub.errors import MalformedActivity
from fedihub.protocol.media_types import is_activitypub_media_type
from fedihub.protocol.reader import (
    as_list,
    has_public,
    id_of,
    is_public_address,
    read_activity,
    read_actor,
    read_object,
    unwrap_announced,
    visibility,
)
from fedihub.protocol.vocab import PUBLIC
from tests.support.fixtures import fixtures_dir, load_fixture

load = load_fixture


FELIX = "https://mastodon.madrid/users/felix"
ASONIX = "https://masto.asonix.dog/users/asonix"
TCIT = "https://mobilizon.org/@tcit"

# file → (type, actor, object id, visibility, followers collection of the sender or None)
ACTIVITIES: dict[str, tuple[str, str, str, str, str | None]] = {
    "mastodon/create_note.json": (
        "Create", FELIX, FELIX + "/statuses/107224289116410645", "unlisted", FELIX + "/followers"
    ),
    "mastodon/delete_tombstone.json": (
        "Delete", FELIX, FELIX + "/statuses/107773559874184870", "public", FELIX + "/followers"
    ),
    "mastodon/follow.json": ("Follow", ASONIX, "https://ds9.lemmy.ml/c/testcom", "direct", None),
    "mastodon/like.json": ("Like", FELIX, "https://ds9.lemmy.ml/post/147", "direct", None),
    "mastodon/undo_follow.json": (
        "Undo", ASONIX, "https://masto.asonix.dog/1ea87517-63c5-4118-8831-460ee641b2cf",
        "direct", ASONIX + "/followers",
    ),
    "gancio/create_event.json": (
        "Create", "https://demo.gancio.org/federation/u/gancio",
        "https://demo.gancio.org/federation/m/1", "public", None,
    ),
    "lemmy/accept_follow.json": (
        "Accept", "http://enterprise.lemmy.ml/c/main",
        "http://ds9.lemmy.ml/activities/follow/6abcd50b-b8ca-4952-86b0-a6dd8cc12866", "direct",
        "http://enterprise.lemmy.ml/c/main/followers",
    ),
    "lemmy/announce_create_page.json": (
        "Announce", "http://enterprise.lemmy.ml/c/main",
        "http://enterprise.lemmy.ml/activities/create/2807c9ec-3ad8-4859-a9e0-28b59b6e499f",
        "public", "http://enterprise.lemmy.ml/c/main/followers",
    ),
    "mobilizon/join_event.json": (
        "Join", TCIT, "https://pleroma.mkljczk.pl/objects/b800bdb9-2cbb-40b6-9b29-196cfbd42398",
        "direct", None,
    ),
    "mobilizon/accept_join.json": (
        "Accept", TCIT,
        "https://pleroma.mkljczk.pl/activities/7d1f3986-8b2c-48c2-b89e-d27ba8459777", "direct",
        None,
    ),
    "mobilizon/leave_event.json": (
        "Leave", TCIT, "https://pleroma.mkljczk.pl/objects/b800bdb9-2cbb-40b6-9b29-196cfbd42398",
        "direct", None,
    ),
    "peertube/announce_video.json": (
        "Announce", "https://tilvids.com/video-channels/thelinuxexperiment_channel",
        "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1", "public", None,
    ),
    "pleroma/create_note.json": (
        "Create", "https://greenish.red/users/nutomic",
        "https://greenish.red/objects/1a522f2e-d5ab-454b-93d7-e58bc0650c2a", "public",
        "https://greenish.red/users/nutomic/followers",
    ),
    "mitra/create_note_integrity_proof.json": (
        "Create", "https://mitra.social/users/test",
        "https://mitra.social/objects/019f57cf-693a-77f2-b006-c4c76338956a", "public",
        "https://mitra.social/users/test/followers",
    ),
}

# file → (type, attributedTo, start time, location name, status, visibility)
EVENTS: dict[str, tuple[str, str, str, str, str | None, str]] = {
    "mobilizon/event.json": (
        "Event", "https://rendezvous.nomagic.uk/@devon_caledonian_society",
        "2022-12-11T19:00:00+00:00", "The Kenn Centre", "CONFIRMED", "public",
    ),
    "mobilizon/event_2019_geo.json": (
        "Event", TCIT, "2019-12-18T13:00:00Z", "Cour du Château des Ducs de Bretagne",
        "CONFIRMED", "public",
    ),
    "gancio/event.json": (
        "Event", "https://demo.gancio.org/federation/u/customized",
        "2021-07-14T17:30:57.000+02:00", "Colosseo", None, "public",
    ),
    "wordpress/event.json": (
        "Event", "https://wp-test.event-federation.eu/@test", "2025-02-27T08:00:00+01:00",
        "Morelli", "CONFIRMED", "public",
    ),
}

# file → (type, shared inbox, public key PEM header)
PEM, PKCS1_PEM = "-----BEGIN PUBLIC KEY-----", "-----BEGIN RSA PUBLIC KEY-----"
ACTORS: dict[str, tuple[str, str, str]] = {
    "mastodon/actor_person.json": (
        "Person", "https://masto.qa.urbanwildlife.biz/inbox", "-----BEGIN PUBLIC KEY-----"
    ),
    "misskey/actor_person.json": ("Person", "https://misskey.io/inbox", PEM),
    # Mobilizon's PEM is PKCS#1 (pitfall P29).
    "mobilizon/group.json": ("Group", "https://mobilizon.fr/inbox", PKCS1_PEM),
    "peertube/group_channel.json": (
        "Group", "https://tilvids.com/inbox", "-----BEGIN PUBLIC KEY-----"
    ),
    "lemmy/group.json": ("Group", "https://enterprise.lemmy.ml/inbox", PEM),
    "gancio/actor_application.json": (
        "Application", "https://demo.gancio.org/federation/u/customized/inbox",
        "-----BEGIN PUBLIC KEY-----",
    ),
    "friendica/actor_organization.json": (
        "Organization", "https://poliverso.org/inbox", "-----BEGIN PUBLIC KEY-----"
    ),
}

COLLECTIONS = {"mastodon/featured_collection.json", "lemmy/group_outbox.json"}
NOT_ACTIVITYSTREAMS = {
    "mastodon/webfinger.json", "gancio/webfinger.json", "mastodon/nodeinfo_2.0.json"
}


def test_every_fixture_file_is_covered() -> None:
    fixtures = fixtures_dir()
    on_disk = {str(path.relative_to(fixtures)) for path in fixtures.rglob("*.json")}
    covered = set(ACTIVITIES) | set(EVENTS) | set(ACTORS) | COLLECTIONS | NOT_ACTIVITYSTREAMS
    assert on_disk == covered, f"add expectations for {sorted(on_disk - covered)}"


@pytest.mark.parametrize("name", sorted(ACTIVITIES))
def test_activity_fixtures(name: str) -> None:
    kind, actor, object_id, expected_visibility, followers = ACTIVITIES[name]
    doc = load(name)
    view = read_activity(doc)
    assert (view.type, view.actor, view.object_id) == (kind, actor, object_id)
    assert view.id == doc["id"]
    assert view.visibility(followers) == expected_visibility
    assert view.is_public == (expected_visibility in ("public", "unlisted"))
    assert view.raw is doc


def test_mastodon_create_note_is_unlisted_reply_with_mention() -> None:
    view = read_activity(load("mastodon/create_note.json"))
    assert view.to == (FELIX + "/followers",)
    assert view.cc == (PUBLIC, "https://mamot.fr/users/retiolus")
    assert view.object is not None
    note = read_object(view.object)
    assert note.type == "Note" and note.attributed_to == FELIX
    assert note.summary is None  # JSON null, not a content warning
    assert note.in_reply_to == "https://mamot.fr/users/retiolus/statuses/107224244380204526"
    assert note.visibility(FELIX + "/followers") == "unlisted"
    assert note.tags[0]["type"] == "Mention"
    assert note.content.startswith("<p><span class=\"h-card\">")
    assert note.url == "https://mastodon.madrid/@felix/107224289116410645"


def test_followers_only_and_compacted_public_spellings() -> None:
    doc = copy.deepcopy(load("mastodon/create_note.json"))
    doc["cc"] = ["https://mamot.fr/users/retiolus"]
    assert read_activity(doc).visibility(FELIX + "/followers") == "followers"
    # Without knowing the followers URI, followers-only reads as direct (as in Mastodon).
    assert read_activity(doc).visibility(None) == "direct"
    doc["cc"] = "as:Public"  # scalar and compacted: GoToSocial / pyld output (pitfall P14)
    assert read_activity(doc).visibility(None) == "unlisted"
    doc["to"] = "Public"
    assert read_activity(doc).visibility(None) == "public"


def test_gancio_create_without_context_parses_the_event() -> None:
    doc = load("gancio/create_event.json")
    assert "@context" not in doc
    view = read_activity(doc)
    event = read_object(view.object)
    assert event.type == "Event" and event.location_name == "Colosseo"
    assert event.start_time == "2021-07-14T17:30:57+02:00"
    assert event.attributed_to == "https://demo.gancio.org/federation/u/gancio"


def test_undo_and_accept_embed_the_original_follow() -> None:
    undo = read_activity(load("mastodon/undo_follow.json"))
    follow = read_activity(undo.object)
    assert (follow.type, follow.actor, follow.object_id) == (
        "Follow", ASONIX, "https://ds9.lemmy.ml/c/testcom"
    )
    accept = read_activity(load("lemmy/accept_follow.json"))
    assert read_activity(accept.object).type == "Follow"
    join = read_activity(read_activity(load("mobilizon/accept_join.json")).object)
    assert join.type == "Join" and join.actor == "https://pleroma.mkljczk.pl/users/mkljczk"


def test_lemmy_announce_create_unwraps_to_the_page() -> None:
    object_id, embedded = unwrap_announced(load("lemmy/announce_create_page.json"))
    assert object_id == "http://enterprise.lemmy.ml/post/7"
    page = read_object(embedded)
    assert page.type == "Page" and page.name == "post 4"
    assert page.attributed_to == "http://enterprise.lemmy.ml/u/lemmy_beta"
    assert page.audience == ("http://enterprise.lemmy.ml/u/main",)
    assert page.is_public and page.content == ""


def test_peertube_announce_is_by_id() -> None:
    object_id, embedded = unwrap_announced(load("peertube/announce_video.json"))
    assert object_id == "https://tilvids.com/videos/watch/e7946124-7b72-4ad7-9d22-844a84bb2de1"
    assert embedded is None


def test_announce_of_announce_unwraps_to_the_object() -> None:
    inner = load("peertube/announce_video.json")
    outer = {"id": "https://hub.example/a/1", "type": "Announce", "actor": "https://hub.example/g",
             "object": inner}
    assert unwrap_announced(outer)[0] == inner["object"]
    note = {"id": "https://x.example/n/1", "type": "Note"}
    assert unwrap_announced({"type": "Announce", "object": [note]}) == (note["id"], note)
    assert unwrap_announced({"type": "Announce"}) == (None, None)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_event_fixtures(name: str) -> None:
    kind, author, start, place, status, expected_visibility = EVENTS[name]
    event = read_object(load(name))
    assert (event.type, event.attributed_to, event.start_time) == (kind, author, start)
    assert (event.location_name, event.status) == (place, status)
    assert event.visibility(None) == expected_visibility
    assert event.name and event.url and event.end_time


def test_event_details() -> None:
    mobilizon = read_object(load("mobilizon/event.json"))
    assert mobilizon.timezone == "Europe/London"
    assert mobilizon.attachments[0]["name"] == "Banner"
    assert [tag["name"] for tag in mobilizon.tags] == ["#Dance", "#Caledonian", "#Lesson"]
    wordpress = read_object(load("wordpress/event.json"))
    assert wordpress.timezone == "Europe/Vienna"
    assert wordpress.summary.startswith("<p>\U0001f5d3")  # the date text Mastodon shows
    assert read_object(load("gancio/event.json")).summary == "Colosseo, Wednesday, 14 July (17:30)"


@pytest.mark.parametrize("name", sorted(ACTORS))
def test_actor_fixtures(name: str) -> None:
    kind, shared_inbox, pem_header = ACTORS[name]
    doc = load(name)
    actor = read_actor(doc)
    assert (actor.id, actor.type, actor.inbox) == (doc["id"], kind, doc["inbox"])
    assert actor.shared_inbox == shared_inbox
    assert actor.preferred_username == doc["preferredUsername"]
    assert actor.public_key_id == doc["publicKey"]["id"]
    assert actor.public_key_owner == actor.id
    assert actor.public_key_pem.startswith(pem_header)
    assert actor.icon_url and actor.icon_url.startswith("https://")
    assert actor.manually_approves_followers is False


def test_actor_details() -> None:
    mastodon = read_actor(load("mastodon/actor_person.json"))
    assert mastodon.featured == mastodon.id + "/collections/featured"
    assert mastodon.url == "https://masto.qa.urbanwildlife.biz/@mastodon"
    assert (mastodon.discoverable, mastodon.indexable) == (False, False)
    assert mastodon.published == "2022-10-03T00:00:00Z" and mastodon.webfinger is None
    peertube = read_actor(load("peertube/group_channel.json"))
    assert peertube.icon_url.endswith("13b0214b-edc0-4c5b-a04d-be648a3a370a.jpg")  # 120x120
    gancio = read_actor(load("gancio/actor_application.json"))
    assert (gancio.discoverable, gancio.indexable) == (True, True)
    assert gancio.followers is None
    lemmy = read_actor(load("lemmy/group.json"))
    assert lemmy.featured == "https://enterprise.lemmy.ml/c/tenforward//featured"
    assert lemmy.name == "Ten Forward"


def test_misskey_top_level_shared_inbox() -> None:
    doc = copy.deepcopy(load("misskey/actor_person.json"))
    del doc["endpoints"]
    assert read_actor(doc).shared_inbox == "https://misskey.io/inbox"


def test_public_key_shapes() -> None:
    doc = copy.deepcopy(load("mastodon/actor_person.json"))
    key = doc["publicKey"]
    doc["publicKey"] = [{"id": "https://other.example/k", "owner": "https://other.example/a"}, key]
    assert read_actor(doc).public_key_id == key["id"]
    doc["publicKey"] = key["id"]  # a bare id, key fetched separately (pitfall P30)
    actor = read_actor(doc)
    assert (actor.public_key_id, actor.public_key_pem) == (key["id"], None)
    del doc["publicKey"]
    assert read_actor(doc).public_key_id is None


def test_collections() -> None:
    featured = load("mastodon/featured_collection.json")
    notes = [read_object(item) for item in as_list(featured["orderedItems"])]
    assert [note.type for note in notes] == ["Note"]
    assert notes[0].attributed_to == "https://mastodon.social/users/LemmyDev"
    assert len(notes[0].tags) == 3 and notes[0].is_public
    outbox = load("lemmy/group_outbox.json")
    announces = [read_activity(item) for item in outbox["orderedItems"]]
    assert {a.type for a in announces} == {"Announce"}
    assert [unwrap_announced(a.raw)[0] for a in announces] == [
        "https://ds9.lemmy.ml/post/2328", "https://ds9.lemmy.ml/post/2327"
    ]


@pytest.mark.parametrize("name", sorted(NOT_ACTIVITYSTREAMS))
def test_non_activitystreams_documents_are_refused_clearly(name: str) -> None:
    doc = load(name)
    with pytest.raises(MalformedActivity, match="no string 'id'"):
        read_activity(doc)
    with pytest.raises(MalformedActivity):
        read_actor(doc)
    if "webfinger" in name:  # exactly one self link, of an AS media type (spec §1.1)
        selves = [link for link in doc["links"] if link["rel"] == "self"]
        assert len(selves) == 1 and is_activitypub_media_type(selves[0]["type"])


# --- synthetic shapes -------------------------------------------------------------------------


def test_helpers() -> None:
    assert as_list(None) == [] and as_list("a") == ["a"] and as_list(("a", "b")) == ["a", "b"]
    assert id_of("x") == "x" and id_of("") is None and id_of(None) is None
    assert id_of({"id": "i", "href": "h"}) == "i" and id_of({"href": "h"}) == "h"
    assert id_of([{"name": "n"}, "y"]) == "y" and id_of({"name": "n"}) is None
    assert all(is_public_address(a) for a in (PUBLIC, "as:Public", "Public"))
    assert not is_public_address("https://example.com/Public") and not is_public_address(None)
    assert has_public([{"id": PUBLIC}]) and not has_public(None)
    followers = "https://a.example/u/f"
    assert visibility([PUBLIC], [], followers) == "public"
    assert visibility([followers], ["as:Public"], followers) == "unlisted"
    assert visibility([], followers, followers) == "followers"
    assert visibility(["https://b.example/u/x"], [], followers) == "direct"


def test_type_lists_actor_objects_and_attribution_lists() -> None:
    doc = {"id": "https://a.example/1", "type": ["sc:Thing", "Create"],
           "actor": {"type": "Person", "id": "https://a.example/u"},
           "object": "https://a.example/n"}
    view = read_activity(doc)
    assert (view.type, view.actor, view.object, view.target_id) == (
        "Create", "https://a.example/u", None, None
    )
    video = {"id": "https://p.example/v/1", "type": "Video", "attributedTo": [
        "https://p.example/c/mods", {"type": "Person", "id": "https://p.example/a/alice"},
        {"type": "Group", "id": "https://p.example/c/chan"}],
        "url": [{"type": "Link", "mediaType": "video/mp4", "href": "https://p.example/v.mp4"},
                {"type": "Link", "mediaType": "text/html", "href": "https://p.example/w/1"}],
        "contentMap": {"en": "<p>hi</p>"}, "nameMap": {"en": "Title"},
        "location": [{"type": "VirtualLocation"}, "Online"]}
    view = read_object(video)
    assert view.attributed_to == "https://p.example/a/alice"
    assert view.url == "https://p.example/w/1"
    assert (view.content, view.name, view.location_name) == ("<p>hi</p>", "Title", "Online")
    strings = {"id": "x", "type": "Note", "attributedTo": ["s1", "s2"]}
    assert read_object(strings).attributed_to == "s1"


@pytest.mark.parametrize(
    ("reader", "doc", "message"),
    [
        (read_activity, [], "must be a JSON object"),
        (read_activity, {"type": "Follow", "actor": "a"}, "no string 'id'"),
        (read_activity, {"id": "i", "actor": "a"}, "no 'type'"),
        (read_activity, {"id": "i", "type": "Follow"}, "no 'actor'"),
        (read_actor, {"id": "i", "type": "Note", "inbox": "x"}, "not an actor type"),
        (read_actor, {"id": "i", "type": "Group"}, "no 'inbox'"),
        (read_object, {"id": "i"}, "no 'type'"),
        (read_object, "https://a.example/n", "must be a JSON object"),
    ],
)
def test_wrong_shapes_raise_malformed_activity(reader: Any, doc: Any, message: str) -> None:
    with pytest.raises(MalformedActivity, match=message):
        reader(doc)
