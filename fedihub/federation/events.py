"""What inbound handling tells the domain: named events sent inside the handler's own transaction.

Core handlers own the generic state (follows, stored objects, reactions); hubs and pledges react to
changes of that state — a member's new call is boosted, a hub's Announce of our call is counted as
carrying it — by subscribing here in the composition root. Subscribers write only their own rows,
so they are independent of each other, and they never do network I/O: anything that needs a remote
server is enqueued as a job row in the same transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, ParamSpec

from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.federation.context import FederationContext
from fedihub.storage.models import Actor, Follow, HubRequest, Pledge, StoredObject

P = ParamSpec("P")


class Event(Generic[P]):
    """A list of subscribers called in turn with the same arguments."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._subscribers: list[Callable[P, Awaitable[None]]] = []

    def connect(self, subscriber: Callable[P, Awaitable[None]]) -> None:
        self._subscribers.append(subscriber)

    async def send(self, *args: P.args, **kwargs: P.kwargs) -> None:
        for subscriber in self._subscribers:
            await subscriber(*args, **kwargs)


def _event(name: str) -> Any:
    return field(default_factory=lambda: Event(name))


@dataclass
class InboundEvents:
    """The events core inbound handlers send; every subscriber gets (ctx, session, …)."""

    # A Follow of a local actor was stored (pending when the actor approves followers by hand).
    follow_received: Event[[FederationContext, AsyncSession, Follow]] = _event("follow_received")
    # A remote actor accepted a local actor's Follow of it (the row is accepted now).
    follow_accepted: Event[[FederationContext, AsyncSession, Follow]] = _event("follow_accepted")
    # A remote actor undid its Follow of a local actor.
    follow_undone: Event[[FederationContext, AsyncSession, Actor, Actor]] = _event("follow_undone")
    # An actor published an object (a remote one we stored, or one of ours handed over locally).
    object_created: Event[[FederationContext, AsyncSession, Actor, StoredObject]] = _event("object_created")
    # An object we store changed, said by an actor of its own server (our copy is already updated).
    object_updated: Event[[FederationContext, AsyncSession, Actor, StoredObject]] = _event("object_updated")
    # An actor of the object's own server deleted it (by id: we may never have stored it). Not
    # necessarily its owner: subscribers that retract anything check the stored author first.
    object_deleted: Event[[FederationContext, AsyncSession, Actor, str]] = _event("object_deleted")
    # An actor announced an object; the stored original when we keep one (ours, or fetched from its origin).
    object_announced: Event[[FederationContext, AsyncSession, Actor, str, StoredObject | None]] = _event(
        "object_announced"
    )
    # An actor undid its Announce (the embedded Announce as it sent it).
    announce_undone: Event[[FederationContext, AsyncSession, Actor, Mapping[str, Any]]] = _event("announce_undone")
    # At a local call's origin: a coalition's pledge was accepted or held for the organizers (a new
    # one, not a repeat of a pledge standing already).
    pledge_received: Event[[FederationContext, AsyncSession, StoredObject, Pledge]] = _event("pledge_received")
    # At a local call's origin: a coalition withdrew its pledge (repeats possible: a re-sent Leave).
    pledge_withdrawn: Event[[FederationContext, AsyncSession, StoredObject, Pledge]] = _event("pledge_withdrawn")
    # A coalition or hub asked to join a local hub, and the request waits for the hub's admins.
    hub_join_received: Event[[FederationContext, AsyncSession, HubRequest]] = _event("hub_join_received")
    # A remote reply to a local call was kept under it (the call, then the reply's stored object; once).
    reply_kept: Event[[FederationContext, AsyncSession, StoredObject, StoredObject]] = _event("reply_kept")
