"""The call a pledge is about, local or read from its origin: what a coalition needs before it pledges."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from fedihub.errors import FedihubError, InvalidInput, NotFound
from fedihub.federation import objects
from fedihub.federation.context import FederationContext
from fedihub.i18n.active import gettext
from fedihub.pledges.store import is_over
from fedihub.protocol.urls import http_url
from fedihub.storage.models import Actor, StoredObject


@dataclass(frozen=True)
class CallTarget:
    """A call to pledge to, with its author (whose inbox receives the Join)."""

    uri: str
    title: str
    author: Actor
    start: datetime | None
    end: datetime | None
    timezone: str | None
    cancelled: bool
    is_local: bool
    url: str

    def is_over(self, now: datetime) -> bool:
        return is_over(self.start, self.end, now)


def _from_row(row: StoredObject) -> CallTarget:
    return CallTarget(
        uri=row.uri, title=row.name or "a call to action", author=row.author, start=row.start_time,
        end=row.end_time, timezone=row.timezone, cancelled=(row.event_status or "").upper() == "CANCELLED",
        is_local=row.is_local, url=row.url or row.uri,
    )


async def get_call_target(ctx: FederationContext, call_uri: str) -> CallTarget:
    """The call at ``call_uri``: from our database, else from its origin (never a relayed copy)."""
    call_uri = call_uri.strip()
    if http_url(call_uri) is None:
        raise InvalidInput(gettext("give the call's full link, starting with https://"), field="call")
    async with ctx.sessions() as session:
        row = await session.scalar(select(StoredObject).where(StoredObject.uri == call_uri))
    if row is not None:
        if row.type != "Event" or row.deleted_at is not None:
            raise NotFound(gettext("that link is not a call to action (or it was deleted)"))
        return _from_row(row)
    if ctx.urls.is_local(call_uri):
        raise NotFound(gettext("there is no call to action at that link on this server"))
    try:
        # Stored like a followed coalition's call: the pledging server then shows its roll-up too.
        row = await objects.fetch_and_store(ctx, call_uri, types=frozenset({"Event"}))
    except FedihubError as exc:
        # The reason is the fetch's own message, translated when the catalogue has it.
        raise NotFound(gettext(
            "could not read a call to action at that link: %(reason)s", reason=gettext(exc.public_message)
        )) from exc
    return _from_row(row)
