"""Which requests take the short way to the inbox, past the page middleware."""

from __future__ import annotations

import pytest

from fedihub.web.app import inbox_routes
from fedihub.web.inbox_path import is_inbox_post


def scope(method: str, path: str) -> dict:
    return {"type": "http", "method": method, "path": path}


@pytest.mark.parametrize("path", ["/inbox", "/actor/inbox", "/g/tenants/inbox", "/g/illinois-hub/inbox"])
def test_posts_to_an_inbox_take_the_short_way(path: str) -> None:
    assert is_inbox_post(scope("POST", path), inbox_routes())


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/inbox"),  # answered 405 by the full application, like any other wrong method
    ("GET", "/g/tenants/inbox"),
    ("POST", "/g/tenants/outbox"),
    ("POST", "/g/tenants/inbox/extra"),
    ("POST", "/manage/tenants/inbox"),
    ("POST", "/g/inbox"),  # the page of a coalition named "inbox", not an inbox
    ("POST", "/login"),
])
def test_everything_else_goes_through_the_whole_application(method: str, path: str) -> None:
    assert not is_inbox_post(scope(method, path), inbox_routes())


def test_websockets_and_lifespan_are_not_inbox_posts() -> None:
    assert not is_inbox_post({"type": "lifespan"}, inbox_routes())
