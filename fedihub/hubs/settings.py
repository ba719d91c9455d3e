"""A hub's row: its scope and region (public), its boost rules (local hubs), published and read.

A hub is a Group with a scope. The hubs package owns the table; federation/ reaches it only
through the document part and the remote reader registered in the composition root.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, overload

from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.actor_parts import Sighting
from fedihub.protocol.profile_reader import HUB_NAMESPACE, read_actor_profile
from fedihub.storage.models import Actor, HubSettings


def hub_scope_of(actor: Actor) -> str | None:
    """"local", "state", "national"…, or None for an actor that is not a hub."""
    return actor.hub_settings.scope if actor.hub_settings is not None else None


def hub_region_of(actor: Actor) -> str | None:
    return actor.hub_settings.region if actor.hub_settings is not None else None


# Typed so that giving a scope yields the row, ready for the caller to set the boost rules on.
@overload
def set_hub_scope(actor: Actor, scope: str, region: str | None) -> HubSettings: ...
@overload
def set_hub_scope(actor: Actor, scope: None, region: str | None) -> None: ...
@overload
def set_hub_scope(actor: Actor, scope: str | None, region: str | None) -> HubSettings | None: ...
def set_hub_scope(actor: Actor, scope: str | None, region: str | None) -> HubSettings | None:
    """Make ``actor`` a hub of ``scope`` (keeping its rules), or no hub at all when scope is None."""
    if scope is None:
        actor.hub_settings = None
        return None
    if actor.hub_settings is None:
        actor.hub_settings = HubSettings(scope=scope)
    actor.hub_settings.scope = scope
    actor.hub_settings.region = region
    return actor.hub_settings


# Our own extension for hubs (docs/federation/hubs.md "The extension terms"): a Group that says it
# is a hub, its scope, and its public roster (HUB_NAMESPACE). Peers that do not know the terms ignore them.
def hub_properties(actor: Actor) -> dict[str, Any]:
    scope = hub_scope_of(actor)
    if not scope:
        return {}
    props: dict[str, Any] = {"fedihub:hubScope": scope, "fedihub:members": f"{actor.uri}/members"}
    if region := hub_region_of(actor):
        props["fedihub:hubRegion"] = region
    return {**props, "@context": [{"fedihub": HUB_NAMESPACE}]}


async def read_remote_hub(
    session: AsyncSession, actor: Actor, document: Mapping[str, Any], sighting: Sighting
) -> None:
    """Whether a remote actor's document says it is a hub, and of what scope and region."""
    read = read_actor_profile(document)
    set_hub_scope(actor, read.hub_scope, read.hub_region)
