"""Which kinds of notice each account gets by e-mail (at once, in the daily digest, or not), and who that is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import InvalidInput
from fedihub.i18n.active import gettext
from fedihub.notices.kinds import BY_NAME, DELIVERIES, KINDS
from fedihub.storage.models import Account, Membership, NoticePreference


async def preferences_of(session: AsyncSession, account_id: int) -> dict[str, str]:
    """Every kind's delivery for this account: its choice, or the kind's default."""
    chosen = dict(
        (kind, delivery)
        for kind, delivery in await session.execute(
            select(NoticePreference.kind, NoticePreference.delivery).where(NoticePreference.account_id == account_id)
        )
    )
    return {kind.name: chosen.get(kind.name, kind.default) for kind in KINDS}


def read_choices(fields: Mapping[str, object]) -> dict[str, str]:
    """The form's choice for every kind (``kind-<name>``); InvalidInput names a missing or odd one."""
    choices: dict[str, str] = {}
    for kind in KINDS:
        value = str(fields.get(f"kind-{kind.name}") or "")
        if value not in DELIVERIES:
            raise InvalidInput(gettext("choose how to hear about “%(kind)s”", kind=gettext(kind.label).lower()),
                               field=f"kind-{kind.name}")
        choices[kind.name] = value
    return choices


async def save_preferences(session: AsyncSession, account_id: int, choices: Mapping[str, str]) -> None:
    for name, delivery in choices.items():
        if name not in BY_NAME or delivery not in DELIVERIES:
            raise InvalidInput(gettext("that is not a kind of notice or a way to receive it"))
        row = await session.get(NoticePreference, (account_id, name))
        if row is None:
            session.add(NoticePreference(account_id=account_id, kind=name, delivery=delivery))
        else:
            row.delivery = delivery


async def mailable_organizers(session: AsyncSession, actor_id: int) -> Sequence[Account]:
    """Accounts organizing this actor that can be mailed: an address, and not disabled."""
    return (
        await session.scalars(
            select(Account)
            .join(Membership, Membership.account_id == Account.id)
            .where(Membership.actor_id == actor_id, Account.email.is_not(None), Account.email != "",
                   Account.disabled_at.is_(None))
            .order_by(Account.id)
        )
    ).all()
