"""Movements as hashtags: one spelling rule, one comparison, one reader, one builder for every path."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedihub.coalitions.movements import (
    movement_form_values,
    normalise_movements,
    normalise_tag,
    parse_movements,
)
from fedihub.errors import InvalidInput
from fedihub.hubs.rules import Candidate, HubRules, refusal_reason
from fedihub.protocol.movements import (
    MAX_KEY,
    MAX_MOVEMENT,
    MAX_MOVEMENTS,
    build_hashtags,
    hashtag_names,
    hashtag_of,
    hashtag_spelling,
    movement_key,
    movement_name,
    unique_movements,
)


def is_mastodon_tag(tag: str) -> bool:
    """Word characters ([[:word:]]: letters, marks, decimal digits, connector punctuation) with at
    least one letter, as Mastodon's app/models/tag.rb has it."""
    return all(unicodedata.category(c)[0] in "LM" or unicodedata.category(c) in ("Nd", "Pc") for c in tag) and any(
        c.isalpha() for c in tag
    )


@pytest.mark.parametrize(
    ("typed", "hashtag"),
    [
        ("Black Lives Matter", "BlackLivesMatter"),
        ("#food not bombs", "FoodNotBombs"),
        ("anti-austerity", "AntiAusterity"),
        ("Grève_générale", "Grève_générale"),  # "_" is part of a Mastodon tag
        ("don't evict", "DontEvict"),  # an apostrophe joins, it does not split
        ("ｆｕｌｌ ｗｉｄｔｈ", "FullWidth"),  # NFKC first
        ("हिन्दी आंदोलन", "हिन्दीआंदोलन"),  # vowel signs are marks: kept inside the word
        ("Straße", "Straße"),
        ("15", None),
        ("!!!", None),
        ("", None),
    ],
)
def test_a_movement_becomes_the_hashtag_mastodon_links(typed: str, hashtag: str | None) -> None:
    assert hashtag_of(typed) == hashtag


def test_an_organizers_single_word_keeps_its_case_when_stored() -> None:
    assert hashtag_spelling("housing") == "housing" and hashtag_of("housing") == "Housing"
    assert hashtag_spelling("TransitNow") == "TransitNow"
    assert hashtag_spelling("rent strike") == "RentStrike"
    assert hashtag_spelling("$15") is None  # no letter: never a tag


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("#housing", "Housing"),
        ("Black Lives Matter", "BlackLivesMatter"),
        ("black  lives\tmatter", "#BLACKLIVESMATTER"),
        ("Straße", "STRASSE"),
        ("Rent-Strike", "rentstrike"),
    ],
)
def test_spellings_of_one_hashtag_are_one_movement(one: str, other: str) -> None:
    assert movement_key(one) == movement_key(other) != ""


def test_different_movements_stay_apart_and_blanks_have_no_key() -> None:
    assert movement_key("Tenants") != movement_key("Tenant")
    assert movement_key("#") == movement_key("   ") == ""
    assert len(movement_key("ß" * 80)) == MAX_KEY  # casefolding doubles it; the index column holds 100


def test_unique_movements_keeps_each_first_spelling_and_skips_what_is_not_a_movement() -> None:
    values: list[Any] = ["#Housing", "housing", "  Rent   Strike ", "RentStrike", None, 3, "", "#", "Climate"]
    assert unique_movements(values) == ["Housing", "Rent Strike", "Climate"]
    assert movement_name("  #Tenants  ") == "Tenants" and movement_name(["x"]) is None


def test_a_peers_hashtags_are_read_once_each_cut_and_counted() -> None:
    doc = {"tag": [
        {"type": "Hashtag", "name": "#Housing"}, {"type": "Hashtag", "name": "#HOUSING"},
        {"type": "Mention", "name": "@ana@x.example"}, {"type": "Hashtag", "name": ["#list"]},
        {"type": "Hashtag", "name": "#" + "a" * 100}, *({"type": "Hashtag", "name": f"#t{n}"} for n in range(40)),
    ]}

    names = hashtag_names(doc)

    assert names[:2] == ["Housing", "a" * MAX_MOVEMENT] and len(names) == MAX_MOVEMENTS
    assert hashtag_names({"tag": {"type": "Hashtag", "name": "#single"}}) == ["single"]  # one tag, not a list
    assert hashtag_names({}) == []


