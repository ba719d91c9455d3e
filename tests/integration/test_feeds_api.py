"""GET /api/v1/calls as a web app on another origin uses it: filters, pages, roll-ups and errors."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import httpx
import pytest

from fedihub.coalitions import service
from fedihub.hubs import service as hubs
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.storage.models import Actor, Boost
from tests.integration.feed_helpers import NOW, post_call, remote_call
from tests.support.edges import committed
from tests.support.network import Clock, FederationNet, Instance


@pytest.fixture
async def a(net: FederationNet) -> Instance:
    net.clock = Clock(NOW)
    return await net.add_instance("a.test")


async def api(instance: Instance, query: str = "") -> dict:
    response = await instance.get(f"/api/v1/calls{query}", headers={"Origin": "https://app.example"})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return response.json()


async def test_each_call_says_when_where_who_and_how_many_pledged(
    a: Instance, net: FederationNet, tenants: Actor
) -> None:
    call = await post_call(a, "tenants", latitude=41.88, longitude=-87.63, online_url="https://meet.example/r")
    await committed(a.ctx, service.create_coalition, "fight15", name="Peoria Fight for 15")
    await committed(a.ctx, pledges.pledge, "fight15", await get_call_target(a.ctx, call.uri),
                    action=pledges.LocalActionInput(title="Peoria picket", start=NOW + timedelta(days=10),
                                                    timezone="America/Chicago", place="Main St"))
    await net.settle()  # the Join is accepted by the call's coalition
    remote = await remote_call(a, "https://other.example/o/1", start=NOW + timedelta(days=20))

    body = await api(a)

    # The local action is a call of its own (fight15's), listed like any other.
    assert [item["title"] for item in body["items"]] == ["Rent control now", "Peoria picket", "Remote rally"]
    item = body["items"][0]
    assert item == {
        "id": call.uri, "url": call.uri, "page": call.uri, "title": "Rent control now",
        "start": "2027-03-11T11:00:00-06:00", "end": "2027-03-11T13:00:00-06:00", "timezone": "America/Chicago",
        "place": "Daley Plaza", "address": "50 W Washington St, Chicago", "online_url": "https://meet.example/r",
        "status": "CONFIRMED", "movements": ["housing"],
        "region": {"city": None, "state": "Illinois", "country": "United States"},
        "coordinates": {"latitude": 41.88, "longitude": -87.63},
        "organizer": {"id": "http://a.test/g/tenants", "name": "Tenants Union", "handle": "tenants@a.test",
                      "url": "http://a.test/g/tenants"},
        "pledges": {"count": 1, "unvouched": 0, "local_actions": 1},
        "description": "Rally at city hall.", "published": "2027-03-01T17:00:00Z", "updated": None,
    }
    other = body["items"][2]
    assert other["page"] == f"http://a.test/calls/view?url={quote(remote.uri, safe='')}"
    assert (other["start"], other["timezone"]) == ("2027-03-21T10:00:00-07:00", "America/Los_Angeles")  # PDT by then
    assert other["organizer"]["handle"] == "la-blm@other.example"
    assert (body["total"], body["page"], body["next"], body["prev"]) == (3, 1, None, None)


@pytest.mark.all_backends  # the movement filter is per-database JSON SQL
async def test_filters_by_movement_region_coalition_hub_and_time(
    a: Instance, net: FederationNet, tenants: Actor
) -> None:
    housing = await post_call(a, "tenants")
    climate = await post_call(a, "tenants", title="Climate strike", movements=["climate"], region_state="Wisconsin")
    remote = await remote_call(a, "https://other.example/o/1", movements=["housing"], region_state="California")
    past = await post_call(a, "tenants", title="Last week", start=NOW - timedelta(days=7))
    hub = await committed(a.ctx, hubs.create_hub, "illinois", name="Illinois Hub", scope="state")
    async with a.ctx.sessions.begin() as session:
        session.add(Boost(hub_id=hub.id, object_uri=remote.uri, activity_uri="http://a.test/a/b1", created_at=NOW))

    async def ids(query: str) -> list[str]:
        return [item["id"] for item in (await api(a, query))["items"]]

    assert await ids("?movement=Housing") == [remote.uri, housing.uri]  # soonest first
    assert await ids("?region=wisconsin") == [climate.uri]
    assert await ids("?coalition=tenants") == [housing.uri, climate.uri]
    assert await ids("?coalition=%40tenants%40a.test&movement=climate") == [climate.uri]
    assert await ids("?coalition=la-blm@other.example") == [remote.uri]
    assert await ids("?hub=illinois") == [remote.uri]
    assert await ids("?upcoming=false") == [past.uri]
    assert await ids("?upcoming=false&movement=climate") == []


async def test_pages_link_to_each_other(a: Instance, tenants: Actor) -> None:
    made = [await post_call(a, "tenants", title=f"Call {n}", start=NOW + timedelta(days=n + 1)) for n in range(5)]

    first = await api(a, "?per_page=2&movement=housing")
    last = await api(a, "?per_page=2&movement=housing&page=3")

    assert [i["title"] for i in first["items"]] == ["Call 0", "Call 1"] and first["total"] == 5
    assert first["next"] == "http://a.test/api/v1/calls?per_page=2&movement=housing&page=2" and first["prev"] is None
    assert [i["id"] for i in last["items"]] == [made[4].uri] and last["next"] is None
    assert last["prev"] == "http://a.test/api/v1/calls?per_page=2&movement=housing&page=2"
    assert (await api(a, "?page=9"))["items"] == []


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [("?per_page=0", 400, "per_page"), ("?per_page=101", 400, "per_page"), ("?page=abc", 400, "page"),
     ("?upcoming=maybe", 400, "upcoming"), ("?region=" + "x" * 201, 400, "region"),
     ("?coalition=nobody", 404, None), ("?hub=tenants", 404, None)],
)
async def test_bad_requests_get_a_json_error_readable_from_any_origin(
    a: Instance, tenants: Actor, query: str, status: int, field: str | None
) -> None:
    response = await a.get(f"/api/v1/calls{query}")

    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json()["field"] == field and response.json()["error"]


async def test_a_preflight_is_answered_and_unknown_parameters_are_ignored(a: Instance, tenants: Actor) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=a.app), base_url=a.base_url) as client:
        answer = await client.options("/api/v1/calls", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert answer.status_code == 204 and answer.headers["access-control-allow-origin"] == "*"
    assert "GET" in answer.headers["access-control-allow-methods"]
    await post_call(a, "tenants")
    assert len((await api(a, "?colour=red&sort=random"))["items"]) == 1
