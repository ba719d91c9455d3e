"""A coalition's profile row: read, written, published in its actor document and read from remote ones.

The profile (movements, region, coordinates, website, the Markdown of the about text) is the
coalitions package's table, one row per actor that has something to say; federation/ reaches
it only through the document part and the remote reader registered in the composition root.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.directory.listing import recorded_by_import
from fedihub.federation.actor_parts import Sighting
from fedihub.protocol.movements import build_hashtags, movement_key, unique_movements
from fedihub.protocol.profile_reader import read_actor_profile
from fedihub.storage.models import Actor, ActorMovement, CoalitionProfile

# Terms the profile properties need beyond ACTOR_CONTEXT (which already maps `schema:`,
# PropertyValue and value the way Mastodon does). Place, latitude and longitude are AS terms.
PROFILE_CONTEXT = {
    "Hashtag": "as:Hashtag",
    "PostalAddress": "schema:PostalAddress",
    "address": {"@id": "schema:address", "@type": "schema:PostalAddress"},
    "addressLocality": "schema:addressLocality",
    "addressRegion": "schema:addressRegion",
    "addressCountry": "schema:addressCountry",
}


def profile_of(actor: Actor) -> CoalitionProfile:
    """The actor's profile, or an empty one (not stored) when it has none."""
    return actor.profile if actor.profile is not None else CoalitionProfile()


def ensure_profile(actor: Actor) -> CoalitionProfile:
    """The actor's profile row, created (and saved with the actor) when it has none yet."""
    if actor.profile is None:
        actor.profile = CoalitionProfile()
    return actor.profile


async def set_movements(session: AsyncSession, actor: Actor, movements: Iterable[str] | None) -> None:
    """Set the actor's movements and make actor_movements say the same; the caller commits.

    Every write of a profile's movements goes through here: the directory filters on the table,
    so a movement set without it would be invisible to the movement filter. What a movement is
    and how movements compare (the key stored in the table) is protocol/movements.py's rule.
    """
    cleaned = unique_movements(movements)
    if cleaned or actor.profile is not None:
        ensure_profile(actor).movements = cleaned or None
    if actor.id is None:
        session.add(actor)
        await session.flush()
    wanted = {movement_key(movement) for movement in cleaned}
    stored = set(
        await session.scalars(select(ActorMovement.movement).where(ActorMovement.actor_id == actor.id))
    )
    gone = stored - wanted
    if gone:
        await session.execute(
            delete(ActorMovement).where(ActorMovement.actor_id == actor.id, ActorMovement.movement.in_(gone))
        )
    session.add_all(ActorMovement(actor_id=actor.id, movement=movement) for movement in sorted(wanted - stored))
    await session.flush()


def profile_properties(actor: Actor) -> dict[str, Any]:
    """A coalition's website, movements and region in the shapes peers read (spec §1.2, §2.7).

    Website: a PropertyValue profile field, which Mastodon shows (and verifies with rel="me").
    Movements: Hashtags in `tag`. Region: a `location` Place with a PostalAddress, as Mobilizon
    groups carry it (fixture mobilizon/group.json). Nothing is added for an empty profile.
    """
    profile = profile_of(actor)
    extra: dict[str, Any] = {}
    if profile.website:
        shown = profile.website.split("://", 1)[-1].rstrip("/")
        link = (
            f'<a href="{html.escape(profile.website, quote=True)}" target="_blank" '
            f'rel="nofollow noopener noreferrer me" translate="no">{html.escape(shown)}</a>'
        )
        extra["attachment"] = [{"type": "PropertyValue", "name": "Website", "value": link}]
    if profile.movements:
        extra["tag"] = build_hashtags(profile.movements)
    region = [part for part in (profile.region_city, profile.region_state, profile.region_country) if part]
    if region or profile.latitude is not None:
        place: dict[str, Any] = {"type": "Place", "name": ", ".join(region) or None}
        if region:
            address = {
                "type": "PostalAddress", "addressLocality": profile.region_city,
                "addressRegion": profile.region_state, "addressCountry": profile.region_country,
            }
            place["address"] = {key: value for key, value in address.items() if value}
        if profile.latitude is not None and profile.longitude is not None:
            place.update(latitude=profile.latitude, longitude=profile.longitude)
        extra["location"] = {key: value for key, value in place.items() if value is not None}
    if extra:
        extra["@context"] = PROFILE_CONTEXT
    return extra


async def read_remote_profile(
    session: AsyncSession, actor: Actor, document: Mapping[str, Any], sighting: Sighting
) -> None:
    """The profile a remote actor's document publishes (fedihub's and Mobilizon's shapes).

    What an organizer recorded in an import (discovery/importer.py) fills what the actor's own
    profile leaves out: a refresh that still says nothing must not erase it.
    """
    read = read_actor_profile(document)
    from_import = recorded_by_import(actor)
    has_region = any((read.region_city, read.region_state, read.region_country))
    says_something = has_region or read.latitude is not None or read.website or read.movements
    if says_something or actor.profile is not None:
        profile = ensure_profile(actor)
        if has_region or not from_import:
            profile.region_city = read.region_city
            profile.region_state = read.region_state
            profile.region_country = read.region_country
        profile.latitude = read.latitude
        profile.longitude = read.longitude
        profile.website = read.website
    kept = list(profile_of(actor).movements or ())
    await set_movements(session, actor, read.movements or (kept if from_import else []))
