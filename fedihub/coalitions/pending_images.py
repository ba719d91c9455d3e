"""Uploads kept after a form error: stored under a secret token for one account, for a day."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions.banner_image import ProcessedImage
from fedihub.federation.context import FederationContext
from fedihub.storage.models import Media

PENDING = "pending"
KEEP_FOR = timedelta(hours=24)
# Kept uploads per account: one per open form is plenty; older ones go first.
MAX_KEPT = 10
MAX_FILE_NAME = 120


@dataclass(frozen=True)
class PendingImage:
    token: str
    file_name: str
    image: ProcessedImage


def _file_name(name: str) -> str:
    # Only shown back to its owner ("image kept: name.jpg"); the path a browser may send goes.
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return (base or "image")[:MAX_FILE_NAME]


async def keep_pending(
    ctx: FederationContext, session: AsyncSession, account_id: int, image: ProcessedImage, file_name: str
) -> PendingImage:
    """Keep a processed upload for its owner; expired ones of anybody are removed on the way."""
    now = ctx.clock()
    await session.execute(delete(Media).where(Media.purpose == PENDING, Media.expires_at < now))
    older = select(Media.id).where(Media.purpose == PENDING, Media.account_id == account_id)
    keep = (await session.scalars(older.order_by(Media.id.desc()).limit(MAX_KEPT - 1))).all()
    await session.execute(delete(Media).where(
        Media.purpose == PENDING, Media.account_id == account_id, Media.id.not_in(keep),
    ))
    token = secrets.token_urlsafe(32)
    name = _file_name(file_name)
    session.add(Media(
        key=token, purpose=PENDING, account_id=account_id, file_name=name, content_type=image.content_type,
        width=image.width, height=image.height, data=image.data, thumbnail=image.thumbnail, created_at=now,
        expires_at=now + KEEP_FOR,
    ))
    return PendingImage(token=token, file_name=name, image=image)


async def find_pending(
    ctx: FederationContext, session: AsyncSession, token: str, account_id: int
) -> PendingImage | None:
    """The kept upload behind a token, only for the account that made it and only until it expires."""
    if not token:
        return None
    row = await session.scalar(select(Media).where(
        Media.key == token, Media.purpose == PENDING, Media.account_id == account_id, Media.expires_at > ctx.clock(),
    ))
    if row is None:
        return None
    image = ProcessedImage(
        data=row.data, thumbnail=row.thumbnail or row.data, content_type=row.content_type, width=row.width,
        height=row.height,
    )
    return PendingImage(token=token, file_name=row.file_name or "image", image=image)


async def drop_pending(session: AsyncSession, token: str) -> None:
    await session.execute(delete(Media).where(Media.key == token, Media.purpose == PENDING))
