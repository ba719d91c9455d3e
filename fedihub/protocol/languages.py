"""The language of a peer's text and of ours: `contentMap`/`nameMap` keys and Mobilizon's `inLanguage`.

ActivityStreams 2.0 §4.7 (natural language values): a `…Map` property maps BCP 47 language tags to
the text in that language. Mastodon sends `contentMap` on every Note ({"en": "<p>…</p>"}) and reads
the first `nameMap`/`summaryMap` value where the plain property is missing (spec §1.7, §1.8).
Mobilizon sends no maps but schema.org's `inLanguage` on Events (framasoft/mobilizon
converter/event.ex; fixture mobilizon/event.json), and "und" (undetermined) where it does not know.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# BCP 47, as far as a reader needs it: a 2–3 letter language, then short subtags ("pt-BR", "zh-Hant").
_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,3}$")
MAX_TAG = 35
_NATURAL = ("content", "name", "summary")


def language_tag(value: Any) -> str | None:
    """A well-formed language tag, its language lower-cased ("es-MX"); None for "und" or anything else."""
    if not isinstance(value, str) or len(value) > MAX_TAG or not _TAG.match(value.strip()):
        return None
    language, _, rest = value.strip().partition("-")
    if language.lower() == "und":
        return None
    return language.lower() + (f"-{rest}" if rest else "")


def language_of(doc: Mapping[str, Any]) -> str | None:
    """The language a peer says its object is written in: the first tag of `contentMap`, `nameMap` or
    `summaryMap` (Mastodon, WordPress, fedihub), else Mobilizon's `inLanguage`; None when unsaid."""
    for key in _NATURAL:
        mapped = doc.get(f"{key}Map")
        if isinstance(mapped, Mapping):
            for tag in mapped:
                found = language_tag(tag)
                if found:
                    return found
    return language_tag(doc.get("inLanguage"))


def build_language_maps(language: str | None, **texts: str | None) -> dict[str, dict[str, str]]:
    """`contentMap`, `nameMap`… for the given texts in ``language`` (nothing without a language)."""
    tag = language_tag(language)
    if tag is None:
        return {}
    return {f"{key}Map": {tag: text} for key, text in texts.items() if text}
