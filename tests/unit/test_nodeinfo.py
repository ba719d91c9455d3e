"""NodeInfo: the discovery links and the documents servers and directories read (FEP-f1d5, 2677)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from fedihub.protocol.nodeinfo import (
    APPLICATION_ACTOR_REL,
    NODEINFO_2_0_SCHEMA,
    NODEINFO_2_1_SCHEMA,
    build_nodeinfo,
    build_nodeinfo_links,
    nodeinfo_content_type,
    nodeinfo_path,
)
from tests.support.fixtures import fixtures_dir


def nodeinfo(version: str = "2.0", **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "version": version,
        "software_version": "0.1.0",
        "users_total": 12,
        "users_active_month": 7,
        "users_active_halfyear": 9,
        "local_posts": 340,
        "open_registrations": False,
        "node_name": "Bay Area coalitions",
    }
    return build_nodeinfo(**(arguments | overrides))


def test_links_offer_both_versions_and_the_instance_actor() -> None:
    links = build_nodeinfo_links("https://fedihub.example/", "https://fedihub.example/actor")
    assert links == {
        "links": [
            {"rel": NODEINFO_2_0_SCHEMA, "href": "https://fedihub.example/nodeinfo/2.0"},
            {"rel": NODEINFO_2_1_SCHEMA, "href": "https://fedihub.example/nodeinfo/2.1"},
            {"rel": APPLICATION_ACTOR_REL, "href": "https://fedihub.example/actor"},
        ]
    }


def test_schema_urls_and_paths() -> None:
    assert NODEINFO_2_0_SCHEMA == "http://nodeinfo.diaspora.software/ns/schema/2.0"
    assert NODEINFO_2_1_SCHEMA == "http://nodeinfo.diaspora.software/ns/schema/2.1"
    assert APPLICATION_ACTOR_REL == "https://www.w3.org/ns/activitystreams#Application"
    assert nodeinfo_path("2.1") == "/nodeinfo/2.1"
    assert nodeinfo_content_type("2.0") == (
        'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.0#"'
    )


def test_document_has_the_same_shape_as_mastodons() -> None:
    mastodon = json.loads((fixtures_dir() / "mastodon/nodeinfo_2.0.json").read_text())
    ours = nodeinfo("2.0")
    assert ours.keys() == mastodon.keys()
    assert ours["software"].keys() == mastodon["software"].keys()
    assert ours["usage"]["users"].keys() == mastodon["usage"]["users"].keys()
    assert ours["protocols"] == mastodon["protocols"] == ["activitypub"]
    assert ours["services"] == {"inbound": [], "outbound": []}


def test_document_reports_our_numbers_and_name() -> None:
    document = nodeinfo("2.0", metadata={"region": "Bay Area"})
    assert document["software"] == {"name": "fedihub", "version": "0.1.0"}
    assert re.fullmatch(r"[a-z0-9-]+", document["software"]["name"])  # the schema's rule
    assert document["usage"] == {
        "users": {"total": 12, "activeMonth": 7, "activeHalfyear": 9},
        "localPosts": 340,
    }
    assert document["openRegistrations"] is False
    assert document["metadata"] == {"region": "Bay Area", "nodeName": "Bay Area coalitions"}


def test_version_2_1_may_name_the_repository_and_homepage() -> None:
    links = {"repository": "https://code.example/fedihub", "homepage": "https://fedihub.example/about"}
    assert nodeinfo("2.1", **links)["software"] == {"name": "fedihub", "version": "0.1.0", **links}
    # The 2.0 schema allows no extra keys in "software".
    assert nodeinfo("2.0", **links)["software"] == {"name": "fedihub", "version": "0.1.0"}
    assert nodeinfo("2.1")["version"] == "2.1"


@pytest.mark.parametrize(
    "overrides",
    [{"version": "1.0"}, {"software_version": ""}, {"users_total": -1}, {"local_posts": -5}],
)
def test_refuses_documents_the_schema_would_reject(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        nodeinfo(**overrides)
