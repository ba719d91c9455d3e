"""Password rules and argon2id hashing (hashes are upgraded when the parameters change)."""

from __future__ import annotations

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fedihub.errors import InvalidInput
from fedihub.i18n.active import gettext

MIN_LENGTH = 10
# argon2 hashes any length, but a megabyte "password" is only a way to burn our CPU.
MAX_LENGTH = 1024

# argon2-cffi's defaults (RFC 9106 "low memory" profile); tests may swap in a cheaper hasher.
HASHER = PasswordHasher()

# Verified when the username does not exist, so a wrong username costs as long as a wrong password.
_DUMMY_HASH: str | None = None


def check_password_rules(password: str, *, field: str = "password") -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            gettext("the password is too short: use at least %(min)d characters (a few words make a good one)",
                    min=MIN_LENGTH),
            field=field,
        )
    if len(password) > MAX_LENGTH:
        raise InvalidInput(
            gettext("the password is too long: use at most %(max)d characters", max=MAX_LENGTH), field=field
        )


def hash_password_now(password: str) -> str:
    return HASHER.hash(password)


def verify_password_now(stored_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def waste_verify_now(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = HASHER.hash("not a real password, only for timing")
    verify_password_now(_DUMMY_HASH, password)


# argon2 takes tens of milliseconds of CPU on purpose: keep it off the event loop.
async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(hash_password_now, password)


async def verify_password(stored_hash: str, password: str) -> bool:
    return await anyio.to_thread.run_sync(verify_password_now, stored_hash, password)


async def waste_verify(password: str) -> None:
    await anyio.to_thread.run_sync(waste_verify_now, password)
