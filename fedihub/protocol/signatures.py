"""HTTP request signatures: signing ours (draft-cavage, RFC 9421), verifying peers' as Mastodon."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, TypeGuard, cast

import http_sf
import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from fedihub.errors import KeyNotFound, SignatureError
from fedihub.protocol.keys import PrivateKey, PublicKey, load_private_key, load_public_key

# Mastodon's time window (app/lib/signed_request.rb, interop-spec §1.3): a signature is valid
# from `created` until `expires` (default created + 5 min, never more than 12 h), with one hour
# of clock skew allowed on both ends, so a Date lies within about [now - 65 min, now + 60 min].
DEFAULT_VALIDITY = timedelta(minutes=5)
MAX_VALIDITY = timedelta(hours=12)
CLOCK_SKEW = timedelta(hours=1)

REQUEST_TARGET = "(request-target)"
CAVAGE_ALGORITHMS = frozenset({"rsa-sha256", "hs2019"})
RFC9421_ALGORITHMS = frozenset({"rsa-v1_5-sha256", "ed25519"})
RFC9421_DERIVED_COMPONENTS = frozenset(
    {"@method", "@target-uri", "@authority", "@scheme", "@request-target", "@path", "@query"}
)


@dataclass(frozen=True)
class PublicKeyInfo:
    """A peer's public key as a key lookup found it; ``owner`` is the actor id it belongs to."""

    key_id: str
    owner: str
    public_key_pem: str


# Called as `await lookup(key_id, refresh)`. refresh=True means "the key you gave me failed,
# fetch it again" (blind key rotation). Returns None when the key cannot be found.
KeyLookup = Callable[[str, bool], Awaitable[PublicKeyInfo | None]]


# --- Headers ------------------------------------------------------------------------------


def normalize_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lowercase header names and merge repeated fields the way both signature specs require.

    Repeated fields are trimmed and joined with ", " (draft-cavage-12 §2.3, RFC 9421 §2.1).
    Accepts a plain dict, httpx.Headers or starlette Headers (whose ``items()`` repeats fields).
    """
    if hasattr(headers, "multi_items"):
        pairs: Iterable[tuple[str, str]] = headers.multi_items()  # httpx merges in items()
    elif isinstance(headers, Mapping):
        pairs = headers.items()
    else:
        pairs = headers
    merged: dict[str, list[str]] = {}
    for name, value in pairs:
        merged.setdefault(name.lower(), []).append(value.strip())
    return {name: ", ".join(values) for name, values in merged.items()}


def digest_header_value(body: bytes) -> str:
    """The legacy ``Digest`` header value (RFC 3230) every draft-cavage verifier expects."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header_value(body: bytes) -> str:
    """The ``Content-Digest`` header value (RFC 9530) that RFC 9421 signers cover."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def http_date(moment: datetime) -> str:
    """IMF-fixdate, e.g. ``Tue, 25 Nov 2025 20:15:00 GMT`` (Mastodon: Time.httpdate)."""
    return format_datetime(_as_utc(moment), usegmt=True)


# --- Signing: draft-cavage ----------------------------------------------------------------


def build_signing_string(
    method: str,
    path_with_query: str,
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    *,
    pseudo_headers: Mapping[str, str] | None = None,
) -> str:
    """The draft-cavage-12 signing string: one ``name: value`` line per signed header.

    ``(request-target)`` is the lowercase method, a space and the path with its query string.
    ``pseudo_headers`` supplies ``(created)`` / ``(expires)`` values from the signature params.
    """
    lowered = normalize_headers(headers)
    pseudo = pseudo_headers or {}
    lines = []
    for name in (signed.lower() for signed in signed_headers):
        if name == REQUEST_TARGET:
            lines.append(f"{REQUEST_TARGET}: {method.lower()} {path_with_query}")
        elif name in pseudo:
            lines.append(f"{name}: {pseudo[name]}")
        elif name in lowered:
            lines.append(f"{name}: {lowered[name]}")
        else:
            raise SignatureError(f"signed header {name} is missing from the request")
    return "\n".join(lines)


def sign_request_headers(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey | str,
    now: datetime | None = None,
) -> dict[str, str]:
    """The headers to add to an outgoing request to sign it the way Mastodon does (spec §1.3).

    Returns ``Host``, ``Date``, ``Digest`` (POST or any request with a body) and ``Signature``.
    POST signs ``(request-target) host date digest [content-type]``; GET signs
    ``(request-target) host date [accept]``. User-Agent and Accept-Encoding are never signed:
    proxies and HTTP clients rewrite them.
    """
    key = load_private_key(private_key) if isinstance(private_key, str) else private_key
    target = httpx.URL(url)
    method = method.upper()
    existing = normalize_headers(headers)
    added = {"Host": url_authority(target), "Date": http_date(now or _utcnow())}
    signed = [REQUEST_TARGET, "host", "date"]
    if method == "POST" or body:
        added["Digest"] = digest_header_value(body or b"")
        signed.append("digest")
        if "content-type" in existing:
            signed.append("content-type")
    elif "accept" in existing:
        signed.append("accept")
    # Our Host and Date replace any the caller set; merging would sign "a, a".
    signing_string = build_signing_string(
        method, url_path_with_query(target), {**existing, **normalize_headers(added)}, signed
    )
    signature = base64.b64encode(_sign(key, signing_string.encode("utf-8"))).decode("ascii")
    # Ed25519 has no draft-cavage algorithm name of its own; hs2019 tells the verifier to
    # derive the algorithm from the key (draft-cavage-12 §2.1.3).
    algorithm = "rsa-sha256" if isinstance(key, RSAPrivateKey) else "hs2019"
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="{algorithm}",'
        f'headers="{" ".join(signed)}",signature="{signature}"'
    )
    return added


def url_authority(url: httpx.URL) -> str:
    """Host and, only when not the scheme's default, port: what goes in the Host header."""
    return url.netloc.decode("ascii")


