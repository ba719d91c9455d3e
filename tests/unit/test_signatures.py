"""HTTP signatures as Mastodon, GoToSocial, Mobilizon and Fedify send them (interop-spec §1.3).

Peer-shaped requests are signed here by hand (signing string or signature base written out
in the test, RSA done with `cryptography` directly), so they check our verifier against the
wire format rather than against our own signer.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import assume, given
from hypothesis import strategies as st

from fedihub.errors import KeyNotFound, SignatureError
from fedihub.protocol.keys import KeyPair, generate_key_pair, load_private_key, load_public_key
from fedihub.protocol.signatures import (
    PublicKeyInfo,
    build_signing_string,
    parse_cavage_signature,
    sign_request_headers,
    sign_request_rfc9421,
    verify_request,
)

NOW = datetime(2025, 11, 25, 20, 15, 0, tzinfo=UTC)
NOW_HTTP = "Tue, 25 Nov 2025 20:15:00 GMT"
HOST = "hub.example"
INBOX = "/g/bay-climate/inbox"
ACTOR = "https://masto.example/users/alice"
KEY_ID = ACTOR + "#main-key"
BODY = b'{"type":"Follow","actor":"https://masto.example/users/alice"}'
BODY_DIGEST = "SHA-256=feKHYStTkDxEziEOmIOIJyYInMu7ryo8Zf6xcTz+TG8="
ACTIVITY_JSON = "application/activity+json"


@pytest.fixture(scope="module")
def alice() -> KeyPair:
    return generate_key_pair()


@pytest.fixture(scope="module")
def rotated() -> KeyPair:
    """Alice's key after she rotated it (or any other key: a wrong one)."""
    return generate_key_pair()


class KeyServer:
    """A key lookup that serves one PEM, then another on refresh, and records every call."""

    def __init__(self, pem: str | None, refreshed_pem: str | None = None, *, owner: str = ACTOR):
        self.pem = pem
        self.refreshed_pem = refreshed_pem if refreshed_pem is not None else pem
        self.owner = owner
        self.calls: list[tuple[str, bool]] = []

    async def __call__(self, key_id: str, refresh: bool) -> PublicKeyInfo | None:
        self.calls.append((key_id, refresh))
        pem = self.refreshed_pem if refresh else self.pem
        return None if pem is None else PublicKeyInfo(key_id, self.owner, pem)


def rsa_sign(private_pem: str, text: str) -> str:
    signature = load_private_key(private_pem).sign(
        text.encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return base64.b64encode(signature).decode()


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def mastodon_post(
    private_pem: str,
    *,
    body: bytes = BODY,
    target: str = INBOX,
    date: datetime = NOW,
    key_id: str = KEY_ID,
    algorithm: str = "rsa-sha256",
    digest: str | None = None,
) -> dict[str, str]:
    """Headers exactly as Mastodon's Request class signs an inbox delivery."""
    headers = {
        "Host": HOST,
        "Date": format_datetime(date, usegmt=True),
        "Digest": digest or "SHA-256=" + b64_sha256(body),
        "Content-Type": ACTIVITY_JSON,
        "User-Agent": "Mastodon/4.5.0 (http.rb/5.2.0; +https://masto.example/)",
        "Accept-Encoding": "gzip",
    }
    signing_string = (
        f"(request-target): post {target}\n"
        f"host: {HOST}\n"
        f"date: {headers['Date']}\n"
        f"digest: {headers['Digest']}\n"
        f"content-type: {ACTIVITY_JSON}"
    )
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",'
        f'headers="(request-target) host date digest content-type",'
        f'signature="{rsa_sign(private_pem, signing_string)}"'
    )
    return headers


def mastodon_get(private_pem: str, *, target: str, key_id: str = KEY_ID) -> dict[str, str]:
    """Headers exactly as Mastodon signs a fetch (authorized fetch / instance actor)."""
    headers = {"Host": HOST, "Date": NOW_HTTP, "Accept": ACTIVITY_JSON}
    signing_string = (
        f"(request-target): get {target}\nhost: {HOST}\ndate: {NOW_HTTP}\naccept: {ACTIVITY_JSON}"
    )
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="(request-target) host date accept",'
        f'signature="{rsa_sign(private_pem, signing_string)}"'
    )
    return headers


def our_post(private_pem: str, *, url: str = f"https://{HOST}{INBOX}", **overrides) -> dict:
    base = {"Content-Type": ACTIVITY_JSON}
    args = dict(method="POST", url=url, headers=base, body=BODY, key_id=KEY_ID, now=NOW)
    args.update(overrides)
    return {**base, **sign_request_headers(private_key=load_private_key(private_pem), **args)}


async def verify(
    headers: Mapping[str, str],
    lookup,
    *,
    method: str = "POST",
    path: str = INBOX,
    query: str = "",
    body: bytes = BODY,
    now: datetime = NOW,
) -> PublicKeyInfo:
    return await verify_request(
        method=method, path=path, query=query, headers=headers, body=body, lookup=lookup, now=now
    )


