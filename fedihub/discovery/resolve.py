"""Resolving an address someone typed or imported (a handle or a link) to an actor, and saying why not."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from fedihub.errors import (
    DomainBlocked,
    FedihubError,
    ForbiddenAddress,
    Gone,
    InvalidInput,
    NotFound,
    RemoteGone,
    RemoteInvalid,
    RemoteNotFound,
    RemoteUnavailable,
)
from fedihub.federation import actors
from fedihub.federation.blocks import blocked_domains, domain_matches
from fedihub.federation.context import FederationContext
from fedihub.hubs.settings import set_hub_scope
from fedihub.i18n.active import N_, gettext
from fedihub.protocol import fetch, webfinger
from fedihub.protocol.addresses import check_host_name
from fedihub.protocol.hosts import normalise_host
from fedihub.protocol.profile_reader import read_actor_profile
from fedihub.protocol.reader import read_actor
from fedihub.protocol.urls import has_http_scheme
from fedihub.storage.models import Actor, CoalitionProfile

log = logging.getLogger(__name__)

# How each looked-up or imported address ends.
FOUND = "found"  # a coalition this server did not know before
KNOWN = "already known"
NOT_FOUND = "not found"
REFUSED = "refused"
OUTCOMES = (FOUND, KNOWN, NOT_FOUND, REFUSED)
# The outcomes as a page names them (the constants stay the same in every language: pages and the
# CLI key on them).
OUTCOME_LABELS = {FOUND: N_("found"), KNOWN: N_("already known"), NOT_FOUND: N_("not found"), REFUSED: N_("refused")}


def outcome_label(outcome: str) -> str:
    """The outcome in the reader's language."""
    return gettext(OUTCOME_LABELS[outcome]) if outcome in OUTCOME_LABELS else outcome

MAX_ADDRESS = 2048


@dataclass(frozen=True)
class Address:
    """A handle (``name@host``) or an http(s) link, checked for shape but not yet resolved."""

    text: str
    handle: str | None  # "name@host", lowercased host, without "@" or "acct:"
    url: str | None
    host: str  # the server it names, with the port if any

    @property
    def key(self) -> str:
        """Two rows with the same key name the same thing (handles compare case-insensitively)."""
        return self.handle.lower() if self.handle else (self.url or "")


def parse_address(text: str, field: str | None = None) -> Address:
    """``name@host``, ``@name@host``, ``acct:name@host`` or an http(s) link; InvalidInput otherwise."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(gettext("give a handle like tenants@city.example or a link to a profile"), field=field)
    if len(text) > MAX_ADDRESS:
        raise InvalidInput(gettext("an address has at most %(max)d characters", max=MAX_ADDRESS), field=field)
    if has_http_scheme(text):
        try:
            parsed = fetch.check_fetchable_url(text)
        except InvalidInput as exc:
            raise InvalidInput(gettext(exc.public_message), field=field) from None
        host = parsed.host + (f":{parsed.port}" if parsed.port else "")
        return Address(text=text, handle=None, url=text, host=normalise_host(host, strict=False))
    if "@" not in text:
        raise InvalidInput(
            gettext("%(text)r is neither a handle like name@example.org nor a link starting with https://", text=text),
            field=field,
        )
    try:
        name, host = webfinger.parse_handle(text)
    except InvalidInput as exc:
        raise InvalidInput(gettext(exc.public_message), field=field) from None
    return Address(text=text, handle=f"{name}@{host}", url=None, host=host)


@dataclass(frozen=True)
class Resolved:
    actor: Actor  # stored, or (dry runs) described from the fetched document without storing it
    known: bool  # this server knew the actor before this resolution
    # Its handle as its own server confirms it (WebFinger, both ways), else the one derived from its
    # id's host; never the handle typed, which may be another server's name for it.
    handle: str = ""
    # The handle typed, when it is not this actor's handle (another server pointed it here).
    typed_elsewhere: str | None = None


def derived_handle(actor: Actor) -> str:
    """``preferredUsername@host of its id``: what the actor's own server says without WebFinger."""
    return f"{actor.username}@{actor.domain}" if actor.username else actor.domain


async def confirmed_handle(ctx: FederationContext, actor: Actor) -> str:
    """The actor's handle, confirmed by WebFinger at its own server when it can be (see
    webfinger.fetch_confirmed_handle); the derived one when its server does not confirm any."""
    if actor.is_local or not actor.username:
        return derived_handle(actor)
    try:
        confirmed = await webfinger.fetch_confirmed_handle(
            ctx.http, actor.uri, actor.username, actors.host_of(actor.uri), scheme=ctx.scheme
        )
    except (FedihubError, httpx.HTTPError) as exc:
        log.info("no WebFinger confirmation of %s: %s", actor.uri, exc)
        confirmed = None
    return confirmed or derived_handle(actor)


def _is_our_host(ctx: FederationContext, host: str) -> bool:
    ours = (ctx.host, urlsplit(ctx.base_url).hostname or "")
    return host in {normalise_host(name, strict=False) for name in ours}


def _check_host(host: str, *, allow_private: bool, blocked: Sequence[str]) -> None:
    """Refuse before any request: private networks (unless allowed) and domains blocked here."""
    if not allow_private:
        # IP literals and local names; names resolving to private addresses meet the client's guard.
        check_host_name(urlsplit(f"//{host}").hostname or host)
    if any(domain_matches(host, domain) for domain in blocked):
        raise DomainBlocked(f"{host} is blocked here",
                            public_message=gettext("this server does not federate with %(host)s", host=host))


