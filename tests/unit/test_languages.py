"""Choosing the reader's language, and writing dates and language tags the way each side expects."""

from __future__ import annotations

from datetime import UTC, datetime
from gettext import NullTranslations

import pytest

from fedihub.i18n import dates
from fedihub.i18n.active import using
from fedihub.i18n.languages import negotiate, parse_accept_language
from fedihub.protocol.languages import build_language_maps, language_of, language_tag


@pytest.mark.parametrize(("cookie", "header", "default", "chosen"), [
    (None, "es-MX,es;q=0.9,en;q=0.8", "en", "es"),
    (None, "de-DE,fr;q=0.5,es;q=0.7", "en", "es"),  # by quality, not by order
    (None, "fr;q=0, es;q=0.1", "en", "es"),  # q=0 means "not this one"
    (None, "de, ja", "fr", "fr"),  # nothing we have: the instance's language
    (None, "", "en", "en"),
    ("fr", "es", "en", "fr"),  # the switcher's cookie wins
    ("xx", "es", "en", "es"),  # a cookie naming no language of ours is ignored
    (None, "es, " + "x" * 2000, "en", "es"),  # an oversized header is cut, not refused
    (None, "es;q=abc", "en", "en"),  # a malformed quality is not a yes
])
def test_negotiation(cookie: str | None, header: str, default: str, chosen: str) -> None:
    assert negotiate(cookie, header, default) == chosen


def test_accept_language_is_read_best_first() -> None:
    assert parse_accept_language("en;q=0.5, fr-CA, es;q=0.8") == ["fr-CA", "es", "en"]


def test_dates_read_as_each_language_writes_them() -> None:
    moment = datetime(2026, 3, 14, 11, 0, tzinfo=UTC)
    written = {}
    for code in ("en", "es", "fr"):
        with using(code, NullTranslations()):
            written[code] = (dates.long_date(moment), dates.month_badge(moment), dates.short_date(moment))
    assert written["en"] == ("Saturday 14 March 2026", "Mar", "14 Mar 2026")
    assert written["es"] == ("sábado, 14 de marzo de 2026", "mar", "14 mar 2026")
    assert written["fr"] == ("samedi 14 mars 2026", "mars", "14 mars 2026")


@pytest.mark.parametrize(("value", "tag"), [
    ("es", "es"), ("pt-BR", "pt-BR"), ("EN", "en"), ("und", None), ("", None), ("<b>", None),
    ("x" * 40, None), (7, None), ("es-" + "a" * 9, None),
])
def test_language_tags_from_peers(value: object, tag: str | None) -> None:
    assert language_tag(value) == tag


def test_the_language_of_a_document_and_the_maps_we_send() -> None:
    assert language_of({"contentMap": {"fr": "<p>x</p>"}, "inLanguage": "en"}) == "fr"
    assert language_of({"nameMap": {"und": "x", "de": "x"}}) == "de"
    assert language_of({"inLanguage": "und"}) is None
    assert language_of({"contentMap": "not a map"}) is None
    assert build_language_maps("es", name="Asamblea", content="") == {"nameMap": {"es": "Asamblea"}}
    assert build_language_maps(None, name="Rally") == {}