def test_what_we_publish_reads_back_as_the_same_movements() -> None:
    stored = ["Tenants", "RentStrike", "a" * MAX_MOVEMENT, "tenants"]
    tags = build_hashtags(stored)

    assert tags[0] == {"type": "Hashtag", "name": "#Tenants"}
    assert hashtag_names({"tag": tags}) == ["Tenants", "RentStrike", "a" * MAX_MOVEMENT]


def test_the_forms_store_a_movement_once_in_its_suggested_spelling() -> None:
    assert parse_movements(["climate"], "Climate, black lives matter; rent strike\n#housing") == [
        "Climate", "BlackLivesMatter", "RentStrike", "housing",
    ]
    # A call keeps the organizer's own words' case (tests/unit/test_event_builder.py), in a tag's shape.
    assert normalise_movements(["climate", "Rent strike", "#CLIMATE"], "movements", suggest=False) == [
        "climate", "RentStrike",
    ]


@pytest.mark.parametrize(
    ("typed", "words"),
    [("x" * (MAX_MOVEMENT + 1), str(MAX_MOVEMENT)), ("2024", "letter"), ("$$$", "letter")],
)
def test_a_tag_that_cannot_be_a_hashtag_is_refused_with_the_field_named(typed: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_tag(typed, "movements")
    assert caught.value.field == "movements" and words in caught.value.public_message


def test_too_many_movements_are_refused() -> None:
    with pytest.raises(InvalidInput, match=f"at most {MAX_MOVEMENTS}"):
        normalise_movements([f"tag{n}" for n in range(MAX_MOVEMENTS + 1)])
    assert len(normalise_movements([f"tag{n}" for n in range(MAX_MOVEMENTS)])) == MAX_MOVEMENTS


def test_form_values_tick_the_suggested_movements_and_list_the_others() -> None:
    # BlackLivesMatter is no longer among the default suggestions (issue 12): it stays a free tag.
    assert movement_form_values(["climate", "RentStrike", "BlackLivesMatter", "feminism"]) == {
        "movements": ["Climate", "Feminism"], "tags": "RentStrike, BlackLivesMatter",
    }


def test_a_hub_boosts_a_call_tagged_with_its_movement_in_any_spelling() -> None:
    rules = HubRules(hub_uri="https://hub.example/g/hub", movements=("BlackLivesMatter",))
    candidate = Candidate(
        object_id="https://a.example/o/1", type="Event", author_uri="https://a.example/g/c", is_public=True,
        movements=("Black Lives Matter",), via_accepted_member=True,
    )
    assert refusal_reason(rules, candidate) is None


@given(st.text(max_size=60))
def test_every_hashtag_is_one_mastodon_links(text: str) -> None:
    tag = hashtag_of(text)
    if tag is not None:
        assert is_mastodon_tag(tag)
        assert hashtag_of(tag) == tag  # publishing twice changes nothing
        assert movement_key(tag) == movement_key(text)


@given(st.text(max_size=60))
def test_a_stored_spelling_is_the_same_movement_as_what_was_typed(text: str) -> None:
    spelling = hashtag_spelling(text)
    if spelling is not None:
        assert is_mastodon_tag(spelling)
        assert hashtag_spelling(spelling) == spelling
        assert movement_key(spelling) == movement_key(text)


@given(st.lists(st.one_of(st.text(max_size=20), st.none()), max_size=30))
def test_unique_movements_gives_distinct_keys_in_first_seen_order(values: list[Any]) -> None:
    found = unique_movements(values)
    keys = [movement_key(name) for name in found]
    assert len(set(keys)) == len(keys) and "" not in keys
    assert unique_movements(found) == found
    wanted = [movement_key(v) for v in values if isinstance(v, str) and movement_key(v)]
    assert keys == list(dict.fromkeys(wanted))


@given(st.lists(
    st.text(alphabet=st.characters(categories=["L", "Nd"]), min_size=1, max_size=MAX_MOVEMENT), max_size=25
))
def test_published_movements_always_read_back(names: list[str]) -> None:
    stored = unique_movements(names)
    read = hashtag_names({"tag": build_hashtags(stored)})
    assert read == stored[:MAX_MOVEMENTS]
