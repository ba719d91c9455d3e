"""Host names have one spelling everywhere (UTS-46, IDNA 2008): in handles, ids, blocks and the SSRF
guard, so a name written two ways is one server, and ASCII names read exactly as they always did."""

from __future__ import annotations

import pytest

from fedihub.errors import ForbiddenAddress, InvalidInput
from fedihub.federation.blocks import domain_matches, normalise_domain
from fedihub.protocol.addresses import check_host_name
from fedihub.protocol.hosts import bare_host, has_userinfo, host_of, normalise_host
from fedihub.protocol.webfinger import parse_handle


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("mastodon.example", "mastodon.example"),
        ("Mastodon.Example", "mastodon.example"),
        ("127.0.0.2:8000", "127.0.0.2:8000"),
        ("[::1]:8000", "[::1]:8000"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        # ASCII names are lower-cased and never judged, as host_of always did: no host of an id we
        # accepted before changes, underscores and all.
        ("My_Server.example", "my_server.example"),
    ],
)
def test_ascii_hosts_keep_the_spelling_they_always_had(written: str, normalised: str) -> None:
    assert normalise_host(written) == normalised


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("bücher.example", "xn--bcher-kva.example"),
        ("ÉCOLE.example", "xn--cole-9oa.example"),  # upper case mapped before punycode
        ("BüCHER.ExAmPlE:8443", "xn--bcher-kva.example:8443"),  # mixed case, port kept
        ("ｅｘａｍｐｌｅ.org", "example.org"),  # full-width letters are the ASCII name (UTS-46)
        ("faß.de", "xn--fa-hia.de"),  # IDNA 2008 keeps ß; the IDNA 2003 codec made it fass.de
    ],
)
def test_unicode_hosts_are_mapped_and_written_in_punycode(written: str, normalised: str) -> None:
    assert normalise_host(written) == normalised


def test_a_trailing_dot_names_the_same_host() -> None:
    assert normalise_host("Mastodon.Example.") == normalise_host("mastodon.example") == "mastodon.example"
    assert normalise_host("bücher.example.:8000") == "xn--bcher-kva.example:8000"


@pytest.mark.parametrize(
    "written", ["☃.example", "-bücher.example", "bücher..example", "", ".", "bücher.example:99999"]
)
def test_hosts_idna_2008_refuses_are_invalid_input(written: str) -> None:
    # The snowman was a valid IDNA 2003 name (xn--n3h); IDNA 2008 disallows symbols.
    with pytest.raises(InvalidInput):
        normalise_host(written)


def test_comparing_code_gets_a_refused_name_back_lower_cased_instead_of_an_error() -> None:
    assert normalise_host("☃.Example", strict=False) == "☃.example"


def test_a_url_written_in_unicode_or_punycode_is_on_one_host() -> None:
    assert host_of("https://BÜCHER.example/users/a") == host_of("https://xn--bcher-kva.example/notes/1")
    assert host_of("https://Mastodon.Example:8443/users/a") == "mastodon.example:8443"
    assert host_of("https://mastodon.example./users/a") == "mastodon.example"
    assert host_of("not a url") == ""


@pytest.mark.parametrize(
    ("handle", "expected"),
    [
        ("gruppe@BÜCHER.example", ("gruppe", "xn--bcher-kva.example")),
        ("@gruppe@ÉCOLE.example", ("gruppe", "xn--cole-9oa.example")),
        ("acct:gruppe@mastodon.example.", ("gruppe", "mastodon.example")),  # refused before
    ],
)
def test_handles_with_unicode_hosts_resolve_to_one_spelling(handle: str, expected: tuple[str, str]) -> None:
    assert parse_handle(handle) == expected


@pytest.mark.parametrize("handle", ["a@☃.example", "a@my_server.example", "a@bücher..example"])
def test_handles_whose_host_is_not_a_dns_name_are_refused(handle: str) -> None:
    with pytest.raises(InvalidInput):
        parse_handle(handle)


def test_a_block_written_in_unicode_covers_the_punycode_host_and_its_subdomains() -> None:
    blocked = normalise_domain("https://Bücher.Example./about")

    assert blocked == "xn--bcher-kva.example"
    assert domain_matches(host_of("https://social.xn--bcher-kva.example/users/a"), blocked)
    assert domain_matches(host_of("https://BÜCHER.example:8443/users/a"), blocked)
    # A block stored before hosts were normalised still matches.
    assert domain_matches("xn--bcher-kva.example", "bücher.example")
    assert not domain_matches("xn--bcher-kva.example.org", blocked)


@pytest.mark.parametrize("domain", ["☃.example", "a@b.example", "https://", "."])
def test_a_block_on_something_that_is_not_a_domain_is_refused(domain: str) -> None:
    with pytest.raises(InvalidInput, match="not a domain name"):
        normalise_domain(domain)


@pytest.mark.parametrize("host", ["ｌｏｃａｌｈｏｓｔ", "LOCALHOST.", "127。0。0。1", "api.ｌｏｃａｌｈｏｓｔ"])
def test_the_ssrf_guard_sees_look_alike_local_names_as_what_they_are(host: str) -> None:
    with pytest.raises(ForbiddenAddress):
        check_host_name(host)


@pytest.mark.parametrize(
    ("uri", "userinfo"),
    [
        ("http://x@blocked.example/users/a", True),
        ("http://x:secret@blocked.example/users/a", True),
        ("http://good.example\\@blocked.example/users/a", True),  # WHATWG and httpx disagree on the host
        ("https://mastodon.example/@alice", False),  # an @ in the path is a profile URL, not user-info
        ("https://mastodon.example/users/alice", False),
    ],
)
def test_user_info_in_an_id_is_recognised(uri: str, userinfo: bool) -> None:
    assert has_userinfo(uri) is userinfo


def test_the_host_of_an_id_with_user_info_is_the_host_it_connects_to() -> None:
    assert host_of("http://x@Blocked.Example./users/a") == "blocked.example"
    assert domain_matches(host_of("http://x@blocked.example/users/a"), "blocked.example")
    # An actor row stored while user-info was kept in the host still matches the block.
    assert domain_matches("x@blocked.example", "blocked.example")


@pytest.mark.parametrize(
    "host", ["blocked.example", "BLOCKED.example.", "blocked.example:8443", "x@blocked.example:443",
             "social.blocked.example", "ｂｌｏｃｋｅｄ.example", "blocked.example。"],
)
def test_every_spelling_of_a_blocked_host_is_blocked(host: str) -> None:
    assert domain_matches(host, normalise_domain("blocked.example"))
    assert domain_matches(host, normalise_domain("Blocked.Example.:8443"))
    assert not domain_matches("notblocked.example", normalise_domain("blocked.example"))


def test_a_block_typed_with_a_port_is_stored_as_the_bare_name() -> None:
    assert normalise_domain("https://Bücher.Example.:8443/about") == "xn--bcher-kva.example"
    assert bare_host("x@Bücher.Example。:8443") == "xn--bcher-kva.example"
