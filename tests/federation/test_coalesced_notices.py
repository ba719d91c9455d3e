"""Pledge notices as the servers showing a call see them: an older notice arriving after a newer one
changes nothing, and a burst of pledges costs the call's audience one notice per minute, not one each."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from fedihub.coalitions import calls, service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.pledges.queries import rollup_of
from fedihub.pledges.rollup import Rollup
from fedihub.storage.models import Activity, Delivery, Pledge, StoredObject
from tests.support.edges import committed
from tests.support.network import Clock, FederationNet, Instance

MINUTE = 60  # the production window: at most one notice per call per minute
AUDIENCE = ("c.test", "d.test", "e.test")


def _call(net: FederationNet) -> calls.CallInput:
    start = net.clock() + timedelta(days=10)
    return calls.CallInput(
        title="National day of action for rent control", description="Rallies everywhere.", start=start,
        end=start + timedelta(hours=2), timezone="America/Chicago", place_name="City Hall",
    )


async def _rollup(instance: Instance, call_uri: str) -> Rollup:
    async with instance.ctx.sessions() as session:
        call = await session.scalar(select(StoredObject).where(StoredObject.uri == call_uri))
        assert call is not None, instance.base_url
        return await rollup_of(session, call)


async def _origin_and_audience(net: FederationNet, hosts: tuple[str, ...]) -> tuple[Instance, list[Instance]]:
    """a.test calls (with the production window); a coalition on each of ``hosts`` follows the caller."""
    net.clock = Clock(datetime.now(UTC))  # time moves only when the test moves it
    a = await net.add_instance("a.test", pledge_notice_window_seconds=MINUTE)
    await committed(a.ctx, service.create_coalition, "tenants", name="Chicago Tenants")
    audience = []
    for host in hosts:
        instance = await net.add_instance(host)
        await committed(instance.ctx, service.create_coalition, "watchers", name=f"Watchers of {host}")
        await committed(instance.ctx, follows.follow, "watchers", await resolve_target(instance.ctx, "tenants@a.test"))
        audience.append(instance)
    await net.settle()
    return a, audience


class AddFirstRefused(httpx.AsyncBaseTransport):
    """A server that is briefly overloaded when the first pledge Add reaches it: 503, retry in two minutes."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.adds: list[int] = []  # the status each Add delivery got

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("inbox"):
            body = json.loads(await request.aread())
            if body.get("type") == "Add":
                if not self.adds:
                    self.adds.append(503)
                    return httpx.Response(503, headers={"Retry-After": "120"})
                response = await self.inner.handle_async_request(request)
                self.adds.append(response.status_code)
                return response
        return await self.inner.handle_async_request(request)


@pytest.mark.all_backends
async def test_an_add_arriving_after_the_remove_that_followed_it_does_not_bring_the_pledge_back(
    net: FederationNet,
) -> None:
    a, [c] = await _origin_and_audience(net, ("c.test",))
    await committed(a.ctx, service.create_coalition, "renters", name="Springfield Renters")
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    flaky = AddFirstRefused(net.hosts["c.test"])
    net.hosts["c.test"] = flaky

    # Springfield pledges: the Add to c is refused for now, and retried in two minutes...
    await committed(a.ctx, pledges.pledge, "renters", await get_call_target(a.ctx, call.uri))
    await net.settle()
    assert flaky.adds == [503]
    # ...a minute later Springfield withdraws, and c gets that Remove at once...
    net.clock.advance(seconds=MINUTE + 1)
    await committed(a.ctx, pledges.withdraw, "renters", call.uri)
    await net.settle()
    # ...and only then the older Add.
    net.clock.advance(seconds=MINUTE)
    await net.settle()
    assert flaky.adds == [503, 202]

    # Two minutes in all: no stale sweep (ten minutes) has re-read the list. The pledge stays withdrawn.
    rollup = await _rollup(c, call.uri)
    assert (rollup.pledged, rollup.unvouched) == (0, 0)
    async with c.ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Pledge)) == 0


async def _notice_deliveries(origin: Instance) -> int:
    """Deliveries of Add, Remove and Update notices the origin queued (the call itself is never updated)."""
    async with origin.ctx.sessions() as session:
        return int(
            await session.scalar(
                select(func.count(Delivery.id)).join(Activity, Activity.id == Delivery.activity_id)
                .where(Activity.type.in_(("Add", "Remove", "Update")))
            ) or 0
        )


@pytest.mark.all_backends
async def test_thirty_pledges_in_a_burst_cost_the_audience_two_notices_and_every_copy_gets_all_thirty(
    net: FederationNet,
) -> None:
    a, audience = await _origin_and_audience(net, AUDIENCE)
    call = await committed(a.ctx, calls.publish_call, "tenants", _call(net))
    await net.settle()
    target = await get_call_target(a.ctx, call.uri)
    for number in range(30):
        await committed(a.ctx, service.create_coalition, f"local{number}", name=f"Local {number}")
        await committed(a.ctx, pledges.pledge, f"local{number}", target)
    await net.settle()
    # The first pledge went out at once; the other 29 wait for the minute to end.
    assert await _notice_deliveries(a) == len(AUDIENCE)
    assert [(await _rollup(copy, call.uri)).pledged for copy in audience] == [1, 1, 1]
    # The call's own Event document counts all thirty at once (Mobilizon's participantCount).
    async with a.ctx.sessions() as session:
        served = await session.get(StoredObject, call.id)
        assert served is not None and served.data["participantCount"] == 30

    net.clock.advance(seconds=MINUTE)
    await net.settle()
    # One summary for the 29 others: each copy sees versions skipped and reads the list again.
    sent = await _notice_deliveries(a)
    assert sent == 2 * len(AUDIENCE)  # one notice per change would have been 30 × 3 = 90
    assert [(await _rollup(copy, call.uri)).pledged for copy in audience] == [30, 30, 30]
    assert (await _rollup(a, call.uri)).pledged == 30