def url_path_with_query(url: httpx.URL) -> str:
    """The path and query exactly as sent on the request line (percent-encoding kept)."""
    return url.raw_path.decode("ascii") or "/"


# --- Signing: RFC 9421 --------------------------------------------------------------------


def sign_request_rfc9421(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: PrivateKey | str,
    now: datetime | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """Headers that sign a request with RFC 9421 the way Fedify does.

    Covers ``@method`` and ``@target-uri`` plus ``content-digest`` when there is a body, and
    returns ``Content-Digest`` (if any), ``Signature-Input`` and ``Signature``.
    """
    key = load_private_key(private_key) if isinstance(private_key, str) else private_key
    target = httpx.URL(url)
    method = method.upper()
    added: dict[str, str] = {}
    components = ["@method", "@target-uri"]
    if method == "POST" or body:
        added["Content-Digest"] = content_digest_header_value(body or b"")
        components.append("content-digest")
    created = int(_as_utc(now or _utcnow()).timestamp())
    alg = "rsa-v1_5-sha256" if isinstance(key, RSAPrivateKey) else "ed25519"
    inner: _InnerList = ([(name, {}) for name in components], {"created": created, "keyid": key_id, "alg": alg})
    request = _RequestView(
        method=method,
        authority=url_authority(target),
        path=target.raw_path.decode("ascii").split("?", 1)[0] or "/",
        query=target.query.decode("ascii"),
        headers={**normalize_headers(headers), **normalize_headers(added)},
    )
    base = _signature_base(inner, request, scheme=target.scheme)
    signature = _sign(key, base.encode("utf-8"))
    added["Signature-Input"] = http_sf.ser(cast(http_sf.DictionaryType, {label: inner}))
    added["Signature"] = http_sf.ser({label: signature})
    return added


# --- Verification -------------------------------------------------------------------------


async def verify_request(
    *,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    lookup: KeyLookup,
    now: datetime | None = None,
    expected_host: str | None = None,
) -> PublicKeyInfo:
    """Verify an inbound request's HTTP signature and return the key that signed it.

    ``path`` and ``query`` (without "?") must be exactly as the peer sent them, before any
    proxy rewrote them. ``Signature-Input`` selects RFC 9421, else ``Signature`` selects
    draft-cavage. With ``expected_host`` (ours, as in our base URL) the request's ``Host``, which
    the signature must cover, has to name it: a request signed for another server is refused
    before the key is looked up. The caller still has to check that ``owner`` is the activity's
    actor. Raises SignatureError (or KeyNotFound) whose message is safe to send back to the peer.
    """
    request = _RequestView(
        method=method.upper(),
        authority=_header_authority(normalize_headers(headers)),
        path=path or "/",
        query=query,
        headers=normalize_headers(headers),
    )
    moment = _as_utc(now or _utcnow())
    if expected_host is not None:
        _check_host(request.authority, expected_host)
    if "signature-input" in request.headers:
        prepared = _prepare_rfc9421(request, body, moment)
    elif "signature" in request.headers:
        prepared = _prepare_cavage(request, body, moment)
    else:
        raise SignatureError("request is not signed")
    return await _verify_with_lookup(prepared, lookup)


@dataclass(frozen=True)
class _RequestView:
    method: str
    authority: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass(frozen=True)
class _PreparedSignature:
    """A signature whose checks all passed; only the cryptography against a key remains."""

    key_id: str
    signature: bytes
    candidates: tuple[bytes, ...]  # signed texts to try, in order
    allow_rsa: bool
    allow_ed25519: bool

    def verifies(self, public_key: PublicKey) -> bool:
        if isinstance(public_key, RSAPublicKey) and not self.allow_rsa:
            return False
        if isinstance(public_key, Ed25519PublicKey) and not self.allow_ed25519:
            return False
        return any(_verify(public_key, self.signature, text) for text in self.candidates)


async def _verify_with_lookup(prepared: _PreparedSignature, lookup: KeyLookup) -> PublicKeyInfo:
    info = await lookup(prepared.key_id, False)
    if info is None:
        raise KeyNotFound("the signing key could not be found")
    if _verifies_with(prepared, info):
        return info
    # Blind key rotation (mastodon PR #9667, interop-spec §1.3 and P16): the peer may have a
    # new key we have not seen; fetch once more and retry only if it actually changed.
    fresh = await lookup(prepared.key_id, True)
    if fresh is not None and fresh.public_key_pem != info.public_key_pem:
        if prepared.verifies(load_public_key(fresh.public_key_pem)):
            return fresh
    raise SignatureError("signature does not verify")


def _verifies_with(prepared: _PreparedSignature, info: PublicKeyInfo) -> bool:
    try:
        public_key = load_public_key(info.public_key_pem)
    except SignatureError:
        return False  # an unreadable cached key is worth a refetch like a wrong one
    return prepared.verifies(public_key)


# --- Verification: draft-cavage (Mastodon app/lib/signed_request.rb) ----------------------


def _prepare_cavage(request: _RequestView, body: bytes, now: datetime) -> _PreparedSignature:
    params = parse_cavage_signature(request.headers["signature"])
    if not params.get("keyId") or not params.get("signature"):
        raise SignatureError("the keyId and signature parameters are required")
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in CAVAGE_ALGORITHMS:
        raise SignatureError("unsupported signature algorithm (only rsa-sha256 and hs2019)")
    default_headers = "(created)" if algorithm == "hs2019" else "date"
    signed = params.get("headers", default_headers).lower().split()
    if not signed:
        raise SignatureError("the signature covers no headers")

    _check_time_window(*_cavage_times(params, algorithm, request.headers), now=now)
    _check_cavage_strength(request.method, signed, algorithm, params)
    if "digest" in signed:
        _check_digest(request.headers.get("digest"), body)

    pseudo = {f"({name})": params[name] for name in ("created", "expires") if name in params}
    targets = [request.path + (f"?{request.query}" if request.query else "")]
    if request.query:
        # Older Mastodon signed (request-target) without the query string; Mastodon still
        # accepts that form, so we do too (signed_request.rb build_signed_string).
        targets.append(request.path)
    candidates = tuple(
        build_signing_string(
            request.method, target, request.headers, signed, pseudo_headers=pseudo
        ).encode("utf-8")
        for target in targets
    )
    return _PreparedSignature(
        key_id=params["keyId"],
        signature=_b64decode(params["signature"], "signature is not valid base64"),
        candidates=candidates,
        allow_rsa=True,
        # hs2019 means "algorithm from the key", so an Ed25519 key is allowed only there.
        allow_ed25519=algorithm == "hs2019",
    )


# The quoted value is written as runs of plain characters between escapes ("unrolled"), not one
# alternation per character: the same strings, in a fifth of the time for a 344-character signature,
# which every inbound request parses.
_CAVAGE_PARAM = re.compile(
    r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("[^"\\]*(?:\\.[^"\\]*)*"|[^,"\s]*)\s*(?:,|$)'
)


_QUOTED_PAIR = re.compile(r"\\(.)")


def parse_cavage_signature(value: str) -> dict[str, str]:
    """Parse ``keyId="…",algorithm="…",headers="…",signature="…"`` (values quoted or bare)."""
    params: dict[str, str] = {}
    position = 0
    value = value.strip()
    while position < len(value):
        match = _CAVAGE_PARAM.match(value, position)
        if match is None or match.end() == position:
            raise SignatureError("the Signature header could not be parsed")
        name, raw = match.group(1), match.group(2)
        if name in params:
            raise SignatureError(f"the Signature header repeats the {name} parameter")
        if raw.startswith('"'):
            raw = raw[1:-1]
            if "\\" in raw:
                raw = _QUOTED_PAIR.sub(r"\1", raw)
        params[name] = raw
        position = match.end()
    return params


def _cavage_times(
    params: Mapping[str, str], algorithm: str, headers: Mapping[str, str]
) -> tuple[datetime, datetime | None]:
    if algorithm == "hs2019" and params.get("created"):
        created = _unix_time(params["created"], "created")
    elif headers.get("date"):
        created = _parse_http_date(headers["date"])
    else:
        raise SignatureError("the request has neither a Date header nor a created parameter")
    expires = _unix_time(params["expires"], "expires") if params.get("expires") else None
    return created, expires


def _check_cavage_strength(
    method: str, signed: Sequence[str], algorithm: str, params: Mapping[str, str]
) -> None:
    # Mastodon's minimum coverage (signed_request.rb verify_signature_strength!) ...
    if "date" not in signed and "(created)" not in signed:
        raise SignatureError("the Date header or (created) must be signed")
    if REQUEST_TARGET not in signed and "digest" not in signed:
        raise SignatureError("the Digest header or (request-target) must be signed")
    if method in ("GET", "POST") and "host" not in signed:
        raise SignatureError(f"the Host header must be signed on a {method} request")
    if method == "POST" and "digest" not in signed:
        raise SignatureError("the Digest header must be signed on a POST request")
    # ... and more on a POST: Mastodon accepts `date digest` alone, which a captured delivery can be
    # replayed with at any inbox of any server. Every peer we federate with signs both
    # (request-target) and host on deliveries (docs/federation/http-signatures.md, "Coverage").
    if method == "POST" and REQUEST_TARGET not in signed:
        raise SignatureError("(request-target) must be signed on a POST request")
    for pseudo in ("created", "expires"):
        if f"({pseudo})" not in signed:
            continue
        if algorithm != "hs2019":
            raise SignatureError(f"({pseudo}) may only be signed with algorithm hs2019")
        if not params.get(pseudo):
            raise SignatureError(f"({pseudo}) is signed but the {pseudo} parameter is missing")


def _check_digest(header: str | None, body: bytes) -> None:
    # Mastodon's verify_body_digest!: several algorithms may be listed, names are
    # case-insensitive, SHA-256 is required, and each failure gets its own message.
    if header is None:
        raise SignatureError("the Digest header is missing")
    offered = {}
    for part in header.split(","):
        name, _, value = part.partition("=")
        offered[name.strip().lower()] = value.strip()
    if "sha-256" not in offered:
        raise SignatureError("the Digest header has no SHA-256 digest")
    given = _b64decode(offered["sha-256"], "the Digest SHA-256 value is not valid base64")
    if len(given) != hashlib.sha256().digest_size:
        raise SignatureError("the Digest SHA-256 value is not a SHA-256 digest")
    if not hmac.compare_digest(given, hashlib.sha256(body).digest()):
        raise SignatureError("the Digest does not match the body")


# --- Verification: RFC 9421 (Mastodon's profile, interop-spec §1.3) ----------------------


def _prepare_rfc9421(request: _RequestView, body: bytes, now: datetime) -> _PreparedSignature:
    inputs = _parse_dictionary(request.headers["signature-input"], "Signature-Input")
    if len(inputs) != 1:
        raise SignatureError("Signature-Input must hold exactly one signature")
    (label, member), = inputs.items()
    inner = _inner_list(member)
    if inner is None or not all(isinstance(name, str) for name, _ in inner[0]):
        raise SignatureError("Signature-Input must be a list of quoted component names")
    params = inner[1]
    key_id, alg = _text_param(params.get("keyid")), params.get("alg")
    created, expires = params.get("created"), params.get("expires")
    if not key_id or not _is_int(created):
        raise SignatureError("the keyid and created parameters are required")
    if expires is not None and not _is_int(expires):
        raise SignatureError("the expires parameter must be an integer")
    if alg is not None and _text_param(alg) not in RFC9421_ALGORITHMS:
        raise SignatureError("unsupported signature algorithm (only rsa-v1_5-sha256 and ed25519)")
    alg = _text_param(alg)

    signatures = _parse_dictionary(request.headers.get("signature", ""), "Signature")
    signature = _bytes_item(signatures.get(label))
    if signature is None:
        raise SignatureError("the Signature header has no byte sequence for the signature label")

    _check_time_window(
        _from_unix(created), None if expires is None else _from_unix(expires), now=now
    )
    components = [name for name, _ in inner[0]]
    _check_components(inner)
    if "@method" not in components or "@target-uri" not in components:
        raise SignatureError("the @method and @target-uri components must be signed")
    if request.method == "POST" and "content-digest" not in components:
        raise SignatureError("the Content-Digest header must be signed on a POST request")
    if "content-digest" in components:
        _check_content_digest(request.headers.get("content-digest"), body)

    # The app cannot know the scheme the peer used: behind a TLS-terminating proxy it sees
    # plain http. Peers only deliver over https, so try that first, then what the app saw.
    schemes = ("https", "http") if {"@target-uri", "@scheme"} & set(components) else ("https",)
    return _PreparedSignature(
        key_id=key_id,
        signature=signature,
        candidates=tuple(
            _signature_base(inner, request, scheme=s).encode("utf-8") for s in schemes
        ),
        allow_rsa=alg in (None, "rsa-v1_5-sha256"),
        allow_ed25519=alg in (None, "ed25519"),
    )


def _check_components(inner: _InnerList) -> None:
    seen: set[str] = set()
    for name, params in inner[0]:
        if params:
            raise SignatureError("signature component parameters are not supported")
        if name in seen:
            raise SignatureError("a signature component is listed twice")
        if name.startswith("@") and name not in RFC9421_DERIVED_COMPONENTS:
            raise SignatureError(f"unsupported derived component {name}")
        seen.add(name)


def _check_content_digest(header: str | None, body: bytes) -> None:
    if header is None:
        raise SignatureError("the Content-Digest header is missing")
    digests = _parse_dictionary(header, "Content-Digest")
    if "sha-256" not in digests:
        raise SignatureError("the Content-Digest header has no sha-256 digest")
    # Check every digest we can compute: a wrong sha-512 next to a right sha-256 is tampering.
    for name, algorithm in (("sha-256", hashlib.sha256), ("sha-512", hashlib.sha512)):
        if name not in digests:
            continue
        given = _bytes_item(digests[name])
        if given is None:
            raise SignatureError(f"the Content-Digest {name} value is not a byte sequence")
        if not hmac.compare_digest(given, algorithm(body).digest()):
            raise SignatureError("the Content-Digest does not match the body")


def _signature_base(inner: _InnerList, request: _RequestView, *, scheme: str) -> str:
    """The RFC 9421 §2.5 signature base, ending with the ``@signature-params`` line."""
    lines = [f"{http_sf.ser(name)}: {_component_value(name, request, scheme)}" for name, _ in inner[0]]
    # A List of one member serialises as that member: here, the inner list with its parameters.
    lines.append(f'"@signature-params": {http_sf.ser(cast(http_sf.ListType, [inner]))}')
    return "\n".join(lines)


def _component_value(name: str, request: _RequestView, scheme: str) -> str:
    authority = _normalize_authority(request.authority, scheme)
    query = f"?{request.query}" if request.query else ""
    if name == "@method":
        return request.method
    if name == "@target-uri":
        return f"{scheme}://{authority}{request.path}{query}"
    if name == "@authority":
        return authority
    if name == "@scheme":
        return scheme
    if name == "@request-target":
        return f"{request.path}{query}"
    if name == "@path":
        return request.path
    if name == "@query":
        return f"?{request.query}"  # RFC 9421 §2.2.7: an absent query is the lone "?"
    if name not in request.headers:
        raise SignatureError(f"signed header {name} is missing from the request")
    return request.headers[name]


def _check_host(authority: str, expected: str) -> None:
    """The request's Host must name this server (default ports and case aside).

    Misskey writes the Host header without the port (``new URL(url).hostname``), so a Host without
    a port is accepted for a server on a non-default port when the name matches.
    """
    name, port = _host_and_port(authority)
    our_name, our_port = _host_and_port(expected)
    if not name or name != our_name or (port is not None and port != our_port):
        raise SignatureError(
            f"the request was signed for {authority!r}, not for {expected!r}",
            public_message="the request is not addressed to this server (Host header)",
        )


def _host_and_port(authority: str) -> tuple[str, str | None]:
    authority = authority.strip().lower()
    if authority.startswith("["):
        end = authority.find("]")
        name, rest = authority[: end + 1], authority[end + 1 :]
        port = rest[1:] if rest.startswith(":") else None
    else:
        name, colon, port_text = authority.rpartition(":")
        name, port = (name, port_text) if colon else (authority, None)
    name = name.rstrip(".")
    if port in ("80", "443"):  # the scheme's default port: the same as none
        port = None
    return name, port


def _header_authority(headers: Mapping[str, str]) -> str:
    return headers.get("host", "")


def _normalize_authority(authority: str, scheme: str) -> str:
    # RFC 9421 §2.2.3: lowercase host, default port omitted.
    authority = authority.lower()
    default_port = {"https": ":443", "http": ":80"}[scheme]
    return authority.removesuffix(default_port)


# --- Shared checks and cryptography -------------------------------------------------------


def _check_time_window(created: datetime, expires: datetime | None, *, now: datetime) -> None:
    expires = min(expires or created + DEFAULT_VALIDITY, created + MAX_VALIDITY)
    if created > now + CLOCK_SKEW or now > expires + CLOCK_SKEW:
        raise SignatureError("signed request date is outside the acceptable time window")


def _sign(key: PrivateKey, message: bytes) -> bytes:
    if isinstance(key, RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, Ed25519PrivateKey):
        return key.sign(message)
    raise TypeError("only RSA and Ed25519 private keys can sign requests")


def _verify(public_key: PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        if isinstance(public_key, RSAPublicKey):
            public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        else:
            public_key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _b64decode(value: str, error: str) -> bytes:
    try:
        return base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignatureError(error) from exc


def _unix_time(value: str, name: str) -> datetime:
    if not re.fullmatch(r"\d{1,11}", value.strip()):
        raise SignatureError(f"the {name} parameter is not a Unix timestamp")
    return _from_unix(int(value))


def _from_unix(seconds: int) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise SignatureError("a signature timestamp is out of range") from exc


def _parse_http_date(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError) as exc:
        raise SignatureError("the Date header is not a valid HTTP date") from exc
    return _as_utc(parsed)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _utcnow() -> datetime:
    return datetime.now(UTC)


# --- RFC 9651 structured fields (RFC 9421 and RFC 9530 headers), parsed by http-sf -----------

_Params = dict[str, Any]
_Item = tuple[Any, _Params]  # (bare value, parameters)
_InnerList = tuple[list[_Item], _Params]


def _parse_dictionary(text: str, field: str) -> dict[str, _Item | _InnerList]:
    """A Dictionary field (RFC 9651 §3.2). Every error is the peer's: a SignatureError (401) whose
    public message names the field; the parser's own words go to the log only."""

    def refuse_repeats(key: str, where: str) -> None:
        # RFC 9651 lets the last of two equal keys win; on a signature that is an ambiguity a
        # proxy or another verifier may resolve differently, so it is refused.
        raise ValueError(f"the {where} key {key} appears twice")

    try:
        # Header values reach us decoded as Latin-1; anything beyond ASCII is refused by the parser.
        return cast(
            dict[str, _Item | _InnerList],
            http_sf.parse(text.encode("latin-1"), tltype="dictionary", on_duplicate_key=refuse_repeats),
        )
    except ValueError as exc:  # http_sf.StructuredFieldError, UnicodeEncodeError and ours
        raise SignatureError(
            f"the {field} header is not a valid structured field: {exc}",
            public_message=f"the {field} header is not a valid structured field (RFC 9651 dictionary)",
        ) from exc


def _inner_list(member: _Item | _InnerList) -> _InnerList | None:
    return member if isinstance(member[0], list) else None


def _bytes_item(member: _Item | _InnerList | None) -> bytes | None:
    if member is None or not isinstance(member[0], bytes):
        return None
    return member[0]


def _text_param(value: object) -> str | None:
    """A String parameter; a Token is taken too, as the hand-written parser before http-sf did."""
    return str(value) if isinstance(value, (str, http_sf.Token)) else None
