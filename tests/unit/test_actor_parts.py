"""What the domain packages add to actors goes through ActorParts: merged documents, readers in order."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fedihub.coalitions.actor_profile import PROFILE_CONTEXT, profile_properties
from fedihub.federation.actor_parts import ActorParts, Sighting
from fedihub.hubs.settings import hub_properties, set_hub_scope
from fedihub.protocol.profile_reader import HUB_NAMESPACE
from fedihub.storage.models import Actor, CoalitionProfile

HUB_CONTEXT = {"fedihub": HUB_NAMESPACE}


def hub_with_profile() -> Actor:
    actor = Actor(uri="https://a.example/g/illinois", type="Group", username="illinois", domain="a.example")
    actor.profile = CoalitionProfile(movements=["Tenants"], region_state="Illinois")
    set_hub_scope(actor, "state", "Illinois")
    return actor


def test_a_hub_with_a_profile_publishes_both_and_each_context_once_profile_first() -> None:
    parts = ActorParts(document=(profile_properties, hub_properties, profile_properties))

    extra = parts.document_extra(hub_with_profile())

    assert extra["@context"] == [PROFILE_CONTEXT, HUB_CONTEXT]
    assert extra["fedihub:hubScope"] == "state" and extra["fedihub:hubRegion"] == "Illinois"
    assert [tag["name"] for tag in extra["tag"]] == ["#Tenants"]
    assert extra["location"]["address"]["addressRegion"] == "Illinois"


def test_an_actor_with_nothing_to_say_gets_no_extra_terms_and_no_context() -> None:
    plain = Actor(uri="https://a.example/g/quiet", type="Group", username="quiet", domain="a.example")

    assert ActorParts(document=(profile_properties, hub_properties)).document_extra(plain) == {}


async def test_readers_run_in_the_order_the_composition_root_gives() -> None:
    seen: list[str] = []

    def reader(name: str):  # type: ignore[no-untyped-def]
        async def read(session: Any, actor: Actor, document: Mapping[str, Any], sighting: Sighting) -> None:
            seen.append(f"{name}:{sighting.via}:{document['id']}")
        return read

    parts = ActorParts(readers=(reader("directory"), reader("profile"), reader("hub")))
    actor = Actor(uri="https://b.example/u/x")

    sighting = Sighting("boost", datetime(2026, 1, 1, tzinfo=UTC))
    await parts.read_remote(None, actor, {"id": actor.uri}, sighting)  # type: ignore[arg-type]  # no session needed

    assert seen == [f"{name}:boost:{actor.uri}" for name in ("directory", "profile", "hub")]
