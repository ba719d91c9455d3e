"""Accounts and their roles in coalitions: create, authenticate, disable, members and roles."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.accounts import passwords
from fedihub.errors import Conflict, FieldErrors, InvalidInput, NotFound, PermissionDenied
from fedihub.i18n.active import N_, gettext
from fedihub.mail.outbox import check_address
from fedihub.protocol.limits import MAX_NAME
from fedihub.storage.models import Account, Actor, Membership

ROLES = ("editor", "admin", "owner")
# Marked for the catalogue; pages show them through gettext. The role names too (ROLE_NAMES).
ROLE_LABELS = {
    "editor": N_("Editor: posts announcements and calls to action"),
    "admin": N_("Admin: also manages followers, settings and invites"),
    "owner": N_("Owner: also manages admins and other owners"),
}
ROLE_NAMES = (N_("editor"), N_("admin"), N_("owner"))
# Whole sentences per role, so each language words the plural its own way.
ONLY_OWNERS_REMOVE = {
    "editor": N_("only owners can remove editors"),
    "admin": N_("only owners can remove admins"),
    "owner": N_("only owners can remove owners"),
}
ONLY_OWNERS_INVITE = {
    "editor": N_("only owners can invite editors"),
    "admin": N_("only owners can invite admins"),
    "owner": N_("only owners can invite owners"),
}
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MAX_DISPLAY_NAME = MAX_NAME


def role_rank(role: str) -> int:
    try:
        return ROLES.index(role)
    except ValueError:
        raise InvalidInput(
            gettext("unknown role %(role)r: use editor, admin or owner", role=role), field="role"
        ) from None


def can_invite(inviter_role: str, role: str) -> bool:
    """Admins invite editors and admins; only owners invite owners; editors invite nobody."""
    if inviter_role == "owner":
        return role in ROLES
    return inviter_role == "admin" and role in ("editor", "admin")


def can_remove(remover_role: str, member_role: str) -> bool:
    """The same rule as inviting: you can remove who you could have invited."""
    return can_invite(remover_role, member_role)


def normalise_username(raw: str) -> str:
    username = raw.strip().lower()
    if not USERNAME_RE.fullmatch(username):
        raise InvalidInput(
            gettext("a username has 2 to 32 characters: lowercase letters, digits, and _ . - (not first)"),
            field="username",
        )
    return username


def session_version(account: Account) -> str:
    """Changes whenever the password changes, the account is disabled or it logs out: old sessions end."""
    basis = f"{account.id}|{account.password_hash}|{account.disabled_at}|{account.session_generation}"
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


async def end_sessions(session: AsyncSession, account_id: int) -> None:
    """Revoke every session cookie of the account issued so far (logging out, on every device: the
    cookie is signed, not stored, so one browser's cookie cannot be told from a captured copy)."""
    await session.execute(
        update(Account).where(Account.id == account_id)
        .values(session_generation=Account.session_generation + 1)
    )


async def find_account(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def find_account_by_username(session: AsyncSession, username: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.username == username.strip().lower()))


async def get_account_by_username(session: AsyncSession, username: str) -> Account:
    account = await find_account_by_username(session, username)
    if account is None:
        raise NotFound(gettext("there is no account called %(username)r on this server", username=username))
    return account


async def admin_exists(session: AsyncSession) -> bool:
    count = await session.scalar(
        select(func.count()).select_from(Account).where(Account.is_admin.is_(True), Account.disabled_at.is_(None))
    )
    return bool(count)


def _check_display_name(display_name: str | None) -> None:
    if len((display_name or "").strip()) > MAX_DISPLAY_NAME:
        raise InvalidInput(
            gettext("the name is too long: at most %(max)d characters", max=MAX_DISPLAY_NAME), field="display_name"
        )


def check_new_account(username: str, password: str, display_name: str | None, *, confirm: str | None = None) -> None:
    """Every rule of a new account at once (InvalidForm naming each bad field); ``confirm`` is the
    password typed again, when a form asks for it."""
    errors = FieldErrors()
    errors.check(normalise_username, username)
    errors.check(passwords.check_password_rules, password)
    if confirm is not None and confirm != password:
        errors.add("password_confirm", gettext("the two passwords are not the same"))
    errors.check(_check_display_name, display_name)
    errors.raise_if_any()


async def create_account(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    now: datetime,
    is_admin: bool = False,
    display_name: str | None = None,
) -> Account:
    """A new account (validated); the caller commits. Raises InvalidForm or Conflict with a field."""
    check_new_account(username, password, display_name)
    username = normalise_username(username)
    display_name = (display_name or "").strip() or None
    if await find_account_by_username(session, username) is not None:
        raise Conflict(
            gettext("the username %(username)s is taken: choose another", username=username), field="username"
        )
    account = Account(
        username=username, display_name=display_name, password_hash=await passwords.hash_password(password),
        is_admin=is_admin, created_at=now,
    )
    session.add(account)
    await session.flush()
    return account


async def authenticate(session: AsyncSession, username: str, password: str, *, now: datetime) -> Account | None:
    """The account when the password is right, else None (same cost either way).

    A disabled account is returned too (the caller refuses it with its own message), but its
    login is not recorded.
    """
    account = await find_account_by_username(session, username)
    if account is None:
        await passwords.waste_verify(password)
        return None
    if not await passwords.verify_password(account.password_hash, password):
        return None
    if account.disabled_at is not None:
        return account
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = await passwords.hash_password(password)
    account.last_login_at = now
    return account


async def list_accounts(session: AsyncSession) -> Sequence[Account]:
    return (await session.scalars(select(Account).order_by(Account.username))).all()


async def set_disabled(session: AsyncSession, account_id: int, disabled: bool, *, now: datetime) -> Account:
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound(gettext("there is no such account"))
    account.disabled_at = now if disabled else None
    return account


async def set_email(session: AsyncSession, account_id: int, address: str | None) -> Account:
    """The account's own e-mail address (checked to be one plain address), or none when blank.

    Only organizers' notices are sent to it; it is never shown to anyone else.
    """
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound(gettext("there is no such account"))
    value = (address or "").strip()
    if value:
        try:
            value = check_address(value)
        except InvalidInput:
            raise InvalidInput(
                gettext("that is not an e-mail address, such as name@example.org"), field="email"
            ) from None
    account.email = value or None
    return account


async def set_language(session: AsyncSession, account_id: int, language: str) -> None:
    """The interface language the person chose; their notices are e-mailed in it."""
    account = await session.get(Account, account_id)
    if account is not None:
        account.language = language


async def coalitions_of(session: AsyncSession, account: Account) -> list[tuple[Actor, str]]:
    """The coalitions the account belongs to with its role; instance admins own them all."""
    if account.is_admin:
        actors = (
            await session.scalars(
                select(Actor)
                .where(Actor.is_local.is_(True), Actor.type == "Group", Actor.deleted_at.is_(None))
                .order_by(Actor.name, Actor.local_username)
            )
        ).all()
        return [(actor, "owner") for actor in actors]
    rows = (
        await session.execute(
            select(Actor, Membership.role)
            .join(Membership, Membership.actor_id == Actor.id)
            .where(Membership.account_id == account.id, Actor.deleted_at.is_(None))
            .order_by(Actor.name, Actor.local_username)
        )
    ).all()
    return [(actor, role) for actor, role in rows]


async def find_membership(session: AsyncSession, account_id: int, actor_id: int) -> Membership | None:
    return await session.scalar(
        select(Membership).where(Membership.account_id == account_id, Membership.actor_id == actor_id)
    )


async def members_of(session: AsyncSession, actor_id: int) -> Sequence[Membership]:
    rows = (await session.scalars(select(Membership).where(Membership.actor_id == actor_id))).all()
    return sorted(rows, key=lambda m: (-ROLES.index(m.role) if m.role in ROLES else 0, m.account.username))


async def add_member(session: AsyncSession, account_id: int, actor_id: int, role: str, *, now: datetime) -> Membership:
    """Give the account ``role`` in the coalition; an existing member keeps the higher of the two roles."""
    role_rank(role)
    membership = await find_membership(session, account_id, actor_id)
    if membership is None:
        membership = Membership(account_id=account_id, actor_id=actor_id, role=role, created_at=now)
        session.add(membership)
    elif role_rank(role) > role_rank(membership.role):
        membership.role = role
    await session.flush()
    return membership


async def add_owner(session: AsyncSession, actor_id: int, username: str | None, *, now: datetime) -> Account | None:
    """Make the named existing account an owner of the coalition or hub (the CLI's ``--owner``);
    None when no name was given, so the caller can say the actor is ownerless. NotFound for an unknown name."""
    if not username:
        return None
    account = await get_account_by_username(session, username)
    await add_member(session, account.id, actor_id, "owner", now=now)
    return account


async def remove_member(session: AsyncSession, actor_id: int, account_id: int, *, remover_role: str) -> None:
    membership = await find_membership(session, account_id, actor_id)
    if membership is None:
        raise NotFound(gettext("that person is not a member of this coalition"))
    if not can_remove(remover_role, membership.role):
        raise PermissionDenied(gettext(ONLY_OWNERS_REMOVE.get(membership.role, ONLY_OWNERS_REMOVE["owner"])))
    if membership.role == "owner":
        owners = await session.scalar(
            select(func.count()).select_from(Membership)
            .where(Membership.actor_id == actor_id, Membership.role == "owner")
        )
        if (owners or 0) <= 1:
            raise Conflict(gettext(
                "a coalition needs at least one owner: make someone else owner before removing this one"
            ))
    await session.delete(membership)
