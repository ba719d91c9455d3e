"""WebFinger, host-meta and NodeInfo as other servers and crawlers query them."""

from __future__ import annotations

import pytest

from fedihub.storage.models import Actor
from tests.support.network import Instance

SELF = "self"
JRD = "application/jrd+json"


async def _webfinger(a: Instance, query: str):  # type: ignore[no-untyped-def]
    return await a.get(f"/.well-known/webfinger?{query}")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("resource=acct:tenants@a.test", id="acct"),
        pytest.param("resource=acct%3Atenants%40a.test", id="percent-encoded"),
        pytest.param("resource=acct%253Atenants%2540a.test", id="percent-encoded twice"),
        pytest.param("resource=tenants@a.test", id="no acct scheme"),
        pytest.param("resource=http%3A%2F%2Fa.test%2Fg%2Ftenants", id="actor URL"),
    ],
)
async def test_webfinger_finds_a_coalition(a: Instance, tenants: Actor, query: str) -> None:
    response = await _webfinger(a, query)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JRD)
    assert response.headers["access-control-allow-origin"] == "*"
    jrd = response.json()
    assert jrd["subject"] == "acct:tenants@a.test"
    # Mastodon keeps only the last rel=self link (interop-spec P10): there must be exactly one.
    selves = [link for link in jrd["links"] if link["rel"] == SELF]
    assert selves == [{"rel": SELF, "type": "application/activity+json", "href": tenants.uri}]


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("resource=acct:nobody@a.test", id="unknown name"),
        pytest.param("resource=acct:tenants@elsewhere.test", id="another host"),
        pytest.param("resource=http%3A%2F%2Fa.test%2Fg%2Fnobody", id="unknown URL"),
    ],
)
async def test_webfinger_of_an_unknown_account_is_404(a: Instance, tenants: Actor, query: str) -> None:
    assert (await _webfinger(a, query)).status_code == 404


async def test_webfinger_without_a_resource_is_400(a: Instance) -> None:
    assert (await _webfinger(a, "")).status_code == 400


async def test_webfinger_of_the_server_itself_points_to_the_instance_actor(a: Instance) -> None:
    response = await _webfinger(a, "resource=http://a.test/")

    assert response.status_code == 200
    links = response.json()["links"]
    # FEP-d556: the server's own URL resolves to its service actor.
    assert [link["href"] for link in links] == ["http://a.test/actor"]
    actor = await a.get("/actor", headers={"Accept": "application/activity+json"})
    assert actor.json()["id"] == "http://a.test/actor"
    assert actor.json()["type"] == "Application"


async def test_host_meta_points_to_webfinger(a: Instance) -> None:
    response = await a.get("/.well-known/host-meta")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xrd+xml")
    assert 'rel="lrdd"' in response.text
    assert 'template="http://a.test/.well-known/webfinger?resource={uri}"' in response.text


async def test_nodeinfo_discovery_lists_both_versions_and_the_application_actor(a: Instance) -> None:
    links = (await a.get("/.well-known/nodeinfo")).json()["links"]

    by_rel = {link["rel"]: link["href"] for link in links}
    assert by_rel == {
        "http://nodeinfo.diaspora.software/ns/schema/2.0": "http://a.test/nodeinfo/2.0",
        "http://nodeinfo.diaspora.software/ns/schema/2.1": "http://a.test/nodeinfo/2.1",
        # FEP-2677: where to find the instance's Application actor.
        "https://www.w3.org/ns/activitystreams#Application": "http://a.test/actor",
    }


@pytest.mark.parametrize("version", ["2.0", "2.1"])
async def test_nodeinfo_describes_fedihub_speaking_activitypub(a: Instance, tenants: Actor, version: str) -> None:
    response = await a.get(f"/nodeinfo/{version}")

    assert response.status_code == 200
    assert f"schema/{version}#" in response.headers["content-type"]
    doc = response.json()
    assert doc["version"] == version
    assert doc["software"]["name"] == "fedihub"
    assert doc["software"]["version"]
    assert doc["protocols"] == ["activitypub"]
    assert doc["usage"]["users"]["total"] == 1  # the coalition; the instance actor is not a user
    assert doc["openRegistrations"] is False
    assert set(doc) >= {"services", "metadata"}


async def test_an_unknown_nodeinfo_version_is_404(a: Instance) -> None:
    assert (await a.get("/nodeinfo/1.0")).status_code == 404
