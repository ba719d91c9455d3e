"""Movements as organizers choose them: the suggested list, free tags, and the words a form shows.

The spelling rules themselves (hashtag form, comparison, limits) are protocol/movements.py's; this
module adds what belongs to the product: the movements the issue names, each stored in one spelling
whatever way it was typed, and the errors an organizer sees. Every form and command that takes
movements (coalition profile, hub rules, calls, CSV import) goes through :func:`normalise_tag`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from fedihub.coalitions.movement_list import DEFAULT_MOVEMENTS, MovementChoice, active_movements
from fedihub.errors import InvalidInput
from fedihub.i18n.active import gettext
from fedihub.protocol.movements import (
    MAX_MOVEMENT,
    MAX_MOVEMENTS,
    hashtag_spelling,
    movement_key,
    movement_name,
)

# Kept for callers that want the built-in defaults; forms use the admin's list (active_movements()).
SUGGESTED_MOVEMENTS: tuple[MovementChoice, ...] = DEFAULT_MOVEMENTS
Movement = MovementChoice


def suggested(tag: str) -> MovementChoice | None:
    """The suggested movement ``tag`` names, however it is spelled ("climate" too), in the active list."""
    return active_movements().suggested(tag)


def movement_label(tag: str) -> str:
    """How a movement reads on a page: its label in the reader's language, or the free tag as a hashtag."""
    known = suggested(tag)
    return known.label if known else f"#{tag}"


def normalise_tag(text: str, field: str = "tags", *, suggest: bool = True) -> str | None:
    """A typed movement in a hashtag's shape (protocol/movements.py hashtag_spelling); None for a blank.

    With ``suggest``, a tag naming a suggested movement comes back in that movement's spelling, so
    each movement is stored once (forms that list them). InvalidInput (naming ``field``) when it has
    no letter or is too long.
    """
    name = movement_name(text)
    if name is None:
        return None
    tag = hashtag_spelling(name)
    if tag is None:
        raise InvalidInput(
            gettext("%(name)s needs at least one letter to become a hashtag", name=repr(name)), field=field,
        )
    if len(tag) > MAX_MOVEMENT:
        raise InvalidInput(
            gettext("a movement or tag has at most %(limit)s characters", limit=MAX_MOVEMENT), field=field,
        )
    known = suggested(tag) if suggest else None
    return known.tag if known else tag


def normalise_movements(values: Iterable[str], field: str = "tags", *, suggest: bool = True) -> list[str]:
    """Typed movements as tags, each movement once, in the order given; at most MAX_MOVEMENTS."""
    result: list[str] = []
    seen: set[str] = set()
    for value in values:
        tag = normalise_tag(value, field, suggest=suggest)
        if tag is not None and movement_key(tag) not in seen:
            seen.add(movement_key(tag))
            result.append(tag)
    if len(result) > MAX_MOVEMENTS:
        raise InvalidInput(
            gettext("choose at most %(limit)s movements and tags in all", limit=MAX_MOVEMENTS), field=field,
        )
    return result


def split_tags(text: str) -> list[str]:
    """The free tags of a text box: separated by commas, semicolons or lines."""
    return re.split(r"[,\n;]", text or "")


def parse_movements(selected: Sequence[str], tags_text: str) -> list[str]:
    """Ticked suggested movements plus free tags, deduplicated, in that order (profile and hub forms)."""
    ticked = []
    for value in selected:
        known = suggested(value.strip())
        if known is None:
            raise InvalidInput(
                gettext("%(value)s is not one of the listed movements", value=repr(value)), field="movements",
            )
        ticked.append(known.tag)
    return normalise_movements([*ticked, *split_tags(tags_text)], field="tags")


def movement_form_values(tags: Iterable[str]) -> dict[str, str | list[str]]:
    """A form's fields for stored movements: the suggested ones as ticked boxes, the others as free text."""
    tags = list(tags)
    return {
        "movements": [known.tag for tag in tags if (known := suggested(tag))],
        "tags": ", ".join(tag for tag in tags if suggested(tag) is None),
    }
