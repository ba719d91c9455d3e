"""A coalition pledges to a call (Join), withdraws (Leave) or reports back (Update of its Join).

Each operation runs in its caller's transaction and never commits; the caller reads the call first.
"""

from __future__ import annotations

from babel.numbers import format_decimal
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.coalitions import calls
from fedihub.coalitions.link_messages import link_problem
from fedihub.errors import Conflict, InvalidInput, NotFound
from fedihub.federation.actors import get_local_actor
from fedihub.federation.collections import find_activity
from fedihub.federation.context import FederationContext
from fedihub.federation.objects import find_object, publish_viewed
from fedihub.federation.outbox import publish
from fedihub.hubs.settings import hub_scope_of
from fedihub.i18n.active import N_, gettext, language
from fedihub.pledges.calls import CallTarget
from fedihub.pledges.local_action import MAX_ACTION_TITLE, LocalActionInput
from fedihub.pledges.store import ACCEPTED, coalition_of, find_pledge, item_of, set_action, set_coalition, set_report
from fedihub.pledges.vouching import report_refusal
from fedihub.protocol import builders
from fedihub.protocol.pledges import MAX_MESSAGE, MAX_TURNOUT, LocalAction, Report, build_join
from fedihub.storage.models import Actor, Pledge, StoredObject

LIVE_STATES = ("pending", ACCEPTED)


def _message(value: str | None) -> str | None:
    text = (value or "").strip()
    if len(text) > MAX_MESSAGE:
        raise InvalidInput(
            gettext("a pledge message has at most %(limit)s characters", limit=MAX_MESSAGE), field="message",
        )
    return text or None


async def _pledging_coalition(session: AsyncSession, username: str) -> Actor:
    actor = await get_local_actor(session, username)
    if actor.type != "Group" or hub_scope_of(actor) is not None:
        raise InvalidInput(
            gettext("%(name)s is not a coalition: only coalitions pledge to calls", name=username), field="coalition"
        )
    return actor


def _action_input(target: CallTarget, action: LocalActionInput) -> calls.CallInput:
    # Written in the pledging organizer's language (the request's): it is their description.
    part_of = gettext("Our local action for [%(title)s](%(url)s).", title=target.title, url=target.url)
    description = f"{action.description.strip()}\n\n{part_of}" if action.description.strip() else part_of
    return calls.CallInput(
        title=action.title, description=description, start=action.start, end=action.end,
        timezone=action.timezone, place_name=action.place or None, address=action.address or None,
        online_url=action.online_url or None, latitude=action.latitude, longitude=action.longitude,
    )


async def pledge(
    ctx: FederationContext, session: AsyncSession, username: str, target: CallTarget, *,
    message: str | None = None, action: LocalActionInput | None = None,
) -> Pledge:
    """Pledge coalition ``username`` to the call ``target`` (read by the caller, before its transaction).

    Everything happens in the caller's one transaction: the check for an earlier pledge, the local
    action's Event (if any) and the Join. A failure anywhere leaves none of them, and two pledges of
    the same coalition racing each other meet at the (call, coalition) unique key: one is a Conflict.
    """
    coalition = await _pledging_coalition(session, username)
    message = _message(message)
    if target.author.id == coalition.id:
        raise InvalidInput(gettext("a coalition does not pledge to its own call"), field="call")
    if target.cancelled:
        raise InvalidInput(gettext("this call was cancelled: it takes no more pledges"), field="call")
    if target.is_over(ctx.clock()):
        raise InvalidInput(gettext("this call is over: it takes no more pledges"), field="call")
    row = await find_pledge(session, target.uri, coalition.uri, for_update=True)
    if row is not None and row.state in LIVE_STATES:
        already = (
            N_("%(name)s has already pledged to this call (pending)") if row.state == "pending"
            else N_("%(name)s has already pledged to this call (accepted)")
        )
        raise Conflict(gettext(already, name=username))
    if row is not None and row.source == "refused":
        raise Conflict(gettext("the call's organizers refused this coalition's pledge"))
    now = ctx.clock()
    join_id = ctx.urls.new_activity()
    if row is None:
        row = Pledge(call_uri=target.uri, coalition_uri=coalition.uri, source="local", created_at=now)
        session.add(row)
    row.uri, row.state, row.message, row.updated_at = join_id, "pending", message, now
    try:
        # Claims the (call, coalition) key before anything else is written: a pledge that raced
        # past the check above waits here for the other transaction, then fails.
        await session.flush()
    except IntegrityError:
        raise Conflict(gettext("%(name)s has already pledged to this call", name=username)) from None
    local_action = None
    if action is not None:
        event = await calls.publish_call(
            ctx, session, username, _action_input(target, action), super_event=target.uri,
            extra_inboxes={target.author.delivery_inbox or ""},
        )
        local_action = LocalAction(
            uri=event.uri, name=event.name or action.title, start=event.start_time, timezone=event.timezone,
            place=event.location_name, url=event.url, end=event.end_time, address=event.location_address,
            latitude=event.latitude, longitude=event.longitude, online_url=event.online_url,
            description=action.description or None,
        )
    join = build_join(
        activity_id=join_id, actor=coalition.uri, call_id=target.uri, to=[target.author.uri], published=now,
        message=message, action=local_action,
    )
    set_coalition(row, coalition_of(coalition))
    set_action(row, local_action)
    set_report(row, None)
    await publish(ctx, session, actor=coalition, activity=join, inboxes=[target.author.inbox or ""])
    # A remote call only looked at here is published by a pledge: our coalitions' calendars show it.
    call = await find_object(session, target.uri)
    if call is not None:
        publish_viewed(call)
    return row


