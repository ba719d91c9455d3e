"""The inbound handler table: one route per documented (activity, what it is about) pair, and a
classification that finds at most one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from fedihub.app import build_inbound_processor
from fedihub.errors import AmbiguousRoute
from fedihub.federation.routing import Inbound, Route, RouteTable
from fedihub.protocol.reader import read_activity
from fedihub.storage.models import Actor

DOC = Path(__file__).resolve().parents[2] / "docs" / "federation" / "inbox.md"
ROW = re.compile(r"^\| `(?P<activity>[A-Za-z]+)` \| (?P<about>[^|]+?) \| [^|]+ \|$")


def documented_routes() -> set[tuple[str, str]]:
    """The (activity, about) pairs of the handler table in docs/federation/inbox.md "Processing"."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Processing", 1)[1].split("\n## ", 1)[0]
    return {(m["activity"], m["about"].strip()) for line in section.splitlines() if (m := ROW.match(line))}


def test_every_documented_pair_has_exactly_one_route_and_every_route_is_documented() -> None:
    routes = list(build_inbound_processor().routes)
    keys = [route.key for route in routes]

    assert len(keys) == len(set(keys))
    assert set(keys) == documented_routes()


def test_the_documented_table_is_read_whole() -> None:
    # So the test above cannot pass on an empty parse.
    assert len(documented_routes()) >= 20
    assert ("Accept", "our pledge") in documented_routes()


def _inbound(activity_type: str) -> Inbound:
    actor = Actor(uri="https://peer.example/users/a", type="Person", domain="peer.example", is_local=False)
    doc = {"id": "https://peer.example/1", "type": activity_type, "actor": actor.uri, "object": "https://x.example/o"}
    return Inbound(activity=read_activity(doc), actor=actor)


def _route(about: str, found: Any) -> Route:
    async def match(ctx: Any, session: Any, inbound: Inbound) -> Any:
        return found

    async def apply(ctx: Any, session: Any, inbound: Inbound, value: Any) -> None:
        raise AssertionError("classification never applies a route")

    return Route("Accept", about, match, apply)


async def test_an_activity_two_routes_claim_is_an_error_not_a_guess() -> None:
    table = RouteTable([_route("our Follow", 1), _route("our pledge", 2), _route("our hub join request", None)])

    with pytest.raises(AmbiguousRoute, match="Accept/our Follow, Accept/our pledge"):
        await table.classify(None, None, _inbound("Accept"))  # type: ignore[arg-type]


async def test_the_one_route_that_recognises_the_activity_is_chosen_whatever_the_order() -> None:
    for routes in ([_route("a", None), _route("b", 7)], [_route("b", 7), _route("a", None)]):
        routed = await RouteTable(routes).classify(None, None, _inbound("Accept"))  # type: ignore[arg-type]
        assert routed is not None and routed.route.about == "b" and routed.found == 7


async def test_nothing_recognising_it_means_no_route() -> None:
    table = RouteTable([_route("a", None)])
    assert await table.classify(None, None, _inbound("Accept")) is None  # type: ignore[arg-type]
    assert not table.handles("Block")


def test_two_routes_with_one_key_are_refused_when_the_table_is_built() -> None:
    with pytest.raises(ValueError, match="two routes"):
        RouteTable([_route("a", None), _route("a", 1)])
