"""The coalition profile form: what organizers type, what is stored, and which field an error names."""

from __future__ import annotations

import pytest

from fedihub.coalitions.movements import (
    SUGGESTED_MOVEMENTS,
    movement_label,
    normalise_tag,
)
from fedihub.coalitions.profile import parse_profile_form
from fedihub.errors import InvalidInput

VALID = {
    "name": "Bay Area Climate Coalition",
    "summary": "Calls to action from *Bay Area* climate groups.",
    "movements": ["Climate"],
    "tags": "",
    "region_city": "Oakland",
    "region_state": "California",
    "region_country": "US",
    "latitude": "",
    "longitude": "",
    "website": "",
}


def form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    return {**VALID, **changes}


def test_a_complete_form_becomes_a_profile() -> None:
    data = parse_profile_form(
        form(name="  Bay Area   Climate ", latitude="37.8044", longitude="-122,2712", website="https://bayclimate.example",
             manually_approves_followers="on")
    )

    assert data.name == "Bay Area Climate"
    assert data.summary_source == "Calls to action from *Bay Area* climate groups."
    assert (data.region_city, data.region_state, data.region_country) == ("Oakland", "California", "US")
    assert (data.latitude, data.longitude) == (37.8044, -122.2712)
    assert data.website == "https://bayclimate.example"
    assert data.manually_approves_followers is True


def test_an_unticked_checkbox_means_followers_are_accepted_automatically() -> None:
    assert parse_profile_form(form()).manually_approves_followers is False


def test_the_default_movements_are_broad_ones_found_in_every_country() -> None:
    assert [m.label for m in SUGGESTED_MOVEMENTS] == [
        "Housing and tenants", "Labour and workers' rights", "Climate justice", "Anti-racism", "Anti-austerity",
        "Feminism", "Migrants' rights", "Solidarity and mutual aid", "LGBTQ+ rights", "Peace and anti-war",
    ]
    assert all(set(m.labels) == {"en", "es", "fr"} for m in SUGGESTED_MOVEMENTS)


def test_free_tags_are_normalised_to_hashtags_and_merged_with_ticked_movements() -> None:
    data = parse_profile_form(
        form(movements=["Climate", "tenants"], tags="#food not bombs, climate; Housing-Justice,, anti racism")
    )

    # "climate" and "anti racism" name suggested movements: stored once, in their spelling.
    assert data.movements == ["Climate", "Tenants", "FoodNotBombs", "HousingJustice", "AntiRacism"]


@pytest.mark.parametrize(
    ("typed", "tag"),
    [("#Climate", "Climate"), ("fight for 15", "FightFor15"), ("vivienda digna", "ViviendaDigna"), ("  ", None),
     ("Grève_générale", "Grève_générale")],
)
def test_normalise_tag(typed: str, tag: str | None) -> None:
    assert normalise_tag(typed) == tag


def test_labels_read_well_on_pages() -> None:
    assert movement_label("AntiRacism") == "Anti-racism"
    assert movement_label("FightFor15") == "#FightFor15"  # an old suggestion still reads as its tag
    assert movement_label("FoodNotBombs") == "#FoodNotBombs"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "   "}, "name", "display name"),
        ({"name": "x" * 201}, "name", "200"),
        ({"summary": "x" * 5001}, "summary", "5000"),
        ({"movements": ["Astrology"]}, "movements", "not one of the listed"),
        ({"tags": "2024"}, "tags", "letter"),
        ({"tags": ", ".join(f"tag{i}" for i in range(21))}, "tags", "at most 20"),
        ({"region_city": "x" * 201}, "region_city", "200"),
        ({"latitude": "91", "longitude": "0"}, "latitude", "between -90 and 90"),
        ({"latitude": "0", "longitude": "-180.5"}, "longitude", "between -180 and 180"),
        ({"latitude": "north", "longitude": "0"}, "latitude", "number"),
        ({"latitude": "nan", "longitude": "0"}, "latitude", "between"),
        ({"latitude": "45"}, "longitude", "both"),
        ({"website": "javascript:alert(1)"}, "website", "https://"),
        ({"website": "ftp://files.example"}, "website", "https://"),
        ({"website": "https://"}, "website", "https://"),
    ],
)
def test_each_bad_field_is_named_so_the_page_can_show_the_error_beside_it(
    changes: dict[str, str | list[str]], field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_profile_form(form(**changes))
    assert caught.value.field == field
    assert words in caught.value.public_message


def test_a_bare_domain_is_taken_as_an_https_website() -> None:
    assert parse_profile_form(form(website="bayclimate.example/about")).website == "https://bayclimate.example/about"


def test_control_characters_cannot_reach_single_line_fields() -> None:
    data = parse_profile_form(form(region_city="Oak\r\nland\x00"))
    assert data.region_city == "Oak land"
