"""Typed SQLAlchemy models: actors, follows, objects, activities, the work queues and background jobs."""

# No `from __future__ import annotations` here, unlike elsewhere: with it every `Mapped[...]` is a
# string SQLAlchemy evaluates while mapping, about 6 ms of each command's start (bench/startup.py).
# Relationships name their target in quotes, since it may be declared further down.

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

URI = String(2048)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use datetime.now(UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class Actor(Base):
    """An ActivityPub actor, local or remote: identity, public key and endpoints, nothing more.

    What the domain knows about an actor lives in tables its packages own, one row per actor
    where there is something to say: the coalition profile (coalitions/), hub settings (hubs/),
    the directory listing (directory/). The private key of a local actor has a table of its
    own (ActorKey) that only signing code reads, so no actor query loads it.
    """

    __tablename__ = "actors"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    type: Mapped[str] = mapped_column(String(32))
    username: Mapped[str | None] = mapped_column(String(255))
    # Only local actors have one; unique across every local actor type because WebFinger
    # has a single namespace (Lemmy's separate group: namespace broke Mastodon, mastodon#16974).
    local_username: Mapped[str | None] = mapped_column(String(255), unique=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(URI)
    inbox: Mapped[str | None] = mapped_column(URI)
    shared_inbox: Mapped[str | None] = mapped_column(URI)
    outbox: Mapped[str | None] = mapped_column(URI)
    followers_uri: Mapped[str | None] = mapped_column(URI)
    following_uri: Mapped[str | None] = mapped_column(URI)
    featured_uri: Mapped[str | None] = mapped_column(URI)
    icon_url: Mapped[str | None] = mapped_column(URI)
    # The banner (AS2 `image`, a header in Mastodon) and its alt text; ours point at a Media row.
    image_url: Mapped[str | None] = mapped_column(URI)
    image_alt: Mapped[str | None] = mapped_column(Text)
    public_key_id: Mapped[str | None] = mapped_column(URI, index=True)
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    manually_approves_followers: Mapped[bool] = mapped_column(Boolean, default=False)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    published: Mapped[datetime | None]
    fetched_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    # One-to-one rows of the owning packages, loaded with the actor (a join on the primary key)
    # so pages and documents never make a query per actor. None where there is nothing to say.
    profile: Mapped["CoalitionProfile | None"] = relationship(
        lazy="joined", cascade="all, delete-orphan", passive_deletes=True
    )
    hub_settings: Mapped["HubSettings | None"] = relationship(
        lazy="joined", cascade="all, delete-orphan", passive_deletes=True
    )
    listing: Mapped["DirectoryListing | None"] = relationship(
        lazy="joined", cascade="all, delete-orphan", passive_deletes=True
    )

    def __init__(self, **fields: Any) -> None:
        # A new actor has none of these rows yet: saying so up front means reading them after a
        # flush finds None instead of starting a lazy load, which async sessions cannot do.
        for name in ("profile", "hub_settings", "listing"):
            fields.setdefault(name, None)
        super().__init__(**fields)

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.domain}"

    @property
    def delivery_inbox(self) -> str | None:
        """Where to deliver public and followers-only activities: shared inbox preferred."""
        return self.shared_inbox or self.inbox


class ActorKey(Base):
    """A local actor's private key (owner: federation/signing.py, the only reader)."""

    __tablename__ = "actor_keys"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CoalitionProfile(Base):
    """What a coalition says about itself (owner: coalitions/): about text, movements, region, website.

    Local coalitions write it from their profile form; remote ones get it from their actor
    documents (and from an organizer's import where the document is silent).
    """

    __tablename__ = "coalition_profiles"
    __table_args__ = (Index("ix_coalition_profiles_region_state", "region_state"),)

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    # The Markdown an organizer wrote; the actor's ``summary`` is its rendered HTML.
    summary_source: Mapped[str | None] = mapped_column(Text)
    movements: Mapped[list[str] | None] = mapped_column(JSON)
    region_city: Mapped[str | None] = mapped_column(String(200))
    region_state: Mapped[str | None] = mapped_column(String(200))
    region_country: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    website: Mapped[str | None] = mapped_column(URI)


class HubSettings(Base):
    """A hub: a Group with a scope (owner: hubs/). Remote actors get a row when their document says so.

    The boost rules (movements, regions, calls only) are a local hub's; empty filters match everything.
    """

    __tablename__ = "hub_settings"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(32), index=True)
    region: Mapped[str | None] = mapped_column(String(200))
    movements: Mapped[list[str] | None] = mapped_column(JSON)
    regions: Mapped[list[str] | None] = mapped_column(JSON)
    calls_only: Mapped[bool | None] = mapped_column(Boolean)


