"""WebFinger: parsing handles and resources, building JRDs, resolving handles like Mastodon (§1.1)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from fedihub.errors import InvalidInput, RemoteGone, RemoteInvalid, RemoteNotFound, RemoteUnavailable
from fedihub.protocol.webfinger import (
    SERVICE_ACTOR_REL,
    build_host_meta,
    build_instance_jrd,
    build_jrd,
    fetch_actor_url,
    lrdd_template,
    parse_handle,
    parse_resource,
)
from tests.support.fixtures import fixtures_dir

AS_LD_JSON = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((fixtures_dir() / name).read_text())


# --- handles --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bay-climate@fedihub.example", ("bay-climate", "fedihub.example")),
        ("@bay-climate@fedihub.example", ("bay-climate", "fedihub.example")),
        ("acct:bay-climate@fedihub.example", ("bay-climate", "fedihub.example")),
        ("ACCT:bay_climate@FediHub.Example", ("bay_climate", "fedihub.example")),
        ("  Tenants.Union@coalitions.example  ", ("Tenants.Union", "coalitions.example")),
        ("a@127.0.0.2:8000", ("a", "127.0.0.2:8000")),
        ("gruppe@bücher.example", ("gruppe", "xn--bcher-kva.example")),
    ],
)
def test_parse_handle_accepts_the_usual_spellings(text: str, expected: tuple[str, str]) -> None:
    assert parse_handle(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "bay-climate",
        "@bay-climate",
        "bay-climate@",
        "@fedihub.example",
        "bay climate@fedihub.example",
        "-bay@fedihub.example",  # separators only between letters and digits
        "bay-@fedihub.example",
        "bay@climate@fedihub.example",
        "bäy@fedihub.example",
        "bay@fedihub.example/path",
        "bay@fedihub.example:99999",
        "bay@-fedihub.example",
        "https://fedihub.example/@bay",
    ],
)
def test_parse_handle_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_handle(text)


# --- server side: the resource parameter ----------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("acct:bay-climate@fedihub.example", ("bay-climate", "fedihub.example")),
        ("bay-climate@fedihub.example", ("bay-climate", "fedihub.example")),
        ("acct%3Abay-climate%40fedihub.example", ("bay-climate", "fedihub.example")),
        ("acct:bay-climate%40fedihub.example", ("bay-climate", "fedihub.example")),
        ("https://fedihub.example/g/bay-climate", "https://fedihub.example/g/bay-climate"),
        ("https://fedihub.example/", "https://fedihub.example/"),
        ("https%3A%2F%2Ffedihub.example%2F", "https://fedihub.example/"),
        ("https://fedihub.example/g/caf%C3%A9", "https://fedihub.example/g/caf%C3%A9"),  # kept as is
    ],
)
def test_parse_resource(resource: str, expected: tuple[str, str] | str) -> None:
    assert parse_resource(resource) == expected


@pytest.mark.parametrize("resource", ["", "bay-climate", "mailto:bay@fedihub.example", "ftp://x.example/", "acct:@x"])
def test_parse_resource_refuses_garbage(resource: str) -> None:
    with pytest.raises(InvalidInput):
        parse_resource(resource)


# --- documents we serve ---------------------------------------------------------------------


def self_links(jrd: dict[str, Any]) -> list[dict[str, str]]:
    return [link for link in jrd["links"] if link["rel"] == "self"]


def test_build_jrd_has_exactly_one_activitypub_self_link() -> None:
    jrd = build_jrd(
        subject="acct:bay-climate@fedihub.example",
        actor_id="https://fedihub.example/g/bay-climate",
        profile_url="https://fedihub.example/@bay-climate",
        aliases=["https://fedihub.example/g/bay-climate", "https://fedihub.example/@bay-climate"],
        subscribe_template="https://fedihub.example/authorize_interaction?uri={uri}",
    )
    assert self_links(jrd) == [
        {"rel": "self", "type": "application/activity+json", "href": "https://fedihub.example/g/bay-climate"}
    ]
    assert jrd["subject"] == "acct:bay-climate@fedihub.example"
    rels = [link["rel"] for link in jrd["links"]]
    assert rels == [
        "http://webfinger.net/rel/profile-page",
        "self",
        "http://ostatus.org/schema/1.0/subscribe",
    ]


def test_build_jrd_has_the_same_shape_as_mastodons() -> None:
    mastodon = load_fixture("mastodon/webfinger.json")
    ours = build_jrd(
        subject=mastodon["subject"],
        actor_id="https://social.tcit.fr/users/tcit",
        profile_url="https://social.tcit.fr/@tcit",
        aliases=mastodon["aliases"],
        subscribe_template="https://social.tcit.fr/authorize_interaction?uri={uri}",
    )
    assert ours == mastodon


def test_build_jrd_minimal_matches_gancio() -> None:
    gancio = load_fixture("gancio/webfinger.json")
    ours = build_jrd(
        subject="acct:gancio@demo.gancio.org",
        actor_id="https://demo.gancio.org/federation/u/gancio",
        profile_url=None,
    )
    assert ours == gancio


def test_build_instance_jrd_points_at_the_server_actor() -> None:
    jrd = build_instance_jrd(base_url="https://fedihub.example", actor_id="https://fedihub.example/actor")
    assert jrd["subject"] == "https://fedihub.example/"
    assert jrd["links"] == [
        {"rel": SERVICE_ACTOR_REL, "type": "application/activity+json", "href": "https://fedihub.example/actor"}
    ]


def test_host_meta_template_leads_back_to_webfinger() -> None:
    xrd = build_host_meta("https://fedihub.example/")
    assert xrd.startswith("<?xml")
    assert lrdd_template(xrd) == "https://fedihub.example/.well-known/webfinger?resource={uri}"


# --- resolving a handle against a peer ------------------------------------------------------


def peer(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def serving_jrd(jrd: Any, *, content_type: str = "application/jrd+json; charset=utf-8", status: int = 200):  # type: ignore[no-untyped-def]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, content=json.dumps(jrd).encode(), headers={"Content-Type": content_type})

    return peer(handler), seen


@pytest.mark.parametrize(
    ("fixture", "handle", "actor_url"),
    [
        ("mastodon/webfinger.json", "tcit@social.tcit.fr", "https://social.tcit.fr/users/tcit"),
        ("gancio/webfinger.json", "@gancio@demo.gancio.org", "https://demo.gancio.org/federation/u/gancio"),
    ],
)
async def test_resolves_real_webfinger_answers(fixture: str, handle: str, actor_url: str) -> None:
    client, seen = serving_jrd(load_fixture(fixture))
    assert await fetch_actor_url(client, handle) == actor_url
    request = seen[0]
    assert request.url.path == "/.well-known/webfinger"
    assert parse_qs(request.url.query.decode())["resource"] == [f"acct:{handle.lstrip('@')}"]
    assert request.headers["accept"] == "application/jrd+json, application/json"
    assert "signature" not in request.headers  # WebFinger is never signed


async def test_our_own_jrd_resolves_back_to_the_actor() -> None:
    jrd = build_jrd(
        subject="acct:bay-climate@fedihub.example",
        actor_id="https://fedihub.example/g/bay-climate",
        profile_url="https://fedihub.example/@bay-climate",
    )
    client, _ = serving_jrd(jrd)
    assert await fetch_actor_url(client, "bay-climate@fedihub.example") == "https://fedihub.example/g/bay-climate"


async def test_sends_the_acct_uri_unencoded_like_mastodon() -> None:
    client, seen = serving_jrd(load_fixture("gancio/webfinger.json"))
    await fetch_actor_url(client, "gancio@demo.gancio.org")
    assert seen[0].url.query == b"resource=acct:gancio@demo.gancio.org"


async def test_uses_http_when_asked_for_test_and_onion_hosts() -> None:
    client, seen = serving_jrd(load_fixture("gancio/webfinger.json"))
    await fetch_actor_url(client, "gancio@127.0.0.2:8000", scheme="http")
    assert str(seen[0].url).startswith("http://127.0.0.2:8000/.well-known/webfinger?")


async def test_parses_json_whatever_the_content_type() -> None:
    client, _ = serving_jrd(load_fixture("mastodon/webfinger.json"), content_type="text/plain")
    assert await fetch_actor_url(client, "tcit@social.tcit.fr") == "https://social.tcit.fr/users/tcit"


async def test_accepts_an_ld_json_self_link_with_the_activitystreams_profile() -> None:
    jrd = {"subject": "acct:a@p.example", "links": [{"rel": "self", "type": AS_LD_JSON, "href": "https://p.example/a"}]}
    client, _ = serving_jrd(jrd)
    assert await fetch_actor_url(client, "a@p.example") == "https://p.example/a"


async def test_the_last_activitypub_self_link_wins() -> None:
    jrd = {
        "subject": "acct:a@p.example",
        "links": [
            {"rel": "self", "type": "application/activity+json", "href": "https://p.example/old"},
            {"rel": "self", "type": "text/html", "href": "https://p.example/@a"},
            {"rel": "self", "type": "application/activity+json", "href": "https://p.example/new"},
        ],
    }
    client, _ = serving_jrd(jrd)
    assert await fetch_actor_url(client, "a@p.example") == "https://p.example/new"


@pytest.mark.parametrize(
    "jrd",
    [
        {"links": [{"rel": "self", "type": "application/activity+json", "href": "https://p.example/a"}]},
        {"subject": " ", "links": [{"rel": "self", "type": "application/activity+json", "href": "https://p.example/a"}]},
        {"subject": "acct:a@p.example", "links": []},
        {"subject": "acct:a@p.example", "links": [{"rel": "self", "type": "application/json", "href": "https://p.example/a"}]},
        {"subject": "acct:a@p.example", "links": [{"rel": "self", "type": "application/ld+json", "href": "https://p.example/a"}]},
        {
            "subject": "acct:a@p.example",
            "links": [{"rel": "self", "type": "application/activity+json", "href": "acct:a@p.example"}],
        },
        {"subject": "acct:a@p.example", "links": "nope"},
        ["not", "an", "object"],
    ],
)
async def test_refuses_answers_without_a_usable_self_link(jrd: Any) -> None:
    client, _ = serving_jrd(jrd)
    with pytest.raises(RemoteInvalid):
        await fetch_actor_url(client, "a@p.example")


async def test_refuses_an_empty_body() -> None:
    client = peer(lambda request: httpx.Response(200, content=b""))
    with pytest.raises(RemoteInvalid, match="empty"):
        await fetch_actor_url(client, "a@p.example")


@pytest.mark.parametrize(("status", "error"), [(410, RemoteGone), (500, RemoteUnavailable), (400, RemoteInvalid)])
async def test_maps_status_codes(status: int, error: type[Exception]) -> None:
    client, _ = serving_jrd({}, status=status)
    with pytest.raises(error):
        await fetch_actor_url(client, "a@p.example")


async def test_unknown_account_is_not_found_after_trying_host_meta() -> None:
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(404)

    with pytest.raises(RemoteNotFound):
        await fetch_actor_url(peer(handler), "nobody@p.example")
    assert paths == ["/.well-known/webfinger", "/.well-known/host-meta"]


async def test_falls_back_to_the_host_meta_template_on_404() -> None:
    jrd = {"subject": "acct:a@p.example", "links": [{"rel": "self", "type": "application/activity+json", "href": "https://p.example/a"}]}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/host-meta":
            return httpx.Response(200, text=build_host_meta("https://p.example/wf-elsewhere"))
        if request.url.path == "/wf-elsewhere/.well-known/webfinger":
            assert request.url.params["resource"] == "acct:a@p.example"
            return httpx.Response(200, json=jrd)
        return httpx.Response(404)

    assert await fetch_actor_url(peer(handler), "a@p.example") == "https://p.example/a"


async def test_invalid_handles_are_refused_before_any_request() -> None:
    client, seen = serving_jrd({})
    with pytest.raises(InvalidInput):
        await fetch_actor_url(client, "not a handle")
    assert seen == []
