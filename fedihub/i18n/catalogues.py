"""The message catalogues (fedihub/locale/<lang>/LC_MESSAGES/messages.po), compiled in memory on first use.

The .po files are the only form kept: compiling them in the running process means an installed wheel
needs nothing but the .po files (package-data), and there is no .mo to forget to rebuild.
"""

from __future__ import annotations

import functools
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from fedihub.i18n.languages import LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"


def po_path(language: str, locale_dir: Path = LOCALE_DIR) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.lru_cache(maxsize=16)
def _compiled(path: Path, modified_ns: int) -> bytes:
    # Reading and compiling a .po costs about 0.1 s, and a process builds several apps, runtimes and
    # letters (the test suite thousands): the bytes of a file as it is now are compiled once. Each caller
    # still gets translations objects of its own. Babel is imported here: most commands translate nothing.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalogue = read_po(handle, locale=path.parents[1].name)
    compiled = BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    return compiled.getvalue()


def compile_catalogue(path: Path) -> NullTranslations:
    """A .po file as a gettext translations object; fuzzy entries are left out, as msgfmt does."""
    from babel.support import Translations

    return Translations(BytesIO(_compiled(path, path.stat().st_mtime_ns)), domain=DOMAIN)


class Catalogues:
    """Every language's translations (English needs none), each compiled the first time it is asked for.

    Every runtime holds one, and most commands never write a translated text: compiling every
    catalogue up front cost each of them about 40 ms, and the import of Babel.
    """

    def __init__(self, locale_dir: Path = LOCALE_DIR) -> None:
        self.locale_dir = locale_dir
        self._by_language: dict[str, NullTranslations] = {}

    def get(self, language: str) -> NullTranslations:
        if language not in LANGUAGES:
            return NullTranslations()
        found = self._by_language.get(language)
        if found is None:
            path = po_path(language, self.locale_dir)
            found = self._by_language[language] = compile_catalogue(path) if path.exists() else NullTranslations()
        return found
