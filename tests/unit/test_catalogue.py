"""Every text the interface shows is in the Spanish and French catalogues, translated.

The texts are extracted here with Babel and babel.cfg, exactly as `make messages` does, so a template
string added without a translation fails this test with the entries to add.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from fedihub.i18n.catalogues import Catalogues, po_path

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = ("es", "fr")


def _extracted() -> dict[str, str | tuple[str, ...]]:
    """msgid (or the singular of a plural) → the message as extracted, from fedihub/ by babel.cfg."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, str | tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, strip_comment_tags=True
    ):
        key = message if isinstance(message, str) else message[0]
        if key:
            found[key] = message
    return found


def _entry(message: str | tuple[str, ...]) -> str:
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    if isinstance(message, str):
        return f"msgid {quoted(message)}\nmsgstr \"\""
    return f"msgid {quoted(message[0])}\nmsgid_plural {quoted(message[1])}\nmsgstr[0] \"\"\nmsgstr[1] \"\""


def test_extraction_finds_the_interface() -> None:
    found = _extracted()
    assert "Skip to content" in found and "Call to action" in found, "babel.cfg reaches templates and Python"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_text_is_translated(language: str) -> None:
    with po_path(language).open("rb") as handle:
        catalogue = read_po(handle, locale=language)
    missing = []
    for key, message in sorted(_extracted().items()):
        entry = catalogue.get(key)
        strings = (entry.string,) if entry is not None and isinstance(entry.string, str) else (
            tuple(entry.string) if entry is not None else ()
        )
        if entry is None or entry.fuzzy or not strings or not all(strings):
            missing.append(_entry(message))
    assert not missing, (
        f"{len(missing)} interface texts are missing or untranslated in {po_path(language).relative_to(ROOT)}; "
        "run `make messages` and translate these entries:\n\n" + "\n\n".join(missing)
    )


def test_catalogues_compile_and_translate() -> None:
    catalogues = Catalogues()
    assert catalogues.get("es").gettext("Skip to content") != "Skip to content"
    assert catalogues.get("fr").gettext("Skip to content") != "Skip to content"
    assert catalogues.get("en").gettext("Skip to content") == "Skip to content"
