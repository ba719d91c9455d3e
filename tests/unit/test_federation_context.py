"""The federation context opens the HTTP client and the instance actor's signer when first used, and
never shows the instance actor's private key."""

from __future__ import annotations

import httpx

from fedihub.federation.context import FederationContext
from tests.support.fake_peer import key_pair

KEY_ID = "https://origin.example/actor#main-key"


def _context(opened: list[httpx.AsyncClient]) -> FederationContext:
    def open_client() -> httpx.AsyncClient:
        opened.append(httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(200))))
        return opened[-1]

    return FederationContext(base_url="https://origin.example", sessions=None, http_factory=open_client)  # type: ignore[arg-type]


def _signed_get(ctx: FederationContext) -> httpx.Request:
    auth = ctx.instance_auth
    assert auth is not None
    return next(auth.auth_flow(httpx.Request("GET", "https://peer.example/users/alice")))


async def test_the_http_client_is_opened_at_its_first_use_and_then_shared() -> None:
    opened: list[httpx.AsyncClient] = []
    ctx = _context(opened)
    assert opened == []

    first, second = ctx.http, ctx.http

    assert opened == [first] and second is first
    await first.aclose()


def test_background_fetches_are_signed_as_the_instance_actor_once_its_key_is_known() -> None:
    ctx = _context([])
    assert ctx.instance_auth is None

    ctx.use_instance_key(KEY_ID, key_pair(0).private_pem)

    assert f'keyId="{KEY_ID}"' in _signed_get(ctx).headers["Signature"]
    assert ctx.instance_auth is ctx.instance_auth  # one signer, not one per fetch


def test_a_new_instance_key_replaces_the_signer() -> None:
    ctx = _context([])
    ctx.use_instance_key(KEY_ID, key_pair(0).private_pem)
    before = ctx.instance_auth

    ctx.use_instance_key(f"{KEY_ID}2", key_pair(1).private_pem)

    assert ctx.instance_auth is not before
    assert f'keyId="{KEY_ID}2"' in _signed_get(ctx).headers["Signature"]


def test_the_context_never_shows_the_instance_private_key() -> None:
    ctx = _context([])
    private_pem = key_pair(0).private_pem
    ctx.use_instance_key(KEY_ID, private_pem)

    shown = repr(ctx)

    assert "PRIVATE KEY" not in shown and private_pem.splitlines()[1] not in shown
