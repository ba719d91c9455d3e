"""Movements as hashtags: how a movement is spelled, compared, read from a peer's `tag` and published.

A movement ("Black Lives Matter", "Tenants") travels as an ActivityStreams `Hashtag` whose `name` is
"#" plus the tag, on coalitions, hubs and calls (spec §1.7). The rules, one for every path:

- **Name**: what we store and show. Whitespace collapsed, any leading "#" dropped, at most
  ``MAX_MOVEMENT`` characters (without the "#"), at most ``MAX_MOVEMENTS`` per actor or call.
- **Hashtag**: :func:`hashtag_of`, what we publish and Mastodon links. Mastodon's tag names are runs of word
  characters with at least one letter (app/models/tag.rb HASHTAG_NAME_RE: ``[[:word:]]`` is letters,
  marks, decimal digits and connector punctuation such as "_"); so words are joined with a capital
  ("black lives matter" → "BlackLivesMatter"), readable and read out well by screen readers, and
  everything else separates words, except apostrophes, which are dropped ("don't" → "Dont").
  Mobilizon and Gancio send tags already in that shape ("#ActivityPub"), and Mastodon matches tags
  case-insensitively (app/lib/hashtag_normalizer.rb), so nothing a peer sends is lost by it. What an
  organizer types is stored in that shape too (:func:`hashtag_spelling`), keeping their case when it
  is one word already ("housing", "TransitNow"), so a stored movement is a tag as it stands.
- **Key**: :func:`movement_key`, how movements compare everywhere (directory index and filter, hub
  boost rules, roll-ups, map): the hashtag, casefolded. "#blacklivesmatter", "BlackLivesMatter" and
  "Black Lives Matter" are one movement, as they are one tag on Mastodon. For a name made only of
  word characters the key is just the casefolded name.

Limits: Mastodon sets no length on a tag; 64 characters (without "#") is the longer of the two limits
fedihub used to have (60 for profile tags, 64 for calls and for what it read from peers), so no call
or peer tag that was accepted before is cut now, and what one fedihub publishes another reads back whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from fedihub.protocol.reader import as_list

MAX_MOVEMENT = 64  # a movement's name or hashtag, without the "#"
MAX_MOVEMENTS = 20  # per coalition, hub or call
MAX_KEY = 100  # casefolding can lengthen a name ("ß" → "ss"); actor_movements.movement is String(100)

_APOSTROPHES = re.compile("['\u2019\u02bc]")


def _is_word_char(char: str) -> bool:
    # Ruby's (Onigmo's) [[:word:]], which Mastodon's tag pattern is built from; Python's \w lacks the
    # marks, so Devanagari or Thai tags would otherwise be cut at every vowel sign.
    category = unicodedata.category(char)
    return category[0] in "LM" or category in ("Nd", "Pc")


def movement_name(value: Any) -> str | None:
    """A movement as written: whitespace collapsed, leading "#" dropped; None if blank or not a string."""
    if not isinstance(value, str):
        return None
    return " ".join(value.split()).lstrip("#").strip() or None


def _words(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    for char in text:
        if _is_word_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _capitalised(word: str) -> str:
    first = word[0].upper()
    return (first if len(first) == 1 else word[0]) + word[1:]  # "ß".upper() is "SS": keep it as typed


def hashtag_of(text: str) -> str | None:
    """The hashtag (without "#") a movement becomes: "#food not bombs" → "FoodNotBombs",
    "solidarité" → "Solidarité", "Grève_générale" stays; None when it has no letter ("15", "!!!").

    Not cut to MAX_MOVEMENT: a form says when it is too long, a reader cuts the name it stores.
    """
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", text))
    # Normalised again: joining words can bring a letter and a mark together ("A ´" → "Á").
    tag = unicodedata.normalize("NFKC", "".join(_capitalised(word) for word in _words(text)))
    return tag if any(char.isalpha() for char in tag) else None


def hashtag_spelling(text: str) -> str | None:
    """A typed movement in a hashtag's shape, in the organizer's case when it is one word already:
    "housing" and "Grève_générale" stay, "food not bombs" → "FoodNotBombs"; None without a letter."""
    words = _words(_APOSTROPHES.sub("", unicodedata.normalize("NFKC", text)))
    if len(words) != 1:
        return hashtag_of(text)
    word = unicodedata.normalize("NFKC", words[0])
    return word if any(char.isalpha() for char in word) else None


def comparable(value: str) -> str:
    """A movement in the spelling movements compare in, before case is folded: its hashtag, or the
    collapsed name when it has no letter. Case folding is the caller's: Python compares casefolded
    (:func:`movement_key`); SQL can only lower() (feeds/queries.py)."""
    name = movement_name(value) or ""
    return hashtag_of(name) or name


def movement_key(value: str) -> str:
    """How movements compare: the hashtag, casefolded, at most MAX_KEY characters; "" for a blank."""
    return comparable(value).casefold()[:MAX_KEY]


def unique_movements(values: Iterable[Any] | None) -> list[str]:
    """The movement names among ``values``, each movement once in its first spelling; non-strings
    and blanks are skipped."""
    found: list[str] = []
    seen: set[str] = set()
    for value in values or ():
        name = movement_name(value)
        key = movement_key(name) if name else ""
        if key and key not in seen:
            seen.add(key)
            found.append(name or "")
    return found


def hashtag_names(doc: Mapping[str, Any]) -> list[str]:
    """The movements of a peer's document: the names of the Hashtags in its `tag`, without "#", each
    cut to MAX_MOVEMENT, each movement once in its first spelling, at most MAX_MOVEMENTS."""
    names = (
        (movement_name(tag.get("name")) or "")[:MAX_MOVEMENT].strip()
        for tag in as_list(doc.get("tag"))
        if isinstance(tag, Mapping) and tag.get("type") == "Hashtag"
    )
    return unique_movements(names)[:MAX_MOVEMENTS]


def build_hashtags(names: Iterable[str]) -> list[dict[str, str]]:
    """`tag` entries for movements: `{"type": "Hashtag", "name": "#Tenants"}`, each movement once."""
    return [{"type": "Hashtag", "name": f"#{name}"} for name in unique_movements(names)]
