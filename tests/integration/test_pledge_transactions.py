"""A pledge is one transaction: the check for an earlier pledge, the local action's Event and the Join
are written together or not at all, and two pledges of the same coalition cannot both get through."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from fedihub.coalitions import calls, service
from fedihub.errors import Conflict
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import CallTarget, get_call_target
from fedihub.storage.models import Activity, Delivery, Pledge, StoredObject
from tests.integration.helpers import count_rows
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance

# Row locks, unique keys and rolled-back transactions behave differently on each database.
pytestmark = pytest.mark.all_backends


async def _call_on_another_server(net: FederationNet) -> tuple[Instance, Instance, CallTarget]:
    """Server a publishes a call; server b, where the coalition `renters` lives, has read it."""
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    await committed(b.ctx, service.create_coalition, "renters", name="Springfield Renters")
    start = net.clock() + timedelta(days=10)
    call = await committed(a.ctx, calls.publish_call, "tenants", calls.CallInput(
        title="Day of action for rent control", description="", start=start, end=start + timedelta(hours=3),
        timezone="America/Chicago", place_name="City hall",
    ))
    await net.settle()
    return a, b, await get_call_target(b.ctx, call.uri)


def _local_action(net: FederationNet) -> pledges.LocalActionInput:
    return pledges.LocalActionInput(title="Springfield rally", start=net.clock() + timedelta(days=10, hours=1),
                                    timezone="America/Chicago", place="Springfield capitol")


async def _written(instance: Instance) -> dict[str, int]:
    """What a pledge writes on the pledging server: its Event, the activities, their deliveries, the pledge."""
    return {
        "events": await count_rows(instance, StoredObject, StoredObject.is_local.is_(True)),
        "activities": await count_rows(instance, Activity),
        "deliveries": await count_rows(instance, Delivery),
        "pledges": await count_rows(instance, Pledge),
    }


async def test_a_pledge_failing_after_its_local_action_leaves_neither_the_event_nor_a_delivery(
    net: FederationNet, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, target = await _call_on_another_server(net)
    before = await _written(b)

    def no_join(**kwargs: Any) -> dict:
        raise RuntimeError("the server stopped before the Join was published")

    # The local action's Event and its Create are written by now; the Join is built next.
    monkeypatch.setattr(pledges, "build_join", no_join)
    with pytest.raises(RuntimeError, match="before the Join"):
        await committed(b.ctx, pledges.pledge, "renters", target, action=_local_action(net))

    assert await _written(b) == before
    await net.settle()
    assert await count_rows(a, Pledge) == 0

    monkeypatch.undo()  # the organizer tries again: one Event, one pledge, nothing left over from the first try
    row = await committed(b.ctx, pledges.pledge, "renters", target, action=_local_action(net))
    assert await _written(b) == {
        "events": before["events"] + 1, "activities": before["activities"] + 2,  # Create(Event) and Join
        "deliveries": before["deliveries"] + 2, "pledges": 1,
    }
    await net.settle()
    assert row.action_uri is not None
    assert await count_rows(a, Pledge, Pledge.state == "accepted", Pledge.action_uri == row.action_uri) == 1


async def test_a_check_that_missed_an_earlier_pledge_still_meets_the_unique_key(
    net: FederationNet, monkeypatch: pytest.MonkeyPatch
) -> None:
    _a, b, target = await _call_on_another_server(net)
    await committed(b.ctx, pledges.pledge, "renters", target, message="We will be there")
    after_first = await _written(b)

    async def check_ran_before_the_other_commit(*args: Any, **kwargs: Any) -> None:
        return None  # as if the first pledge committed just after this transaction looked

    monkeypatch.setattr(pledges, "find_pledge", check_ran_before_the_other_commit)
    with pytest.raises(Conflict, match="renters has already pledged to this call"):
        await committed(b.ctx, pledges.pledge, "renters", target, action=_local_action(net))

    assert await _written(b) == after_first  # no second Event, Join, delivery or pledge


async def test_two_pledges_at_once_make_one_pledge_and_one_conflict(net: FederationNet) -> None:
    a, b, target = await _call_on_another_server(net)
    before = await _written(b)

    results = await asyncio.gather(
        committed(b.ctx, pledges.pledge, "renters", target, action=_local_action(net)),
        committed(b.ctx, pledges.pledge, "renters", target, action=_local_action(net)),
        return_exceptions=True,
    )

    assert sorted(type(result).__name__ for result in results) == ["Conflict", "Pledge"]
    assert await _written(b) == {
        "events": before["events"] + 1, "activities": before["activities"] + 2,
        "deliveries": before["deliveries"] + 2, "pledges": 1,
    }
    await net.settle()
    assert await count_rows(a, Pledge, Pledge.state == "accepted") == 1
