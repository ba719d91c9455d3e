"""Query strings of the feeds and the calls API: known filters read, unknown ignored, bad ones refused."""

from __future__ import annotations

import pytest

from fedihub.errors import InvalidInput
from fedihub.feeds.api import parse_paging, plain_text
from fedihub.feeds.queries import CallFilters, parse_filters


def test_known_filters_are_read_trimmed_and_the_rest_ignored() -> None:
    filters = parse_filters({"movement": " #housing ", "region": "  Illinois", "colour": "red", "hub": ""})

    assert filters == CallFilters(movement="housing", region="Illinois")
    assert filters.description == "housing, Illinois"
    assert parse_filters({}) == CallFilters() and CallFilters().description == ""


@pytest.mark.parametrize(("name", "limit"), [("movement", 100), ("region", 200), ("coalition", 320), ("hub", 320)])
def test_overlong_filters_are_refused(name: str, limit: int) -> None:
    assert getattr(parse_filters({name: "x" * limit}), name) == "x" * limit
    with pytest.raises(InvalidInput) as raised:
        parse_filters({name: "x" * (limit + 1)})
    assert raised.value.field == name and raised.value.status_code == 400


def test_paging_defaults_and_limits() -> None:
    paging = parse_paging({})
    assert (paging.upcoming, paging.page, paging.per_page, paging.offset) == (True, 1, 50, 0)
    paging = parse_paging({"upcoming": "False", "page": "3", "per_page": "20"})
    assert (paging.upcoming, paging.offset) == (False, 40)
    for bad in ({"page": "0"}, {"page": "-1"}, {"per_page": "101"}, {"page": "1e3"}, {"upcoming": "soon"}):
        with pytest.raises(InvalidInput):
            parse_paging(bad)


def test_descriptions_are_served_as_plain_text_with_their_paragraphs() -> None:
    assert plain_text("<p>One &amp; <b>two</b></p><p>Three<br>four</p><script>x</script>") == "One & two\n\nThree\nfour"
    assert plain_text(None) == ""
