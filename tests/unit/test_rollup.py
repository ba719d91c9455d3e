"""The roll-up: counts by region and movement, local actions in time order, "N of M happened"."""

from __future__ import annotations

from datetime import UTC, datetime

from fedihub.pledges.rollup import UNKNOWN_REGION, build_rollup
from fedihub.protocol.pledges import Carrier, LocalAction, PledgeItem, PledgingCoalition, Report

CALL = "https://a.example/o/call"


def _pledge(n: int, *, state: str | None = None, country: str | None = "US", movements: tuple[str, ...] = (),
            action_at: datetime | None = None, report: Report | None = None, vouched: bool = True) -> PledgeItem:
    action = LocalAction(uri=f"https://c{n}.example/o/1", name=f"Action {n}", start=action_at) if action_at else None
    return PledgeItem(
        uri=f"https://c{n}.example/a/{n}", call_uri=CALL,
        coalition=PledgingCoalition(uri=f"https://c{n}.example/g/c", name=f"Coalition {n}", state=state,
                                    country=country, movements=movements),
        action=action, report=report, vouched=vouched,
    )


def test_counts_group_by_state_then_country() -> None:
    rollup = build_rollup([
        _pledge(1, state="Illinois"), _pledge(2, state="Illinois"), _pledge(3, state="Ohio"),
        _pledge(4, country="Canada"), _pledge(5, country=None),
    ])
    assert rollup.pledged == 5
    assert rollup.by_region == [("Illinois, US", 2), ("Canada", 1), ("Ohio, US", 1), (UNKNOWN_REGION, 1)]


def test_movements_count_once_per_coalition_whatever_their_case() -> None:
    rollup = build_rollup([
        _pledge(1, movements=("Housing", "tenants")), _pledge(2, movements=("housing",)), _pledge(3),
    ])
    assert rollup.by_movement == [("Housing", 2), ("tenants", 1)]


def test_local_actions_are_listed_soonest_first() -> None:
    early, late = datetime(2030, 5, 1, 15, tzinfo=UTC), datetime(2030, 5, 1, 18, tzinfo=UTC)
    rollup = build_rollup([_pledge(1, action_at=late), _pledge(2), _pledge(3, action_at=early)])
    assert [item.action.name for item in rollup.actions] == ["Action 3", "Action 1"]  # type: ignore[union-attr]


def test_reports_give_n_of_m_and_the_turnout_of_what_happened() -> None:
    rollup = build_rollup([
        _pledge(1, report=Report(happened=True, turnout=120)),
        _pledge(2, report=Report(happened=True)),
        _pledge(3, report=Report(happened=False, turnout=999)),
        _pledge(4),
    ])
    assert (rollup.pledged, rollup.reported, rollup.happened, rollup.turnout) == (4, 3, 2, 120)


def test_carriers_are_sorted_by_name() -> None:
    rollup = build_rollup(
        [], [Carrier(uri="https://n.example/g/z", name="Zeta"), Carrier(uri="https://n.example/g/a", name="alpha")]
    )
    assert [c.name for c in rollup.carriers] == ["alpha", "Zeta"] and rollup.is_empty


def test_sixty_unvouched_pledges_leave_the_headline_alone() -> None:
    """The Sybil attack as the roll-up sees it: one vouched pledge, sixty unvouched ones in sixty regions
    each reporting ten million people."""
    sybils = [_pledge(n, state=f"Region {n}", report=Report(happened=True, turnout=10_000_000), vouched=False)
              for n in range(2, 62)]
    rollup = build_rollup([_pledge(1, state="Illinois"), *sybils])
    assert (rollup.pledged, rollup.by_region, rollup.unvouched) == (1, [("Illinois, US", 1)], 60)
    assert (rollup.reported, rollup.happened, rollup.turnout) == (0, 0, 0)
    assert rollup.actions == [] and [item.uri for item in rollup.pledges] == ["https://c1.example/a/1"]
    assert not rollup.is_empty and build_rollup(sybils[:1]).is_empty is False
