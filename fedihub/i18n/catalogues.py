"""The message catalogues (fedihub/locale/<lang>/LC_MESSAGES/messages.po), compiled in memory at start.

The .po files are the only form kept: compiling them when the app is built means an installed wheel
needs nothing but the .po files (package-data), and there is no .mo to forget to rebuild.
"""

from __future__ import annotations

from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from fedihub.i18n.languages import LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"


def po_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogue(path: Path) -> NullTranslations:
    """A .po file as a gettext translations object; fuzzy entries are left out, as msgfmt does."""
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=path.parents[1].name)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


class Catalogues:
    """Every language's translations, built once in the composition root (English needs none)."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._by_language: dict[str, NullTranslations] = {}
        for language in LANGUAGES:
            path = po_path(language, locale_dir)
            self._by_language[language] = compile_catalogue(path) if path.exists() else NullTranslations()

    def get(self, language: str) -> NullTranslations:
        return self._by_language.get(language) or NullTranslations()
