"""Web links: one rule for what a peer's document may put in an href and what an organizer may type."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedihub.protocol.urls import MAX_URL, has_http_scheme, http_url, http_url_problem


@pytest.mark.parametrize(
    "url",
    [
        "https://mobilizon.example/events/1",
        "http://127.0.0.2:8000/o/1",
        "HTTPS://Mobilizon.Example/events/1",  # schemes and hosts are case-insensitive (RFC 3986 §3.1, §3.2.2)
        "https://[2001:db8::1]/x",
        "https://xn--bcher-kva.example/café?q=1#here",
        "https://a.example/" + "x" * (MAX_URL - len("https://a.example/")),
    ],
)
def test_web_links_pass_as_they_are(url: str) -> None:
    assert http_url(url) == url
    assert http_url_problem(url) is None


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://files.example/x",
        "mailto:someone@example.org",
        "//no-scheme.example/x",
        "/o/1",
        "https://",
        "https:///path-without-host",
        "https://user@/x",  # an authority with no host in it
        "https://[::1",  # urlsplit raises on this one
        "https://a.example/with space",
        " https://a.example/",
        "https://a.example/\nX-Injected: 1",  # would start a property of its own in an iCalendar file
        "https://a.example/\x00",
        "https://a.example/\x7f",
        "https://a.example/\u0085",  # NEL: a line break to some readers
        "https://a.example/\u2028",
        "https://a.example/" + "x" * MAX_URL,
        "",
        None,
        42,
        {"href": "https://a.example/"},
    ],
)
def test_anything_else_is_not_a_link(value: Any) -> None:
    assert http_url(value) is None


def test_an_organizer_is_told_what_is_wrong_with_a_link() -> None:
    assert http_url_problem("javascript:alert(1)") == "must be a web address starting with https://"
    assert http_url_problem("https://a.example/" + "x" * MAX_URL) == f"has at most {MAX_URL} characters"
    # The shape is said first: a long pasted script is not a link that is merely too long.
    assert http_url_problem("javascript:" + "x" * MAX_URL) == "must be a web address starting with https://"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://social.example/@ana", True),
        ("HTTP://social.example/users/ana", True),
        ("Https://x", True),
        ("ana@social.example", False),
        ("@ana@social.example", False),
        ("acct:ana@social.example", False),
        ("httpsx://a", False),
        ("http:/a", False),
        ("", False),
    ],
)
def test_a_link_is_told_from_a_handle_by_its_scheme_in_any_case(text: str, expected: bool) -> None:
    assert has_http_scheme(text) is expected


LINKISH = st.one_of(
    st.text(max_size=80),
    st.builds(str.__add__, st.sampled_from(["http://", "https://", "HTTPS://", "javascript:"]), st.text(max_size=80)),
)


@given(LINKISH)
def test_whatever_passes_is_an_http_link_with_a_host_and_no_space(value: str) -> None:
    url = http_url(value)
    if url is not None:
        assert url == value and len(url) <= MAX_URL
        assert has_http_scheme(url) and not any(ch.isspace() or ord(ch) < 0x20 for ch in url)
        assert http_url_problem(url) is None


@given(
    scheme=st.sampled_from(["http", "https", "HTTPS"]),
    host=st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z]{2,6}){1,2}", fullmatch=True),
    path=st.text(
        alphabet=st.characters(categories=["L", "N"], include_characters="/-._~%!$&'()*+,;=:@?#"), max_size=60
    ),
)
def test_every_absolute_web_link_with_a_host_passes(scheme: str, host: str, path: str) -> None:
    url = f"{scheme}://{host}/{path}"
    assert http_url(url) == url
