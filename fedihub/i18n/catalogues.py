"""The message catalogues (fedihub/locale/<lang>/LC_MESSAGES/messages.po), compiled in memory at start.

The .po files are the only form kept: compiling them when the app is built means an installed wheel
needs nothing but the .po files (package-data), and there is no .mo to forget to rebuild.
"""

from __future__ import annotations

import functools
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


@functools.lru_cache(maxsize=16)
def _compiled(path: Path, modified_ns: int) -> bytes:
    # Reading and compiling a .po costs about 0.1 s, and a process builds several apps, runtimes and
    # letters (the test suite thousands): the bytes of a file as it is now are compiled once. Each caller
    # still gets translations objects of its own.
    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=path.parents[1].name)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    return compiled.getvalue()


def compile_catalogue(path: Path) -> NullTranslations:
    """A .po file as a gettext translations object; fuzzy entries are left out, as msgfmt does."""
    return Translations(BytesIO(_compiled(path, path.stat().st_mtime_ns)), domain=DOMAIN)


class Catalogues:
    """Every language's translations, built once in the composition root (English needs none)."""

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self._by_language: dict[str, NullTranslations] = {}
        for language in LANGUAGES:
            path = po_path(language, locale_dir)
            self._by_language[language] = compile_catalogue(path) if path.exists() else NullTranslations()

    def get(self, language: str) -> NullTranslations:
        return self._by_language.get(language) or NullTranslations()
