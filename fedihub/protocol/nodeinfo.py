"""NodeInfo 2.0/2.1 documents and the discovery JRD (FEP-f1d5, with the FEP-2677 app actor link)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

NODEINFO_2_0_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.0"
NODEINFO_2_1_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
SCHEMAS = {"2.0": NODEINFO_2_0_SCHEMA, "2.1": NODEINFO_2_1_SCHEMA}
APPLICATION_ACTOR_REL = "https://www.w3.org/ns/activitystreams#Application"  # FEP-2677
WELL_KNOWN_PATH = "/.well-known/nodeinfo"
SOFTWARE_NAME = "fedihub"  # the schema allows only [a-z0-9-]


def nodeinfo_path(version: str) -> str:
    """Where the document of ``version`` is served (Mastodon's layout)."""
    _check_version(version)
    return f"/nodeinfo/{version}"


def nodeinfo_content_type(version: str) -> str:
    """The Content-Type the NodeInfo schema asks for."""
    return f'application/json; profile="{SCHEMAS[_check_version(version)]}#"'


def build_nodeinfo_links(base_url: str, instance_actor_id: str) -> dict[str, Any]:
    """The ``/.well-known/nodeinfo`` JRD: both schema versions and the instance actor."""
    base = base_url.rstrip("/")
    return {
        "links": [
            {"rel": NODEINFO_2_0_SCHEMA, "href": base + nodeinfo_path("2.0")},
            {"rel": NODEINFO_2_1_SCHEMA, "href": base + nodeinfo_path("2.1")},
            {"rel": APPLICATION_ACTOR_REL, "href": instance_actor_id},
        ]
    }


def build_nodeinfo(
    *,
    version: str,
    software_version: str,
    users_total: int,
    users_active_month: int,
    users_active_halfyear: int,
    local_posts: int,
    open_registrations: bool,
    node_name: str,
    metadata: Mapping[str, Any] | None = None,
    repository: str | None = None,
    homepage: str | None = None,
) -> dict[str, Any]:
    """A NodeInfo document; ``repository``/``homepage`` only exist in 2.1 and are dropped in 2.0."""
    _check_version(version)
    if not software_version:
        raise ValueError("NodeInfo requires a software version")
    counts = (users_total, users_active_month, users_active_halfyear, local_posts)
    if any(count < 0 for count in counts):
        raise ValueError("NodeInfo counts cannot be negative")
    software: dict[str, str] = {"name": SOFTWARE_NAME, "version": software_version}
    if version == "2.1":
        # The 2.0 schema forbids extra keys in "software"; 2.1 added these two.
        if repository is not None:
            software["repository"] = repository
        if homepage is not None:
            software["homepage"] = homepage
    return {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "usage": {
            "users": {
                "total": users_total,
                "activeMonth": users_active_month,
                "activeHalfyear": users_active_halfyear,
            },
            "localPosts": local_posts,
        },
        "openRegistrations": open_registrations,
        # nodeName is how Mastodon, Misskey and the fediverse directories label a server (FEP-f1d5).
        "metadata": {**(metadata or {}), "nodeName": node_name},
    }


def _check_version(version: str) -> str:
    if version not in SCHEMAS:
        raise ValueError(f"unsupported NodeInfo version {version!r}; use one of {sorted(SCHEMAS)}")
    return version
