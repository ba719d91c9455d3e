"""Reading which software a peer runs from its NodeInfo: the newest 2.x link, a usable name, never a crash."""

from __future__ import annotations

import httpx
import pytest

from fedihub.protocol.nodeinfo_reader import ServerSoftware, fetch_server_software, nodeinfo_href, read_software
from tests.support.fixtures import load_fixture

SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/"


def test_the_newest_schema_link_wins_whatever_its_scheme_or_order() -> None:
    links = {"links": [
        {"rel": SCHEMA + "2.0", "href": "https://m.example/nodeinfo/2.0"},
        {"rel": "https://nodeinfo.diaspora.software/ns/schema/2.1", "href": "https://m.example/nodeinfo/2.1"},
        {"rel": "https://www.w3.org/ns/activitystreams#Application", "href": "https://m.example/actor"},
        {"rel": SCHEMA + "1.0", "href": "https://m.example/nodeinfo/1.0"},
    ]}
    assert nodeinfo_href(links) == "https://m.example/nodeinfo/2.1"
    assert nodeinfo_href({"links": [{"rel": "self", "href": "x"}]}) is None
    assert nodeinfo_href({"links": "nope"}) is None


def test_mastodons_document_names_its_software() -> None:
    software = read_software(load_fixture("mastodon/nodeinfo_2.0.json"))
    assert software == ServerSoftware("mastodon", "4.1.0") and software.label == "Mastodon 4.1.0"


@pytest.mark.parametrize("software", [None, "mastodon", {"name": 3}, {"name": "<script>"}, {"name": ""}])
def test_a_document_without_a_usable_name_says_nothing(software: object) -> None:
    assert read_software({"software": software}) is None


def test_an_unknown_name_is_shown_as_it_is_and_odd_versions_are_tamed() -> None:
    software = read_software({"software": {"name": "Hubzilla", "version": "9.0\n\n beta"}})
    assert software == ServerSoftware("hubzilla", "9.0 beta")
    assert ServerSoftware("hubzilla").label == "hubzilla"


async def test_a_server_without_nodeinfo_or_with_garbage_gives_none() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "garbage.example":
            return httpx.Response(200, content=b"<html>")
        return httpx.Response(404)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        assert await fetch_server_software(client, "none.example") is None
        assert await fetch_server_software(client, "garbage.example") is None


async def test_the_links_document_leads_to_the_software() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/nodeinfo":
            return httpx.Response(200, json={"links": [{"rel": SCHEMA + "2.0", "href": "https://p.example/ni"}]})
        return httpx.Response(200, json={"software": {"name": "peertube", "version": "6.0.2"}})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        software = await fetch_server_software(client, "p.example")
    assert software is not None and software.label == "PeerTube 6.0.2"
