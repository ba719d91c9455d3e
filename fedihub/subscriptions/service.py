"""Subscribing by e-mail: what can be subscribed to, the double opt-in, and unsubscribing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.errors import Gone, InvalidInput, NotFound
from fedihub.federation.actors import find_local_actor
from fedihub.feeds.queries import parse_filters
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import N_, gettext
from fedihub.mail.outbox import check_address, enqueue_mail
from fedihub.moderation.visibility import is_hidden
from fedihub.protocol.timezones import known_zone
from fedihub.storage.models import Actor, MailSubscription
from fedihub.subscriptions import messages
from fedihub.subscriptions.mailing import Mailing, confirm_url, hash_token, new_token, signature_matches

# A confirmation link works this long; an unconfirmed request is deleted a week after it was made.
CONFIRM_FOR = timedelta(days=2)
PENDING_KEPT = timedelta(days=7)
CONFIRMED = "confirmed"
PENDING = "pending"
# The states as pages name them (marked for the catalogue, shown through state_label).
STATE_LABELS = {CONFIRMED: N_("confirmed"), PENDING: N_("waiting for confirmation")}


def state_label(state: str) -> str:
    """A subscription's state in the reader's language."""
    return gettext(STATE_LABELS[state]) if state in STATE_LABELS else state


@dataclass(frozen=True)
class Target:
    """What an address subscribes to: one local coalition or hub, or this server's calls by filter."""

    key: str
    label: str  # "the calls of Chicago Tenants", for pages and messages
    actor: Actor | None = None
    movement: str | None = None
    region: str | None = None


def _actor_label(actor: Actor) -> str:
    name = (actor.name or actor.username or "").strip()
    if hub_scope_of(actor):
        return gettext("the calls the hub %(name)s carries", name=name)
    return gettext("the calls of %(name)s", name=name)


def calendar_label(movement: str | None, region: str | None, instance_name: str) -> str:
    if movement and region:
        return gettext("the calls about %(movement)s in %(region)s on %(instance)s", movement=movement,
                       region=region, instance=instance_name)
    if movement:
        return gettext("the calls about %(movement)s on %(instance)s", movement=movement, instance=instance_name)
    if region:
        return gettext("the calls in %(region)s on %(instance)s", region=region, instance=instance_name)
    return gettext("every call on %(instance)s", instance=instance_name)


async def find_target(
    session: AsyncSession, *, username: str, movement: str, region: str, instance_name: str
) -> Target:
    """A coalition or hub named ``username``, or (without one) the calendar filtered by movement and
    region; NotFound for a name that is not a public local Group, InvalidInput for an overlong filter."""
    if username:
        actor = await find_local_actor(session, username)
        if actor is None or actor.type != "Group" or actor.deleted_at is not None or await is_hidden(session, actor.id):
            raise NotFound(gettext("no coalition or hub with that name here"))
        return Target(key=f"actor:{actor.id}", label=_actor_label(actor), actor=actor)
    filters = parse_filters({"movement": movement, "region": region})
    return Target(
        key=f"calendar:{(filters.movement or '').casefold()}|{(filters.region or '').casefold()}",
        label=calendar_label(filters.movement, filters.region, instance_name),
        movement=filters.movement, region=filters.region,
    )


def normalise_address(value: str) -> str:
    """One spelling per mailbox, so one address holds one row per target (and the limits count it once)."""
    try:
        return check_address(value).lower()
    except InvalidInput:
        raise InvalidInput(gettext("give an e-mail address, like alex@example.org"), field="email") from None


async def subscribe(
    session: AsyncSession, mailing: Mailing, *, address: str, target: Target, timezone: str, now: datetime,
    may_mail: bool, language: str | None = None,
) -> None:
    """Ask ``address`` to confirm; the same outcome whatever was there before, as the page says.

    A confirmed subscription is left as it is (its owner already receives the calls); a pending one
    gets a fresh link. ``may_mail`` False (the address's limit is reached) changes and sends nothing.
    The caller commits.
    """
    if mailing.mail is None or not may_mail:
        return
    row = await session.scalar(
        select(MailSubscription).where(MailSubscription.address == address, MailSubscription.target == target.key)
    )
    if row is not None and row.state == CONFIRMED:
        return
    if row is None:
        row = MailSubscription(
            address=address, target=target.key, actor_id=target.actor.id if target.actor else None,
            movement=target.movement, region=target.region, state=PENDING, created_at=now,
        )
        session.add(row)
    # A hidden field the browser fills; anything but a zone we know is ignored, never an error.
    row.timezone = known_zone(timezone) or row.timezone
    row.language = language or row.language
    token = new_token()
    row.confirm_token_hash, row.confirm_expires_at, row.confirm_sent_at = hash_token(token), now + CONFIRM_FOR, now
    letter = messages.confirmation(mailing, what=target.label, confirm=confirm_url(mailing, token))
    await session.flush()
    await enqueue_mail(session, mailing.mail, to=address, subject=letter.subject, text=letter.text,
                       html=letter.html, now=now)


async def get_pending(session: AsyncSession, token: str, *, now: datetime) -> MailSubscription:
    """The subscription a confirmation link names; NotFound or Gone with words for people."""
    row = await session.scalar(
        select(MailSubscription).where(MailSubscription.confirm_token_hash == hash_token(token))
    )
    if row is None:
        raise NotFound(gettext("This confirmation link is not valid, or it was used already. "
                               "Check that you copied all of it, or subscribe again."))
    if row.confirm_expires_at is None or row.confirm_expires_at <= now:
        raise Gone(gettext("This confirmation link has expired. Subscribe again to get a new one."))
    return row


async def confirm(session: AsyncSession, token: str, *, now: datetime) -> MailSubscription:
    """Confirm by link: from now on the address receives the calls. The link works once."""
    row = await get_pending(session, token, now=now)
    row.state, row.confirmed_at = CONFIRMED, now
    row.confirm_token_hash = row.confirm_expires_at = None
    return row


async def get_by_link(
    session: AsyncSession, mailing: Mailing, subscription_id: int, signature: str
) -> MailSubscription:
    """The subscription an unsubscribe link names; NotFound when it is gone already or the link is wrong."""
    row = await session.get(MailSubscription, subscription_id)
    if row is None or not signature_matches(mailing, row, signature):
        raise NotFound(gettext("This subscription does not exist (any more): you will not receive anything for it."))
    return row


async def unsubscribe(session: AsyncSession, row: MailSubscription, *, everything: bool = False) -> int:
    """Delete the subscription (or every one of its address): nothing is kept. Returns how many."""
    condition = (MailSubscription.address == row.address) if everything else (MailSubscription.id == row.id)
    result = await session.execute(delete(MailSubscription).where(condition),
                                   execution_options={"synchronize_session": False})
    return int(getattr(result, "rowcount", 0) or 0)


async def actor_of(session: AsyncSession, row: MailSubscription) -> Actor | None:
    return await session.get(Actor, row.actor_id) if row.actor_id is not None else None


async def describe(session: AsyncSession, row: MailSubscription, instance_name: str) -> str:
    """What a stored subscription is about, in words."""
    actor = await actor_of(session, row)
    if actor is not None:
        return _actor_label(actor)
    return calendar_label(row.movement, row.region, instance_name)


async def prune_pending(session: AsyncSession, *, now: datetime) -> int:
    """Unconfirmed requests are forgotten a week after they were made."""
    result = await session.execute(
        delete(MailSubscription).where(MailSubscription.state == PENDING,
                                       MailSubscription.created_at < now - PENDING_KEPT),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)
