"""Frozen, typed settings built once from FEDIHUB_* environment variables."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from fedihub.errors import ConfigurationError
from fedihub.mail.config import MailConfig, parse_mail_config
from fedihub.protocol.limits import MAX_DOCUMENT_BYTES

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be on or off (1/0, true/false, yes/no), not {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one fedihub instance."""

    base_url: str = "http://127.0.0.1:8000"
    database_url: str = "sqlite+aiosqlite:///./data/fedihub.sqlite3"
    data_dir: Path = Path("data")
    secret_key: str = field(default="", repr=False)
    # /metrics answers only requests bearing this token; empty: no /metrics at all.
    metrics_token: str = field(default="", repr=False)
    allow_private_addresses: bool = False
    authorized_fetch: bool = False
    http_transport: str = "aiohttp"
    http_timeout: float = 10.0
    # Whole-request deadline and answer cap of every outbound request (connect to last byte).
    http_deadline: float = 60.0
    http_max_response_bytes: int = 10_000_000
    delivery_concurrency: int = 32
    # One delivery's POST, answer included; the worker keeps it under half its lease in any case.
    delivery_timeout: float = 20.0
    # Inbox items processed at once (one actor's items stay in order), and how long the fetches
    # made while processing one item may take together before it is retried later.
    inbox_concurrency: int = 8
    inbox_fetch_timeout: float = 10.0
    # How long a worker owns the rows it claimed; a crashed worker's rows wait this long.
    worker_lease_seconds: float = 300.0
    # How often a worker reads the rosters of known hubs for the directory; 0 turns it off.
    roster_refresh_hours: float = 6.0
    # Processed inbox items and delivered deliveries are pruned after this many days; failures later.
    retention_days: float = 30.0
    failed_retention_days: float = 90.0
    log_level: str = "INFO"
    instance_name: str = ""
    # Hub safeguards: a member's posts a hub boosts per hour before the rest wait in its review list,
    # and how many Group actors a post may address before no hub boosts it.
    hub_boosts_per_member_hour: int = 4
    hub_max_addressed_groups: int = 5
    # Conversation (coalitions/replies.py, coalitions/mentions.py): replies one remote actor may add
    # under one call per hour, and announcements of one fediverse member's mentions per coalition and
    # hour before the rest wait for the organizers' review.
    replies_per_actor_hour: int = 5
    member_announces_per_hour: int = 3
    # A remote call's pledges collection: items and pages one refresh reads (and rows it keeps) at most.
    pledge_mirror_max_items: int = 500
    pledge_mirror_max_pages: int = 10
    # At most one pledge notice per call to its audience in this many seconds (0: one per change).
    pledge_notice_window_seconds: float = 60.0
    # Reports (Flag) kept from one remote host in an hour; more are dropped (a report flood).
    reports_per_host_hour: int = 20
    # Inbox intake per remote host and per actor, and key fetches per remote host, in each window.
    # Generous: a busy Mastodon server's bursts stay far below; a flood gets 429 with Retry-After.
    rate_window_seconds: float = 60.0
    inbox_host_requests: int = 1200
    inbox_host_bytes: int = 20_000_000
    inbox_actor_requests: int = 300
    inbox_actor_bytes: int = 5_000_000
    key_fetches_per_host: int = 60
    # A signing key (or its URL) that could not be fetched is not fetched again for this long.
    key_failure_seconds: float = 300.0
    # Unvouched pledges from one remote server that a call counts; more wait for a vouch (pledges/vouching.py).
    unvouched_pledges_per_server: int = 5
    # Outgoing mail (fedihub/mail/): both set, or neither (mail off). The URL may hold the password.
    smtp_url: str = field(default="", repr=False)
    mail_from: str = ""
    # One message's whole SMTP conversation, connect to the server's last answer.
    mail_timeout: float = 30.0
    # A Nominatim-compatible search URL (https://…/search) for street addresses; empty: places are found
    # offline only, from the gazetteer shipped with the package (fedihub/places/).
    geocoder_url: str = ""
    # A raster tile server for the map, https://…/{z}/{x}/{y}.png, drawn under the server's own outlines by
    # a small script; empty: no page loads anything from another site. Its attribution is shown with it.
    map_tiles_url: str = ""
    map_tiles_attribution: str = ""
    # The interface language when a reader's browser asks for none we have, and of mail to
    # addresses whose language is not known (en, es or fr).
    language: str = "en"

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
            raise ConfigurationError(
                f"FEDIHUB_BASE_URL must look like https://coalitions.example (scheme and host only), "
                f"not {self.base_url!r}"
            )
        object.__setattr__(self, "base_url", f"{parts.scheme}://{parts.netloc.lower()}")
        if self.http_transport not in ("aiohttp", "httpx"):
            raise ConfigurationError("FEDIHUB_HTTP_TRANSPORT must be aiohttp or httpx")
        if self.roster_refresh_hours < 0:
            raise ConfigurationError("FEDIHUB_ROSTER_REFRESH_HOURS must be 0 (off) or a positive number of hours")
        if self.retention_days <= 0 or self.failed_retention_days < self.retention_days:
            raise ConfigurationError(
                "FEDIHUB_RETENTION_DAYS must be a positive number of days, and FEDIHUB_FAILED_RETENTION_DAYS "
                "at least as many (failures are kept longer for the delivery health view)"
            )
        if self.hub_boosts_per_member_hour < 0 or self.hub_max_addressed_groups < 0:
            raise ConfigurationError(
                "FEDIHUB_HUB_BOOSTS_PER_MEMBER_HOUR and FEDIHUB_HUB_MAX_ADDRESSED_GROUPS must be 0 or more"
            )
        if self.replies_per_actor_hour < 0 or self.member_announces_per_hour < 0:
            raise ConfigurationError(
                "FEDIHUB_REPLIES_PER_ACTOR_HOUR and FEDIHUB_MEMBER_ANNOUNCES_PER_HOUR must be 0 or more"
            )
        if self.pledge_mirror_max_items < 1 or self.pledge_mirror_max_pages < 1:
            raise ConfigurationError(
                "FEDIHUB_PLEDGE_MIRROR_MAX_ITEMS and FEDIHUB_PLEDGE_MIRROR_MAX_PAGES must be whole numbers from 1"
            )
        if self.pledge_notice_window_seconds < 0:
            raise ConfigurationError("FEDIHUB_PLEDGE_NOTICE_WINDOW_SECONDS must be 0 or a positive number of seconds")
        if self.reports_per_host_hour < 0:
            raise ConfigurationError("FEDIHUB_REPORTS_PER_HOST_HOUR must be 0 (keep none) or a positive number")
        if self.unvouched_pledges_per_server < 0:
            raise ConfigurationError("FEDIHUB_UNVOUCHED_PLEDGES_PER_SERVER must be 0 or a positive whole number")
        if self.worker_lease_seconds <= 0:
            raise ConfigurationError("FEDIHUB_WORKER_LEASE_SECONDS must be a positive number of seconds")
        if self.rate_window_seconds <= 0 or self.key_failure_seconds < 0:
            raise ConfigurationError(
                "FEDIHUB_RATE_WINDOW_SECONDS must be a positive number of seconds and "
                "FEDIHUB_KEY_FAILURE_SECONDS 0 or more"
            )
        if min(self.inbox_host_requests, self.inbox_actor_requests, self.key_fetches_per_host) < 1:
            raise ConfigurationError(
                "FEDIHUB_INBOX_HOST_REQUESTS, FEDIHUB_INBOX_ACTOR_REQUESTS and FEDIHUB_KEY_FETCHES_PER_HOST "
                "must be at least 1"
            )
        if min(self.inbox_host_bytes, self.inbox_actor_bytes) < MAX_DOCUMENT_BYTES:
            # Else an activity of the largest size we accept could never get in.
            raise ConfigurationError(
                f"FEDIHUB_INBOX_HOST_BYTES and FEDIHUB_INBOX_ACTOR_BYTES must be at least {MAX_DOCUMENT_BYTES}"
            )
        if min(self.http_deadline, self.delivery_timeout, self.inbox_fetch_timeout) <= 0:
            raise ConfigurationError(
                "FEDIHUB_HTTP_DEADLINE, FEDIHUB_DELIVERY_TIMEOUT and FEDIHUB_INBOX_FETCH_TIMEOUT must be "
                "positive numbers of seconds"
            )
        if self.http_max_response_bytes < 1_000_000 or self.inbox_concurrency < 1:
            raise ConfigurationError(
                "FEDIHUB_HTTP_MAX_RESPONSE_BYTES must be at least 1000000 (an ActivityPub document may be "
                "1 MB) and FEDIHUB_INBOX_CONCURRENCY at least 1"
            )
        parse_mail_config(self.smtp_url, self.mail_from)  # fails at start, not at the first message
        if self.mail_timeout <= 0:
            raise ConfigurationError("FEDIHUB_MAIL_TIMEOUT must be a positive number of seconds")
        if self.geocoder_url and urlsplit(self.geocoder_url).scheme not in ("http", "https"):
            raise ConfigurationError(
                f"FEDIHUB_GEOCODER_URL must be an http(s) URL such as https://nominatim.example/search, "
                f"not {self.geocoder_url!r}"
            )
        if self.map_tiles_url and (
            urlsplit(self.map_tiles_url).scheme != "https"
            or not all(part in self.map_tiles_url for part in ("{z}", "{x}", "{y}"))
            or not self.map_tiles_attribution.strip()
        ):
            raise ConfigurationError(
                "FEDIHUB_MAP_TILES_URL must be an https URL with {z}, {x} and {y} "
                "(https://tiles.example/{z}/{x}/{y}.png), and FEDIHUB_MAP_TILES_ATTRIBUTION must say whose tiles "
                "they are (their licence asks for it)"
            )
        if self.language not in ("en", "es", "fr"):
            raise ConfigurationError(f"FEDIHUB_LANGUAGE must be en, es or fr, not {self.language!r}")
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ConfigurationError(
                "FEDIHUB_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )

    @property
    def host(self) -> str:
        """The authority part of the base URL (host, and port when not the default)."""
        return urlsplit(self.base_url).netloc

    @property
    def domain(self) -> str:
        """The host name without a port: the domain part of every handle."""
        return urlsplit(self.base_url).hostname or ""

    @property
    def display_name(self) -> str:
        return self.instance_name or self.host

    @property
    def mail(self) -> MailConfig | None:
        """The SMTP server and sender, or None when mail is off."""
        return parse_mail_config(self.smtp_url, self.mail_from)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read FEDIHUB_* variables; the secret key is generated and kept on first run."""
        env = os.environ if env is None else env
        data_dir = Path(env.get("FEDIHUB_DATA_DIR", "data"))
        default_db = f"sqlite+aiosqlite:///{data_dir / 'fedihub.sqlite3'}"
        settings = cls(
            base_url=env.get("FEDIHUB_BASE_URL", cls.base_url),
            database_url=env.get("FEDIHUB_DATABASE_URL") or default_db,
            data_dir=data_dir,
            secret_key=env.get("FEDIHUB_SECRET_KEY", ""),
            metrics_token=env.get("FEDIHUB_METRICS_TOKEN", "").strip(),
            allow_private_addresses=_flag(env, "FEDIHUB_ALLOW_PRIVATE_ADDRESSES", False),
            authorized_fetch=_flag(env, "FEDIHUB_AUTHORIZED_FETCH", False),
            http_transport=env.get("FEDIHUB_HTTP_TRANSPORT", cls.http_transport),
            http_timeout=_number(env, "FEDIHUB_HTTP_TIMEOUT", cls.http_timeout),
            http_deadline=_number(env, "FEDIHUB_HTTP_DEADLINE", cls.http_deadline),
            http_max_response_bytes=int(
                _number(env, "FEDIHUB_HTTP_MAX_RESPONSE_BYTES", cls.http_max_response_bytes, int)
            ),
            delivery_concurrency=int(_number(env, "FEDIHUB_DELIVERY_CONCURRENCY", 32, int)),
            delivery_timeout=_number(env, "FEDIHUB_DELIVERY_TIMEOUT", cls.delivery_timeout),
            inbox_concurrency=int(_number(env, "FEDIHUB_INBOX_CONCURRENCY", cls.inbox_concurrency, int)),
            inbox_fetch_timeout=_number(env, "FEDIHUB_INBOX_FETCH_TIMEOUT", cls.inbox_fetch_timeout),
            worker_lease_seconds=_number(env, "FEDIHUB_WORKER_LEASE_SECONDS", cls.worker_lease_seconds),
            roster_refresh_hours=_number(env, "FEDIHUB_ROSTER_REFRESH_HOURS", cls.roster_refresh_hours),
            retention_days=_number(env, "FEDIHUB_RETENTION_DAYS", cls.retention_days),
            failed_retention_days=_number(env, "FEDIHUB_FAILED_RETENTION_DAYS", cls.failed_retention_days),
            log_level=env.get("FEDIHUB_LOG_LEVEL", cls.log_level).upper(),
            instance_name=env.get("FEDIHUB_INSTANCE_NAME", ""),
            hub_boosts_per_member_hour=int(
                _number(env, "FEDIHUB_HUB_BOOSTS_PER_MEMBER_HOUR", cls.hub_boosts_per_member_hour, int)
            ),
            hub_max_addressed_groups=int(
                _number(env, "FEDIHUB_HUB_MAX_ADDRESSED_GROUPS", cls.hub_max_addressed_groups, int)
            ),
            replies_per_actor_hour=int(
                _number(env, "FEDIHUB_REPLIES_PER_ACTOR_HOUR", cls.replies_per_actor_hour, int)
            ),
            member_announces_per_hour=int(
                _number(env, "FEDIHUB_MEMBER_ANNOUNCES_PER_HOUR", cls.member_announces_per_hour, int)
            ),
            pledge_mirror_max_items=int(
                _number(env, "FEDIHUB_PLEDGE_MIRROR_MAX_ITEMS", cls.pledge_mirror_max_items, int)
            ),
            pledge_mirror_max_pages=int(
                _number(env, "FEDIHUB_PLEDGE_MIRROR_MAX_PAGES", cls.pledge_mirror_max_pages, int)
            ),
            pledge_notice_window_seconds=_number(
                env, "FEDIHUB_PLEDGE_NOTICE_WINDOW_SECONDS", cls.pledge_notice_window_seconds
            ),
            reports_per_host_hour=int(_number(env, "FEDIHUB_REPORTS_PER_HOST_HOUR", cls.reports_per_host_hour, int)),
            rate_window_seconds=_number(env, "FEDIHUB_RATE_WINDOW_SECONDS", cls.rate_window_seconds),
            inbox_host_requests=int(_number(env, "FEDIHUB_INBOX_HOST_REQUESTS", cls.inbox_host_requests, int)),
            inbox_host_bytes=int(_number(env, "FEDIHUB_INBOX_HOST_BYTES", cls.inbox_host_bytes, int)),
            inbox_actor_requests=int(_number(env, "FEDIHUB_INBOX_ACTOR_REQUESTS", cls.inbox_actor_requests, int)),
            inbox_actor_bytes=int(_number(env, "FEDIHUB_INBOX_ACTOR_BYTES", cls.inbox_actor_bytes, int)),
            key_fetches_per_host=int(_number(env, "FEDIHUB_KEY_FETCHES_PER_HOST", cls.key_fetches_per_host, int)),
            key_failure_seconds=_number(env, "FEDIHUB_KEY_FAILURE_SECONDS", cls.key_failure_seconds),
            unvouched_pledges_per_server=int(_number(env, "FEDIHUB_UNVOUCHED_PLEDGES_PER_SERVER", 5, int)),
            smtp_url=env.get("FEDIHUB_SMTP_URL", ""),
            mail_from=env.get("FEDIHUB_MAIL_FROM", ""),
            mail_timeout=_number(env, "FEDIHUB_MAIL_TIMEOUT", cls.mail_timeout),
            geocoder_url=env.get("FEDIHUB_GEOCODER_URL", "").strip(),
            map_tiles_url=env.get("FEDIHUB_MAP_TILES_URL", "").strip(),
            map_tiles_attribution=env.get("FEDIHUB_MAP_TILES_ATTRIBUTION", "").strip(),
            language=env.get("FEDIHUB_LANGUAGE", cls.language).strip().lower(),
        )
        if not settings.secret_key:
            settings = replace(settings, secret_key=load_or_create_secret(data_dir))
        return settings


def load_or_create_secret(data_dir: Path) -> str:
    """Return the secret kept in ``data_dir/secret_key``, creating it (mode 0600) when absent."""
    path = data_dir / "secret_key"
    if path.exists():
        secret = path.read_text().strip()
        if secret:
            return secret
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret
