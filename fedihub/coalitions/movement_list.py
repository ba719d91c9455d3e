"""The suggested movements an instance offers, with a label per language, edited by its admin.

Stored in `suggested_movements` (migration 0021 seeds DEFAULT_MOVEMENTS); a request works with the
list it loaded (:func:`using_movements`), so the sync helpers of coalitions/movements.py and the
`movement` template filter see the admin's current list. Outside a request (CLI, worker) the
defaults apply. A tag that is not suggested stays a free tag: FightFor15 shows as #FightFor15.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput, NotFound
from fedihub.i18n.active import gettext, language
from fedihub.i18n.languages import DEFAULT_LANGUAGE, LANGUAGES
from fedihub.protocol.movements import MAX_MOVEMENT, hashtag_spelling, movement_key
from fedihub.storage.models import SuggestedMovement

MAX_LABEL = 80
MAX_SUGGESTED = 40  # a form of checkboxes stays readable


@dataclass(frozen=True)
class MovementChoice:
    tag: str  # the hashtag without "#", in the case we publish it
    labels: Mapping[str, str] = field(default_factory=dict)  # language → label

    @property
    def label(self) -> str:
        """The label in the active language, else in English, else the tag."""
        return self.labels.get(language()) or self.labels.get(DEFAULT_LANGUAGE) or self.tag


# Broad movements that exist in every country, so a new instance anywhere starts with sensible choices.
DEFAULT_MOVEMENTS: tuple[MovementChoice, ...] = tuple(
    MovementChoice(tag, dict(zip(LANGUAGES, labels, strict=True))) for tag, labels in (
        ("Tenants", ("Housing and tenants", "Vivienda e inquilinos", "Logement et locataires")),
        ("Labour", ("Labour and workers' rights", "Trabajo y derechos laborales", "Travail et droits des salariés")),
        ("Climate", ("Climate justice", "Justicia climática", "Justice climatique")),
        ("AntiRacism", ("Anti-racism", "Antirracismo", "Antiracisme")),
        ("AntiAusterity", ("Anti-austerity", "Contra la austeridad", "Anti-austérité")),
        ("Feminism", ("Feminism", "Feminismo", "Féminisme")),
        ("ImmigrantRights", ("Migrants' rights", "Derechos de las personas migrantes",
                             "Droits des personnes migrantes")),
        ("SolidarityNetwork", ("Solidarity and mutual aid", "Solidaridad y apoyo mutuo", "Solidarité et entraide")),
        ("LGBTQ", ("LGBTQ+ rights", "Derechos LGBTQ+", "Droits LGBTQ+")),
        ("Peace", ("Peace and anti-war", "Paz y antimilitarismo", "Paix et antimilitarisme")),
    )
)


class MovementList:
    """One loaded list: the choices in order, found by any spelling of their tag."""

    def __init__(self, choices: Sequence[MovementChoice]) -> None:
        self.choices = tuple(choices)
        self._by_key = {movement_key(choice.tag): choice for choice in self.choices}

    def suggested(self, tag: str) -> MovementChoice | None:
        return self._by_key.get(movement_key(tag))


_DEFAULT_LIST = MovementList(DEFAULT_MOVEMENTS)
_active: ContextVar[MovementList | None] = ContextVar("fedihub_movements", default=None)


@contextmanager
def using_movements(movements: MovementList) -> Iterator[None]:
    token = _active.set(movements)
    try:
        yield
    finally:
        _active.reset(token)


def active_movements() -> MovementList:
    """The list the current request loaded (the defaults outside one)."""
    return _active.get() or _DEFAULT_LIST


async def load_movements(session: AsyncSession) -> MovementList:
    rows = await session.scalars(select(SuggestedMovement).order_by(SuggestedMovement.position, SuggestedMovement.id))
    return MovementList([MovementChoice(row.tag, dict(row.labels or {})) for row in rows])


def _clean_labels(labels: Mapping[str, str]) -> dict[str, str]:
    cleaned = {code: " ".join((labels.get(code) or "").split()) for code in LANGUAGES}
    if not cleaned[DEFAULT_LANGUAGE]:
        raise InvalidInput(gettext("give the movement a label in English at least"), field="label_en")
    for code, text in cleaned.items():
        if len(text) > MAX_LABEL:
            raise InvalidInput(
                gettext("a label has at most %(limit)s characters", limit=MAX_LABEL), field=f"label_{code}",
            )
    return {code: text for code, text in cleaned.items() if text}


def _clean_tag(text: str) -> str:
    tag = hashtag_spelling(" ".join((text or "").split()).lstrip("#"))
    if tag is None:
        raise InvalidInput(
            gettext("the hashtag needs at least one letter, like Tenants or ClimateJustice"), field="tag"
        )
    if len(tag) > MAX_MOVEMENT:
        raise InvalidInput(gettext("a hashtag has at most %(limit)s characters", limit=MAX_MOVEMENT), field="tag")
    return tag


async def save_movement(
    session: AsyncSession, tag: str, labels: Mapping[str, str], *, replacing: str | None = None
) -> SuggestedMovement:
    """Add a suggested movement, or change one (``replacing`` its old tag); the caller commits.

    Coalitions and calls keep the tags they have: renaming a suggestion's tag makes the old tag a
    free one, shown as #OldTag.
    """
    clean_tag, clean_labels = _clean_tag(tag), _clean_labels(labels)
    rows = list(await session.scalars(select(SuggestedMovement)))
    by_key = {movement_key(row.tag): row for row in rows}
    row = by_key.get(movement_key(replacing)) if replacing else None
    if replacing and row is None:
        raise NotFound(gettext("#%(tag)s is not a suggested movement here", tag=replacing))
    other = by_key.get(movement_key(clean_tag))
    if other is not None and other is not row:
        raise InvalidInput(
            gettext("#%(tag)s is already suggested; change that one instead", tag=other.tag), field="tag",
        )
    if row is None:
        if len(rows) >= MAX_SUGGESTED:
            raise InvalidInput(
                gettext("suggest at most %(limit)s movements; remove one first", limit=MAX_SUGGESTED), field="tag"
            )
        row = SuggestedMovement(tag=clean_tag, position=max((r.position for r in rows), default=0) + 1, labels={})
        session.add(row)
    row.tag, row.labels = clean_tag, clean_labels
    return row


async def remove_movement(session: AsyncSession, tag: str) -> None:
    """Stop suggesting ``tag``; coalitions and calls that have it keep it as a free tag."""
    result = await session.execute(delete(SuggestedMovement).where(SuggestedMovement.tag == tag))
    if not getattr(result, "rowcount", 0):
        raise NotFound(gettext("#%(tag)s is not a suggested movement here", tag=tag))
