"""The SMTP server and sender address read from FEDIHUB_SMTP_URL and FEDIHUB_MAIL_FROM, validated."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from fedihub.errors import ConfigurationError


class Security(enum.Enum):
    """How the connection to the SMTP server is protected."""

    STARTTLS = "starttls"  # smtp:// with credentials: upgraded before the password is sent
    TLS = "tls"  # smtps://: TLS from the first byte
    PLAIN = "plain"  # smtp:// without credentials: a local relay or a test catcher


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: Security
    username: str | None = None
    # Kept out of repr, so a logged or printed settings object never shows it.
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{self.security.value}://{user}{self.host}:{self.port}"


@dataclass(frozen=True)
class MailConfig:
    """Where mail goes out and who it is from; ``None`` in its place means mail is off."""

    server: SmtpServer
    sender: str  # "Name <address>" or a bare address, as FEDIHUB_MAIL_FROM gives it

    @property
    def sender_domain(self) -> str:
        return parseaddr(self.sender)[1].rpartition("@")[2]


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://[user:pass@]host[:port]`` or ``smtps://…``; ConfigurationError says what is wrong.

    The messages never repeat the URL: it may hold the password.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ConfigurationError(
            "FEDIHUB_SMTP_URL must start with smtp:// (STARTTLS, or plain without a user) or smtps:// (TLS)"
        )
    if not parts.hostname:
        raise ConfigurationError("FEDIHUB_SMTP_URL has no host: smtp://user:password@mail.example:587")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError("FEDIHUB_SMTP_URL takes a scheme, credentials, host and port only")
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError("FEDIHUB_SMTP_URL has a port that is not a number from 1 to 65535") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if (username is None) != (password is None):
        raise ConfigurationError("FEDIHUB_SMTP_URL must give both a user and a password, or neither")
    if scheme == "smtps":
        security = Security.TLS
    elif username is not None:
        security = Security.STARTTLS
    else:
        security = Security.PLAIN
    default_port = {Security.TLS: 465, Security.STARTTLS: 587, Security.PLAIN: 25}[security]
    if port == 0:
        raise ConfigurationError("FEDIHUB_SMTP_URL has a port that is not a number from 1 to 65535")
    return SmtpServer(
        host=parts.hostname, port=port or default_port, security=security, username=username, password=password
    )


def parse_sender(value: str) -> str:
    """A From address, bare or with a display name; header injection (line breaks) is refused."""
    text = value.strip()
    if "\r" in text or "\n" in text:
        raise ConfigurationError("FEDIHUB_MAIL_FROM must be on one line")
    name, address = parseaddr(text)
    local, at, domain = address.rpartition("@")
    if not at or not local or "." not in domain.strip("."):
        raise ConfigurationError(
            f"FEDIHUB_MAIL_FROM must be an address such as coalitions@example.org or "
            f"'Coalitions <coalitions@example.org>', not {value!r}"
        )
    return str(Address(display_name=name, addr_spec=address)) if name else address


def parse_mail_config(smtp_url: str, mail_from: str) -> MailConfig | None:
    """Both settings, or neither (mail off); one without the other is a mistake worth stopping for."""
    if not smtp_url.strip() and not mail_from.strip():
        return None
    if not smtp_url.strip() or not mail_from.strip():
        raise ConfigurationError("FEDIHUB_SMTP_URL and FEDIHUB_MAIL_FROM go together: set both, or neither")
    return MailConfig(server=parse_smtp_url(smtp_url), sender=parse_sender(mail_from))
