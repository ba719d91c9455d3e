"""Reading a posted HTML form: size limits, the CSRF check, text fields, repeated fields and uploads.

The two forms anyone may send without a session are read with ``read_public_form`` instead: no
token, but never from another site's page.

Every page that accepts a form reads it here, once, with ``form = await read_form(request)``, and then
asks the ``PostedForm`` for what it expects:

- ``form.text("name")``: one text value, stripped ("" when missing or when a file came instead);
  ``strip=False`` keeps it as typed (passwords);
- ``form.required("name", "give it a name")``: the same, or InvalidInput naming the field when empty;
- ``form.texts("movements")``: every non-empty value of a repeated field (checkboxes, multi-selects);
- ``form.flag("confirm")``: whether a checkbox was ticked;
- ``form.fields(multi=("movements",))``: the whole form as text, to hand to a domain parser and to
  show again with its errors (the CSRF token left out, files as "");
- ``await form.upload("avatar", max_bytes=…)``: a chosen file's bytes, None when no file was chosen,
  PayloadTooLarge naming the field when it is larger.

A page that fails shows every error at once: ``form_errors(exc, known)`` turns an InvalidForm (many
fields, from ``FieldErrors``) or a single error into {field: message}, "" for the whole form; the
templates' ``form_alert`` lists them, each linked to its field.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from markupsafe import Markup, escape
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from fedihub.errors import FedihubError, InvalidForm, InvalidInput, PayloadTooLarge, PermissionDenied
from fedihub.i18n.active import N_, gettext, ngettext

CSRF_FIELD = "csrf_token"
# Avatars may be 2 MB; anything up to this reaches the page's own size check and its message.
MAX_FORM_BYTES = 8 * 1024 * 1024
MAX_FORM_FIELDS = 200
MAX_FORM_FILES = 4

Fields = dict[str, "str | list[str]"]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


def csrf_input(request: Request) -> Markup:
    """The hidden field every form of ours carries (templates call it as ``csrf_input(request)``)."""
    return Markup('<input type="hidden" name="%s" value="%s">') % (CSRF_FIELD, escape(csrf_token(request)))


def _size(size: int) -> str:
    """2 MB, 64 kB or 100 bytes: a limit as people read it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size / 1024:g} kB" if size >= 1024 else ngettext("%(num)d byte", "%(num)d bytes", size)


def text_fields(form: FormData, multi: Iterable[str] = ()) -> Fields:
    """Text values of a posted form: the CSRF token left out, a file field read as "" (its bytes come
    only through ``PostedForm.upload``); ``multi`` keys are lists, present even when nothing was sent
    for them (an unticked group of checkboxes sends nothing)."""
    multi = set(multi)
    fields: Fields = {key: [] for key in multi}
    for key in form:
        if key == CSRF_FIELD:
            continue
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        fields[key] = values if key in multi else (values[0] if values else "")
    return fields


def form_errors(exc: FedihubError, known: Iterable[str] | None = None, default: str = "") -> dict[str, str]:
    """Each message keyed by the field it is about, in the order of ``known`` (the page's fields, top
    to bottom), so the summary reads like the form; a field the page does not show goes to ``default``
    ("" is the whole form)."""
    found = exc.errors if isinstance(exc, InvalidForm) else {exc.field or "": exc.public_message}
    order = {field: place for place, field in enumerate(known)} if known is not None else None
    errors: dict[str, str] = {}
    for field, message in found.items():
        errors.setdefault(field if order is None or field in order else default, message)
    if order is None:
        return errors
    return dict(sorted(errors.items(), key=lambda item: order.get(item[0], -1)))


