"""Jinja2's i18n extension wired to the active language, for the web pages and the letters alike."""

from __future__ import annotations

from jinja2 import Environment

from fedihub.i18n import active, dates
from fedihub.i18n.languages import choices


def install_i18n(env: Environment) -> None:
    """`{% trans %}`, `_()` and `ngettext()` in ``env`` translate into the active language.

    New-style gettext: `_("Hello %(name)s", name=x)` escapes ``x`` under autoescape and formats
    after translating, so a translation may move the placeholder.
    """
    env.add_extension("jinja2.ext.i18n")
    # Line breaks inside {% trans %} are layout, not text: one msgid per sentence (babel.cfg agrees).
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_callables(active.translate, active.translate_plural, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(current_language=active.language, language_choices=lambda: choices(active.language()))
    # Dates in lists, in the reader's language: `{{ moment | date_time }}` "14 mars 2026, 18:00".
    env.filters.update(long_date=dates.long_date, date_time=dates.date_time, short_date=dates.short_date)
