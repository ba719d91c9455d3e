"""The language of the text being written now, and gettext for Python code and templates.

A request (fedihub/i18n/middleware.py) or a letter being rendered for one recipient activates a
language; everything below it (templates, views, error pages) translates through it. A context
variable, not a global: concurrent requests each see their own, and nothing is set at import.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from gettext import NullTranslations

from fedihub.i18n.languages import DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Active:
    language: str
    translations: NullTranslations


_ENGLISH = Active(DEFAULT_LANGUAGE, NullTranslations())
_active: ContextVar[Active] = ContextVar("fedihub_language", default=_ENGLISH)


@contextmanager
def using(language: str, translations: NullTranslations) -> Iterator[None]:
    """Write in ``language`` inside the block."""
    token = _active.set(Active(language, translations))
    try:
        yield
    finally:
        _active.reset(token)


def language() -> str:
    """The active language code ("en", "es", "fr")."""
    return _active.get().language


def translate(message: str) -> str:
    """``message`` in the active language, placeholders left as they are."""
    return _active.get().translations.gettext(message)


def translate_plural(singular: str, plural: str, n: int) -> str:
    """The form of a counted message for ``n``, placeholders left as they are."""
    return _active.get().translations.ngettext(singular, plural, n)


def gettext(message: str, **variables: object) -> str:
    """``message`` in the active language; ``%(name)s`` placeholders filled from ``variables``."""
    text = translate(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    """The singular or plural form for ``n`` in the active language; ``%(num)d`` is ``n``."""
    return translate_plural(singular, plural, n) % {"num": n, **variables}


def N_(message: str) -> str:  # noqa: N802 - the name xgettext and Babel look for
    """Mark a constant for extraction; it is translated where it is shown (gettext)."""
    return message