def replace_signature_param(headers: dict[str, str], name: str, value: str | None) -> dict:
    """Rewrite one parameter of a draft-cavage Signature header (None drops it)."""
    params = [part.split("=", 1) for part in headers["Signature"].split('",')]
    kept = []
    for key, raw in params:
        raw = raw.strip('"')
        if key == name:
            if value is None:
                continue
            raw = value
        kept.append(f'{key}="{raw}"')
    return {**headers, "Signature": ",".join(kept)}


# --- Golden signing strings ---------------------------------------------------------------


def test_post_signing_string_has_one_lowercase_line_per_signed_header() -> None:
    headers = {
        "Host": HOST,
        "Date": NOW_HTTP,
        "Digest": BODY_DIGEST,
        "Content-Type": ACTIVITY_JSON,
        "User-Agent": "fedihub/0.1",
    }

    text = build_signing_string(
        "POST", INBOX, headers, ["(request-target)", "host", "date", "digest", "content-type"]
    )

    assert text == (
        "(request-target): post /g/bay-climate/inbox\n"
        "host: hub.example\n"
        "date: Tue, 25 Nov 2025 20:15:00 GMT\n"
        "digest: SHA-256=feKHYStTkDxEziEOmIOIJyYInMu7ryo8Zf6xcTz+TG8=\n"
        "content-type: application/activity+json"
    )


def test_get_signing_string_keeps_the_query_string_exactly_as_sent() -> None:
    headers = {"host": HOST, "date": NOW_HTTP, "accept": ACTIVITY_JSON}

    text = build_signing_string(
        "GET",
        "/g/bay-climate/outbox?page=true&min_id=01HXyZ%2F",
        headers,
        ["(request-target)", "host", "date", "accept"],
    )

    assert text == (
        "(request-target): get /g/bay-climate/outbox?page=true&min_id=01HXyZ%2F\n"
        "host: hub.example\n"
        "date: Tue, 25 Nov 2025 20:15:00 GMT\n"
        "accept: application/activity+json"
    )


def test_signing_string_refuses_a_header_the_request_does_not_have() -> None:
    with pytest.raises(SignatureError, match="digest is missing"):
        build_signing_string("POST", INBOX, {"host": HOST}, ["host", "digest"])


def test_signed_post_carries_host_date_digest_and_a_mastodon_shaped_signature(
    alice: KeyPair,
) -> None:
    added = sign_request_headers(
        method="POST",
        url=f"https://{HOST}{INBOX}",
        headers={"Content-Type": ACTIVITY_JSON, "User-Agent": "fedihub/0.1"},
        body=BODY,
        key_id=KEY_ID,
        private_key=load_private_key(alice.private_pem),
        now=NOW,
    )

    assert set(added) == {"Host", "Date", "Digest", "Signature"}
    assert added["Host"] == HOST
    assert added["Date"] == NOW_HTTP
    assert added["Digest"] == BODY_DIGEST
    prefix = (
        f'keyId="{KEY_ID}",algorithm="rsa-sha256",'
        'headers="(request-target) host date digest content-type",signature="'
    )
    assert added["Signature"].startswith(prefix)
    # The signature is RSASSA-PKCS1-v1_5/SHA-256 over exactly the documented signing string.
    signature = base64.b64decode(added["Signature"][len(prefix) : -1])
    expected_text = (
        f"(request-target): post {INBOX}\nhost: {HOST}\ndate: {NOW_HTTP}\n"
        f"digest: {BODY_DIGEST}\ncontent-type: {ACTIVITY_JSON}"
    )
    load_public_key(alice.public_pem).verify(
        signature, expected_text.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_signed_get_covers_accept_and_has_no_digest(alice: KeyPair) -> None:
    added = sign_request_headers(
        method="GET",
        url=f"https://{HOST}/g/bay-climate/outbox?page=true",
        headers={"Accept": ACTIVITY_JSON, "Accept-Encoding": "gzip"},
        body=None,
        key_id=KEY_ID,
        private_key=load_private_key(alice.private_pem),
        now=NOW,
    )

    assert "Digest" not in added
    assert 'headers="(request-target) host date accept"' in added["Signature"]


def test_signed_get_without_accept_covers_request_target_host_date(alice: KeyPair) -> None:
    added = sign_request_headers(
        method="GET",
        url=f"https://{HOST}/actor",
        headers={},
        body=b"",
        key_id=KEY_ID,
        private_key=load_private_key(alice.private_pem),
        now=NOW,
    )

    assert 'headers="(request-target) host date"' in added["Signature"]


def test_post_with_empty_body_still_gets_a_signed_digest(alice: KeyPair) -> None:
    # Mastodon refuses any POST whose signature does not cover Digest.
    added = sign_request_headers(
        method="POST",
        url=f"https://{HOST}{INBOX}",
        headers={},
        body=b"",
        key_id=KEY_ID,
        private_key=alice.private_pem,
        now=NOW,
    )

    assert added["Digest"] == "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    assert 'headers="(request-target) host date digest"' in added["Signature"]


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://Hub.Example:443/inbox", "hub.example"),
        ("http://hub.example:80/inbox", "hub.example"),
        ("http://hub.example:8080/inbox", "hub.example:8080"),
    ],
)
def test_host_header_is_the_url_authority_without_default_port(
    alice: KeyPair, url: str, host: str
) -> None:
    added = sign_request_headers(
        method="POST",
        url=url,
        headers={},
        body=b"{}",
        key_id=KEY_ID,
        private_key=alice.private_pem,
        now=NOW,
    )

    assert added["Host"] == host


