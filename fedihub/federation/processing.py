"""Processing stored inbox items: a dispatch table of handlers, assembled in the composition root."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from fedihub.errors import RemoteGone, RemoteNotFound
from fedihub.federation.actors import resolve_actor
from fedihub.federation.context import FederationContext
from fedihub.protocol.reader import ActivityView, read_activity
from fedihub.storage.models import Actor, InboxItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """One authenticated activity being processed, with its resolved actor."""

    activity: ActivityView
    actor: Actor
    recipient_id: int | None


Handler = Callable[[FederationContext, Inbound], Awaitable[None]]


@dataclass
class Dispatcher:
    """Maps activity types to handlers; domain modules add their own without federation importing them."""

    handlers: dict[str, list[Handler]] = field(default_factory=lambda: defaultdict(list))

    def register(self, activity_type: str, handler: Handler) -> None:
        self.handlers[activity_type].append(handler)

    def handles(self, activity_type: str) -> bool:
        return bool(self.handlers.get(activity_type))

    async def process(self, ctx: FederationContext, item: InboxItem) -> None:
        """Run every handler for the item's type; unsupported types are ignored (never an error)."""
        activity = read_activity(item.payload)
        handlers = self.handlers.get(activity.type, [])
        if not handlers:
            log.debug("ignoring unsupported %s %s", activity.type, activity.id)
            return
        try:
            actor = await resolve_actor(ctx, activity.actor)
        except (RemoteGone, RemoteNotFound):
            if activity.type == "Delete":
                log.info("actor of %s is gone; nothing to do", activity.id)
                return
            raise
        inbound = Inbound(activity=activity, actor=actor, recipient_id=item.recipient_id)
        for handler in handlers:
            await handler(ctx, inbound)
