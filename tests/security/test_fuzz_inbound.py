"""Property-based fuzzing of the inbox: random activity shapes and signature headers from a signed peer.

A quick, deterministic sample of the cases bench/fuzz.py runs by the ten thousand: whatever a peer
sends, the inbox answers a 4xx or 202, the worker classifies every failure (no traceback, no retry of a
permanent one) and drains the queue.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fedihub.errors import MalformedActivity, PayloadTooLarge
from fedihub.federation.inbox import parse_activity_body
from fedihub.protocol.reader import read_activity, read_object
from tests.support.fake_peer import FakePeer
from tests.support.fuzzing import World, activities, cases, prepare_world, run_cases, sample, to_json
from tests.support.network import FederationNet, Instance

WORLD = World(actor="http://masto.test/users/alice",
              local=("http://a.test/coalitions/tenants", "http://a.test/coalitions/tenants/followers"))


@settings(max_examples=100, derandomize=True, database=None, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(activities(WORLD), st.sampled_from((None, "application/activity+json", "application/json")))
def test_any_activity_shape_is_read_or_refused_as_malformed(activity: dict, content_type: str | None) -> None:
    try:
        view = parse_activity_body(to_json(activity), content_type)
    except (MalformedActivity, PayloadTooLarge):
        return  # refused with a 4xx: a body over the size limit is refused before it is read
    assert isinstance(view.type, str) and isinstance(view.actor, str)
    if view.object is not None:
        try:
            read_object(view.object)
        except MalformedActivity:
            pass
    read_activity(view.raw)


async def test_a_hostile_peer_fuzzing_the_inbox_gets_no_5xx_and_leaves_no_unclassified_error(
    net: FederationNet, a: Instance, peer: FakePeer
) -> None:
    world, server = await prepare_world(net, a, peer)
    drawn = sample(cases(world), 80)

    report = await run_cases(net, a, peer, drawn, server)

    assert report.cases == 80
    assert report.server_errors == []
    assert report.tracebacks == []
    assert report.pending == 0 and report.retried == 0
    assert report.statuses[202] > 10, report.statuses  # many cases got through to the worker