async def test_host_and_date_already_set_by_the_http_client_are_replaced(alice: KeyPair) -> None:
    # httpx puts a Host header on every request before auth runs; we must not sign it twice.
    headers = {"host": HOST, "date": "Mon, 01 Jan 2024 00:00:00 GMT", "Accept": ACTIVITY_JSON}
    headers |= sign_request_headers(
        method="GET",
        url=f"https://{HOST}/actor",
        headers=headers,
        body=None,
        key_id=KEY_ID,
        private_key=alice.private_pem,
        now=NOW,
    )
    headers = {name.lower(): value for name, value in headers.items()}

    info = await verify(headers, KeyServer(alice.public_pem), method="GET", path="/actor", body=b"")

    assert info.owner == ACTOR


# --- Round trips and peer-shaped requests -------------------------------------------------


async def test_our_signed_post_verifies_and_returns_the_signing_key(alice: KeyPair) -> None:
    keys = KeyServer(alice.public_pem)

    info = await verify(our_post(alice.private_pem), keys)

    assert info == PublicKeyInfo(KEY_ID, ACTOR, alice.public_pem)
    assert keys.calls == [(KEY_ID, False)]


async def test_our_signed_post_with_query_string_verifies(alice: KeyPair) -> None:
    headers = our_post(alice.private_pem, url=f"https://{HOST}{INBOX}?x=1&Y=2")

    info = await verify(headers, KeyServer(alice.public_pem), query="x=1&Y=2")

    assert info.owner == ACTOR


async def test_our_signed_get_verifies(alice: KeyPair) -> None:
    headers = {"Accept": ACTIVITY_JSON}
    headers |= sign_request_headers(
        method="GET",
        url=f"https://{HOST}/g/bay-climate/outbox?page=true",
        headers=headers,
        body=None,
        key_id=KEY_ID,
        private_key=load_private_key(alice.private_pem),
        now=NOW,
    )

    info = await verify(
        headers,
        KeyServer(alice.public_pem),
        method="GET",
        path="/g/bay-climate/outbox",
        query="page=true",
        body=b"",
    )

    assert info.key_id == KEY_ID


async def test_mastodon_inbox_post_verifies(alice: KeyPair) -> None:
    info = await verify(mastodon_post(alice.private_pem), KeyServer(alice.public_pem))

    assert info.owner == ACTOR


async def test_mastodon_signed_fetch_verifies(alice: KeyPair) -> None:
    headers = mastodon_get(alice.private_pem, target="/g/bay-climate/outbox?page=true")

    info = await verify(
        headers,
        KeyServer(alice.public_pem),
        method="GET",
        path="/g/bay-climate/outbox",
        query="page=true",
        body=b"",
    )

    assert info.owner == ACTOR


async def test_hs2019_algorithm_label_verifies_with_an_rsa_key(alice: KeyPair) -> None:
    headers = mastodon_post(alice.private_pem, algorithm="hs2019")

    assert (await verify(headers, KeyServer(alice.public_pem))).owner == ACTOR


async def test_gotosocial_key_id_with_main_key_path_is_looked_up_verbatim(alice: KeyPair) -> None:
    key_id = "https://gts.example/users/alice/main-key"
    keys = KeyServer(alice.public_pem, owner="https://gts.example/users/alice")

    info = await verify(mastodon_post(alice.private_pem, key_id=key_id), keys)

    assert keys.calls == [(key_id, False)]
    assert info.owner == "https://gts.example/users/alice"


async def test_signature_by_a_key_published_as_pkcs1_verifies(alice: KeyPair) -> None:
    # Mobilizon publishes "BEGIN RSA PUBLIC KEY" (fixture mobilizon/group.json).
    pkcs1 = load_public_key(alice.public_pem).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    ).decode()

    info = await verify(mastodon_post(alice.private_pem), KeyServer(pkcs1))

    assert info.public_key_pem == pkcs1


async def test_signature_by_a_key_published_with_spaces_for_newlines_verifies(
    alice: KeyPair,
) -> None:
    mangled = alice.public_pem.replace("\n", " ")

    assert (await verify(mastodon_post(alice.private_pem), KeyServer(mangled))).owner == ACTOR


async def test_ed25519_key_verifies_under_hs2019_but_not_under_rsa_sha256() -> None:
    private_key = Ed25519PrivateKey.generate()
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    headers = {"Content-Type": ACTIVITY_JSON}
    headers |= sign_request_headers(
        method="POST",
        url=f"https://{HOST}{INBOX}",
        headers=headers,
        body=BODY,
        key_id=KEY_ID,
        private_key=private_key,
        now=NOW,
    )
    assert 'algorithm="hs2019"' in headers["Signature"]

    assert (await verify(headers, KeyServer(public_pem))).owner == ACTOR
    with pytest.raises(SignatureError, match="does not verify"):
        relabelled = replace_signature_param(headers, "algorithm", "rsa-sha256")
        await verify(relabelled, KeyServer(public_pem))


