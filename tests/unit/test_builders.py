"""The AS2 builders produce the shapes Mastodon and our own reader accept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from fedihub.errors import InvalidInput
from fedihub.protocol import jsonld
from fedihub.protocol.builders import (
    build_accept,
    build_actor,
    build_announce,
    build_create,
    build_delete,
    build_delete_actor,
    build_follow,
    build_note,
    build_ordered_collection,
    build_ordered_collection_page,
    build_reject,
    build_tombstone,
    build_undo,
    build_update,
    format_datetime,
)
from fedihub.protocol.reader import read_activity, read_actor, read_object, unwrap_announced
from fedihub.protocol.vocab import AS_CONTEXT, PUBLIC, SECURITY_CONTEXT

HOST = "https://fedihub.example"
GROUP = f"{HOST}/g/bay-climate"
FOLLOWERS = f"{GROUP}/followers"
WHEN = datetime(2025, 1, 10, 12, 30, 45, 123456, tzinfo=UTC)
PEM = "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n"
MASTODON_FOLLOW = {
    "@context": AS_CONTEXT,
    "id": "https://masto.example/1ea87517-63c5-4118-8831-460ee641b2cf",
    "type": "Follow",
    "actor": "https://masto.example/users/alice",
    "object": GROUP,
}


def first_context(doc: dict) -> str:
    context = doc["@context"]
    return context[0] if isinstance(context, list) else context


def group_actor(**overrides: object) -> dict:
    arguments: dict = dict(
        actor_id=GROUP, actor_type="Group", preferred_username="bay-climate",
        name="Bay Area Climate Coalition", summary_html="<p>Calls to action.</p>",
        url=f"{HOST}/@bay-climate", inbox=f"{GROUP}/inbox", outbox=f"{GROUP}/outbox",
        followers=FOLLOWERS, following=f"{GROUP}/following", featured=f"{GROUP}/featured",
        shared_inbox=f"{HOST}/inbox", public_key_id=f"{GROUP}#main-key", public_key_pem=PEM,
        published=WHEN, manually_approves_followers=False, icon_url=f"{HOST}/media/bay.png",
        icon_media_type="image/png", webfinger="bay-climate@fedihub.example",
    )
    arguments.update(overrides)
    return build_actor(**arguments)


def test_format_datetime() -> None:
    assert format_datetime(WHEN) == "2025-01-10T12:30:45Z"
    paris = datetime(2025, 1, 10, 13, 30, 45, tzinfo=timezone(timedelta(hours=1)))
    assert format_datetime(paris) == "2025-01-10T12:30:45Z"
    assert format_datetime(datetime(2025, 1, 10, 12, 30, 45, 999)) == "2025-01-10T12:30:45Z"


def test_actor_has_what_mastodon_reads() -> None:
    actor = group_actor()
    assert actor["@context"][:2] == [AS_CONTEXT, SECURITY_CONTEXT]
    assert actor["@context"][2]["webfinger"] == "wf:webfinger"
    assert actor["publicKey"] == {"id": f"{GROUP}#main-key", "owner": GROUP, "publicKeyPem": PEM}
    assert actor["endpoints"] == {"sharedInbox": f"{HOST}/inbox"}
    icon = {"type": "Image", "url": f"{HOST}/media/bay.png", "mediaType": "image/png"}
    assert actor["icon"] == icon
    assert actor["published"] == "2025-01-10T12:30:45Z"
    assert (actor["discoverable"], actor["indexable"]) == (True, True)
    json.dumps(actor)  # plain JSON all the way down


def test_actor_round_trips_through_the_reader() -> None:
    view = read_actor(group_actor())
    assert (view.id, view.type, view.preferred_username) == (GROUP, "Group", "bay-climate")
    assert (view.name, view.summary) == ("Bay Area Climate Coalition", "<p>Calls to action.</p>")
    assert (view.inbox, view.shared_inbox, view.outbox) == (
        f"{GROUP}/inbox", f"{HOST}/inbox", f"{GROUP}/outbox"
    )
    assert (view.followers, view.following, view.featured) == (
        FOLLOWERS, f"{GROUP}/following", f"{GROUP}/featured"
    )
    assert (view.url, view.icon_url) == (f"{HOST}/@bay-climate", f"{HOST}/media/bay.png")
    assert (view.public_key_id, view.public_key_owner, view.public_key_pem) == (
        f"{GROUP}#main-key", GROUP, PEM
    )
    assert (view.manually_approves_followers, view.discoverable, view.indexable) == (
        False, True, True
    )
    assert view.published == "2025-01-10T12:30:45Z"
    assert view.webfinger == "bay-climate@fedihub.example"


def test_actor_extra_is_merged_last_and_context_stays_as_first() -> None:
    extra = {
        "@context": {"lemmy": "https://join-lemmy.org/ns#",
                     "postingRestrictedToMods": "lemmy:postingRestrictedToMods"},
        "postingRestrictedToMods": True,
        "name": "Renamed",
    }
    actor = group_actor(extra=extra, icon_url=None, webfinger=None)
    assert actor["@context"][0] == AS_CONTEXT and actor["@context"][-1] == extra["@context"]
    assert actor["postingRestrictedToMods"] is True and actor["name"] == "Renamed"
    assert "icon" not in actor and "webfinger" not in actor
    with pytest.raises(InvalidInput):
        group_actor(actor_type="Note")


def test_actor_context_terms_expand_offline() -> None:
    expanded = jsonld.expand(group_actor())[0]
    assert "https://purl.archive.org/socialweb/webfinger#webfinger" in expanded
    assert "http://joinmastodon.org/ns#indexable" in expanded
    assert "https://w3id.org/security#publicKey" in expanded


def test_follow() -> None:
    follow = build_follow(
        activity_id=f"{GROUP}#follows/1", actor=GROUP, target="https://hub.example/g/ca"
    )
    view = read_activity(follow)
    assert first_context(follow) == AS_CONTEXT
    assert (view.type, view.actor, view.object_id) == ("Follow", GROUP, "https://hub.example/g/ca")


@pytest.mark.parametrize(("builder", "kind"), [(build_accept, "Accept"), (build_reject, "Reject")])
def test_answers_embed_the_original_follow(builder, kind: str) -> None:
    answer = builder(activity_id=f"{GROUP}#answers/1", actor=GROUP, activity=MASTODON_FOLLOW)
    assert first_context(answer) == AS_CONTEXT
    assert answer["type"] == kind and answer["to"] == ["https://masto.example/users/alice"]
    fields = ("id", "type", "actor", "object")
    assert answer["object"] == {key: MASTODON_FOLLOW[key] for key in fields}
    assert read_activity(answer).object_id == MASTODON_FOLLOW["id"]


def test_accept_of_follow_with_embedded_target_and_bad_input() -> None:
    follow = dict(MASTODON_FOLLOW, object={"id": GROUP, "type": "Group"})
    accept = build_accept(activity_id=f"{GROUP}#a/2", actor=GROUP, activity=follow)
    assert accept["object"]["object"] == GROUP
    with pytest.raises(InvalidInput):
        build_accept(activity_id="x", actor=GROUP, activity={"type": "Follow", "actor": "a"})


def test_note_has_no_summary_and_create_copies_addressing() -> None:
    tag = {"type": "Hashtag", "name": "#climatestrike", "href": f"{HOST}/tags/climatestrike"}
    note = build_note(
        object_id=f"{GROUP}/n/1", attributed_to=GROUP, content_html="<p>Strike!</p>",
        published=WHEN, to=[PUBLIC], cc=[FOLLOWERS], url=f"{HOST}/n/1", tags=[tag],
        updated=WHEN + timedelta(hours=1),
    )
    assert "summary" not in note  # pitfall P27: it would become a content warning
    assert first_context(note) == AS_CONTEXT and note["updated"] == "2025-01-10T13:30:45Z"
    create = build_create(activity_id=f"{GROUP}/n/1/activity", actor=GROUP, obj=note)
    assert create["@context"] == note["@context"]
    assert (create["to"], create["cc"]) == ([PUBLIC], [FOLLOWERS])
    assert create["published"] == note["published"]
    assert "@context" not in create["object"] and create["object"]["id"] == note["id"]
    view = read_activity(create)
    assert view.visibility(FOLLOWERS) == "public" and view.object_id == note["id"]
    parsed = read_object(view.object)
    assert (parsed.content, parsed.tags, parsed.summary) == ("<p>Strike!</p>", (tag,), None)
    with pytest.raises(InvalidInput):
        build_create(activity_id="x", actor=GROUP, obj={"type": "Note"})


def test_update_delete_and_undo() -> None:
    event = {"@context": [AS_CONTEXT, {"mz": "https://joinmobilizon.org/ns#"}],
             "id": f"{GROUP}/e/1", "type": "Event", "name": "Rally"}
    update = build_update(activity_id=f"{GROUP}/e/1#u1", actor=GROUP, obj=event, to=[PUBLIC],
                          cc=[FOLLOWERS], published=WHEN)
    assert update["@context"] == event["@context"] and "@context" not in update["object"]
    assert update["published"] == "2025-01-10T12:30:45Z" and update["to"] == [PUBLIC]
    delete = build_delete(activity_id=f"{GROUP}/e/1#delete", actor=GROUP, object_id=event["id"],
                          former_type="Event", to=[PUBLIC], cc=[FOLLOWERS])
    assert delete["object"] == {"id": event["id"], "type": "Tombstone", "formerType": "Event"}
    assert read_activity(delete).object_id == event["id"]
    gone = build_delete_actor(activity_id=f"{GROUP}#delete", actor=GROUP, to=[PUBLIC])
    assert gone["object"] == gone["actor"] == GROUP
    announce = build_announce(activity_id=f"{HOST}/g/hub/a/1", actor=f"{HOST}/g/hub",
                              object_id=event["id"], published=WHEN, to=[PUBLIC],
                              cc=[f"{HOST}/g/hub/followers", GROUP])
    assert announce["object"] == event["id"]  # by id, never embedded (§3.8 R1)
    assert unwrap_announced(announce) == (event["id"], None)
    undo = build_undo(activity_id=f"{HOST}/g/hub/a/1#undo", actor=f"{HOST}/g/hub",
                      activity=announce, to=[PUBLIC], cc=[f"{HOST}/g/hub/followers"])
    assert "@context" not in undo["object"] and undo["object"]["id"] == announce["id"]
    assert read_activity(undo).object_id == announce["id"] and undo["to"] == [PUBLIC]


def test_collections_and_tombstone() -> None:
    outbox = build_ordered_collection(collection_id=f"{GROUP}/outbox", total_items=3,
                                      first=f"{GROUP}/outbox?page=1", last=f"{GROUP}/outbox?page=2")
    assert first_context(outbox) == AS_CONTEXT
    assert (outbox["type"], outbox["totalItems"], outbox["first"]) == (
        "OrderedCollection", 3, f"{GROUP}/outbox?page=1"
    )
    empty = build_ordered_collection(collection_id=FOLLOWERS, total_items=0, extra={"x": 1})
    assert empty["totalItems"] == 0 and "first" not in empty and empty["x"] == 1
    note = build_note(object_id=f"{GROUP}/n/1", attributed_to=GROUP, content_html="<p>x</p>",
                      published=WHEN, to=[PUBLIC], cc=[])
    page = build_ordered_collection_page(
        page_id=f"{GROUP}/outbox?page=1", part_of=f"{GROUP}/outbox",
        items=["https://a.example/1", note], next_id=f"{GROUP}/outbox?page=2", total_items=3,
    )
    assert page["orderedItems"][0] == "https://a.example/1"
    assert "@context" not in page["orderedItems"][1]
    assert (page["type"], page["partOf"], page["next"], page["totalItems"]) == (
        "OrderedCollectionPage", f"{GROUP}/outbox", f"{GROUP}/outbox?page=2", 3
    )
    tombstone = build_tombstone(f"{GROUP}/n/1", "Note", WHEN)
    assert tombstone == {"@context": AS_CONTEXT, "id": f"{GROUP}/n/1", "type": "Tombstone",
                         "formerType": "Note", "deleted": "2025-01-10T12:30:45Z"}
