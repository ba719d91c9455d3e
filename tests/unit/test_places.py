"""Places offline: ambiguous town names, regions under their codes, time zones of coordinates."""

from __future__ import annotations

import pytest

from fedihub.places.gazetteer import find_place
from fedihub.places.regions import find_region, mentions_region
from fedihub.places.zones import find_zone


def test_an_ambiguous_town_prefers_the_given_state_then_the_largest() -> None:
    anywhere = find_place(city="Springfield")
    illinois = find_place(city="Springfield", region="IL")
    massachusetts = find_place(city="Springfield", region="Massachusetts")
    assert anywhere is not None and illinois is not None and massachusetts is not None
    assert anywhere.label == "Springfield, MO, US"  # the most populous Springfield in GeoNames
    assert illinois.label == "Springfield, IL, US" and round(illinois.latitude) == 40
    assert massachusetts.label == "Springfield, MA, US"


def test_a_country_narrows_a_town_name() -> None:
    paris = find_place(city="Paris")
    texas = find_place(city="Paris", country="USA")
    assert paris is not None and paris.label == "Paris, FR" and paris.timezone == "Europe/Paris"
    assert texas is not None and texas.label == "Paris, TX, US"


def test_the_town_is_read_from_an_address() -> None:
    place = find_place(address="100 N State St, Chicago, IL 60602")
    assert place is not None and place.label == "Chicago, IL, US" and place.timezone == "America/Chicago"
    for address in ("50 W Washington St, Chicago, IL", "123 Madison St, Oak Park, Illinois"):
        found = find_place(address=address)
        assert found is not None and found.precision == "city" and found.label.endswith(", IL, US"), address


def test_accents_and_big_cities_other_names_are_found() -> None:
    montreal, munich = find_place(city="Montreal"), find_place(city="Munich")
    assert montreal is not None and montreal.label == "Montréal, CA"
    assert munich is not None and munich.label == "Munich, DE"


def test_a_region_or_a_country_alone_gives_a_point_inside_it() -> None:
    state = find_place(region="Illinois")
    country = find_place(country="France")
    assert state is not None and state.precision == "region" and state.timezone == "America/Chicago"
    assert country is not None and country.precision == "country" and country.label == "France"


def test_unknown_places_give_nothing() -> None:
    assert find_place(city="Nowhereville Xyzzy") is None
    assert find_place() is None


@pytest.mark.parametrize(("text", "code"), [("IL", "IL"), ("illinois", "IL"), ("U.S.A.", "US"), ("France", "FR")])
def test_regions_are_known_by_name_and_code(text: str, code: str) -> None:
    region = find_region(text)
    assert region is not None and region.code == code


def test_an_address_names_a_region_under_any_of_its_names() -> None:
    assert mentions_region("100 N State St, Chicago, IL 60602", "Illinois")
    assert mentions_region("100 N State St, Chicago, Illinois", "IL")
    assert mentions_region("5 rue de la Paix, Paris, France", "FR")
    assert not mentions_region("1 Indiana Ave, Chicago", "Illinois")
    # A lower-case "in" is a word, not Indiana.
    assert not mentions_region("Meet in the park", "IN")


def test_the_time_zone_of_coordinates() -> None:
    assert find_zone(41.8781, -87.6298) == "America/Chicago"
    assert find_zone(48.8566, 2.3522) == "Europe/Paris"
    assert find_zone(0.0, -30.0) is None  # the Atlantic: no place's zone
    assert find_zone(float("nan"), 0.0) is None