async def test_headers_are_matched_case_insensitively_whatever_the_mapping(alice: KeyPair) -> None:
    shouted = {name.upper(): value for name, value in mastodon_post(alice.private_pem).items()}

    assert (await verify(shouted, KeyServer(alice.public_pem))).owner == ACTOR
    as_httpx = httpx.Headers(mastodon_post(alice.private_pem))
    assert (await verify(as_httpx, KeyServer(alice.public_pem))).owner == ACTOR


async def test_hs2019_created_parameter_sets_the_time_window(alice: KeyPair) -> None:
    created = int(NOW.timestamp())
    digest = "SHA-256=" + b64_sha256(BODY)
    text = (
        f"(request-target): post {INBOX}\n(created): {created}\n"
        f"host: {HOST}\ndigest: {digest}"
    )
    headers = {
        "Host": HOST,
        "Digest": digest,
        "Signature": (
            f'keyId="{KEY_ID}",algorithm="hs2019",created={created},'
            f'headers="(request-target) (created) host digest",'
            f'signature="{rsa_sign(alice.private_pem, text)}"'
        ),
    }
    keys = KeyServer(alice.public_pem)

    assert (await verify(headers, keys)).owner == ACTOR
    with pytest.raises(SignatureError, match="time window"):
        await verify(headers, keys, now=NOW + timedelta(minutes=70))


async def test_expires_parameter_cannot_stretch_validity_beyond_12_hours(alice: KeyPair) -> None:
    created = int((NOW - timedelta(hours=14)).timestamp())
    expires = int((NOW + timedelta(hours=10)).timestamp())
    text = f"(request-target): get /actor\n(created): {created}\n(expires): {expires}\nhost: {HOST}"
    headers = {
        "Host": HOST,
        "Signature": (
            f'keyId="{KEY_ID}",algorithm="hs2019",created={created},expires={expires},'
            f'headers="(request-target) (created) (expires) host",'
            f'signature="{rsa_sign(alice.private_pem, text)}"'
        ),
    }
    keys = KeyServer(alice.public_pem)

    with pytest.raises(SignatureError, match="time window"):
        await verify(headers, keys, method="GET", path="/actor", body=b"")
    # Within created + 12 h (+ 1 h skew) the same signature is fine.
    later = NOW - timedelta(hours=2)
    info = await verify(headers, keys, method="GET", path="/actor", body=b"", now=later)
    assert info.owner == ACTOR


# --- Query string compatibility -----------------------------------------------------------


async def test_query_string_omitted_by_an_older_mastodon_still_verifies(alice: KeyPair) -> None:
    # Older Mastodon signed "(request-target): get /path" even when the URL had "?query".
    headers = mastodon_get(alice.private_pem, target="/g/bay-climate/outbox")

    info = await verify(
        headers,
        KeyServer(alice.public_pem),
        method="GET",
        path="/g/bay-climate/outbox",
        query="page=true",
        body=b"",
    )

    assert info.owner == ACTOR


async def test_signature_over_a_different_query_string_is_rejected(alice: KeyPair) -> None:
    headers = mastodon_get(alice.private_pem, target="/g/bay-climate/outbox?page=1")

    with pytest.raises(SignatureError, match="does not verify"):
        await verify(
            headers,
            KeyServer(alice.public_pem),
            method="GET",
            path="/g/bay-climate/outbox",
            query="page=2",
            body=b"",
        )


# --- Tampering and Mastodon's strength rules (draft-cavage) -------------------------------


async def test_changed_body_is_rejected_by_the_digest(alice: KeyPair) -> None:
    with pytest.raises(SignatureError, match="Digest does not match the body"):
        await verify(
            mastodon_post(alice.private_pem), KeyServer(alice.public_pem), body=BODY + b" "
        )


