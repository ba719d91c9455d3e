"""Outgoing httpx requests signed by HttpSignatureAuth verify on the receiving side."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import httpx
import pytest

from fedihub.errors import SignatureError
from fedihub.protocol import httpauth
from fedihub.protocol.httpauth import HttpSignatureAuth
from fedihub.protocol.keys import KeyPair, generate_key_pair
from fedihub.protocol.signatures import PublicKeyInfo, verify_request

ACTOR = "https://hub.example/g/bay-climate"
KEY_ID = ACTOR + "#main-key"
BODY = b'{"type":"Announce","actor":"https://hub.example/g/bay-climate"}'


@pytest.fixture(scope="module")
def key_pair() -> KeyPair:
    return generate_key_pair()


@pytest.fixture(scope="module")
def other_key_pair() -> KeyPair:
    return generate_key_pair()


class Receiver:
    """A peer's inbox/outbox: verifies every request it receives against the published key."""

    def __init__(self, published_pem: str) -> None:
        self.published_pem = published_pem
        self.requests: list[httpx.Request] = []

    async def lookup(self, key_id: str, refresh: bool) -> PublicKeyInfo | None:
        return PublicKeyInfo(key_id, ACTOR, self.published_pem) if key_id == KEY_ID else None

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        try:
            info = await verify_request(
                method=request.method,
                path=request.url.path,
                query=request.url.query.decode(),
                headers=request.headers,
                body=request.content,
                lookup=self.lookup,
            )
        except SignatureError as exc:
            return httpx.Response(401, text=exc.public_message)
        return httpx.Response(202, json={"owner": info.owner})


def client_for(receiver: Receiver, key_pair: KeyPair) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.MockTransport(receiver.handle),
        auth=HttpSignatureAuth(KEY_ID, key_pair.private_pem),
        headers={"User-Agent": "fedihub/0.1 (+https://hub.example/)"},
    )


def signed_header_names(request: httpx.Request) -> list[str]:
    return request.headers["Signature"].split('headers="', 1)[1].split('"', 1)[0].split()


async def test_signed_post_verifies_at_the_receiver(key_pair: KeyPair) -> None:
    receiver = Receiver(key_pair.public_pem)
    async with client_for(receiver, key_pair) as client:
        response = await client.post(
            "https://masto.example/users/alice/inbox",
            content=BODY,
            headers={"Content-Type": "application/activity+json"},
        )

    assert response.status_code == 202, response.text
    assert response.json() == {"owner": ACTOR}
    sent = receiver.requests[0]
    assert sent.headers["Host"] == "masto.example"
    assert sent.headers["Date"].endswith(" GMT")
    assert sent.headers["Digest"].startswith("SHA-256=")
    assert signed_header_names(sent) == [
        "(request-target)", "host", "date", "digest", "content-type"
    ]


async def test_signed_get_with_query_string_verifies_at_the_receiver(key_pair: KeyPair) -> None:
    receiver = Receiver(key_pair.public_pem)
    async with client_for(receiver, key_pair) as client:
        response = await client.get(
            "https://masto.example/users/alice/outbox?page=true",
            headers={"Accept": "application/activity+json"},
        )

    assert response.status_code == 202, response.text
    sent = receiver.requests[0]
    assert "Digest" not in sent.headers
    assert signed_header_names(sent) == ["(request-target)", "host", "date", "accept"]


async def test_user_agent_and_accept_encoding_are_never_signed(key_pair: KeyPair) -> None:
    receiver = Receiver(key_pair.public_pem)
    async with client_for(receiver, key_pair) as client:
        await client.post("https://masto.example/inbox", content=BODY)
        await client.get("https://masto.example/actor")

    for sent in receiver.requests:
        assert "user-agent" not in signed_header_names(sent)
        assert "accept-encoding" not in signed_header_names(sent)


async def test_streamed_body_is_read_before_signing_so_the_digest_matches(
    key_pair: KeyPair,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield BODY[:10]
        yield BODY[10:]

    receiver = Receiver(key_pair.public_pem)
    async with client_for(receiver, key_pair) as client:
        response = await client.post("https://masto.example/inbox", content=chunks())

    assert response.status_code == 202, response.text


async def test_request_signed_with_a_key_the_peer_does_not_publish_is_refused(
    key_pair: KeyPair, other_key_pair: KeyPair
) -> None:
    receiver = Receiver(other_key_pair.public_pem)
    async with client_for(receiver, key_pair) as client:
        response = await client.post("https://masto.example/inbox", content=BODY)

    assert response.status_code == 401
    assert response.text == "signature does not verify"


def test_repr_shows_the_key_id_but_never_the_key(key_pair: KeyPair) -> None:
    auth = HttpSignatureAuth(KEY_ID, key_pair.private_pem)

    assert repr(auth) == f"HttpSignatureAuth(key_id={KEY_ID!r})"


async def test_an_async_request_is_signed_off_the_event_loop_thread(
    monkeypatch: pytest.MonkeyPatch, key_pair: KeyPair,
) -> None:
    # An RSA signature is about a millisecond of CPU: a fan-out to a thousand inboxes made on the
    # event loop would hold the web pages for a second.
    signed_in: list[threading.Thread] = []
    sign = httpauth.sign_request_headers

    def recording(**kwargs: object) -> dict[str, str]:
        signed_in.append(threading.current_thread())
        return sign(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpauth, "sign_request_headers", recording)
    seen: list[httpx.Request] = []

    def inbox(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202)

    auth = HttpSignatureAuth(KEY_ID, key_pair.private_pem)
    async with httpx.AsyncClient(transport=httpx.MockTransport(inbox)) as client:
        answer = await client.post("https://b.example/inbox", content=b'{"type":"Create"}', auth=auth)
    assert answer.status_code == 202
    assert signed_in and signed_in[0] is not threading.main_thread()
    [request] = seen
    assert f'keyId="{KEY_ID}"' in request.headers["signature"]
    assert request.headers["digest"].startswith("SHA-256=")
