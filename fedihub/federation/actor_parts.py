"""What the domain adds to actors: parts of our actors' documents, and readers of remote actors' documents.

The federation layer owns an actor's identity, keys and endpoints; coalition profiles, hub
settings and directory listings belong to their packages. Those packages contribute here,
through the composition root, so federation never imports them (docs/federation/actors.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.storage.models import Actor


@dataclass(frozen=True)
class Sighting:
    """How and when this server met a remote actor (a directory listing keeps the first one)."""

    via: str  # "federation", "boost", "roster", "import" or "lookup"
    at: datetime


# Properties of a local actor's document: extension terms, with any "@context" entries they need.
DocumentPart = Callable[[Actor], Mapping[str, Any]]
# Reads what a package owns out of a remote actor's validated document; runs in the storing transaction.
RemoteReader = Callable[[AsyncSession, Actor, Mapping[str, Any], Sighting], Awaitable[None]]


@dataclass(frozen=True)
class ActorParts:
    """Each package's contribution, in order: earlier readers run first, earlier contexts come first."""

    document: tuple[DocumentPart, ...] = ()
    readers: tuple[RemoteReader, ...] = ()

    def document_extra(self, actor: Actor) -> dict[str, Any]:
        """Every part's properties merged; their @context entries listed once each, in order."""
        extra: dict[str, Any] = {}
        contexts: list[Any] = []
        for part in self.document:
            for key, value in part(actor).items():
                if key != "@context":
                    extra[key] = value
                    continue
                for entry in value if isinstance(value, list) else [value]:
                    if entry not in contexts:
                        contexts.append(entry)
        if contexts:
            extra["@context"] = contexts
        return extra

    async def read_remote(
        self, session: AsyncSession, actor: Actor, document: Mapping[str, Any], sighting: Sighting
    ) -> None:
        for reader in self.readers:
            await reader(session, actor, document, sighting)
