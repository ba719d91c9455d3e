"""One-time invite links: join a coalition with a role, or set up an instance admin.

Only a SHA-256 of each token is stored. Coalition invites are random tokens. Setup links are an
HMAC of the invite row under the instance's secret key, so that `fedihub serve` can print the
same unused link again after a restart instead of piling up new ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.accounts.service import admin_exists, role_rank
from fedihub.errors import Gone, NotFound
from fedihub.i18n.active import gettext
from fedihub.storage.models import Actor, Invite

LIFETIME = timedelta(days=7)
# The role of a setup invite (no coalition): it creates an instance admin.
SETUP_ROLE = "instance-admin"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_url(base_url: str, token: str) -> str:
    return f"{base_url}/invite/{token}"


def setup_url(base_url: str, token: str) -> str:
    return f"{base_url}/setup/{token}"


async def create_invite(
    session: AsyncSession, *, actor_id: int, role: str, created_by_id: int | None, now: datetime
) -> tuple[Invite, str]:
    """A new coalition invite; returns the row and the token (shown once, never stored)."""
    role_rank(role)
    token = secrets.token_urlsafe(32)
    invite = Invite(
        token_hash=hash_token(token), actor_id=actor_id, role=role, created_by_id=created_by_id,
        created_at=now, expires_at=now + LIFETIME,
    )
    session.add(invite)
    await session.flush()
    return invite, token


async def get_usable_invite(session: AsyncSession, token: str, *, now: datetime, setup: bool = False) -> Invite:
    """The unused, unexpired invite for ``token``; NotFound or Gone with a message for people."""
    invite = await session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))
    if invite is None or (invite.role == SETUP_ROLE) != setup:
        raise NotFound(gettext("This link is not valid. Check that you copied all of it, or ask for a new one."))
    if invite.used_at is not None:
        raise Gone(gettext("This link was already used. Each link works once: ask for a new one."))
    if invite.expires_at <= now:
        raise Gone(gettext("This link has expired (links work for 7 days). Ask for a new one."))
    return invite


async def mark_used(session: AsyncSession, invite: Invite, account_id: int, *, now: datetime) -> None:
    """Use the invite up; a concurrent second use of the same link fails here (single use)."""
    result = await session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now, used_by_id=account_id)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Gone(gettext("This link was already used. Each link works once: ask for a new one."))


def setup_token(invite: Invite, secret_key: str) -> str:
    message = f"fedihub-setup:{invite.id}:{int(invite.created_at.timestamp())}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def get_setup_link(session: AsyncSession, *, base_url: str, secret_key: str, now: datetime) -> str:
    """A setup link for a new instance admin: an unused, unexpired one again, or a new one."""
    candidates = (
        await session.scalars(
            select(Invite)
            .where(Invite.role == SETUP_ROLE, Invite.used_at.is_(None), Invite.expires_at > now)
            .order_by(Invite.id.desc())
        )
    ).all()
    for invite in candidates:
        token = setup_token(invite, secret_key)
        # A link made under another secret key cannot be printed again; skip it.
        if hmac.compare_digest(invite.token_hash, hash_token(token)):
            return setup_url(base_url, token)
    invite = Invite(
        token_hash=f"pending-{secrets.token_hex(16)}", actor_id=None, role=SETUP_ROLE, created_by_id=None,
        created_at=now.replace(microsecond=0), expires_at=now + LIFETIME,
    )
    session.add(invite)
    await session.flush()
    token = setup_token(invite, secret_key)
    invite.token_hash = hash_token(token)
    return setup_url(base_url, token)


async def find_first_run_link(session: AsyncSession, *, base_url: str, secret_key: str, now: datetime) -> str | None:
    """The setup link to print on start when no instance admin exists yet; None otherwise."""
    if await admin_exists(session):
        return None
    return await get_setup_link(session, base_url=base_url, secret_key=secret_key, now=now)


async def invited_coalition(session: AsyncSession, invite: Invite) -> Actor | None:
    """The coalition a coalition invite is for (None for a setup invite or a coalition gone from the table)."""
    return await session.get(Actor, invite.actor_id) if invite.actor_id is not None else None


def setup_link_message(link: str) -> str:
    return (
        "No administrator account exists yet. Open this one-time link to create it "
        f"(valid for 7 days, works once):\n\n    {link}\n"
    )
