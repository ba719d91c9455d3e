"""A delivery captured at another server and replayed here is refused, and so is a signature that
would fit any inbox (one that leaves out (request-target) or host)."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from fedihub.protocol.keys import load_private_key
from fedihub.protocol.signatures import build_signing_string, sign_request_headers, sign_request_rfc9421
from fedihub.storage.models import Actor, InboxItem
from tests.integration.helpers import count_rows
from tests.support.fake_peer import ACTIVITY_JSON, FakePeer
from tests.support.network import FederationNet, Instance


def rsa_sign(private_pem: str, text: str) -> str:
    signature = load_private_key(private_pem).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
@pytest.mark.parametrize(
    ("host_header", "answer"),
    [("b.test", "the request is not addressed to this server (Host header)"),
     ("a.test", "signature does not verify")],
    ids=["as captured", "host rewritten to ours"],
)
async def test_a_valid_delivery_signed_for_another_server_and_replayed_here_is_refused(
    net: FederationNet, a: Instance, peer: FakePeer, tenants: Actor, host_header: str, answer: str, scheme: str
) -> None:
    alice = peer.accounts["alice"]
    body = json.dumps(peer.build_follow(alice, tenants.uri)).encode()
    # What b.test received from masto.test: a perfectly valid delivery, for b.test's shared inbox.
    sign = sign_request_headers if scheme == "cavage" else sign_request_rfc9421
    captured = {"Content-Type": ACTIVITY_JSON}
    captured |= sign(method="POST", url="http://b.test/inbox", headers=captured, body=body,
                     key_id=alice.key_id, private_key=alice.keys.private_pem, now=net.clock())

    response = await a.post("/inbox", content=body, headers={**captured, "Host": host_header})

    assert (response.status_code, response.text) == (401, answer)
    assert await count_rows(a, InboxItem) == 0
    await net.settle()
    assert peer.inbox_posts == [], "a replayed Follow must not be answered"


@pytest.mark.parametrize(
    ("covered", "answer"),
    [
        ("date digest", "the Host header must be signed on a POST request"),
        ("host date digest", "(request-target) must be signed on a POST request"),
    ],
)
async def test_a_delivery_whose_signature_leaves_out_the_request_target_is_refused(
    a: Instance, peer: FakePeer, tenants: Actor, covered: str, answer: str
) -> None:
    alice = peer.accounts["alice"]
    body = json.dumps(peer.build_follow(alice, tenants.uri)).encode()
    headers = sign_request_headers(method="POST", url=f"{a.base_url}/inbox", headers={}, body=body,
                                   key_id=alice.key_id, private_key=alice.keys.private_pem, now=peer.clock())
    text = build_signing_string("POST", "/inbox", headers, covered.split())
    headers["Signature"] = (f'keyId="{alice.key_id}",algorithm="rsa-sha256",headers="{covered}",'
                            f'signature="{rsa_sign(alice.keys.private_pem, text)}"')

    response = await a.post("/inbox", content=body, headers={**headers, "Content-Type": ACTIVITY_JSON})

    assert (response.status_code, response.text) == (401, answer)
    assert await count_rows(a, InboxItem) == 0
    assert peer.requests == [], "a signature too weak to count is refused before its key is fetched"
