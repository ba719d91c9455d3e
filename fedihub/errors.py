"""The one tree of fedihub errors; the web layer maps it to HTTP status codes in one place."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class FedihubError(Exception):
    """Base of every error fedihub raises on purpose.

    ``public_message`` is safe to show to a user or a peer server; the exception's own
    text (``str(exc)``) may carry detail meant for logs only.
    """

    status_code = 500

    def __init__(self, message: str = "", *, public_message: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.public_message = public_message or message or self.__class__.__doc__ or "error"
        # The form field the error is about, so a page can show it next to that field.
        self.field = field


# --- Input from users or peers -------------------------------------------------------------


class InvalidInput(FedihubError):
    """The request or command was malformed."""

    status_code = 400


class InvalidForm(InvalidInput):
    """Several fields of a form are wrong; ``errors`` maps each field to its message, in form order."""

    def __init__(self, errors: dict[str, str]) -> None:
        first_field = next(iter(errors))
        # One sentence for the places that show one (the CLI's error line); pages list ``errors``.
        super().__init__("; ".join(errors.values()), field=first_field or None)
        self.errors = dict(errors)


class FieldErrors:
    """Collects every field error of a form before answering, so a person fixes them all in one go.

    ``check`` runs one validator and keeps its InvalidInput (by field) instead of stopping there;
    ``raise_if_any`` then raises one InvalidForm carrying them all.
    """

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)  # the first problem of a field is the one to fix first

    def check(self, validate: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        try:
            return validate(*args, **kwargs)
        except InvalidForm as exc:
            for field, message in exc.errors.items():
                self.add(field, message)
        except InvalidInput as exc:
            self.add(exc.field or "", exc.public_message)
        return None

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidForm(self.errors)


class MalformedActivity(InvalidInput):
    """The ActivityPub document is not valid JSON of the expected shape."""


class PayloadTooLarge(InvalidInput):
    """The payload is larger than we accept."""

    status_code = 413


class UnsupportedMediaType(InvalidInput):
    """The payload has a content type we do not accept."""

    status_code = 415


class NotFound(FedihubError):
    """No such thing here."""

    status_code = 404


class Gone(FedihubError):
    """It existed but was deleted."""

    status_code = 410


class Conflict(FedihubError):
    """That name or thing already exists."""

    status_code = 409


class PermissionDenied(FedihubError):
    """You may not do that."""

    status_code = 403


class DomainBlocked(PermissionDenied):
    """This server does not federate with that domain."""


class LoginRequired(FedihubError):
    """You need to log in to see this page."""

    status_code = 401


class TooManyAttempts(FedihubError):
    """Too many attempts; wait a while and try again."""

    status_code = 429


class RateLimited(FedihubError):
    """Too many requests from your server; try again later."""

    status_code = 429

    def __init__(self, message: str = "", *, retry_after: float, public_message: str | None = None) -> None:
        super().__init__(message, public_message=public_message)
        # Whole seconds for the Retry-After header; at least 1, so a peer never retries at once.
        self.retry_after = 3600 if math.isinf(retry_after) else max(1, math.ceil(retry_after))


class TemporarilyUnavailable(FedihubError):
    """This server could not take the request just now; try again later."""

    status_code = 503

    def __init__(self, message: str = "", *, retry_after: int = 30, public_message: str | None = None) -> None:
        super().__init__(message, public_message=public_message)
        self.retry_after = retry_after


# --- Authentication of peers ---------------------------------------------------------------


class AuthenticationFailed(FedihubError):
    """The request is not signed by the actor it claims to come from."""

    status_code = 401


class SignatureError(AuthenticationFailed):
    """The HTTP signature is missing, malformed, expired or does not verify."""


class KeyNotFound(AuthenticationFailed):
    """The signing key could not be found or fetched."""


# --- Talking to remote servers -------------------------------------------------------------


class RemoteError(FedihubError):
    """A remote server did not give a usable answer."""

    status_code = 502


class RemoteNotFound(RemoteError):
    """The remote server says there is no such thing."""


class RemoteGone(RemoteError):
    """The remote server says the thing was deleted."""


class RemoteInvalid(RemoteError):
    """The remote server answered with something we cannot accept."""


class RemoteUnavailable(RemoteError):
    """The remote server could not be reached, timed out or failed."""


class ForbiddenAddress(RemoteError):
    """The address is private, loopback or otherwise not allowed (SSRF guard)."""


# --- Configuration -------------------------------------------------------------------------


class ConfigurationError(FedihubError):
    """The server is not configured correctly."""


# --- Background work -------------------------------------------------------------------------


class LeaseLost(FedihubError):
    """Another worker took over this row after our lease on it ran out."""


class AmbiguousRoute(FedihubError):
    """An inbound activity matched more than one route of the handler table (a bug, never the peer's)."""
