"""Which interface languages exist and which one a request gets (cookie, then Accept-Language)."""

from __future__ import annotations

from collections.abc import Iterable

# English first: it is the fallback when nothing a reader asks for matches.
LANGUAGES: tuple[str, ...] = ("en", "es", "fr")
# Each language named in itself, as the switcher shows it.
NATIVE_NAMES: dict[str, str] = {"en": "English", "es": "Español", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
COOKIE = "fedihub_lang"
MAX_HEADER = 500  # an Accept-Language longer than this is cut: no browser sends one


def known_language(value: str | None) -> str | None:
    """One of LANGUAGES for a tag such as "es-MX" or "FR", else None."""
    if not value:
        return None
    primary = value.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else None


def parse_accept_language(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, best first (RFC 9110 §12.5.4); q=0 means "not this"."""
    weighted: list[tuple[float, int, str]] = []
    for index, item in enumerate((header or "")[:MAX_HEADER].split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag.strip() and quality > 0:
            weighted.append((-quality, index, tag.strip()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(cookie: str | None, accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The reader's language: the switcher's cookie wins, then the browser's list, then ``default``."""
    chosen = known_language(cookie)
    if chosen:
        return chosen
    for tag in parse_accept_language(accept_language):
        found = known_language(tag)
        if found:
            return found
    return known_language(default) or DEFAULT_LANGUAGE


def choices(current: str, others: Iterable[str] = LANGUAGES) -> list[tuple[str, str, bool]]:
    """(code, native name, is current) for the switcher."""
    return [(code, NATIVE_NAMES[code], code == current) for code in others]
