"""/metrics as an operator's Prometheus sees it: off unless a token is set, then only for that token,
with queue depths, deliveries by outcome and host, inbox answers and request latencies."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from fedihub.coalitions import service
from fedihub.storage.models import Actor
from tests.integration.helpers import path_of
from tests.support.edges import committed
from tests.support.fake_peer import FakePeer
from tests.support.network import FederationNet, Instance

TOKEN = "scrape-me-7f1c"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text) for sample in family.samples
    }


async def _scrape(instance: Instance) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await instance.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_without_a_token_there_is_no_metrics_page(a: Instance) -> None:
    assert (await a.get("/metrics")).status_code == 404
    assert (await a.get("/metrics", headers={"authorization": "Bearer anything"})).status_code == 404


async def test_only_the_operators_token_opens_the_metrics(net: FederationNet) -> None:
    m = await net.add_instance("m.test", metrics_token=TOKEN)
    for authorization in (None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x"):
        headers = {"authorization": authorization} if authorization else {}
        answer = await m.get("/metrics", headers=headers)
        assert answer.status_code == 401, authorization
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert "fedihub_" not in answer.text
    assert await _scrape(m)


async def test_the_metrics_count_inbox_answers_deliveries_queues_and_latency(
    net: FederationNet, peer: FakePeer,
) -> None:
    m = await net.add_instance("m.test", metrics_token=TOKEN)
    tenants: Actor = await committed(m.ctx, service.create_coalition, "tenants", name="Tenants Union")
    alice = peer.accounts["alice"]
    follow = peer.build_follow(alice, tenants.uri)
    assert (await peer.send(m, follow, inbox=path_of(tenants.inbox or ""))).status_code == 202
    assert (await peer.send(m, peer.build_follow(alice, tenants.uri), scheme=None)).status_code == 401
    assert (await m.get("/g/tenants", headers={"accept": "application/activity+json"})).status_code == 200

    before = await _scrape(m)
    assert before[("fedihub_inbox_requests_total", (("outcome", "accepted"),))] == 1
    assert sum(v for (name, labels), v in before.items()
               if name == "fedihub_inbox_requests_total" and ("outcome", "accepted") not in labels) == 1
    assert before[("fedihub_queue_rows", (("queue", "inbox"), ("state", "pending")))] == 1
    route = (("method", "GET"), ("route", "/g/{username:str}"))
    assert before[("fedihub_http_request_duration_seconds_count", route)] == 1

    await net.settle()  # the Follow is processed and the Accept delivered to masto.test
    after = await _scrape(m)
    assert after[("fedihub_deliveries_total", (("host", "masto.test"), ("outcome", "delivered")))] == 1
    assert after.get(("fedihub_queue_rows", (("queue", "inbox"), ("state", "pending"))), 0) == 0
    assert all(name.startswith("fedihub_") for name, _ in after)


async def test_a_scanner_cannot_mint_a_latency_series_per_url(net: FederationNet) -> None:
    m = await net.add_instance("m.test", metrics_token=TOKEN)
    for n in range(20):
        assert (await m.get(f"/no-such-page-{n}")).status_code == 404
    routes = {dict(labels)["route"] for name, labels in await _scrape(m)
              if name == "fedihub_http_request_duration_seconds_count"}
    assert routes == {"unmatched"}
