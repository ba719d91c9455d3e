"""The small fediverse the lookup and import tests look into: fedihub instances and fake peers.

- masto.test: Mastodon-like (tests/support/fake_peer.py) with the person alice, and NodeInfo saying
  mastodon 4.1.0 (mastodon/nodeinfo_2.0.json); nobody@masto.test is a 404 handle.
- mobilizon.test: a Mobilizon-like Group (mobilizon/group.json: no movements, an empty region), with
  WebFinger for collective@mobilizon.test and NodeInfo saying mobilizon.
- down.test: no server at all (the network has no handler: a connection error).
- blocked.test: a server this instance blocks; it records every request that still reaches it.
- b.test: another fedihub with the coalition tenants (movements and a region) and the hub bay.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from fedihub.coalitions import service
from fedihub.coalitions.profile import parse_profile_form, save_profile
from fedihub.federation.blocks import block_domain
from fedihub.hubs import service as hubs
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

MOBILIZON = "mobilizon.test"
GROUP_ID = f"http://{MOBILIZON}/@collective"
AS2 = {"Content-Type": "application/activity+json; charset=utf-8"}
NODEINFO_LINKS = "/.well-known/nodeinfo"


def nodeinfo_routes(host: str, document: dict[str, Any]) -> dict[str, httpx.Response]:
    links = {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": f"http://{host}/nodeinfo/2.0"}]}
    return {NODEINFO_LINKS: httpx.Response(200, json=links), "/nodeinfo/2.0": httpx.Response(200, json=document)}


def with_nodeinfo(peer: FakePeer, document: dict[str, Any]) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    """The FakePeer's handler, serving NodeInfo too (it has none of its own)."""

    async def handle(request: httpx.Request) -> httpx.Response:
        routes = nodeinfo_routes(peer.host, document)
        if request.url.path in routes:
            peer.requests.append(request)
            return routes[request.url.path]
        return await peer.handle(request)

    return handle


@dataclass
class MobilizonLike:
    """A Mobilizon server with one group, shaped like the captured mobilizon/group.json."""

    fixtures_dir: Path
    requests: list[httpx.Request] = field(default_factory=list)

    @property
    def group(self) -> dict[str, Any]:
        text = (self.fixtures_dir / "mobilizon/group.json").read_text()
        text = text.replace("https://mobilizon.fr/@contribateliers", GROUP_ID).replace("https://mobilizon.fr", f"http://{MOBILIZON}")
        doc = json.loads(text)
        doc.update(preferredUsername="collective", name="Collectif Logement")
        return doc

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/.well-known/webfinger":
            if request.url.params.get("resource") != f"acct:collective@{MOBILIZON}":
                return httpx.Response(404)
            jrd = {"subject": f"acct:collective@{MOBILIZON}",
                   "links": [{"rel": "self", "type": "application/activity+json", "href": GROUP_ID}]}
            return httpx.Response(200, json=jrd)
        routes = nodeinfo_routes(MOBILIZON, {"version": "2.0", "software": {"name": "mobilizon", "version": "5.1.0"}})
        if path in routes:
            return routes[path]
        if str(request.url) == GROUP_ID:
            return httpx.Response(200, content=json.dumps(self.group).encode(), headers=AS2)
        if path == "/notes/1":  # an ActivityPub document that is not an actor
            note = {"@context": "https://www.w3.org/ns/activitystreams", "id": str(request.url), "type": "Note",
                    "content": "hello", "attributedTo": GROUP_ID}
            return httpx.Response(200, content=json.dumps(note).encode(), headers=AS2)
        return httpx.Response(404)


@dataclass
class Recorder:
    """A server that answers nothing useful and remembers who asked (the blocked one)."""

    requests: list[httpx.Request] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(404)


@dataclass
class World:
    net: FederationNet
    a: Instance
    b: Instance
    masto: FakePeer
    mobilizon: MobilizonLike
    blocked: Recorder


TENANTS_PROFILE = {
    "name": "Chicago Tenants Union", "summary": "Renters of Chicago, organised.", "movements": ["Tenants"],
    "tags": "housing", "region_city": "Chicago", "region_state": "Illinois", "region_country": "US",
    "website": "https://tenants.example/",
}


async def build_world(net: FederationNet, fixtures_dir: Path) -> World:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await committed(b.ctx, service.create_coalition, "tenants", name="Chicago Tenants Union")
    await committed(b.ctx, save_profile, "tenants", parse_profile_form(TENANTS_PROFILE))
    await committed(b.ctx, hubs.create_hub, "bay", name="Bay Area Hub", scope="regional", region="Bay Area")
    masto = add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice",))
    nodeinfo = json.loads((fixtures_dir / "mastodon/nodeinfo_2.0.json").read_text())
    net.add_handler(masto.host, with_nodeinfo(masto, nodeinfo))
    mobilizon = MobilizonLike(fixtures_dir)
    net.add_handler(MOBILIZON, mobilizon.handle)
    blocked = Recorder()
    net.add_handler("blocked.test", blocked.handle)
    await committed(a.ctx, block_domain, "blocked.test", "spam")
    return World(net=net, a=a, b=b, masto=masto, mobilizon=mobilizon, blocked=blocked)
