"""In-process copies of what every inbox POST reads: signing keys and domain blocks, forgotten when they change.

The code paths that change a key (a stored actor document, an actor's Delete) or a block (block,
unblock) forget the copy in the same transaction and again once it commits: a lookup that read the
old row in between is not kept either (a generation number tells). Another process (a separate
worker, the CLI, a second server) cannot reach these copies, so the inbox writer re-reads both in
the transaction that stores each batch (federation/inbox_writer.py) and refuses what they no
longer allow; the copies only spare the common case its reads.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from fedihub.protocol.signatures import PublicKeyInfo


DEFAULT_KEYS = 10_000


class KeyCache:
    """Public keys by key id, least recently used dropped past ``capacity``."""

    def __init__(self, capacity: int = DEFAULT_KEYS) -> None:
        self.capacity = capacity
        self._keys: OrderedDict[str, PublicKeyInfo] = OrderedDict()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Read before looking a key up in the database; pass it to ``remember``."""
        return self._generation

    def find(self, key_id: str) -> PublicKeyInfo | None:
        info = self._keys.get(key_id)
        if info is not None:
            self._keys.move_to_end(key_id)
        return info

    def remember(self, info: PublicKeyInfo, generation: int) -> None:
        """Keep ``info`` unless a key was forgotten since ``generation``: the row it came from may be old."""
        if generation != self._generation:
            return
        self._keys[info.key_id] = info
        self._keys.move_to_end(info.key_id)
        while len(self._keys) > self.capacity:
            self._keys.popitem(last=False)

    def forget_actor(self, actor_uri: str) -> None:
        """Forget every key of ``actor_uri`` (its document changed, or it was deleted)."""
        self._generation += 1
        for key_id in [key_id for key_id, info in self._keys.items() if info.owner == actor_uri]:
            del self._keys[key_id]

    def forget_key(self, key_id: str) -> None:
        self._generation += 1
        self._keys.pop(key_id, None)

    def __len__(self) -> int:
        return len(self._keys)


class BlockCache:
    """The list of blocked domains (bounded by the admins' list itself), read once and kept."""

    def __init__(self) -> None:
        self._domains: tuple[str, ...] | None = None
        self._generation = 0

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def domains(self) -> tuple[str, ...] | None:
        """The blocked domains, or None when they must be read again."""
        return self._domains

    def remember(self, domains: Iterable[str], generation: int) -> None:
        if generation == self._generation:
            self._domains = tuple(domains)

    def forget(self) -> None:
        self._generation += 1
        self._domains = None


def forget_now_and_on_commit(session: AsyncSession, forget: Callable[[], None]) -> None:
    """Forget a cached copy now and once ``session`` commits, so no read of the old row is kept."""
    forget()
    event.listen(session.sync_session, "after_commit", lambda _session: forget(), once=True)
