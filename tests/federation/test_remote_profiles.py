"""A coalition's profile crosses servers: another fedihub caches its movements, region, website and hub scope."""

from __future__ import annotations

from fedihub.coalitions import service
from fedihub.coalitions.actor_profile import profile_of
from fedihub.coalitions.profile import parse_profile_form, save_profile
from fedihub.federation import actors, follows
from fedihub.federation.actors import resolve_target
from fedihub.hubs import service as hubs
from fedihub.hubs.settings import hub_region_of, hub_scope_of
from fedihub.storage.models import Actor
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

PROFILE = {
    "name": "Bay Area Tenants Hub",
    "summary": "Tenant unions of the Bay Area, together.",
    "movements": ["Tenants", "SolidarityNetwork"],
    "tags": "rent strike",
    "region_city": "Oakland",
    "region_state": "California",
    "region_country": "US",
    "latitude": "37.8044",
    "longitude": "-122.2712",
    "website": "https://tenants.example/join?from=<fedi>",
}


def _profile(actor: Actor) -> dict:
    profile = profile_of(actor)
    return {
        **{
            key: getattr(profile, key)
            for key in (
                "movements", "region_city", "region_state", "region_country", "latitude", "longitude", "website",
            )
        },
        "hub_scope": hub_scope_of(actor), "hub_region": hub_region_of(actor),
    }


async def _cached(instance: Instance, uri: str) -> Actor:
    async with instance.ctx.sessions() as session:
        found = await actors.find_actor(session, uri)
    assert found is not None and not found.is_local
    return found


async def test_another_server_caches_the_same_profile_and_hub_scope(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await committed(a.ctx, hubs.create_hub, "bay", name="Bay Area Tenants Hub", scope="regional", region="Bay Area")
    local, _ = await committed(a.ctx, save_profile, "bay", parse_profile_form(PROFILE))

    remote = await actors.resolve_target(b.ctx, "bay@a.test")

    assert remote.uri == local.uri and not remote.is_local
    assert _profile(remote) == _profile(local)
    assert _profile(remote) == {
        "movements": ["Tenants", "SolidarityNetwork", "RentStrike"], "region_city": "Oakland",
        "region_state": "California", "region_country": "US", "latitude": 37.8044, "longitude": -122.2712,
        "website": "https://tenants.example/join?from=<fedi>", "hub_scope": "regional", "hub_region": "Bay Area",
    }


async def test_a_profile_change_reaches_a_follower_server_cache(net: FederationNet) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Tenants")
    await committed(b.ctx, service.create_coalition, "watchers", name="Watchers")
    await committed(a.ctx, save_profile, "tenants", parse_profile_form(PROFILE))
    await committed(b.ctx, follows.follow, "watchers", await resolve_target(b.ctx, "tenants@a.test"))
    await net.settle()
    assert profile_of(await _cached(b, f"{a.base_url}/g/tenants")).region_city == "Oakland"

    moved = {**PROFILE, "region_city": "", "region_state": "", "region_country": "DE", "website": "",
             "latitude": "", "longitude": "", "movements": ["Climate"], "tags": ""}
    await committed(a.ctx, save_profile, "tenants", parse_profile_form(moved))
    await net.settle()

    cached = await _cached(b, f"{a.base_url}/g/tenants")
    assert _profile(cached) == {
        "movements": ["Climate"], "region_city": None, "region_state": None, "region_country": "DE",
        "latitude": None, "longitude": None, "website": None, "hub_scope": None, "hub_region": None,
    }
