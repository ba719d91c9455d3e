"""Reading a posted form (fedihub/web/forms.py): the CSRF check, limits, text, repeated fields, uploads.

Each test posts to a one-route app the way a browser does: it loads a page (which gives the session its
CSRF token), then posts the form with that token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from fedihub.errors import FedihubError
from fedihub.i18n.active import N_
from fedihub.web import forms
from fedihub.web.forms import PostedForm, csrf_input, csrf_token, read_form

Reader = Callable[[PostedForm], Any]


class Page:
    """A browser on a one-form app whose POST handler returns what ``reader`` makes of the form."""

    def __init__(self, reader: Reader) -> None:
        async def show(request: Request) -> Response:
            return PlainTextResponse(csrf_token(request))

        async def post(request: Request) -> Response:
            try:
                form = await read_form(request)
                result = reader(form)
                if hasattr(result, "__await__"):
                    result = await result
            except FedihubError as exc:
                body = {"field": exc.field, "message": exc.public_message}
                return JSONResponse(body, status_code=exc.status_code)
            return JSONResponse(result)

        app = Starlette(
            routes=[Route("/form", show), Route("/form", post, methods=["POST"])],
            middleware=[Middleware(SessionMiddleware, secret_key="test-secret")],
        )
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a.test")

    async def token(self) -> str:
        return (await self.client.get("/form")).text

    async def submit(self, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        """Load the page, then post ``data`` (a list value repeats its field) with the page's token."""
        token = await self.token()
        return await self.client.post("/form", data={**(data or {}), "csrf_token": token}, **kwargs)


@pytest.fixture
async def page() -> AsyncIterator[Callable[[Reader], Page]]:
    opened: list[Page] = []

    def open_page(reader: Reader) -> Page:
        opened.append(Page(reader))
        return opened[-1]

    yield open_page
    for each in opened:
        await each.client.aclose()


async def test_text_is_one_stripped_value_and_empty_when_missing(page: Callable[[Reader], Page]) -> None:
    browser = page(lambda form: {
        "name": form.text("name"), "password": form.text("password", strip=False), "missing": form.text("nope"),
    })

    response = await browser.submit({"name": "  Tenants Union ", "password": " secret with spaces "})

    assert response.json() == {"name": "Tenants Union", "password": " secret with spaces ", "missing": ""}


async def test_a_form_without_the_sessions_token_changes_nothing(page: Callable[[Reader], Page]) -> None:
    reached: list[str] = []
    browser = page(lambda form: reached.append("read") or {})
    await browser.token()

    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": ""}):
        response = await browser.client.post("/form", data=data)
        assert response.status_code == 403, data
        assert response.json()["message"] == "The form expired: reload the page and try again."

    fresh = page(lambda form: reached.append("read") or {})  # a session that never loaded a page
    assert (await fresh.client.post("/form", data={"csrf_token": "anything"})).status_code == 403
    assert reached == []


async def test_repeated_fields_give_every_value_and_a_checkbox_is_ticked_or_not(page: Callable[[Reader], Page]) -> None:
    browser = page(lambda form: {
        "movements": form.texts("movements"), "confirm": form.flag("confirm"), "remove": form.flag("remove"),
        "first": form.text("movements"),
    })

    response = await browser.submit({"movements": ["Tenants", "", "Climate"], "confirm": "on", "remove": ""})

    assert response.json() == {"movements": ["Tenants", "Climate"], "confirm": True, "remove": False,
                               "first": "Tenants"}


async def test_fields_is_the_whole_form_as_text_without_the_token_or_file_contents(
    page: Callable[[Reader], Page],
) -> None:
    browser = page(lambda form: form.fields(multi=("movements", "regions")))

    response = await browser.submit(
        {"title": "Rally", "movements": ["Tenants", "Climate"]}, files={"avatar": ("logo.png", b"\x89PNG", "image/png")}
    )

    # An unticked group of checkboxes sends nothing; it still comes back as an empty list. A file
    # field reads as empty text: its bytes come only through upload().
    assert response.json() == {"title": "Rally", "movements": ["Tenants", "Climate"], "regions": [], "avatar": ""}


async def test_a_required_field_left_empty_is_an_error_naming_it(page: Callable[[Reader], Page]) -> None:
    browser = page(lambda form: {"handle": form.required("handle", "give the coalition a handle")})

    missing = await browser.submit({"handle": "   "})
    given = await browser.submit({"handle": "tenants"})

    assert missing.status_code == 400
    assert missing.json() == {"field": "handle", "message": "give the coalition a handle"}
    assert given.json() == {"handle": "tenants"}


async def test_an_upload_gives_its_bytes_none_without_a_file_and_refuses_a_larger_one(
    page: Callable[[Reader], Page],
) -> None:
    async def read_upload(form: PostedForm) -> Any:
        data = await form.upload("avatar", max_bytes=2048, too_large=N_("the image is larger than %(size)s"))
        return None if data is None else len(data)

    browser = page(read_upload)

    chosen = await browser.submit({}, files={"avatar": ("logo.png", b"x" * 2048, "image/png")})
    not_chosen = await browser.submit({}, files={"avatar": ("", b"", "application/octet-stream")})
    no_field = await browser.submit({"title": "no file at all"})
    too_large = await browser.submit({}, files={"avatar": ("huge.png", b"x" * 2049, "image/png")})

    assert chosen.json() == 2048
    assert not_chosen.json() is None and no_field.json() is None
    assert too_large.status_code == 413
    assert too_large.json() == {"field": "avatar", "message": "the image is larger than 2 kB"}


async def test_a_form_over_the_size_limit_is_refused_before_it_is_parsed(
    page: Callable[[Reader], Page], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(forms, "MAX_FORM_BYTES", 1024)
    browser = page(lambda form: {"read": True})
    token = await browser.token()

    declared = await browser.submit({"text": "x" * 2000})

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the size shows only while reading
        yield f"csrf_token={token}&text=".encode()
        for _ in range(4):
            yield b"x" * 500

    streamed = await browser.client.post(
        "/form", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
    )

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["message"] == "the form is too large (over 1 kB)"
    assert (await browser.submit({"text": "x" * 100})).json() == {"read": True}


async def test_every_form_carries_the_token_as_a_hidden_field(page: Callable[[Reader], Page]) -> None:
    async def show(request: Request) -> Response:
        return PlainTextResponse(str(csrf_input(request)) + "\n" + csrf_token(request))

    app = Starlette(routes=[Route("/", show)], middleware=[Middleware(SessionMiddleware, secret_key="test-secret")])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a.test") as client:
        field, token = (await client.get("/")).text.split("\n")

    assert field == f'<input type="hidden" name="csrf_token" value="{token}">'
    assert len(token) >= 40