class DirectoryListing(Base):
    """How this server met an actor (owner: directory/): the directory's "found" filter and notes.

    ``discovered_via`` is one of "local", "federation", "boost", "roster", "import", "lookup";
    ``note`` is an organizer's note from an import; ``roster_fetched_at`` says when a hub's
    roster was last read.
    """

    __tablename__ = "directory_listings"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    discovered_via: Mapped[str] = mapped_column(String(16))
    discovered_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)
    roster_fetched_at: Mapped[datetime | None]


class ActorMovement(Base):
    """One movement of an actor, casefolded: the directory's movement filter as an indexed lookup."""

    __tablename__ = "actor_movements"

    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    movement: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class SuggestedMovement(Base):
    """A movement the instance suggests in its forms, with its label per language (coalitions/movement_list.py)."""

    __tablename__ = "suggested_movements"

    id: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    labels: Mapped[dict[str, str]] = mapped_column(JSON)


class Follow(Base):
    """A follow relationship in either direction; ``state`` is pending or accepted."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("follower_id", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    follower_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # A member's follow of its hub (hubs/two_way.py), not the hub's follow of a member: between two
    # hubs the two follows of a membership look alike otherwise.
    of_hub: Mapped[bool] = mapped_column(default=False, server_default=false())

    follower: Mapped["Actor"] = relationship(foreign_keys=[follower_id], lazy="joined")
    target: Mapped["Actor"] = relationship(foreign_keys=[target_id], lazy="joined")


class StoredObject(Base):
    """A Note, Article, Page or Event, ours or received from an actor we follow."""

    __tablename__ = "objects"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    type: Mapped[str] = mapped_column(String(32))
    attributed_to_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    is_local: Mapped[bool] = mapped_column(Boolean, default=False)
    # public | unlisted | followers | direct, or "viewed": a remote call only opened by a link here,
    # listed nowhere until it arrives as published things do (federation/objects.py VIEWED).
    visibility: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(URI)
    in_reply_to: Mapped[str | None] = mapped_column(URI)
    published: Mapped[datetime | None]
    updated: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # Markdown the organizer wrote (local objects only); ``content`` is its rendered HTML.
    source: Mapped[str | None] = mapped_column(Text)
    # Event fields (calls to action), local and remote, so "upcoming calls" is one query.
    start_time: Mapped[datetime | None] = mapped_column(index=True)
    end_time: Mapped[datetime | None]
    timezone: Mapped[str | None] = mapped_column(String(64))
    location_name: Mapped[str | None] = mapped_column(Text)
    location_address: Mapped[str | None] = mapped_column(Text)
    online_url: Mapped[str | None] = mapped_column(URI)
    event_status: Mapped[str | None] = mapped_column(String(16))
    movements: Mapped[list[str] | None] = mapped_column(JSON)
    region_city: Mapped[str | None] = mapped_column(String(200))
    region_state: Mapped[str | None] = mapped_column(String(200))
    region_country: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # A local call's banner (a Media row's URL) and its alt text; remote ones stay in ``data``.
    image_url: Mapped[str | None] = mapped_column(URI)
    image_alt: Mapped[str | None] = mapped_column(Text)
    # The language its text is written in (BCP 47: "es", "pt-BR"): chosen by the organizer, or read
    # from a peer's contentMap/nameMap or Mobilizon's inLanguage (protocol/languages.py); None if unsaid.
    language: Mapped[str | None] = mapped_column(String(35))
    # A remote call's pledges collection: when this instance last read it from the origin.
    pledges_fetched_at: Mapped[datetime | None]
    # …and the hubs that origin says carry the call (its collection's `carriedBy`).
    pledge_carriers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # The pledge list's version (its `listVersion`): at the origin, one more for each change told to the
    # call's audience; on a copy, the newest the copy applied, so an older notice arriving late is ignored.
    pledges_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # At the origin: the version the audience was last told of, and when (pledges/notices.py coalesces).
    pledges_noticed_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pledges_noticed_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]

    author: Mapped["Actor"] = relationship(lazy="joined")


class Activity(Base):
    """An activity we published; kept so its id dereferences and the outbox can list it."""

    __tablename__ = "activities"
    __table_args__ = (Index("ix_activities_actor_type", "actor_id", "type", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    type: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_uri: Mapped[str | None] = mapped_column(URI, index=True)
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]

    actor: Mapped["Actor"] = relationship(lazy="joined")


class InboxItem(Base):
    """An authenticated inbound activity waiting for (or done with) processing."""

    __tablename__ = "inbox_items"
    __table_args__ = (Index("ix_inbox_items_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Deduplication key: the activity id (shared and personal inboxes, retries, several hubs).
    activity_uri: Mapped[str] = mapped_column(URI, unique=True)
    activity_type: Mapped[str] = mapped_column(String(64))
    actor_uri: Mapped[str] = mapped_column(URI)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]


class Delivery(Base):
    """One signed POST of one activity to one inbox, retried until delivered or dead."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("activity_id", "inbox_url"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    inbox_url: Mapped[str] = mapped_column(URI)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class Job(Base):
    """A unit of background work (a periodic job or a one-off follow-up), claimed with a lease like the queues.

    ``name`` is unique: enqueueing a job that is already waiting changes nothing, so N workers and
    N triggers still run it once. A periodic job (``every_seconds``) goes back to pending when done.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(URI, unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any] | None]
    every_seconds: Mapped[float | None] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # Asked for again while it ran: it runs once more when done (what it read may be stale).
    rerun: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Account(Base):
    """A person who logs in to organise: an instance admin, or a member of coalitions."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    disabled_at: Mapped[datetime | None]
    # Moved on by logging out: every session cookie issued before then ends (migration 0011).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The interface language this person last chose (en, es, fr): their e-mail is written in it.
    language: Mapped[str | None] = mapped_column(String(8))


