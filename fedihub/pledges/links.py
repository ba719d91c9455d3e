"""Who follows whom with consent, on the word of both actors' own servers: the links that make a hub
a carrier of a call and a coalition a vouched member of a carrying hub."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import FedihubError
from fedihub.federation.context import FederationContext
from fedihub.protocol import fetch
from fedihub.protocol.hosts import host_of
from fedihub.protocol.reader import as_list, id_of
from fedihub.storage.models import Actor, Follow

log = logging.getLogger(__name__)

# Pages of one followers/following collection read for a vouch (fedihub serves 20 per page): a hub
# with more members than this is vouched for its first ones; organizers approve the rest.
MAX_PAGES = 25


@dataclass(frozen=True)
class Node:
    """What a link check needs of an actor, read before any network I/O."""

    id: int
    uri: str
    is_local: bool
    following: str | None
    followers: str | None


def node_of(actor: Actor) -> Node:
    return Node(id=actor.id, uri=actor.uri, is_local=actor.is_local, following=actor.following_uri,
                followers=actor.followers_uri)


async def accepted_follows(session: AsyncSession, follower_ids: Iterable[int]) -> set[tuple[int, int]]:
    """Accepted follows by these actors that this server was party to.

    Every follows row has a local side: either we accepted the Follow (the target is ours), or the
    target's own server sent the signed Accept (the follower is ours). Either way both sides consented,
    and each said so itself.
    """
    ids = list(follower_ids)
    if not ids:
        return set()
    rows = await session.execute(
        select(Follow.follower_id, Follow.target_id).where(Follow.follower_id.in_(ids), Follow.state == "accepted")
    )
    return {(follower, target) for follower, target in rows.all()}


class Links:
    """Answers "does A follow B, and did B accept?" for one vouch check, reading each collection once.

    Between two remote actors the link holds only when A's own server lists B in A's ``following``
    AND B's own server lists A in B's ``followers``: a server can speak for its own actors only, so
    a hostile server can neither enrol its Groups in a real hub nor make a real hub follow them.
    """

    def __init__(self, ctx: FederationContext, local_follows: set[tuple[int, int]]) -> None:
        self.ctx = ctx
        self.local_follows = local_follows
        self._read: dict[str, frozenset[str]] = {}

    async def follows(self, follower: Node, target: Node) -> bool:
        if follower.id == target.id:
            return False
        if follower.is_local or target.is_local:
            return (follower.id, target.id) in self.local_follows
        if target.uri not in await self._members(follower.following, follower.uri):
            return False
        return follower.uri in await self._members(target.followers, target.uri)

    async def _members(self, collection: str | None, owner: str) -> frozenset[str]:
        """The ids an actor's own server lists in one of its collections (empty when unreadable)."""
        if not collection or host_of(collection) != host_of(owner):
            return frozenset()  # only the actor's own server speaks for it
        if collection not in self._read:
            self._read[collection] = frozenset(await self._read_collection(collection))
        return self._read[collection]

    async def _read_collection(self, collection: str) -> list[str]:
        found: list[str] = []
        try:
            head = await self._get(collection)
            page: Any = head.get("first") or head
            for _ in range(MAX_PAGES):
                if isinstance(page, str):
                    if host_of(page) != host_of(collection):
                        break
                    page = await self._get(page)
                if not isinstance(page, Mapping):
                    break
                found += [uri for uri in map(id_of, as_list(page.get("orderedItems") or page.get("items"))) if uri]
                page = page.get("next")
                if page is None:
                    break
        except FedihubError as exc:
            log.info("vouching: could not read %s: %s", collection, exc)
        return found

    async def _get(self, url: str) -> dict[str, Any]:
        return await fetch.fetch_activitypub_document(self.ctx.http, url, auth=self.ctx.instance_auth)
