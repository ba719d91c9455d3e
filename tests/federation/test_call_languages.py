"""A call's language on the wire: sent as nameMap/contentMap beside the plain values, and read back
from fedihub, Mastodon-shaped (contentMap on a Note) and Mobilizon-shaped (inLanguage) peers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedihub.coalitions import calls, service
from fedihub.errors import InvalidInput
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from tests.federation.test_calls import AS2, as_sent_by, rally_form, stored
from tests.integration.helpers import follow_peer
from tests.support.edges import committed
from tests.support.fake_peer import add_fake_peer
from tests.support.network import FederationNet


async def test_a_spanish_call_says_so_to_mastodon_and_to_another_fedihub(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await committed(a.ctx, service.create_coalition, "vivienda", name="Sindicato de Inquilinas")
    await committed(b.ctx, service.create_coalition, "hub", name="Regional hub")
    await committed(b.ctx, follows.follow, "hub", await resolve_target(b.ctx, "vivienda@a.test"))
    await net.settle()

    form = rally_form(title="Asamblea por la vivienda", description="Trae a tus vecinas.", language="es")
    call = await committed(a.ctx, calls.publish_call, "vivienda", calls.parse_call_form(form))
    await net.settle()

    event = (await a.get(call.uri.removeprefix(a.base_url), headers=AS2)).json()
    # Mastodon reads the plain values first (spec §1.8): they stay, and the maps name their language.
    assert event["name"] == "Asamblea por la vivienda" and event["nameMap"] == {"es": "Asamblea por la vivienda"}
    assert event["contentMap"] == {"es": event["content"]} and "Trae a tus vecinas" in event["content"]
    assert event["summaryMap"] == {"es": event["summary"]}
    there = await stored(b, call.uri)
    assert there is not None and there.language == "es"
    page = await b.get(f"/calls/view?url={call.uri}", headers={"Accept": "text/html"})
    assert 'id="call-title" lang="es"' in page.text


async def test_a_call_without_a_language_sends_no_maps(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    await committed(a.ctx, service.create_coalition, "climate", name="Climate")
    call = await committed(a.ctx, calls.publish_call, "climate", calls.parse_call_form(rally_form()))

    event = (await a.get(call.uri.removeprefix(a.base_url), headers=AS2)).json()
    assert "nameMap" not in event and "contentMap" not in event and event["name"] == "Rally for transit funding"


async def test_the_language_of_mastodon_and_mobilizon_posts_is_read(net: FederationNet, fixtures_dir: Path) -> None:
    a = await net.add_instance("a.test")
    await committed(a.ctx, service.create_coalition, "hub", name="Regional hub")
    peer = add_fake_peer(net, "events.test", fixtures_dir, usernames=("calendar",))
    calendar = peer.accounts["calendar"]
    await follow_peer(net, a, peer, "hub", calendar)

    # Mastodon: contentMap on every Note (mastodon/create_note.json), here in French.
    note = peer.build_create(calendar, content="<p>Manif samedi</p>")
    note["object"]["contentMap"] = {"fr": "<p>Manif samedi</p>"}
    # Mobilizon: no maps, schema.org's inLanguage (mobilizon/event.json says "en").
    captured = json.loads((fixtures_dir / "mobilizon/event.json").read_text())
    event = as_sent_by(captured, calendar.id, calendar.followers, peer.new_id(calendar))
    # A hostile peer: a map key that is no language tag is not stored as one.
    odd = peer.build_create(calendar, content="<p>?</p>")
    odd["object"]["contentMap"] = {"<script>alert(1)</script>": "<p>?</p>"}
    for activity in (note, event, odd):
        assert (await peer.send(a, activity)).status_code == 202
    await net.settle()

    assert (await stored(a, note["object"]["id"])).language == "fr"  # type: ignore[union-attr]
    assert (await stored(a, event["object"]["id"])).language == "en"  # type: ignore[union-attr]
    assert (await stored(a, odd["object"]["id"])).language is None  # type: ignore[union-attr]


def test_a_call_in_an_unknown_language_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        calls.parse_call_form(rally_form(language="not a language!"))
    assert refused.value.field == "language" and "language" in refused.value.public_message
