"""Looking up any fediverse actor by handle or link: what it is, what it runs on, how we relate to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fedihub import __version__
from fedihub.accounts.service import role_rank
from fedihub.coalitions.actor_profile import profile_of
from fedihub.discovery.resolve import Address, LookupFailed, explain_failure, parse_address, resolve_address
from fedihub.federation.actors import host_of
from fedihub.federation.context import FederationContext
from fedihub.hubs.settings import hub_region_of, hub_scope_of
from fedihub.i18n.active import N_, gettext
from fedihub.protocol.html import html_to_text
from fedihub.protocol.nodeinfo_reader import ServerSoftware, fetch_server_software
from fedihub.protocol.urls import http_url
from fedihub.storage.models import Actor, Follow, HubRequest

LOOKUP_TIMEOUT = 20.0  # WebFinger and the actor fetch together; a person is waiting for the page
SUMMARY_EXCERPT = 280

# Actor types other than Group, in words (ActivityStreams §2.2 actor types). Marked for the catalogue
# (N_), put in the reader's language where they are read (gettext).
TYPE_TEXT = {
    "Person": N_("a person's account"),
    "Service": N_("a service (an automated account or a bot)"),
    "Application": N_("an application (a server's own account or an app)"),
    "Organization": N_("an organization's account"),
}
DISCOVERED_TEXT = {
    "local": N_("hosted on this server"),
    "federation": N_("met through federation"),
    "boost": N_("seen in a boost"),
    "roster": N_("listed in a hub's roster"),
    "import": N_("imported from a list"),
    "lookup": N_("found by a lookup"),
}
KNOWN_TEXT = N_("known")  # discovered some way this list does not name
HUB_TEXT = {
    "local": N_("a local hub"), "regional": N_("a regional hub"), "state": N_("a state hub"),
    "macro-regional": N_("a macro-regional hub"), "national": N_("a national hub"),
    "international": N_("an international hub"),
}


@dataclass(frozen=True)
class Fact:
    key: str  # which fact ("Name", "Handle" …), the same in every language
    value: str
    url: str | None = None  # when set, the value is shown as a link to it

    @property
    def label(self) -> str:
        """The key in the reader's language."""
        return gettext(FACT_LABELS.get(self.key, self.key))


FACT_LABELS = {
    "What": N_("What"), "Name": N_("Name"), "Handle": N_("Handle"), "Profile": N_("Profile"), "Server": N_("Server"),
    "Region": N_("Region"), "Movements": N_("Movements"), "Website": N_("Website"), "Followers": N_("Followers"),
    "About": N_("About"), "Known here": N_("Known here"),
}


def kind_of(actor: Actor) -> str:
    """ "hub", "coalition" (a Group that is not a hub), or the actor type in lowercase."""
    if actor.type == "Group":
        return "hub" if hub_scope_of(actor) else "coalition"
    return actor.type.lower()


def what_of(actor: Actor) -> str:
    hub_scope, hub_region = hub_scope_of(actor), hub_region_of(actor)
    if actor.type == "Group" and hub_scope:
        hub = (gettext(HUB_TEXT[hub_scope]) if hub_scope in HUB_TEXT
               else gettext("a %(scope)s hub", scope=hub_scope.replace("-", " ")))
        return gettext("%(hub)s for %(region)s", hub=hub, region=hub_region) if hub_region else hub
    if actor.type == "Group":
        return gettext("a coalition (a group)")
    if actor.type in TYPE_TEXT:
        return gettext(TYPE_TEXT[actor.type])
    return gettext("an actor of type %(type)s", type=actor.type)


def region_of(actor: Actor) -> str:
    profile = profile_of(actor)
    parts = [p.strip() for p in (profile.region_city, profile.region_state, profile.region_country) if p and p.strip()]
    return ", ".join(parts) or (hub_region_of(actor) or "")