async def _own_pledge(session: AsyncSession, username: str, call_uri: str) -> tuple[Actor, Pledge, Actor]:
    """The coalition, its live pledge to the call, and the call's author (whose inbox is told)."""
    coalition, row, call = await _own_pledge_and_call(session, username, call_uri)
    return coalition, row, call.author


async def _own_pledge_and_call(
    session: AsyncSession, username: str, call_uri: str
) -> tuple[Actor, Pledge, StoredObject]:
    coalition = await get_local_actor(session, username)
    row = await find_pledge(session, call_uri, coalition.uri, for_update=True)
    if row is None or row.state not in LIVE_STATES:
        raise NotFound(gettext("%(name)s has no pledge to this call", name=username))
    # A pledge is made to a call this server stored (pledge() reads it first), so its author is here.
    call = await find_object(session, call_uri)
    if call is None:
        raise NotFound(gettext("this server has no copy of that call any more"))
    return coalition, row, call


async def withdraw(ctx: FederationContext, session: AsyncSession, username: str, call_uri: str) -> None:
    """Withdraw a pledge: Leave to the call's origin (its local action, if any, stays the coalition's)."""
    coalition, row, author = await _own_pledge(session, username, call_uri)
    row.state, row.updated_at = "withdrawn", ctx.clock()
    # The Join served at its id is what other servers confirm a mirrored pledge with: withdrawn now.
    served = await find_activity(session, row.uri)
    if served is not None:
        served.withdrawn_at = ctx.clock()
    leave = builders.build_leave(activity_id=ctx.urls.new_activity(), actor=coalition.uri, object_id=call_uri,
                                 to=[author.uri])
    await publish(ctx, session, actor=coalition, activity=leave, inboxes=[author.inbox or ""])


def check_report(happened: bool, turnout: int | None, url: str | None) -> Report:
    if turnout is not None and not 0 <= turnout <= MAX_TURNOUT:
        raise InvalidInput(
            gettext("turnout is a rough number of people, from 0 to %(limit)s",
                    limit=format_decimal(MAX_TURNOUT, locale=language())),
            field="turnout",
        )
    url = (url or "").strip() or None
    problem = url and link_problem(
        url, not_web=N_("the link must be a web address starting with https://"),
        too_long=N_("the link has at most %(limit)s characters"),
    )
    if problem:
        raise InvalidInput(problem, field="report_url")
    return Report(happened=happened, turnout=turnout if happened else None, url=url)


async def report(
    ctx: FederationContext, session: AsyncSession, username: str, call_uri: str, *, happened: bool,
    turnout: int | None = None, url: str | None = None,
) -> Pledge:
    """After the call: did the local action happen, how many came, a link (photos, a write-up)."""
    result = check_report(happened, turnout, url)
    coalition, row, call = await _own_pledge_and_call(session, username, call_uri)
    author = call.author
    if row.state != ACCEPTED:
        raise Conflict(gettext("the call's organizers have not accepted this pledge yet"))
    now = ctx.clock()
    # The origin refuses it too (pledges/vouching.py report_refusal): say so here, before sending.
    if report_refusal({"turnout": result.turnout}, call=call, action_start=row.action_start, now=now):
        raise InvalidInput(gettext("report back once your local action has started"), field="happened")
    set_report(row, Report(happened=result.happened, turnout=result.turnout, url=result.url, reported_at=now))
    row.updated_at = now
    item = item_of(row)
    join = build_join(
        activity_id=row.uri, actor=coalition.uri, call_id=call_uri, to=[author.uri],
        published=row.created_at, message=row.message, action=item.action, report=item.report,
    )
    update = builders.build_update(
        activity_id=ctx.urls.new_activity(), actor=coalition.uri, obj=join, to=[author.uri], cc=[],
        published=now,
    )
    # Servers showing the call confirm our pledge with the Join served at its id: serve the report too.
    served = await find_activity(session, row.uri)
    if served is not None:
        served.data = {**(served.data or {}), **join}
    await publish(ctx, session, actor=coalition, activity=update, inboxes=[author.inbox or ""])
    return row


__all__ = ["LIVE_STATES", "MAX_ACTION_TITLE", "LocalActionInput", "check_report", "pledge", "report", "withdraw"]
