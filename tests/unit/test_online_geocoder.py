"""The optional online geocoder: one request a second, a deadline, a size cap, and no trust in its answer."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest

from fedihub.places.online import MAX_ANSWER_BYTES, OnlineGeocoder


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _client(body: bytes, status: int = 200, seen: list[httpx.Request] | None = None) -> httpx.AsyncClient:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body)
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_an_answer_gives_coordinates_and_says_who_asks() -> None:
    seen: list[httpx.Request] = []
    geocoder = OnlineGeocoder("https://geo.test/search", "fedihub/1 (+https://a.test/)", clock=Clock())
    async with _client(json.dumps([{"lat": "41.8786", "lon": "-87.6298"}]).encode(), seen=seen) as client:
        assert await geocoder.fetch_coordinates(client, "219 S Dearborn St,  Chicago") == (41.8786, -87.6298)
    assert seen[0].headers["User-Agent"] == "fedihub/1 (+https://a.test/)"
    assert seen[0].url.params["q"] == "219 S Dearborn St, Chicago" and seen[0].url.params["format"] == "jsonv2"


async def test_more_than_one_request_a_second_is_not_sent() -> None:
    clock = Clock()
    seen: list[httpx.Request] = []
    geocoder = OnlineGeocoder("https://geo.test/search", "ua", clock=clock)
    async with _client(b'[{"lat": "1", "lon": "2"}]', seen=seen) as client:
        assert await geocoder.fetch_coordinates(client, "a") == (1.0, 2.0)
        clock.now += 0.5
        assert await geocoder.fetch_coordinates(client, "b") is None
        clock.now += 0.6
        assert await geocoder.fetch_coordinates(client, "c") == (1.0, 2.0)
    assert [r.url.params["q"] for r in seen] == ["a", "c"]


@pytest.mark.parametrize(("body", "status"), [
    (b"[]", 200),
    (b"not json", 200),
    (b'[{"lat": "91", "lon": "0"}]', 200),
    (b'[{"lat": "nan", "lon": "0"}]', 200),
    (b'{"lat": "1", "lon": "2"}', 200),
    (b'[{"lat": "1", "lon": "2"}]', 503),
    (b"[" + b" " * (MAX_ANSWER_BYTES + 10) + b"]", 200),  # a hostile server's endless answer
])
async def test_a_bad_answer_gives_nothing(body: bytes, status: int) -> None:
    geocoder = OnlineGeocoder("https://geo.test/search", "ua", clock=Clock())
    async with _client(body, status) as client:
        assert await geocoder.fetch_coordinates(client, "somewhere") is None


async def test_a_server_that_never_answers_is_given_up_on() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()
        raise AssertionError

    geocoder = OnlineGeocoder("https://geo.test/search", "ua", deadline=0.05, clock=Clock())
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        assert await geocoder.fetch_coordinates(client, "somewhere") is None
