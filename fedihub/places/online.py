"""An optional online geocoder for street addresses (a Nominatim-compatible search API), off unless configured."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
import httpx

from fedihub import __version__
from fedihub.errors import RemoteError
from fedihub.protocol.fetch import read_limited

MAX_ANSWER_BYTES = 200_000  # five results of Nominatim's jsonv2 are about 5 kB
DEADLINE = 5.0  # a person waits for the form: past this, the offline gazetteer answers instead
# Nominatim's usage policy allows one request a second from an application; other servers run the same
# software with the same rule. Beyond it we do not wait: the gazetteer answers.
MIN_INTERVAL = 1.0


@dataclass
class OnlineGeocoder:
    """One per process (built in the web app): its ``last`` request time is the rate limit's memory."""

    url: str  # e.g. https://nominatim.example/search
    user_agent: str
    deadline: float = DEADLINE
    min_interval: float = MIN_INTERVAL
    clock: Callable[[], float] = time.monotonic
    last: float = field(default=-math.inf)

    async def fetch_coordinates(self, client: httpx.AsyncClient, query: str) -> tuple[float, float] | None:
        """(latitude, longitude) of the first result for ``query``; None on any failure, too soon, or no result."""
        query = " ".join(query.split())[:300]
        now = self.clock()
        if not query or now - self.last < self.min_interval:
            return None
        self.last = now
        params = {"q": query, "format": "jsonv2", "limit": "1"}
        # The policy also asks for an identifying User-Agent (a generic one is blocked).
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        try:
            with anyio.fail_after(self.deadline):
                async with client.stream("GET", self.url, params=params, headers=headers) as response:
                    if response.status_code != 200:
                        return None
                    body = await read_limited(response, MAX_ANSWER_BYTES)
        except (httpx.HTTPError, TimeoutError, OSError, RemoteError):  # RemoteInvalid: the answer was too large
            return None
        return _first_result(body)


def build_geocoder(url: str, base_url: str) -> OnlineGeocoder | None:
    """The optional street-address geocoder at ``url`` (FEDIHUB_GEOCODER_URL; none when empty), one per
    process for its rate limit, naming this server at ``base_url`` in its User-Agent."""
    if not url:
        return None
    return OnlineGeocoder(url, f"fedihub/{__version__} (+{base_url}/)")


def _first_result(body: bytes) -> tuple[float, float] | None:
    try:
        results = json.loads(body)
        first = results[0] if isinstance(results, list) and results else None
        latitude, longitude = float(first["lat"]), float(first["lon"])  # type: ignore[index]
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    if not (math.isfinite(latitude) and math.isfinite(longitude) and -90 <= latitude <= 90
            and -180 <= longitude <= 180):
        return None
    return latitude, longitude
