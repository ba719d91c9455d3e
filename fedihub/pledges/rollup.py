"""The roll-up of a call, as a pure function of its published pledges: the same input everywhere
gives the same numbers everywhere."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from fedihub.protocol.movements import movement_key
from fedihub.protocol.pledges import Carrier, PledgeItem

UNKNOWN_REGION = "Region not given"


@dataclass(frozen=True)
class Rollup:
    """The headline numbers count vouched pledges only; unvouched ones are listed and counted apart."""

    pledged: int
    by_region: list[tuple[str, int]]
    by_movement: list[tuple[str, int]]
    # Vouched pledges with a local action, soonest first (undated ones last).
    actions: list[PledgeItem]
    pledges: list[PledgeItem]
    carriers: list[Carrier]
    reported: int
    happened: int
    turnout: int
    unvouched_pledges: list[PledgeItem] = field(default_factory=list)

    @property
    def unvouched(self) -> int:
        return len(self.unvouched_pledges)

    @property
    def is_empty(self) -> bool:
        return self.pledged == 0 and self.unvouched == 0


def _region(item: PledgeItem) -> str:
    # A state/region is what a national day of action is counted by; a country when no state is given.
    coalition = item.coalition
    if coalition.state and coalition.country:
        return f"{coalition.state}, {coalition.country}"
    return coalition.state or coalition.country or UNKNOWN_REGION


def _ranked(counter: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda pair: (-pair[1], pair[0].casefold()))


def _action_order(item: PledgeItem) -> tuple[int, datetime | str, str]:
    action = item.action
    assert action is not None
    return (0, action.start, action.name) if action.start else (1, action.name, item.uri)


def _by_name(item: PledgeItem) -> tuple[str, str]:
    return ((item.coalition.name or item.coalition.uri).casefold(), item.uri)


def build_rollup(all_items: Sequence[PledgeItem], carriers: Sequence[Carrier] = ()) -> Rollup:
    """Counts, breakdowns and the local actions of a call's vouched pledges; the unvouched ones apart.

    "N of M local actions happened": every pledge is one local action (its own event, or taking
    part where the call happens), so M is the number of pledges and N those reported as happened.
    Only vouched pledges' reports count: an unvouched turnout is shown nowhere.
    """
    items = [item for item in all_items if item.vouched]
    by_movement: Counter[str] = Counter()
    for item in items:
        # One count per coalition and movement, however a movement is spelled or capitalised.
        by_movement.update({movement_key(movement): 1 for movement in item.coalition.movements})
    labels: dict[str, str] = {}
    for item in items:
        for movement in item.coalition.movements:
            labels.setdefault(movement_key(movement), movement)  # the first spelling seen names it
    reports = [item.report for item in items if item.report is not None]
    return Rollup(
        pledged=len(items),
        by_region=_ranked(Counter(_region(item) for item in items)),
        by_movement=[(labels[key], count) for key, count in _ranked(by_movement)],
        actions=sorted((item for item in items if item.action is not None), key=_action_order),
        pledges=sorted(items, key=_by_name),
        carriers=sorted(carriers, key=lambda c: ((c.name or c.uri).casefold(), c.uri)),
        reported=len(reports),
        happened=sum(1 for report in reports if report.happened),
        turnout=sum(report.turnout or 0 for report in reports if report.happened),
        unvouched_pledges=sorted((item for item in all_items if not item.vouched), key=_by_name),
    )