class Membership(Base):
    """An account's role in one coalition: owner, admin or editor."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("account_id", "actor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]

    account: Mapped["Account"] = relationship(lazy="joined")
    actor: Mapped["Actor"] = relationship(lazy="joined")


class Invite(Base):
    """A one-time link: join a coalition with a role, or (no coalition) set up the instance admin."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Only a hash is stored: a database leak must not leak usable links.
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class Media(Base):
    """An image re-encoded by us and served from our own origin.

    ``purpose``: "avatar" (keyed at random, owned by ``actor_id``); "banner" (calls' and coalitions'
    images, keyed by content hash, shared by whatever points at its URL); "pending" (an upload kept
    after a form error: keyed by a secret token, owned by ``account_id``, gone at ``expires_at``);
    "remote" (a peer's picture fetched through us, ``source_url``) and "remote-failed" (a failed
    fetch of ``source_url``, not tried again before ``expires_at``).
    """

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    content_type: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    purpose: Mapped[str] = mapped_column(String(16), default="avatar", server_default="avatar")
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    file_name: Mapped[str | None] = mapped_column(String(255))
    source_url: Mapped[str | None] = mapped_column(URI, index=True)
    expires_at: Mapped[datetime | None]


class DomainBlock(Base):
    """A remote domain this instance refuses to federate with."""

    __tablename__ = "domain_blocks"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class DomainHealth(Base):
    """Per-domain delivery breaker: consecutive failures and until when to stop trying."""

    __tablename__ = "domain_health"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class Reaction(Base):
    """An Announce or Like received for one of our objects (or any object we store)."""

    __tablename__ = "reactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)
    type: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    object_uri: Mapped[str] = mapped_column(URI, index=True)
    created_at: Mapped[datetime]


