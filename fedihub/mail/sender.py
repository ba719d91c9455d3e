"""Building one outbox row into a multipart/alternative message and sending it over SMTP under a deadline."""

from __future__ import annotations

import asyncio
import base64
import re
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from fedihub.federation.retry import Outcome
from fedihub.mail.config import MailConfig, Security
from fedihub.storage.models import OutboundMail

_ADDRESS_IN_TEXT = re.compile(r"[^\s<>@,;:\"']+@[^\s<>@,;:\"']+")


def build_message(mail: MailConfig, row: OutboundMail) -> EmailMessage:
    """From, To, Subject, Date, a Message-ID fixed by the row, the caller's headers, text then HTML, then
    the attachments (the text and HTML alternatives then sit inside a multipart/mixed)."""
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at)
    # The same on every attempt: a message sent twice (a worker died between sending and recording)
    # can be recognised by the recipient's mail system as one.
    message["Message-ID"] = f"<mail-{row.id}.{int(row.created_at.timestamp())}@{mail.sender_domain}>"
    for name, value in (row.headers or {}).items():
        message[name] = value
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    for item in row.attachments or []:
        maintype, _, subtype = item["content_type"].partition("/")
        message.add_attachment(
            base64.b64decode(item["data"]), maintype=maintype, subtype=subtype, filename=item["filename"]
        )
    return message


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    error: str | None = None
    # The server could not be reached or stopped answering: the next message would fare no better.
    server_down: bool = False


def redact(text: str) -> str:
    """An SMTP error without the addresses in it: it is shown on the health page and logged."""
    return _ADDRESS_IN_TEXT.sub("<address>", text)[:500]


def classify_smtp_error(exc: BaseException) -> Outcome:
    """A 5xx answer to this recipient or to this message's content will not change; anything else may pass.

    A refused sender, a failed login or a server that will not talk to us is the operator's to fix,
    not the message's fault: those are retried (until the attempts run out, as deliveries are).
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        return Outcome.PERMANENT if codes and all(500 <= code < 600 for code in codes) else Outcome.RETRY
    if isinstance(exc, (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)):
        return Outcome.PERMANENT if 500 <= exc.code < 600 else Outcome.RETRY
    return Outcome.RETRY  # connection refused or lost, TLS trouble, timeouts, login, sender refused


async def send_message(
    mail: MailConfig, message: EmailMessage, *, deadline: float, tls_context: ssl.SSLContext | None = None
) -> SendResult:
    """One SMTP conversation for one message, all of it within ``deadline`` seconds.

    Certificates are checked against the system's authorities unless ``tls_context`` says otherwise
    (tests trust their own).
    """
    server = mail.server
    try:
        async with asyncio.timeout(deadline):
            await aiosmtplib.send(
                message,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.security is Security.TLS,
                start_tls=True if server.security is Security.STARTTLS else False,
                timeout=deadline,
                tls_context=tls_context,
            )
    except TimeoutError:
        return SendResult(Outcome.RETRY, f"the mail server took longer than {deadline:g} s", server_down=True)
    except (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError,
            OSError) as exc:
        return SendResult(Outcome.RETRY, redact(f"{type(exc).__name__}: {exc}"), server_down=True)
    except aiosmtplib.SMTPException as exc:
        return SendResult(classify_smtp_error(exc), redact(f"{type(exc).__name__}: {exc}"))
    return SendResult(Outcome.DELIVERED)