async def _actor_url(ctx: FederationContext, address: Address, *, allow_private: bool, blocked: Sequence[str]) -> str:
    if address.url is not None:
        if not ctx.urls.is_local(address.url):
            _check_host(address.host, allow_private=allow_private, blocked=blocked)
        return address.url
    name, host = address.handle.split("@", 1) if address.handle else ("", "")
    if _is_our_host(ctx, host):
        async with ctx.sessions() as session:
            return (await actors.get_local_actor(session, name)).uri
    _check_host(host, allow_private=allow_private, blocked=blocked)
    url = await webfinger.fetch_actor_url(ctx.http, f"{name}@{host}", scheme=ctx.scheme)
    # WebFinger may delegate to another server: that one must pass the same checks.
    actor_host = actors.host_of(url)
    if actor_host != host:
        _check_host(actor_host, allow_private=allow_private, blocked=blocked)
    return url


def describe_document(doc: dict) -> Actor:
    """An Actor built from a fetched document and never added to a session (for dry runs)."""
    view = read_actor(doc)
    profile = read_actor_profile(doc)
    actor = Actor(
        uri=view.id, type=view.type, username=view.preferred_username, domain=actors.host_of(view.id),
        is_local=False, name=view.name, summary=view.summary, url=view.url,
        manually_approves_followers=bool(view.manually_approves_followers),
        profile=CoalitionProfile(
            movements=list(profile.movements) or None, region_city=profile.region_city,
            region_state=profile.region_state, region_country=profile.region_country, website=profile.website,
        ),
    )
    set_hub_scope(actor, profile.hub_scope, profile.hub_region)
    return actor


async def resolve_address(
    ctx: FederationContext,
    address: Address,
    *,
    via: str,
    allow_private: bool = False,
    blocked: Sequence[str] | None = None,
    store: bool = True,
) -> Resolved:
    """The actor ``address`` names, fetched (or refreshed when stale) and cached as discovered ``via``.

    With ``store=False`` nothing is written: a known actor comes from the cache, an unknown one is
    fetched and described only. Raises the errors :func:`explain_failure` puts into words.
    """
    if blocked is None:
        async with ctx.sessions() as session:
            blocked = await blocked_domains(session)
    url = await _actor_url(ctx, address, allow_private=allow_private, blocked=blocked)
    async with ctx.sessions() as session:
        existing = await actors.find_actor(session, url)
    if ctx.urls.is_local(url):
        if existing is None or not existing.is_local:
            raise NotFound(gettext("there is no such coalition on this server"))
        actor = existing
    elif store:
        actor = await actors.resolve_actor(ctx, url, discovered_via=via)
    elif existing is not None:
        actor = existing
    else:
        actor = describe_document(await fetch.fetch_actor_document(ctx.http, url, auth=ctx.instance_auth))
    if actor.deleted_at is not None:
        raise Gone(gettext("%(handle)s was deleted", handle=actor.handle))
    handle = await confirmed_handle(ctx, actor)
    typed = address.handle if address.handle and address.handle.lower() != handle.lower() else None
    if typed is not None:
        log.info("%s points at %s, whose own server calls it %s", typed, actor.uri, handle)
    return Resolved(actor=actor, known=existing is not None, handle=handle, typed_elsewhere=typed)


@dataclass(frozen=True)
class Failure:
    outcome: str  # NOT_FOUND or REFUSED
    reason: str  # a sentence fragment for people: "masto.example has no account nobody"
    status: int  # what a page answering this lookup says (always 4xx)


def explain_failure(exc: BaseException, address: Address | None) -> Failure:
    """Why an address could not be resolved, in words (the reader's language), with the outcome and
    status it deserves. A protocol error's public message is English, marked for the catalogue: it is
    translated here, where a person reads it."""
    host = address.host if address else gettext("the server")
    if isinstance(exc, DomainBlocked):
        return Failure(REFUSED, gettext(exc.public_message), 403)
    if isinstance(exc, ForbiddenAddress):
        return Failure(
            REFUSED, gettext("%(host)s is in a private network; only public servers can be reached", host=host), 400
        )
    if isinstance(exc, InvalidInput):
        return Failure(REFUSED, gettext(exc.public_message), 400)
    if isinstance(exc, (RemoteGone, Gone)):
        return Failure(NOT_FOUND, gettext("%(host)s says it was deleted", host=host), 410)
    if isinstance(exc, RemoteNotFound):
        if address is not None and address.handle:
            return Failure(NOT_FOUND, gettext("%(host)s has no account %(name)s", host=host,
                                              name=address.handle.split("@", 1)[0]), 404)
        return Failure(NOT_FOUND, gettext("there is nothing at that link on %(host)s", host=host), 404)
    if isinstance(exc, NotFound):
        return Failure(NOT_FOUND, gettext(exc.public_message), 404)
    if isinstance(exc, TimeoutError):
        return Failure(NOT_FOUND, gettext("%(host)s did not answer in time; try again later", host=host), 404)
    if isinstance(exc, (RemoteUnavailable, httpx.TransportError)):
        return Failure(NOT_FOUND, gettext("%(host)s could not be reached; try again later", host=host), 404)
    if isinstance(exc, RemoteInvalid):
        return Failure(REFUSED, gettext("that is not an ActivityPub actor (%(reason)s)",
                                        reason=gettext(exc.public_message)), 400)
    if isinstance(exc, FedihubError):
        return Failure(NOT_FOUND, gettext(exc.public_message),
                       exc.status_code if 400 <= exc.status_code < 500 else 400)
    log.error("looking up %r failed unexpectedly", address.text if address else None, exc_info=exc)
    return Failure(NOT_FOUND, gettext("it could not be looked up because of an error on this server (logged)"), 400)


class LookupFailed(FedihubError):
    """A lookup that ended without an actor; the status and message say why."""

    def __init__(self, failure: Failure, field: str | None = None) -> None:
        super().__init__(failure.reason, field=field)
        self.failure = failure
        self.status_code = failure.status
