"""The instance's own name and description: set at setup or by its admins, shown on every page and in NodeInfo."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from html import escape

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.profile import clean_line
from fedihub.errors import FieldErrors, InvalidInput
from fedihub.federation.actors import find_actor
from fedihub.federation.context import FederationContext
from fedihub.i18n.active import gettext
from fedihub.storage.models import SiteSettings

log = logging.getLogger(__name__)

MAX_SITE_NAME = 100
# NodeInfo directories and link previews show a sentence or two; longer text belongs on a page.
MAX_SITE_DESCRIPTION = 500
SITE_ROW = 1
MAX_AGE_SECONDS = 10.0


@dataclass(frozen=True)
class SiteInfo:
    name: str
    description: str | None = None


class SiteInfoCache:
    """The current name and description, with the settings' defaults until an admin sets them.

    Read again from the database at most every MAX_AGE_SECONDS per process: a change made in the admin
    page reaches every web process soon, without a query per page.
    """

    def __init__(self, default: SiteInfo, clock: Callable[[], float] = time.monotonic) -> None:
        self.default = default
        self.value = default
        self._clock = clock
        self._read_at: float | None = None

    def set(self, info: SiteInfo) -> None:
        """What this process just saved: shown at once here, other processes catch up within MAX_AGE_SECONDS."""
        self.value, self._read_at = info, self._clock()

    async def refresh(self, ctx: FederationContext) -> SiteInfo:
        if self._read_at is not None and self._clock() - self._read_at < MAX_AGE_SECONDS:
            return self.value
        try:
            async with ctx.reading() as session:
                stored = await find_site_info(session)
        except SQLAlchemyError as exc:
            # The page that needs the database says so itself; the name may be a few seconds old meanwhile.
            log.warning("could not read the site settings: %s", exc)
            return self.value
        self.set(SiteInfo(stored.name, stored.description or self.default.description) if stored else self.default)
        return self.value


async def find_site_info(session: AsyncSession) -> SiteInfo | None:
    """What the admins set, or None before anyone has."""
    row = await session.get(SiteSettings, SITE_ROW)
    return SiteInfo(row.name, row.description) if row is not None else None


def _name(text: str) -> str:
    name = clean_line(text)
    if not name:
        raise InvalidInput(gettext("give the instance a name"), field="name")
    if len(name) > MAX_SITE_NAME:
        raise InvalidInput(gettext("the name has at most %(max)d characters", max=MAX_SITE_NAME), field="name")
    return name


def _description(text: str | None) -> str | None:
    description = clean_line(text or "")
    if len(description) > MAX_SITE_DESCRIPTION:
        raise InvalidInput(
            gettext("the description has at most %(max)d characters", max=MAX_SITE_DESCRIPTION), field="description"
        )
    return description or None


def check_site_info(name: str, description: str | None) -> SiteInfo:
    """The name and description as they will be stored; InvalidForm names every bad field."""
    errors = FieldErrors()
    checked_name = errors.check(_name, name)
    checked_description = errors.check(_description, description)
    errors.raise_if_any()
    return SiteInfo(checked_name or "", checked_description)


async def save_site_info(
    ctx: FederationContext, session: AsyncSession, name: str, description: str | None
) -> SiteInfo:
    """Store the instance's name and description in the caller's transaction.

    The instance actor carries them too, so a server that reads it (FEP-2677) names the instance the same way.
    """
    info = check_site_info(name, description)
    now: datetime = ctx.clock()
    row = await session.get(SiteSettings, SITE_ROW)
    if row is None:
        session.add(SiteSettings(id=SITE_ROW, name=info.name, description=info.description, updated_at=now))
    else:
        row.name, row.description, row.updated_at = info.name, info.description, now
    instance = await find_actor(session, ctx.urls.instance_actor())
    if instance is not None:
        instance.name = info.name
        if info.description:
            instance.summary = f"<p>{escape(info.description)}</p>"  # the actor's summary is HTML
        instance.updated_at = now
    await session.flush()
    return info
