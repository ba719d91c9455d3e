"""Actor key pairs: generating ours and tolerantly parsing the PEM public keys peers publish."""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from fedihub.errors import ConfigurationError, SignatureError

PublicKey = RSAPublicKey | Ed25519PublicKey
PrivateKey = RSAPrivateKey | Ed25519PrivateKey

# One PEM block. The label itself contains spaces ("RSA PUBLIC KEY"), so the pattern anchors on
# the dashes rather than on line breaks, which lets it match PEMs whose newlines became spaces.
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_PUBLIC_LABELS = frozenset({"PUBLIC KEY", "RSA PUBLIC KEY"})


@dataclass(frozen=True)
class KeyPair:
    """An actor's RSA key pair as PEM: PKCS#8 private key, SPKI ("BEGIN PUBLIC KEY") public key."""

    private_pem: str
    public_pem: str


def generate_key_pair(bits: int = 2048) -> KeyPair:
    """Generate a fresh RSA key pair (public exponent 65537), the format every peer accepts."""
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    return KeyPair(private_pem=private_pem, public_pem=public_key_to_pem(private_key.public_key()))


def public_key_to_pem(public_key: PublicKey) -> str:
    """Serialize a public key as SPKI PEM, the form Mastodon expects in ``publicKeyPem``."""
    return public_key.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


@functools.lru_cache(maxsize=64)
def load_private_key(pem: str) -> RSAPrivateKey:
    """Parse one of our own RSA private keys (cached: signing every delivery would re-parse it).

    Only keys generate_key_pair() made reach here (nothing imports a key from elsewhere), so
    cryptography's check of the key is skipped: its primality tests cost about 40 ms a key, paid
    on the event loop by a worker's first fan-out for each coalition (4 % of a 1,000-inbox
    fan-out). The library warns that OpenSSL may hang or crash on an invalid key loaded that way,
    so the relations between the key's numbers are checked here instead (0.1 ms): a key damaged
    in storage breaks them and is refused. Only the primality of p and q goes unchecked: damage
    that changed p or q would break n = p·q.
    """
    try:
        key = serialization.load_pem_private_key(
            pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True
        )
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm) as exc:
        raise ConfigurationError("private key is not a readable unencrypted PEM") from exc
    if not isinstance(key, RSAPrivateKey):
        raise ConfigurationError("private key is not an RSA key")
    if not _numbers_agree(key.private_numbers()):
        raise ConfigurationError("private key is damaged: its numbers do not agree")
    return key


def _numbers_agree(numbers: rsa.RSAPrivateNumbers) -> bool:
    """n = p·q, d inverts e modulo p−1 and q−1, and the CRT values follow from p, q and d."""
    p, q, d, public = numbers.p, numbers.q, numbers.d, numbers.public_numbers
    return (
        p > 1 and q > 1 and p * q == public.n
        and d * public.e % (p - 1) == 1 and d * public.e % (q - 1) == 1
        and numbers.dmp1 == d % (p - 1) and numbers.dmq1 == d % (q - 1) and numbers.iqmp * q % p == 1
    )


@functools.lru_cache(maxsize=1024)
def load_public_key(pem: str) -> PublicKey:
    """Parse a peer's published public key, RSA or Ed25519.

    Tolerant of what is seen in the wild (interop-spec §1.3, pitfall P29): SPKI
    ("BEGIN PUBLIC KEY", most servers), PKCS#1 ("BEGIN RSA PUBLIC KEY", Mobilizon), and PEMs
    whose newlines were replaced by spaces (an activitypub.academy actor in Fedify's fixtures).
    Cached because every inbound signature check parses the sender's key.
    """
    label, der = _pem_to_der(pem)
    key = _load_public_der(label, der)
    if not isinstance(key, (RSAPublicKey, Ed25519PublicKey)):
        raise SignatureError("public key type is not supported (only RSA and Ed25519)")
    return key


def _pem_to_der(pem: str) -> tuple[str, bytes]:
    """Find the public key block, ignore how its lines were broken, and base64-decode it."""
    # Some serializers double-escape, leaving the two characters backslash-n in the JSON string.
    text = pem.replace("\\n", "\n")
    for match in _PEM_BLOCK.finditer(text):
        label = match.group(1).strip()
        if label not in _PUBLIC_LABELS:
            continue
        body = "".join(match.group(2).split())
        try:
            return label, base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureError("public key PEM body is not valid base64") from exc
    raise SignatureError("public key is not a PEM public key block")


def _load_public_der(label: str, der: bytes) -> object:
    """Load DER by its PEM label, then try the other encoding: some servers mislabel the block."""
    loaders = [_load_spki, _load_pkcs1]
    if label == "RSA PUBLIC KEY":
        loaders.reverse()
    for loader in loaders:
        try:
            return loader(der)
        except (ValueError, UnsupportedAlgorithm):
            continue
    raise SignatureError("public key could not be parsed")


def _load_spki(der: bytes) -> object:
    return serialization.load_der_public_key(der)


def _load_pkcs1(der: bytes) -> object:
    # PKCS#1 RSAPublicKey has no DER loader of its own; re-armoring it lets cryptography read it.
    body = base64.encodebytes(der).decode("ascii")
    pem = f"-----BEGIN RSA PUBLIC KEY-----\n{body}-----END RSA PUBLIC KEY-----\n"
    return serialization.load_pem_public_key(pem.encode("ascii"))