class Boost(Base):
    """An Announce a local hub sent; unique per (hub, object), which is the hubs' loop guard (§3.8 R4)."""

    __tablename__ = "boosts"
    __table_args__ = (UniqueConstraint("hub_id", "object_uri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_uri: Mapped[str] = mapped_column(URI, index=True)
    activity_uri: Mapped[str] = mapped_column(URI, unique=True)
    created_at: Mapped[datetime]
    undone_at: Mapped[datetime | None]
    # The member it came through (the author, or the member hub that boosted it): the per-member
    # boost rate counts these. No foreign key: the column was added to a live table (migration 0009).
    member_id: Mapped[int | None] = mapped_column(Integer, index=True)


class Pledge(Base):
    """A coalition's pledge (a ``Join``) to a call, with its optional local action and report-back.

    At the call's origin these rows are the authoritative list; on other instances they mirror the
    origin's published pledges collection (``source == "origin"``), and a pledging coalition keeps its
    own pledge here from the moment it sends the Join (``pending`` until the origin accepts).
    """

    __tablename__ = "pledges"
    __table_args__ = (UniqueConstraint("call_uri", "coalition_uri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)  # the Join activity's id
    call_uri: Mapped[str] = mapped_column(URI, index=True)
    coalition_uri: Mapped[str] = mapped_column(URI, index=True)
    # pending | accepted | rejected | withdrawn, and for copies (source "origin") unconfirmed: a pledge
    # of a third server's coalition not yet confirmed by that server (pledges/mirror.py), never shown.
    state: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    # What the roll-up shows of the coalition, as the origin knew it when it accepted the pledge.
    coalition_name: Mapped[str | None] = mapped_column(Text)
    coalition_url: Mapped[str | None] = mapped_column(URI)
    coalition_handle: Mapped[str | None] = mapped_column(String(320))
    region_city: Mapped[str | None] = mapped_column(String(200))
    region_state: Mapped[str | None] = mapped_column(String(200))
    region_country: Mapped[str | None] = mapped_column(String(200))
    movements: Mapped[list[str] | None] = mapped_column(JSON)
    # The local action: a child Event of the pledging coalition, linked to the call.
    action_uri: Mapped[str | None] = mapped_column(URI)
    action_url: Mapped[str | None] = mapped_column(URI)
    action_name: Mapped[str | None] = mapped_column(Text)
    action_start: Mapped[datetime | None]
    action_timezone: Mapped[str | None] = mapped_column(String(64))
    action_place: Mapped[str | None] = mapped_column(Text)
    action_end: Mapped[datetime | None]
    action_address: Mapped[str | None] = mapped_column(Text)
    action_latitude: Mapped[float | None] = mapped_column(Float)
    action_longitude: Mapped[float | None] = mapped_column(Float)
    action_online_url: Mapped[str | None] = mapped_column(URI)
    action_description: Mapped[str | None] = mapped_column(Text)
    # Report-back after the call: did it happen, rough turnout, a link.
    happened: Mapped[bool | None] = mapped_column(Boolean)
    turnout: Mapped[int | None] = mapped_column(Integer)
    report_url: Mapped[str | None] = mapped_column(URI)
    reported_at: Mapped[datetime | None]
    # "local" for pledges this instance decides on or sent; "origin" for a mirror of a remote call's list.
    source: Mapped[str] = mapped_column(String(16), default="local")
    # Why the pledge counts in the headline (pledges/vouching.py): "local", "hub" or "organizers" at the
    # call's origin, "origin" on a copy whose origin published it as vouched; None while unvouched.
    vouched_by: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class HubRequest(Base):
    """A coalition or hub asking to join a hub (an inbound or outbound ``Join`` of the hub actor)."""

    __tablename__ = "hub_requests"
    __table_args__ = (UniqueConstraint("hub_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)  # the Join activity's id
    hub_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    message: Mapped[str | None] = mapped_column(Text)
    # pending | approved | refused | withdrawn
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    hub: Mapped["Actor"] = relationship(foreign_keys=[hub_id], lazy="joined")
    member: Mapped["Actor"] = relationship(foreign_keys=[member_id], lazy="joined")



# Vouched pledges (migration 0008).



# Hub safeguards (migration 0009).


class HeldPost(Base):
    """A member's post a hub did not boost at once (over the member's boost rate, or the member is paused).

    It waits in the hub's review list until a hub admin boosts or discards it; ``decision`` is then
    "boosted", "discarded", or "retracted" when its author deleted it first.
    """

    __tablename__ = "hub_held_posts"
    __table_args__ = (UniqueConstraint("hub_id", "object_uri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hub_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    object_uri: Mapped[str] = mapped_column(URI, index=True)
    reason: Mapped[str] = mapped_column(String(16))  # "rate" | "paused" | "mention" (hubs/mentions.py)
    held_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))

    hub: Mapped["Actor"] = relationship(foreign_keys=[hub_id], lazy="joined")
    member: Mapped["Actor"] = relationship(foreign_keys=[member_id], lazy="joined")


class PausedMember(Base):
    """A hub admin paused boosting of one member; the row goes when they resume it."""

    __tablename__ = "hub_paused_members"

    hub_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    paused_at: Mapped[datetime]


class AnnounceMark(Base):
    """The first Announce of an object by an actor: later ones (new ids, or after an Undo) tell nobody.

    Kept when the Announce is undone, so Announce/Undo cycles cannot replay the roll-up notice either.
    """

    __tablename__ = "announce_marks"
    __table_args__ = (UniqueConstraint("actor_id", "object_uri"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    object_uri: Mapped[str] = mapped_column(URI, index=True)
    first_seen_at: Mapped[datetime]




# Moderation: reports and actor blocks (migration 0010).


class ActorBlock(Base):
    """One actor refused (owner: moderation/): by the whole instance, or by one coalition for itself.

    ``coalition_id`` is None for an instance admin's block. Either way the actor's follows, pledges
    and joins are refused and its posts are neither boosted nor shown where the block applies.
    """

    __tablename__ = "actor_blocks"
    __table_args__ = (UniqueConstraint("actor_id", "coalition_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    coalition_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]

    actor: Mapped["Actor"] = relationship(foreign_keys=[actor_id], lazy="joined")


class Report(Base):
    """A report (an ActivityPub ``Flag``) about actors and posts (owner: moderation/).

    ``direction`` is "inbound" (another server reported something of ours) or "outbound" (we
    reported something of theirs; the Flag went out as the instance actor). ``snapshot`` keeps the
    reported content as this server had it when the report was made, so it can be judged later.
    """

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_origin_received", "origin_host", "received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uri: Mapped[str] = mapped_column(URI, unique=True)  # the Flag's id
    direction: Mapped[str] = mapped_column(String(8))
    # inbound: the actor that sent the Flag (usually a server's instance actor) and its host;
    # outbound: our instance actor, and the server the report went to.
    reporter_uri: Mapped[str] = mapped_column(URI)
    origin_host: Mapped[str] = mapped_column(String(255))
    target_host: Mapped[str] = mapped_column(String(255))
    actor_uris: Mapped[list[str]] = mapped_column(JSON)
    object_uris: Mapped[list[str]] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    snapshot: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    # outbound: the account that asked (kept here only, never sent).
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    received_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))


class ReportCoalition(Base):
    """A local coalition a report is about: its owners see the report (owner: moderation/)."""

    __tablename__ = "report_coalitions"

    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True)
    coalition_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True,
                                              index=True)



# Sessions (migration 0011).



# Pledge mirroring (migration 0012).



# Ingress (migration 0013).


# Mail outbox (migration 0015).


class OutboundMail(Base):
    """One e-mail to one recipient, sent by the worker and retried like a delivery (owner: mail/).

    ``state`` is pending (waiting or retrying), sent or failed (given up on, with ``last_error``).
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    locked_by: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # Files sent with the message (migration 0017): [{"filename", "content_type", "data" (base64)}].
    attachments: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)


# Conversation from the fediverse (migration 0018).


class CallReply(Base):
    """A remote reply under one of our calls (owner: coalitions/replies.py); its text is the stored object.

    ``hidden_at`` is set when the call's organizers hide it: then it is neither shown nor served. The
    rows also count an actor's replies per call and hour (the reply cap).
    """

    __tablename__ = "call_replies"
    __table_args__ = (
        UniqueConstraint("object_id"),
        Index("ix_call_replies_call_author", "call_id", "author_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    call_id: Mapped[int] = mapped_column(ForeignKey("objects.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    received_at: Mapped[datetime]
    hidden_at: Mapped[datetime | None]
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))

    reply: Mapped["StoredObject"] = relationship(foreign_keys=[object_id], lazy="joined")


class FediverseMember(Base):
    """A fediverse account an organizer listed as a member of a coalition (owner: coalitions/fedi_members.py).

    A listed member's public post that mentions the coalition is announced by it (FEP-1b12); the list
    itself is shown to the coalition's organizers only.
    """

    __tablename__ = "fediverse_members"

    coalition_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[datetime]
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))

    actor: Mapped["Actor"] = relationship(foreign_keys=[actor_id], lazy="joined")


# E-mail subscriptions of the public (migration 0017).


class MailSubscription(Base):
    """One address subscribed to a coalition's or hub's calls, or to a filtered calendar (owner: subscriptions/).

    ``target`` names what is subscribed to ("actor:<id>" or "calendar:<movement>|<region>") so one
    address holds one row per target. Only a SHA-256 of the confirmation token is kept; the
    unsubscribe link is an HMAC of the row's id, so nothing of it is stored. The address is never
    federated or shown on a public page.
    """

    __tablename__ = "mail_subscriptions"
    __table_args__ = (UniqueConstraint("address", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), index=True)
    target: Mapped[str] = mapped_column(String(700))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    movement: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(200))
    # The reader's IANA zone as their browser gave it, for the times in their messages.
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The interface language the address subscribed in (en, es, fr): its messages are written in it.
    language: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | confirmed
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_expires_at: Mapped[datetime | None]
    confirm_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]


class SubscriptionMail(Base):
    """One call revision mailed for one subscription: the same change is never mailed twice (owner: subscriptions/)."""

    __tablename__ = "subscription_mails"
    __table_args__ = (UniqueConstraint("subscription_id", "call_uri", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("mail_subscriptions.id", ondelete="CASCADE"), index=True
    )
    call_uri: Mapped[str] = mapped_column(URI)
    revision: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # new | changed | cancelled
    created_at: Mapped[datetime]


# Notices for organizers: "What's new" and its e-mail (migration 0016).


class Notice(Base):
    """One thing an organizer of a local coalition or hub should hear about (owner: notices/).

    What it names (who, which call) is copied in when it is made, so the sentence stays readable
    after the other party or the call is gone. ``key`` makes a repeated activity one notice.
    """

    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("actor_id", "kind", "key"),
        Index("ix_notices_actor_id_id", "actor_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(URI)
    party_uri: Mapped[str | None] = mapped_column(URI)
    party_name: Mapped[str | None] = mapped_column(Text)
    party_url: Mapped[str | None] = mapped_column(URI)
    call_uri: Mapped[str | None] = mapped_column(URI)
    call_title: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)

    actor: Mapped["Actor"] = relationship(lazy="joined")


class NoticeRead(Base):
    """How far one account has read one actor's notices (owner: notices/)."""

    __tablename__ = "notice_reads"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True)
    last_read_id: Mapped[int] = mapped_column(Integer)


class NoticePreference(Base):
    """How one account wants one kind of notice by e-mail: off, now or digest (owner: notices/).

    No row means the kind's default.
    """

    __tablename__ = "notice_preferences"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(16))


class NoticeMail(Base):
    """A notice queued by e-mail to an account, at once or in a digest: never a second time (owner: notices/)."""

    __tablename__ = "notice_mails"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    queued_at: Mapped[datetime]


class SiteSettings(Base):
    """The instance's own name and description, as its admins set them (owner: accounts/site.py).

    One row at most (id 1); without it the FEDIHUB_INSTANCE_NAME setting, else the host, names the instance.
    """

    __tablename__ = "site_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime]


class ContentGeneration(Base):
    """A number every transaction that changes shown content raises (owner: storage/content_generation.py).

    One row (id 1). Caches of rendered public answers keep the number they were rendered under and
    are stale once it moved, whichever process wrote: a worker, a CLI command, another web process.
    """

    __tablename__ = "content_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(BigInteger)