async def test_signed_digest_header_missing_is_rejected(alice: KeyPair) -> None:
    headers = mastodon_post(alice.private_pem)
    del headers["Digest"]

    with pytest.raises(SignatureError, match="Digest header is missing"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_post_without_signed_digest_is_rejected(alice: KeyPair) -> None:
    headers = mastodon_post(alice.private_pem)
    headers = replace_signature_param(headers, "headers", "(request-target) host date")

    with pytest.raises(SignatureError, match="Digest header must be signed on a POST"):
        await verify(headers, KeyServer(alice.public_pem))


@pytest.mark.parametrize(
    ("digest", "reason"),
    [
        ("SHA-256=not*base64!", "not valid base64"),
        ("SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode(), "no SHA-256"),
        ("sha256=" + hashlib.sha256(BODY).hexdigest(), "no SHA-256"),
        ("SHA-256=" + hashlib.sha256(BODY).hexdigest(), "not a SHA-256 digest"),
    ],
    ids=["not-base64", "sha-512-only", "sha256-hex-label", "hex-value"],
)
async def test_unusable_digest_values_are_rejected_with_their_own_reason(
    alice: KeyPair, digest: str, reason: str
) -> None:
    headers = {**mastodon_post(alice.private_pem), "Digest": digest}

    with pytest.raises(SignatureError, match=reason):
        await verify(headers, KeyServer(alice.public_pem))


async def test_digest_listing_several_algorithms_in_any_case_is_accepted(alice: KeyPair) -> None:
    sha512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
    digest = f"SHA-512={sha512}, sha-256={b64_sha256(BODY)}"

    headers = mastodon_post(alice.private_pem, digest=digest)

    assert (await verify(headers, KeyServer(alice.public_pem))).owner == ACTOR


async def test_date_70_minutes_old_is_rejected(alice: KeyPair) -> None:
    headers = mastodon_post(alice.private_pem, date=NOW - timedelta(minutes=70))

    with pytest.raises(SignatureError, match="outside the acceptable time window"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_date_64_minutes_old_is_still_accepted(alice: KeyPair) -> None:
    # 5 minutes default validity plus 1 hour of clock skew.
    headers = mastodon_post(alice.private_pem, date=NOW - timedelta(minutes=64))

    assert (await verify(headers, KeyServer(alice.public_pem))).owner == ACTOR


async def test_date_59_minutes_in_the_future_is_accepted(alice: KeyPair) -> None:
    headers = mastodon_post(alice.private_pem, date=NOW + timedelta(minutes=59))

    assert (await verify(headers, KeyServer(alice.public_pem))).owner == ACTOR


@pytest.mark.parametrize("minutes", [61, 90, 24 * 60])
async def test_date_more_than_an_hour_in_the_future_is_rejected(
    alice: KeyPair, minutes: int
) -> None:
    headers = mastodon_post(alice.private_pem, date=NOW + timedelta(minutes=minutes))

    with pytest.raises(SignatureError, match="outside the acceptable time window"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_unparseable_date_is_rejected(alice: KeyPair) -> None:
    headers = {**mastodon_post(alice.private_pem), "Date": "yesterday"}

    with pytest.raises(SignatureError, match="not a valid HTTP date"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_signed_header_changed_after_signing_is_rejected(alice: KeyPair) -> None:
    headers = {**mastodon_post(alice.private_pem), "Content-Type": "text/html"}

    with pytest.raises(SignatureError, match="does not verify"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_unsigned_headers_may_change_freely(alice: KeyPair) -> None:
    headers = {**mastodon_post(alice.private_pem), "User-Agent": "rewritten-by-proxy"}

    assert (await verify(headers, KeyServer(alice.public_pem))).owner == ACTOR


async def test_signature_by_another_key_is_rejected(alice: KeyPair, rotated: KeyPair) -> None:
    headers = mastodon_post(rotated.private_pem)

    with pytest.raises(SignatureError, match="does not verify") as failure:
        await verify(headers, KeyServer(alice.public_pem))

    # The reason goes back to the peer: it must not echo signature or key material.
    signature = headers["Signature"].rsplit('signature="', 1)[1].rstrip('"')
    assert signature not in str(failure.value)
    assert signature not in failure.value.public_message


async def test_path_changed_after_signing_is_rejected(alice: KeyPair) -> None:
    with pytest.raises(SignatureError, match="does not verify"):
        await verify(
            mastodon_post(alice.private_pem), KeyServer(alice.public_pem), path="/g/other/inbox"
        )


async def test_host_changed_after_signing_is_rejected(alice: KeyPair) -> None:
    headers = {**mastodon_post(alice.private_pem), "Host": "evil.example"}

    with pytest.raises(SignatureError, match="does not verify"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_method_changed_after_signing_is_rejected(alice: KeyPair) -> None:
    with pytest.raises(SignatureError, match="does not verify"):
        await verify(mastodon_post(alice.private_pem), KeyServer(alice.public_pem), method="PUT")


@pytest.mark.parametrize("missing", ["keyId", "signature"])
async def test_missing_required_parameter_is_rejected(alice: KeyPair, missing: str) -> None:
    headers = replace_signature_param(mastodon_post(alice.private_pem), missing, None)

    with pytest.raises(SignatureError, match="keyId and signature parameters are required"):
        await verify(headers, KeyServer(alice.public_pem))


@pytest.mark.parametrize("algorithm", ["rsa-sha512", "hmac-sha256", "ed25519"])
async def test_unknown_algorithm_is_rejected(alice: KeyPair, algorithm: str) -> None:
    headers = mastodon_post(alice.private_pem, algorithm=algorithm)

    with pytest.raises(SignatureError, match="unsupported signature algorithm"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_get_without_signed_host_is_rejected(alice: KeyPair) -> None:
    text = f"(request-target): get /actor\ndate: {NOW_HTTP}"
    headers = {
        "Host": HOST,
        "Date": NOW_HTTP,
        "Signature": (
            f'keyId="{KEY_ID}",algorithm="rsa-sha256",headers="(request-target) date",'
            f'signature="{rsa_sign(alice.private_pem, text)}"'
        ),
    }

    with pytest.raises(SignatureError, match="Host header must be signed on a GET"):
        await verify(headers, KeyServer(alice.public_pem), method="GET", path="/actor", body=b"")


async def test_signature_not_covering_date_or_created_is_rejected(alice: KeyPair) -> None:
    headers = replace_signature_param(
        mastodon_post(alice.private_pem), "headers", "(request-target) host digest"
    )

    with pytest.raises(SignatureError, match=r"Date header or \(created\) must be signed"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_absent_headers_parameter_means_date_only_which_is_too_weak(alice: KeyPair) -> None:
    headers = replace_signature_param(mastodon_post(alice.private_pem), "headers", None)

    with pytest.raises(SignatureError, match=r"Digest header or \(request-target\) must be signed"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_created_pseudo_header_with_rsa_sha256_is_rejected(alice: KeyPair) -> None:
    headers = replace_signature_param(
        mastodon_post(alice.private_pem), "headers", "(request-target) (created) host date digest"
    )

    with pytest.raises(SignatureError, match=r"\(created\) may only be signed with .*hs2019"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_unsigned_request_is_rejected() -> None:
    with pytest.raises(SignatureError, match="request is not signed"):
        await verify({"Host": HOST, "Date": NOW_HTTP}, KeyServer(None))


async def test_garbled_signature_header_is_rejected() -> None:
    with pytest.raises(SignatureError, match="could not be parsed"):
        await verify({"Host": HOST, "Signature": 'keyId="unterminated'}, KeyServer(None))


async def test_unknown_key_raises_key_not_found(alice: KeyPair) -> None:
    keys = KeyServer(None)

    with pytest.raises(KeyNotFound):
        await verify(mastodon_post(alice.private_pem), keys)
    assert keys.calls == [(KEY_ID, False)]


# --- Key rotation -------------------------------------------------------------------------


async def test_rotated_key_is_refetched_once_and_then_verifies(
    alice: KeyPair, rotated: KeyPair
) -> None:
    keys = KeyServer(alice.public_pem, refreshed_pem=rotated.public_pem)

    info = await verify(mastodon_post(rotated.private_pem), keys)

    assert info.public_key_pem == rotated.public_pem
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_bad_signature_triggers_at_most_one_refresh(
    alice: KeyPair, rotated: KeyPair
) -> None:
    forged = mastodon_post(generate_key_pair().private_pem)
    keys = KeyServer(alice.public_pem, refreshed_pem=rotated.public_pem)

    with pytest.raises(SignatureError, match="does not verify"):
        await verify(forged, keys)
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_refresh_returning_the_same_key_is_not_retried(
    alice: KeyPair, rotated: KeyPair
) -> None:
    keys = KeyServer(alice.public_pem)

    with pytest.raises(SignatureError, match="does not verify"):
        await verify(mastodon_post(rotated.private_pem), keys)
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_unreadable_cached_key_is_refetched(alice: KeyPair) -> None:
    keys = KeyServer("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----", alice.public_pem)

    assert (await verify(mastodon_post(alice.private_pem), keys)).owner == ACTOR
    assert keys.calls == [(KEY_ID, False), (KEY_ID, True)]


async def test_checks_that_need_no_key_fail_before_any_key_lookup(alice: KeyPair) -> None:
    # A stale or tampered request must not make us fetch a key from the claimed actor.
    keys = KeyServer(alice.public_pem)
    headers = mastodon_post(alice.private_pem, date=NOW - timedelta(hours=3))

    with pytest.raises(SignatureError):
        await verify(headers, keys)
    assert keys.calls == []


# --- RFC 9421 (Mastodon's profile; Fedify-shaped requests) --------------------------------


def fedify_post(
    private_pem: str,
    *,
    body: bytes = BODY,
    components: str = '"@method" "@target-uri" "content-digest"',
    values: dict[str, str] | None = None,
    created: int | None = None,
    alg: str = "rsa-v1_5-sha256",
    url: str = f"https://{HOST}{INBOX}",
) -> dict[str, str]:
    """An RFC 9421 POST as Fedify (Ghost, Hollo) sends it, signature base written out by hand."""
    created = int(NOW.timestamp()) if created is None else created
    content_digest = f"sha-256=:{b64_sha256(body)}:"
    values = values or {
        "@method": "POST",
        "@target-uri": url,
        "content-digest": content_digest,
    }
    params = f'({components});created={created};keyid="{KEY_ID}";alg="{alg}"'
    lines = [f'"{name}": {value}' for name, value in values.items()]
    lines.append(f'"@signature-params": {params}')
    signature = rsa_sign(private_pem, "\n".join(lines))
    return {
        "Host": HOST,
        "Content-Type": ACTIVITY_JSON,
        "Content-Digest": content_digest,
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{signature}:",
    }


async def test_fedify_shaped_rfc9421_post_verifies(alice: KeyPair) -> None:
    info = await verify(fedify_post(alice.private_pem), KeyServer(alice.public_pem))

    assert info == PublicKeyInfo(KEY_ID, ACTOR, alice.public_pem)


async def test_rfc9421_signed_for_plain_http_verifies_too(alice: KeyPair) -> None:
    # Behind a TLS-terminating proxy the app cannot tell which scheme the peer used.
    headers = fedify_post(alice.private_pem, url=f"http://{HOST}{INBOX}")

    assert (await verify(headers, KeyServer(alice.public_pem))).owner == ACTOR


async def test_our_rfc9421_signature_base_is_the_documented_text(alice: KeyPair) -> None:
    added = sign_request_rfc9421(
        method="POST",
        url=f"https://{HOST}{INBOX}?via=hub",
        headers={"Content-Type": ACTIVITY_JSON},
        body=BODY,
        key_id=KEY_ID,
        private_key=alice.private_pem,
        now=NOW,
    )

    created = int(NOW.timestamp())
    params = f'("@method" "@target-uri" "content-digest");created={created};keyid="{KEY_ID}"'
    params += ';alg="rsa-v1_5-sha256"'
    assert added["Signature-Input"] == f"sig1={params}"
    assert added["Content-Digest"] == f"sha-256=:{b64_sha256(BODY)}:"
    base = (
        '"@method": POST\n'
        f'"@target-uri": https://{HOST}{INBOX}?via=hub\n'
        f'"content-digest": sha-256=:{b64_sha256(BODY)}:\n'
        f'"@signature-params": {params}'
    )
    signature = base64.b64decode(added["Signature"].removeprefix("sig1=:").removesuffix(":"))
    load_public_key(alice.public_pem).verify(
        signature, base.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


async def test_our_rfc9421_get_and_post_round_trip(alice: KeyPair) -> None:
    keys = KeyServer(alice.public_pem)
    for method, body in (("GET", b""), ("POST", BODY)):
        headers = {"Host": HOST}
        headers |= sign_request_rfc9421(
            method=method,
            url=f"https://{HOST}/g/bay-climate/outbox?page=true",
            headers=headers,
            body=body,
            key_id=KEY_ID,
            private_key=alice.private_pem,
            now=NOW,
        )
        info = await verify(
            headers, keys, method=method, path="/g/bay-climate/outbox", query="page=true", body=body
        )
        assert info.owner == ACTOR


async def test_rfc9421_with_ed25519_key_verifies() -> None:
    private_key = Ed25519PrivateKey.generate()
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    headers = {"Host": HOST}
    headers |= sign_request_rfc9421(
        method="POST",
        url=f"https://{HOST}{INBOX}",
        headers=headers,
        body=BODY,
        key_id=KEY_ID,
        private_key=private_key,
        now=NOW,
    )

    assert 'alg="ed25519"' in headers["Signature-Input"]
    assert (await verify(headers, KeyServer(public_pem))).owner == ACTOR


async def test_rfc9421_covering_authority_path_query_and_headers_verifies(alice: KeyPair) -> None:
    values = {
        "@method": "POST",
        "@target-uri": f"https://{HOST}{INBOX}?a=1",
        "@authority": HOST,
        "@path": INBOX,
        "@query": "?a=1",
        "content-type": ACTIVITY_JSON,
        "content-digest": f"sha-256=:{b64_sha256(BODY)}:",
    }
    components = " ".join(f'"{name}"' for name in values)
    headers = fedify_post(alice.private_pem, components=components, values=values)

    assert (await verify(headers, KeyServer(alice.public_pem), query="a=1")).owner == ACTOR


async def test_rfc9421_body_not_matching_content_digest_is_rejected(alice: KeyPair) -> None:
    with pytest.raises(SignatureError, match="Content-Digest does not match the body"):
        await verify(fedify_post(alice.private_pem), KeyServer(alice.public_pem), body=b"{}")


async def test_rfc9421_wrong_sha512_next_to_right_sha256_is_rejected(alice: KeyPair) -> None:
    headers = fedify_post(alice.private_pem)
    wrong = base64.b64encode(hashlib.sha512(b"other").digest()).decode()
    headers["Content-Digest"] += f", sha-512=:{wrong}:"

    with pytest.raises(SignatureError, match="Content-Digest does not match the body"):
        await verify(headers, KeyServer(alice.public_pem))


@pytest.mark.parametrize(
    "components",
    ['"@target-uri" "content-digest"', '"@method" "content-digest"'],
    ids=["no-method", "no-target-uri"],
)
async def test_rfc9421_must_cover_method_and_target_uri(alice: KeyPair, components: str) -> None:
    all_values = {
        "@method": "POST",
        "@target-uri": f"https://{HOST}{INBOX}",
        "content-digest": f"sha-256=:{b64_sha256(BODY)}:",
    }
    values = {name: value for name, value in all_values.items() if f'"{name}"' in components}
    headers = fedify_post(alice.private_pem, components=components, values=values)

    with pytest.raises(SignatureError, match="@method and @target-uri components must be signed"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_rfc9421_post_must_cover_content_digest(alice: KeyPair) -> None:
    values = {"@method": "POST", "@target-uri": f"https://{HOST}{INBOX}"}
    headers = fedify_post(alice.private_pem, components='"@method" "@target-uri"', values=values)

    with pytest.raises(SignatureError, match="Content-Digest header must be signed on a POST"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_rfc9421_target_uri_changed_after_signing_is_rejected(alice: KeyPair) -> None:
    with pytest.raises(SignatureError, match="does not verify"):
        await verify(
            fedify_post(alice.private_pem), KeyServer(alice.public_pem), path="/g/other/inbox"
        )


async def test_rfc9421_signature_too_old_is_rejected(alice: KeyPair) -> None:
    created = int((NOW - timedelta(minutes=70)).timestamp())

    with pytest.raises(SignatureError, match="outside the acceptable time window"):
        await verify(fedify_post(alice.private_pem, created=created), KeyServer(alice.public_pem))


async def test_rfc9421_unknown_alg_is_rejected(alice: KeyPair) -> None:
    headers = fedify_post(alice.private_pem, alg="hmac-sha256")

    with pytest.raises(SignatureError, match="unsupported signature algorithm"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_rfc9421_alg_must_match_the_key_type(alice: KeyPair) -> None:
    headers = fedify_post(alice.private_pem, alg="ed25519")

    with pytest.raises(SignatureError, match="does not verify"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_rfc9421_more_than_one_signature_is_rejected(alice: KeyPair) -> None:
    headers = fedify_post(alice.private_pem)
    headers["Signature-Input"] += ", " + headers["Signature-Input"].replace("sig1=", "sig2=")

    with pytest.raises(SignatureError, match="exactly one signature"):
        await verify(headers, KeyServer(alice.public_pem))


async def test_rfc9421_without_created_is_rejected(alice: KeyPair) -> None:
    headers = fedify_post(alice.private_pem)
    headers["Signature-Input"] = headers["Signature-Input"].replace(
        f";created={int(NOW.timestamp())}", ""
    )

    with pytest.raises(SignatureError, match="keyid and created parameters are required"):
        await verify(headers, KeyServer(alice.public_pem))


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("Signature-Input", 'sig1=("@method" "@target-uri";created=1', "not a valid structured"),
        ("Signature", "sig1=not-a-byte-sequence", "no byte sequence"),
        ("Signature", 'keyId="x",signature="abc"', "not a valid structured"),
    ],
    ids=["unclosed-inner-list", "token-signature", "cavage-signature-with-signature-input"],
)
async def test_rfc9421_malformed_structured_fields_are_rejected(
    alice: KeyPair, field: str, value: str, reason: str
) -> None:
    headers = {**fedify_post(alice.private_pem), field: value}

    with pytest.raises(SignatureError, match=reason):
        await verify(headers, KeyServer(alice.public_pem))


# --- Coverage every delivery must have, and the Host it must name ----------------------------


def post_signed_over(private_pem: str, covered: str) -> dict[str, str]:
    """A Mastodon-shaped delivery whose signature covers only ``covered``."""
    headers = mastodon_post(private_pem)
    lines = {
        "(request-target)": f"(request-target): post {INBOX}", "host": f"host: {HOST}",
        "date": f"date: {headers['Date']}", "digest": f"digest: {headers['Digest']}",
    }
    text = "\n".join(lines[name] for name in covered.split())
    return replace_signature_param(
        replace_signature_param(headers, "headers", covered), "signature", rsa_sign(private_pem, text)
    )


@pytest.mark.parametrize(
    ("covered", "refusal"),
    [
        ("date digest", "Host header must be signed on a POST"),
        ("host date digest", r"\(request-target\) must be signed on a POST"),
        ("(request-target) date digest", "Host header must be signed on a POST"),
    ],
)
async def test_a_delivery_signature_without_request_target_or_host_is_refused(
    alice: KeyPair, covered: str, refusal: str
) -> None:
    # Mastodon accepts `date digest` alone; such a signature fits any inbox of any server.
    lookup = KeyServer(alice.public_pem)
    with pytest.raises(SignatureError, match=refusal):
        await verify(post_signed_over(alice.private_pem, covered), lookup)
    assert lookup.calls == []


async def test_what_every_peer_signs_on_a_delivery_is_enough(alice: KeyPair) -> None:
    # GoToSocial, PeerTube and Gancio: (request-target) host date digest, nothing more.
    info = await verify(post_signed_over(alice.private_pem, "(request-target) host date digest"),
                        KeyServer(alice.public_pem))
    assert info.owner == ACTOR


async def test_a_request_signed_for_another_server_is_refused_before_the_key_is_looked_up(alice: KeyPair) -> None:
    lookup = KeyServer(alice.public_pem)
    with pytest.raises(SignatureError) as refused:
        await verify_request(method="POST", path=INBOX, query="", headers=mastodon_post(alice.private_pem),
                             body=BODY, lookup=lookup, now=NOW, expected_host="coalitions.example")
    assert refused.value.public_message == "the request is not addressed to this server (Host header)"
    assert lookup.calls == []


@pytest.mark.parametrize(
    ("ours", "host_header", "accepted"),
    [
        (HOST, HOST.upper(), True),
        (HOST, f"{HOST}:443", True),  # the default port is no port
        (f"{HOST}:8443", HOST, True),  # Misskey writes the Host header without the port
        (f"{HOST}:8443", f"{HOST}:9000", False),
        (HOST, f"evil.{HOST}", False),
    ],
)
async def test_the_host_a_request_names_is_compared_as_a_host(
    alice: KeyPair, ours: str, host_header: str, accepted: bool
) -> None:
    headers = {**mastodon_post(alice.private_pem), "Host": host_header}
    try:
        await verify_request(method="POST", path=INBOX, query="", headers=headers, body=BODY,
                             lookup=KeyServer(alice.public_pem), now=NOW, expected_host=ours)
        refusal = None
    except SignatureError as exc:
        refusal = exc.public_message
    # Past the Host check, a header other than the signed one no longer verifies; that is fine here.
    assert (refusal == "the request is not addressed to this server (Host header)") is not accepted


@given(st.dictionaries(
    st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,12}", fullmatch=True),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    min_size=1, max_size=5,
))
def test_any_quoted_parameter_value_parses_back_as_it_was_escaped(params: dict[str, str]) -> None:
    def quoted(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    header = ",".join(f"{name}={quoted(value)}" for name, value in params.items())
    assume("\n" not in header)  # a header value never holds a line break

    assert parse_cavage_signature(header) == params
