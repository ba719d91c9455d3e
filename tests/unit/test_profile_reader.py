"""Remote actors' profiles (movements, region, website, hub scope) read from real peers' documents."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from fedihub.coalitions.actor_profile import profile_properties
from fedihub.hubs.settings import hub_properties, set_hub_scope
from fedihub.protocol.profile_reader import ActorProfile, field_link, read_actor_profile
from fedihub.storage.models import Actor, CoalitionProfile
from tests.support.fixtures import load_fixture


def test_a_mastodon_account_has_an_empty_profile() -> None:
    assert read_actor_profile(load_fixture("mastodon/actor_person.json")) == ActorProfile()


def test_a_mobilizon_group_without_an_address_has_no_region() -> None:
    # The capture's PostalAddress has every part null: nothing is made up from it.
    assert read_actor_profile(load_fixture("mobilizon/group.json")) == ActorProfile()


def test_a_mobilizon_group_with_an_address_gives_its_region() -> None:
    group = load_fixture("mobilizon/group.json")
    group["location"]["address"].update(
        addressLocality="Lyon", addressRegion="Auvergne-Rhône-Alpes", addressCountry="France",
        streetAddress="1 place Bellecour", postalCode="69002",
    )
    group["location"].update(latitude=45.7578, longitude=4.832)

    profile = read_actor_profile(group)

    assert (profile.region_city, profile.region_state, profile.region_country) == (
        "Lyon", "Auvergne-Rhône-Alpes", "France",
    )
    assert (profile.latitude, profile.longitude) == (45.7578, 4.832)


def test_an_address_given_as_one_string_leaves_the_structured_region_empty() -> None:
    doc = {"location": {
        "type": "Place", "address": "12 Main Street, Springfield", "latitude": "39.8", "longitude": "-89.6",
    }}

    profile = read_actor_profile(doc)

    assert (profile.region_city, profile.region_state, profile.region_country) == (None, None, None)
    assert (profile.latitude, profile.longitude) == (39.8, -89.6)


def test_gancio_website_field_with_single_quoted_href_is_read() -> None:
    assert read_actor_profile(load_fixture("gancio/actor_application.json")).website == "https://demo.gancio.org"


def test_fields_not_named_website_are_not_a_website() -> None:
    # Friendica's fields are "Telegram" and "Mastodon", both links.
    assert read_actor_profile(load_fixture("friendica/actor_organization.json")).website is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('<a href="https://tenants.example/" rel="me">tenants.example</a>', "https://tenants.example/"),
        ("https://tenants.example/join", "https://tenants.example/join"),
        ("  http://tenants.example  ", "http://tenants.example"),
        ('<a href="javascript:alert(1)">click</a>', None),
        ("javascript:alert(1)", None),
        ("tenants.example", None),
        ('<a href="https://a.example/x y">spaces</a>', None),
        ("<a>no href</a>", None),
        ("https://tenants.example/" + "x" * 3000, None),
        (["https://tenants.example"], None),
        (None, None),
    ],
)
def test_a_website_field_gives_only_a_safe_web_link(value: Any, expected: str | None) -> None:
    assert field_link(value) == expected


def test_a_website_link_as_mobilizon_sends_it_is_read() -> None:
    doc = {"attachment": [{"type": "Link", "name": "Website", "href": "https://group.example/"}]}
    assert read_actor_profile(doc).website == "https://group.example/"


def test_movements_are_the_hashtags_without_hash_first_spelling_kept() -> None:
    doc = {"tag": [
        {"type": "Hashtag", "name": "#Housing"}, {"type": "Mention", "name": "@bob@x.example"},
        {"type": "Hashtag", "name": "#housing"}, {"type": "Hashtag", "name": "ClimateJustice"},
        {"type": "Hashtag", "name": 42}, "#loose", {"type": "Hashtag", "name": "#" + "a" * 500},
    ]}

    movements = read_actor_profile(doc).movements

    assert movements[:2] == ("Housing", "ClimateJustice")
    # Capped at 64 characters without the '#', as long as a call's movement may be: what one fedihub
    # publishes, another reads back whole.
    assert len(movements) == 3 and len(movements[2]) == 64


def test_at_most_twenty_movements_are_kept() -> None:
    doc = {"tag": [{"type": "Hashtag", "name": f"#tag{n}"} for n in range(50)]}
    assert len(read_actor_profile(doc).movements) == 20


@pytest.mark.parametrize(
    "location",
    [
        "Berlin",
        ["Berlin"],
        {"type": "Place", "address": ["Berlin"]},
        {"type": "Place", "address": {"addressLocality": {"nested": True}}, "latitude": True, "longitude": 1},
        {"type": "Place", "latitude": 91, "longitude": 10},
        {"type": "Place", "latitude": "NaN", "longitude": "10"},
        [{"type": "VirtualLocation", "url": "https://meet.example"}],
        42,
    ],
)
def test_odd_locations_are_ignored(location: Any) -> None:
    profile = read_actor_profile({"location": location})
    assert (profile.region_city, profile.latitude, profile.longitude) == (None, None, None)


def test_region_parts_are_collapsed_and_capped() -> None:
    doc = {"location": {"type": "Place", "address": {"addressLocality": "  Spring\n field ", "addressRegion": "x" * 900,
                                                     "addressCountry": {"type": "Country", "name": "US"}}}}

    profile = read_actor_profile(doc)

    assert profile.region_city == "Spring field"
    assert profile.region_state == "x" * 200
    assert profile.region_country == "US"


@pytest.mark.parametrize(
    ("doc", "scope", "region"),
    [
        ({"fedihub:hubScope": "state", "fedihub:hubRegion": "Illinois"}, "state", "Illinois"),
        ({"https://fedihub.example/ns#hubScope": "national"}, "national", None),
        ({"fedihub:hubScope": "galactic", "fedihub:hubRegion": "Milky Way"}, None, None),
        ({"fedihub:hubScope": ["state"]}, None, None),
        ({"fedihub:hubScope": "regional", "fedihub:hubRegion": {"name": "Bay Area"}}, "regional", "Bay Area"),
    ],
)
def test_the_hub_scope_and_region(doc: dict, scope: str | None, region: str | None) -> None:
    profile = read_actor_profile(doc)
    assert (profile.hub_scope, profile.hub_region) == (scope, region)


def _coalition(**profile: Any) -> Actor:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    hub_scope, hub_region = profile.pop("hub_scope", None), profile.pop("hub_region", None)
    actor = Actor(uri="https://h.example/g/bay", type="Group", username="bay", is_local=True, domain="h.example",
                  created_at=now, updated_at=now, profile=CoalitionProfile(**profile))
    set_hub_scope(actor, hub_scope, hub_region)
    return actor


FULL_PROFILE = dict(
    movements=["Housing", "BlackLivesMatter"], region_city="Oakland", region_state="California",
    region_country="US", latitude=37.8044, longitude=-122.2712, website="https://tenants.example/join?from=<fedi>",
    hub_scope="regional", hub_region="Bay Area",
)


@pytest.mark.parametrize(
    "profile",
    [
        FULL_PROFILE,
        {**FULL_PROFILE, "hub_scope": None, "hub_region": None},
        {"region_country": "DE"},
        {"latitude": 1.5, "longitude": 2.5},
        {"hub_scope": "international"},
        {},
    ],
    ids=["full", "no-hub", "country-only", "coordinates-only", "hub-only", "empty"],
)
def test_our_own_actor_properties_read_back_to_the_same_profile(profile: dict[str, Any]) -> None:
    actor = _coalition(**dict(profile))
    doc = {"id": actor.uri, **copy.deepcopy(profile_properties(actor)), **hub_properties(actor)}

    read = read_actor_profile(doc)

    expected = {**{key: None for key in FULL_PROFILE}, **profile}
    assert read == ActorProfile(**{**expected, "movements": tuple(expected["movements"] or ())})
