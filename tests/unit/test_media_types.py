"""Media types: one parser for Content-Type and Accept, and Mastodon's rule for what is ActivityPub."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedihub.protocol.media_types import (
    ACCEPT_ACTIVITYPUB,
    LD_JSON_PROFILE,
    accepts_activitypub,
    is_activitypub_media_type,
    media_type_of,
    parse_media_type,
)
from fedihub.protocol.vocab import AS_CONTEXT

# RFC 9110 §5.6.2 token characters, and what a quoted-string may hold (§5.6.4) once escaped.
TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~", min_size=1, max_size=12)
QUOTABLE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


def quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/activity+json", True),
        ("application/activity+json; charset=utf-8", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("Application/LD+JSON;profile='https://www.w3.org/ns/activitystreams' ;charset=x", True),
        ("application/ld+json; profile=https://www.w3.org/ns/activitystreams", True),
        ("application/ld+json", False),
        ("application/json", False),
        ("text/html", False),
        ("", False),
    ],
)
def test_is_activitypub_media_type(content_type: str, expected: bool) -> None:
    assert is_activitypub_media_type(content_type) is expected


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/activity+json", True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', True),
        ("application/ld+json", True),
        ("application/activity+json, application/ld+json, text/html;q=0.1", True),
        ("application/activity+json;q=0", False),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("text/html, application/activity+json;q=0.5", False),
        ("*/*", False),
        ("", False),
    ],
)
def test_accepts_activitypub(accept: str, expected: bool) -> None:
    assert accepts_activitypub(accept) is expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        # The two parsers this one replaced disagreed here: fetch.py kept the single quotes and so
        # refused the document, vocab.py read the profile.
        ("application/ld+json; profile='https://www.w3.org/ns/activitystreams'", True),
        # A ";" inside the quoted profile list separates nothing (fetch.py split the list there).
        ('application/ld+json; profile="https://example.org/a;b https://www.w3.org/ns/activitystreams"', True),
        ('application/ld+json; profile="https://example.org/p https://www.w3.org/ns/activitystreams"', True),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams/other"', False),
        ("application/activity+jsonx", False),
        (None, False),
    ],
)
def test_the_profile_is_read_whatever_its_quotes(content_type: str | None, expected: bool) -> None:
    assert is_activitypub_media_type(content_type) is expected


def test_what_we_send_is_what_we_accept() -> None:
    assert is_activitypub_media_type(LD_JSON_PROFILE)
    assert all(is_activitypub_media_type(item) for item in ACCEPT_ACTIVITYPUB.split(", "))
    assert accepts_activitypub(ACCEPT_ACTIVITYPUB)


def test_parameters_are_unquoted_and_their_names_lower_cased() -> None:
    assert parse_media_type('Text/HTML ; Charset="UTF-8"; title="a \\"quoted\\" \\\\ value"') == (
        "text/html",
        {"charset": "UTF-8", "title": 'a "quoted" \\ value'},
    )
    assert parse_media_type("application/json; broken; q") == ("application/json", {})


def test_media_type_of_a_missing_header_is_empty() -> None:
    assert media_type_of(None) == "" and media_type_of("") == ""
    assert media_type_of(" Application/Activity+JSON ;charset=utf-8") == "application/activity+json"


@given(kind=TOKEN, subtype=TOKEN, params=st.dictionaries(TOKEN, QUOTABLE, max_size=4))
def test_any_quoted_parameter_reads_back_as_written(kind: str, subtype: str, params: dict[str, str]) -> None:
    header = f"{kind.upper()}/{subtype}" + "".join(f"; {name}={quoted(value)}" for name, value in params.items())

    media_type, read = parse_media_type(header)

    assert media_type == f"{kind}/{subtype}".lower()
    assert read == {name.lower(): value for name, value in params.items()}


@given(
    others=st.lists(st.sampled_from(["https://example.org/p", "urn:x", "https://w3id.org/security/v1"]), max_size=3),
    position=st.integers(min_value=0, max_value=3),
    quote=st.sampled_from(['"', "'", ""]),
    charset_first=st.booleans(),
)
def test_the_activitystreams_profile_is_found_anywhere_in_the_list(
    others: list[str], position: int, quote: str, charset_first: bool
) -> None:
    profiles = [*others[:position], AS_CONTEXT, *others[position:]]
    if not quote:
        profiles = [AS_CONTEXT]  # a token cannot hold spaces
    profile = f"profile={quote}{' '.join(profiles)}{quote}"
    params = ["charset=utf-8", profile] if charset_first else [profile, "charset=utf-8"]

    assert is_activitypub_media_type("; ".join(["Application/LD+JSON", *params]))
    assert not is_activitypub_media_type("; ".join(["application/json", *params]))