def summary_excerpt(summary: str | None, limit: int = SUMMARY_EXCERPT) -> str:
    text = " ".join(html_to_text(summary).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def handle_of(actor: Actor) -> str:
    return f"{actor.username}@{actor.domain}" if actor.username else actor.domain


@dataclass(frozen=True)
class LookupResult:
    actor: Actor
    known: bool  # this server knew it before the lookup
    software: ServerSoftware | None
    confirmed_handle: str | None = None  # as its own server confirms it (discovery/resolve.py)
    typed_elsewhere: str | None = None  # the handle typed, when another server pointed it here

    @property
    def kind(self) -> str:
        return kind_of(self.actor)

    @property
    def is_group(self) -> bool:
        return self.actor.type == "Group"

    @property
    def handle(self) -> str:
        return self.confirmed_handle or handle_of(self.actor)

    def facts(self) -> list[Fact]:
        """What a person needs to decide whether to follow it, in the order they read it."""
        actor = self.actor
        profile = actor.uri if actor.is_local else (http_url(actor.url) or http_url(actor.uri))
        facts = [
            Fact("What", what_of(actor)),
            Fact("Name", actor.name or actor.username or actor.domain),
            Fact("Handle", f"@{self.handle}"),
            Fact("Profile", profile or actor.uri, profile),
            Fact(
                "Server",
                self.software.label if self.software
                else gettext("%(domain)s (it does not say which software)", domain=actor.domain),
            ),
        ]
        if region_of(actor):
            facts.append(Fact("Region", region_of(actor)))
        movements, website = profile_of(actor).movements, profile_of(actor).website
        if movements:
            facts.append(Fact("Movements", ", ".join(f"#{m}" for m in movements)))
        if http_url(website):
            facts.append(Fact("Website", website or "", http_url(website)))
        facts.append(Fact(
            "Followers",
            gettext("approved one by one by its organizers") if actor.manually_approves_followers
            else gettext("anyone can follow at once"),
        ))
        if summary_excerpt(actor.summary):
            facts.append(Fact("About", summary_excerpt(actor.summary)))
        if not self.known:
            facts.append(Fact("Known here", gettext("new: this server had not seen it before this lookup")))
        else:
            listing = actor.listing
            how = gettext(DISCOVERED_TEXT.get(listing.discovered_via if listing else "", KNOWN_TEXT))
            facts.append(Fact("Known here", gettext("yes, %(how)s since %(date)s", how=how,
                                                    date=f"{listing.discovered_at:%Y-%m-%d}")
                              if listing else gettext("yes, %(how)s", how=how)))
        return facts


async def server_software(ctx: FederationContext, actor: Actor) -> ServerSoftware | None:
    if actor.is_local:
        return ServerSoftware("fedihub", __version__)
    return await fetch_server_software(ctx.http, host_of(actor.uri), scheme=urlsplit(actor.uri).scheme or "https")


async def look_up(
    ctx: FederationContext, text: str, *, allow_private: bool = False, field: str | None = None
) -> LookupResult:
    """Resolve ``text`` (handle or link) and describe what it names; LookupFailed says why not.

    An actor this server did not know is cached with discovered_via="lookup"; an earlier
    discovered_via is never overwritten.
    """
    address: Address | None = None
    try:
        address = parse_address(text, field)
        with anyio.fail_after(LOOKUP_TIMEOUT):
            resolved = await resolve_address(ctx, address, via="lookup", allow_private=allow_private)
    except Exception as exc:  # every failure becomes a sentence next to the field, never a crash page
        raise LookupFailed(explain_failure(exc, address), field) from exc
    software = await server_software(ctx, resolved.actor)
    return LookupResult(actor=resolved.actor, known=resolved.known, software=software,
                        confirmed_handle=resolved.handle or None, typed_elsewhere=resolved.typed_elsewhere)


# --- How the person's own coalitions and hubs relate to it -----------------------------------------


@dataclass(frozen=True)
class Relation:
    local: Actor  # one of the person's coalitions or hubs
    state: str | None  # "accepted", "pending", "asked" (it asked to join this hub), or None

    @property
    def text(self) -> str:
        hub = hub_scope_of(self.local) is not None
        if self.state == "accepted":
            return gettext("a member of this hub") if hub else gettext("already followed")
        if self.state == "pending":
            return gettext("asked; waiting for them to accept")
        if self.state == "asked":
            return gettext("it asked to join this hub: adding it approves the request")
        return ""


@dataclass(frozen=True)
class Relations:
    follow_as: list[Relation]  # coalitions (not hubs) the person may follow with: editors and up
    hubs: list[Relation]  # hubs the person may add members to: admins and up


async def relations_of(session: AsyncSession, mine: Sequence[tuple[Actor, str]], target: Actor) -> Relations:
    """The person's coalitions (``mine``: actor and role) and where each stands with ``target``."""
    candidates = [(actor, role) for actor, role in mine if actor.id != target.id and actor.deleted_at is None]
    if target.id is None or not candidates:
        return Relations([], [])
    ids = [actor.id for actor, _ in candidates]
    follows = {
        row.follower_id: row.state
        for row in (await session.scalars(
            select(Follow).where(Follow.target_id == target.id, Follow.follower_id.in_(ids))
        )).all()
    }
    asked = set((await session.scalars(
        select(HubRequest.hub_id).where(
            HubRequest.member_id == target.id, HubRequest.hub_id.in_(ids), HubRequest.state == "pending"
        )
    )).all())
    follow_as, hubs = [], []
    for actor, role in candidates:
        state = follows.get(actor.id) or ("asked" if actor.id in asked else None)
        if hub_scope_of(actor) is None:
            follow_as.append(Relation(actor, follows.get(actor.id)))
        elif role_rank(role) >= role_rank("admin") and target.type == "Group":
            hubs.append(Relation(actor, state))
    return Relations(follow_as, hubs)
