"""Key pairs we publish, and the public key PEMs peers publish (interop-spec §1.3, pitfall P29)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from fedihub.errors import ConfigurationError, SignatureError
from fedihub.protocol.keys import KeyPair, generate_key_pair, load_private_key, load_public_key
from tests.support.fixtures import load_fixture


def fixture_pem(name: str) -> str:
    return load_fixture(name)["publicKey"]["publicKeyPem"]


@pytest.fixture(scope="module")
def key_pair() -> KeyPair:
    return generate_key_pair()


def public_numbers(pem: str):
    return load_public_key(pem).public_numbers()


def test_generated_key_pair_is_2048_bit_rsa_with_exponent_65537(key_pair: KeyPair) -> None:
    private_key = load_private_key(key_pair.private_pem)

    assert private_key.key_size == 2048
    assert private_key.public_key().public_numbers().e == 65537


def test_generated_pems_are_pkcs8_private_and_spki_public(key_pair: KeyPair) -> None:
    # Mastodon expects SPKI ("BEGIN PUBLIC KEY") in publicKeyPem.
    assert key_pair.private_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert key_pair.public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    assert key_pair.public_pem.rstrip().endswith("-----END PUBLIC KEY-----")


def test_generated_public_pem_belongs_to_the_private_key(key_pair: KeyPair) -> None:
    derived = load_private_key(key_pair.private_pem).public_key().public_numbers()

    assert public_numbers(key_pair.public_pem) == derived


def test_mastodon_spki_key_from_a_real_actor_loads() -> None:
    key = load_public_key(fixture_pem("mastodon/actor_person.json"))

    assert isinstance(key, RSAPublicKey)
    assert key.key_size == 2048


def test_mobilizon_pkcs1_key_from_a_real_group_loads() -> None:
    pem = fixture_pem("mobilizon/group.json")
    assert pem.startswith("-----BEGIN RSA PUBLIC KEY-----")

    key = load_public_key(pem)

    assert isinstance(key, RSAPublicKey)
    assert key.key_size == 2048


def test_pkcs1_and_spki_encodings_of_one_key_load_to_the_same_key(key_pair: KeyPair) -> None:
    pkcs1 = load_public_key(key_pair.public_pem).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    ).decode()

    assert public_numbers(pkcs1) == public_numbers(key_pair.public_pem)


def test_pem_with_newlines_replaced_by_spaces_loads(key_pair: KeyPair) -> None:
    mangled = key_pair.public_pem.replace("\n", " ")

    assert public_numbers(mangled) == public_numbers(key_pair.public_pem)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda pem: pem.replace("\n", "\r\n"),
        lambda pem: "\n\n  " + pem + "\n\n",
        lambda pem: pem.replace("\n", "\\n"),
        lambda pem: pem.replace("\n", ""),
    ],
    ids=["crlf", "surrounding-whitespace", "escaped-newlines", "no-newlines"],
)
def test_other_mangled_line_breaks_still_load(key_pair: KeyPair, mangle) -> None:
    assert public_numbers(mangle(key_pair.public_pem)) == public_numbers(key_pair.public_pem)


def test_ed25519_public_key_loads() -> None:
    pem = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    assert isinstance(load_public_key(pem), Ed25519PublicKey)


@pytest.mark.parametrize(
    ("pem", "reason"),
    [
        ("", "not a PEM public key block"),
        ("hello", "not a PEM public key block"),
        ("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "not valid base64"),
        ("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "could not be parsed"),
    ],
    ids=["empty", "text", "bad-base64", "not-a-key"],
)
def test_garbage_public_key_raises_signature_error(pem: str, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        load_public_key(pem)


def test_private_key_published_as_public_key_is_rejected(key_pair: KeyPair) -> None:
    with pytest.raises(SignatureError, match="not a PEM public key block"):
        load_public_key(key_pair.private_pem)


def test_ec_public_key_is_rejected_as_unsupported() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    with pytest.raises(SignatureError, match="only RSA and Ed25519"):
        load_public_key(pem)


def test_parsed_public_keys_are_cached_by_pem(key_pair: KeyPair) -> None:
    assert load_public_key(key_pair.public_pem) is load_public_key(key_pair.public_pem)


def test_unreadable_private_key_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        load_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_non_rsa_private_key_is_a_configuration_error() -> None:
    pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )

    with pytest.raises(ConfigurationError, match="not an RSA key"):
        load_private_key(pem)


def _pem_with(numbers: rsa.RSAPrivateNumbers) -> str:
    key = numbers.private_key(unsafe_skip_rsa_key_validation=True)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


@pytest.mark.parametrize("damage", ["iqmp", "dmp1", "dmq1", "d"])
def test_a_private_key_damaged_in_storage_is_refused_before_anything_is_signed_with_it(
    key_pair: KeyPair, damage: str
) -> None:
    numbers = load_private_key(key_pair.private_pem).private_numbers()
    fields = {name: getattr(numbers, name) for name in ("p", "q", "d", "dmp1", "dmq1", "iqmp")}
    fields[damage] += 2  # one flipped bit in the stored DER changes a number like this

    damaged = _pem_with(rsa.RSAPrivateNumbers(**fields, public_numbers=numbers.public_numbers))

    with pytest.raises(ConfigurationError, match="damaged"):
        load_private_key(damaged)