@dataclass(frozen=True)
class PostedForm:
    """A posted form whose CSRF token checked out."""

    data: FormData

    def text(self, name: str, *, strip: bool = True) -> str:
        """The field's first text value (as ``fields`` gives it), or ""."""
        value = next((v for v in self.data.getlist(name) if isinstance(v, str)), "")
        return value.strip() if strip else value

    def required(self, name: str, message: str) -> str:
        value = self.text(name)
        if not value:
            raise InvalidInput(message, field=name)
        return value

    def texts(self, name: str) -> list[str]:
        return [value for value in self.data.getlist(name) if isinstance(value, str) and value]

    def flag(self, name: str) -> bool:
        """A ticked checkbox sends its value ("on" unless the page sets one); an unticked one sends nothing."""
        return bool(self.text(name))

    def fields(self, *, multi: Iterable[str] = ()) -> Fields:
        return text_fields(self.data, multi)

    async def upload(
        self, name: str, *, max_bytes: int, too_large: str = N_("the file is larger than %(size)s")
    ) -> bytes | None:
        """The chosen file's bytes; None when no file was chosen. Reads at most ``max_bytes`` + 1.

        ``too_large`` is the N_-marked sentence said when the file is over the limit.
        """
        value = self.data.get(name)
        if not isinstance(value, UploadFile) or not value.filename:
            return None
        data = await value.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise PayloadTooLarge(gettext(too_large, size=_size(max_bytes)), field=name)
        return data


async def _read_body(request: Request) -> None:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise PayloadTooLarge(gettext("the form is too large (over %(size)s)", size=_size(MAX_FORM_BYTES)))
    if hasattr(request, "_body"):
        return
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise PayloadTooLarge(gettext("the form is too large (over %(size)s)", size=_size(MAX_FORM_BYTES)))
        chunks.append(chunk)
    # Starlette's form parser reads the cached body instead of the (now consumed) stream.
    request._body = b"".join(chunks)


async def read_form_without_csrf(request: Request) -> FormData:
    """A posted form, size-limited, for the one place no session can be expected: the RFC 8058
    one-click unsubscribe, which a mail client POSTs without cookies and whose signed link is its
    own authorisation."""
    await _read_body(request)
    return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_BYTES)


# Sec-Fetch-Site values of a form sent from one of our own pages (or typed by hand).
_OWN_SITE = frozenset({"same-origin", "none"})


def _sent_from_another_site(request: Request, base_url: str) -> bool:
    """Whether a browser says this POST comes from another site's page: Sec-Fetch-Site when it sends
    it, else Origin (every current browser sends one with a POST). Neither: not a browser's cross-site
    post, and a script can send the form from its own address anyway."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site.lower() not in _OWN_SITE
    origin = request.headers.get("origin")
    if origin is None:
        return False
    ours = urlsplit(base_url)
    return origin.rstrip("/").lower() != f"{ours.scheme}://{ours.netloc}".lower()


async def read_public_form(request: Request, *, base_url: str) -> PostedForm:
    """A form anyone may send without a session: follow from your own server, e-mail subscriptions.

    No CSRF token: these forms act with nobody's authority, so a forged one could do nothing a
    stranger cannot do directly, and without a token the pages showing them need no session and
    stay shared and cached. What a forgery could still do, make many visitors' browsers send it and
    spread its rate limit over their addresses, is refused by the browser's own Sec-Fetch-Site or
    Origin header.
    """
    if _sent_from_another_site(request, base_url):
        raise PermissionDenied(
            "public form posted from another site",
            public_message=gettext("This form can only be sent from this site's own pages."),
        )
    return PostedForm(await read_form_without_csrf(request))


async def read_form(request: Request) -> PostedForm:
    """The posted form (urlencoded or multipart, size-limited) once its CSRF token checks out."""
    await _read_body(request)
    form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FORM_BYTES)
    expected = request.session.get("csrf")
    given = form.get(CSRF_FIELD)
    if not expected or not isinstance(given, str) or not secrets.compare_digest(given, str(expected)):
        raise PermissionDenied(
            "csrf token missing or wrong", public_message=gettext("The form expired: reload the page and try again.")
        )
    return PostedForm(form)
