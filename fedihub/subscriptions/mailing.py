"""What subscription mail needs from the instance, and the links it carries: confirmation and unsubscribe."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from fedihub.i18n.active import using
from fedihub.i18n.catalogues import Catalogues
from fedihub.i18n.languages import DEFAULT_LANGUAGE, known_language
from fedihub.mail.config import MailConfig
from fedihub.storage.models import MailSubscription, StoredObject

if TYPE_CHECKING:
    from fedihub.settings import Settings


@dataclass(frozen=True)
class Mailing:
    """Built once in the composition root from the settings; ``mail`` is None when mail is off."""

    mail: MailConfig | None
    base_url: str
    instance_name: str
    version: str
    secret_key: str = field(repr=False)
    # The language of mail to an address whose language is not known, and the catalogues to write
    # in; without catalogues (a web request) letters are written in the request's language.
    language: str = DEFAULT_LANGUAGE
    catalogues: Catalogues | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, version: str, catalogues: Catalogues | None = None) -> Mailing:
        return cls(
            mail=settings.mail, base_url=settings.base_url, instance_name=settings.display_name, version=version,
            secret_key=settings.secret_key, language=settings.language, catalogues=catalogues,
        )

    @contextmanager
    def writing_to(self, row: MailSubscription) -> Iterator[None]:
        """Write in the subscriber's language (the page they subscribed from), else the instance's."""
        if self.catalogues is None:
            yield
            return
        chosen = known_language(row.language) or self.language
        with using(chosen, self.catalogues.get(chosen)):
            yield


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Only this is stored: a leaked database does not confirm anyone's subscription."""
    return hashlib.sha256(token.encode()).hexdigest()


def confirm_url(mailing: Mailing, token: str) -> str:
    return f"{mailing.base_url}/subscriptions/confirm/{token}"


def unsubscribe_signature(mailing: Mailing, subscription_id: int, address: str) -> str:
    """An HMAC of the row and its address: nothing to store, and a link for a deleted row (whose id a
    new row may take again on SQLite) never unsubscribes someone else."""
    digest = hmac.new(
        mailing.secret_key.encode(), f"unsubscribe:{subscription_id}:{address}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:24]).decode("ascii")


def signature_matches(mailing: Mailing, subscription: MailSubscription, signature: str) -> bool:
    expected = unsubscribe_signature(mailing, subscription.id, subscription.address)
    return hmac.compare_digest(expected.encode(), signature.encode())


def unsubscribe_url(mailing: Mailing, subscription: MailSubscription) -> str:
    signature = unsubscribe_signature(mailing, subscription.id, subscription.address)
    return f"{mailing.base_url}/subscriptions/unsubscribe/{subscription.id}/{signature}"


def call_page(mailing: Mailing, row: StoredObject) -> str:
    """Where a reader opens the call here: its own page for ours, the remote-call view for others'."""
    if row.is_local:
        return row.uri
    return f"{mailing.base_url}/calls/view?{urlencode({'url': row.uri})}"
