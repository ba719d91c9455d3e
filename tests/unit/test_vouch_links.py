"""Links for vouching: between two remote actors both servers must say so, each only for its own actor."""

from __future__ import annotations

from typing import Any

import httpx

from fedihub.federation.context import FederationContext
from fedihub.pledges.links import MAX_PAGES, Links, Node

AS2 = "application/activity+json"


def _node(n: int, uri: str, *, local: bool = False) -> Node:
    return Node(id=n, uri=uri, is_local=local, following=f"{uri}/following", followers=f"{uri}/followers")


HUB = _node(1, "https://hub.example/g/illinois")
COALITION = _node(2, "https://city.example/g/renters")
SYBIL = _node(3, "https://sybil.example/g/group0")


def _links(documents: dict[str, dict[str, Any]], local: set[tuple[int, int]] | None = None) -> tuple[Links, list[str]]:
    fetched: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        doc = documents.get(str(request.url))
        return httpx.Response(200, json=doc, headers={"content-type": AS2}) if doc else httpx.Response(404)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    ctx = FederationContext(base_url="https://origin.example", sessions=None, http_factory=lambda: client)  # type: ignore[arg-type]
    return Links(ctx, local or set()), fetched


def _collection(uri: str, items: list[str], **extra: Any) -> dict[str, Any]:
    return {"id": uri, "type": "OrderedCollection", "orderedItems": items, **extra}


async def test_both_servers_must_list_the_link() -> None:
    following = _collection(f"{HUB.uri}/following", [COALITION.uri])
    followers = _collection(f"{COALITION.uri}/followers", [HUB.uri])
    links, _ = _links({following["id"]: following, followers["id"]: followers})
    assert await links.follows(HUB, COALITION)

    only_hub, _ = _links({following["id"]: following})
    assert not await only_hub.follows(HUB, COALITION)
    # The Sybil's own followers list names the real hub; the hub's server does not list the Sybil.
    claim = _collection(f"{SYBIL.uri}/followers", [HUB.uri])
    forged, fetched = _links({following["id"]: following, claim["id"]: claim})
    assert not await forged.follows(HUB, SYBIL)
    assert claim["id"] not in fetched  # the hub's word is asked first: the Sybil is never read


async def test_a_collection_on_another_host_speaks_for_nobody() -> None:
    elsewhere = Node(id=4, uri=HUB.uri, is_local=False, following="https://sybil.example/following",
                     followers=None)
    listing = _collection("https://sybil.example/following", [COALITION.uri])
    links, fetched = _links({listing["id"]: listing})
    assert not await links.follows(elsewhere, COALITION) and fetched == []


async def test_a_local_side_is_answered_from_our_own_follows_rows() -> None:
    ours = _node(5, "https://origin.example/g/tenants", local=True)
    links, fetched = _links({}, local={(HUB.id, ours.id)})
    assert await links.follows(HUB, ours) and not await links.follows(ours, HUB) and fetched == []


async def test_an_endless_collection_is_read_for_a_bounded_number_of_pages() -> None:
    base = f"{HUB.uri}/following"
    documents = {base: {"id": base, "type": "OrderedCollection", "first": f"{base}?page=1"}}
    for n in range(1, MAX_PAGES + 10):
        documents[f"{base}?page={n}"] = _collection(f"{base}?page={n}", [], next=f"{base}?page={n + 1}")
    links, fetched = _links(documents)
    assert not await links.follows(HUB, COALITION)
    assert len(fetched) == MAX_PAGES + 1
