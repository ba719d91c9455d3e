"""Which software a peer runs, read from its NodeInfo (FEP-f1d5): bounded, tolerant, never fatal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from fedihub.errors import FedihubError
from fedihub.protocol.fetch import check_fetchable_url, decode_json_object, raise_for_status, read_limited
from fedihub.protocol.nodeinfo import WELL_KNOWN_PATH

MAX_BYTES = 100_000
TOTAL_TIMEOUT = 5.0  # the software is a nicety next to a lookup: never let it hold the page up
# Both the http and the https spellings of the schema IRI are seen in the wild (Misskey used https).
_SCHEMA_REL = re.compile(r"^https?://nodeinfo\.diaspora\.software/ns/schema/(\d+)\.(\d+)$")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")

# How people spell the names the schema forces to lowercase.
DISPLAY_NAMES = {
    "akkoma": "Akkoma", "bookwyrm": "BookWyrm", "fedihub": "fedihub", "friendica": "Friendica",
    "funkwhale": "Funkwhale", "gancio": "Gancio", "gotosocial": "GoToSocial", "hometown": "Hometown",
    "lemmy": "Lemmy", "mastodon": "Mastodon", "misskey": "Misskey", "mitra": "Mitra", "mobilizon": "Mobilizon",
    "peertube": "PeerTube", "pixelfed": "Pixelfed", "pleroma": "Pleroma", "sharkey": "Sharkey",
    "wordpress": "WordPress", "writefreely": "WriteFreely",
}


@dataclass(frozen=True)
class ServerSoftware:
    name: str  # as NodeInfo spells it: lowercase letters, digits and "-"
    version: str | None = None

    @property
    def label(self) -> str:
        """ "Mastodon 4.1.0": the name people know, with the version when the server gives one."""
        shown = DISPLAY_NAMES.get(self.name, self.name)
        return f"{shown} {self.version}" if self.version else shown


def nodeinfo_href(links_document: dict[str, Any]) -> str | None:
    """The newest NodeInfo document a ``/.well-known/nodeinfo`` JRD links to."""
    best: tuple[tuple[int, int], str] | None = None
    links = links_document.get("links")
    for link in links if isinstance(links, list) else []:
        if not isinstance(link, dict) or not isinstance(link.get("rel"), str) or not isinstance(link.get("href"), str):
            continue
        match = _SCHEMA_REL.match(link["rel"].strip())
        if match is None:
            continue
        version = (int(match.group(1)), int(match.group(2)))
        if best is None or version > best[0]:
            best = (version, link["href"])
    return best[1] if best else None


def read_software(document: dict[str, Any]) -> ServerSoftware | None:
    """The ``software`` of a NodeInfo document; None when it has no usable name."""
    software = document.get("software")
    if not isinstance(software, dict) or not isinstance(software.get("name"), str):
        return None
    name = software["name"].strip().lower()
    if _NAME.fullmatch(name) is None:
        return None
    version = software.get("version")
    version = " ".join(version.split())[:64] if isinstance(version, str) else ""
    return ServerSoftware(name=name, version=version or None)


async def _get_json(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    check_fetchable_url(url)
    # Redirects are followed (servers move NodeInfo behind their CDN); the SSRF guard checks each hop.
    async with client.stream("GET", url, headers={"Accept": "application/json"}, follow_redirects=True) as response:
        raise_for_status(response)
        return decode_json_object(await read_limited(response, MAX_BYTES), url)


async def fetch_server_software(
    client: httpx.AsyncClient, host: str, *, scheme: str = "https", timeout: float = TOTAL_TIMEOUT
) -> ServerSoftware | None:
    """What ``host`` says it runs, or None when it has no NodeInfo or does not answer in time."""
    try:
        with anyio.fail_after(timeout):
            links = await _get_json(client, f"{scheme}://{host}{WELL_KNOWN_PATH}")
            href = nodeinfo_href(links)
            if href is None:
                return None
            return read_software(await _get_json(client, href))
    except (FedihubError, httpx.HTTPError, TimeoutError):
        return None
