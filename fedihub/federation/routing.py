"""The inbound handler table: each activity is classified once and handled by exactly one route.

A route names what an activity is about here — `Accept` of our Follow, of a hub join request or of a
pledge; `Undo` of a Follow, of a reaction, of a Join … — with a ``match`` that recognises it in our
data, an optional ``prepare`` for network reads, and an ``apply`` that runs in the item's single
transaction. The composition root assembles the table from the routes federation/ and the domain
packages contribute; matches are exclusive by construction, and a second match is an error, so no
order of registration matters (GoToSocial's switch on activity and object type is the model).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import AmbiguousRoute
from fedihub.federation.context import FederationContext
from fedihub.protocol.reader import ActivityView, id_of
from fedihub.storage.models import Actor


@dataclass(frozen=True)
class Inbound:
    """One authenticated activity being processed, with its actor resolved once."""

    activity: ActivityView
    actor: Actor
    recipient_id: int | None = None

    @property
    def embedded(self) -> Mapping[str, Any] | None:
        """The activity's object when it came embedded (Accept{Follow}, Undo{Like} …), else None."""
        obj = self.activity.object
        return obj if isinstance(obj, Mapping) else None

    @property
    def embedded_type(self) -> str | None:
        embedded = self.embedded
        value = embedded.get("type") if embedded is not None else None
        return value if isinstance(value, str) else None

    def inner_is_own(self) -> bool:
        """An Undo or Update names an activity of the same actor (or names it by id only)."""
        embedded = self.embedded
        return embedded is None or id_of(embedded.get("actor")) == self.actor.uri


# What a route recognises: the thing in our data the activity is about, or None when it is not this
# route's. It only reads, in the classification session.
Match = Callable[[FederationContext, AsyncSession, Inbound], Awaitable[Any | None]]
# Network reads the route needs before its transaction (fetching an object from its origin); it gets
# what ``match`` found and returns what ``apply`` gets. No transaction is held while it runs.
Prepare = Callable[[FederationContext, Inbound, Any], Awaitable[Any]]
# The state change and the rows it causes (deliveries, jobs), in the item's one transaction; the
# worker commits it together with marking the item done.
Apply = Callable[[FederationContext, AsyncSession, Inbound, Any], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    activity: str  # the activity type, e.g. "Accept"
    about: str  # what it is about here, e.g. "pledge": with ``activity``, the route's key
    match: Match
    apply: Apply
    prepare: Prepare | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.activity, self.about)


@dataclass(frozen=True)
class Routed:
    route: Route
    found: Any


class RouteTable:
    """Routes by activity type; built once in the composition root from every package's routes."""

    def __init__(self, routes: Iterable[Route] = ()) -> None:
        self._by_type: dict[str, list[Route]] = defaultdict(list)
        self._keys: set[tuple[str, str]] = set()
        for route in routes:
            self.add(route)

    def add(self, route: Route) -> None:
        if route.key in self._keys:
            raise ValueError(f"two routes for {route.key}")
        self._keys.add(route.key)
        self._by_type[route.activity].append(route)

    def __iter__(self) -> Iterator[Route]:
        return (route for routes in self._by_type.values() for route in routes)

    def handles(self, activity_type: str) -> bool:
        return activity_type in self._by_type

    async def classify(self, ctx: FederationContext, session: AsyncSession, inbound: Inbound) -> Routed | None:
        """The one route this activity belongs to, or None when nothing here is about it."""
        matches = []
        for route in self._by_type.get(inbound.activity.type, ()):
            found = await route.match(ctx, session, inbound)
            if found is not None:
                matches.append(Routed(route, found))
        if len(matches) > 1:
            keys = ", ".join(f"{m.route.activity}/{m.route.about}" for m in matches)
            raise AmbiguousRoute(f"{inbound.activity.id} matches several routes: {keys}")
        return matches[0] if matches else None
