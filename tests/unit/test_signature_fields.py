"""RFC 9421 structured fields a peer gets wrong: every malformed Signature-Input, Signature or
Content-Digest is a 401 with a reason naming the header, decided before any key is fetched."""

from __future__ import annotations

import base64
import random

import http_sf
import pytest

from fedihub.errors import AuthenticationFailed, SignatureError
from fedihub.protocol.keys import KeyPair, generate_key_pair
from tests.unit.test_signatures import KEY_ID, NOW, KeyServer, fedify_post, verify

CREATED = int(NOW.timestamp())


@pytest.fixture(scope="module")
def alice() -> KeyPair:
    return generate_key_pair()

COMPONENTS = '("@method" "@target-uri" "content-digest")'
PARAMS = f';created={CREATED};keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'

MALFORMED = {
    # field, value, what the peer is told
    "trailing comma": ("Signature-Input", f"sig1={COMPONENTS}{PARAMS},", "Signature-Input header is not a valid"),
    "upper-case label": ("Signature-Input", f"Sig1={COMPONENTS}{PARAMS}", "Signature-Input header is not a valid"),
    "non-ASCII component": ("Signature-Input", f'sig1=("@méthod"){PARAMS}', "Signature-Input header is not a valid"),
    "unterminated string": ("Signature-Input", f'sig1=("@method{PARAMS}', "Signature-Input header is not a valid"),
    "16-digit integer": ("Signature-Input", f"sig1={COMPONENTS};created={10**15}", "Signature-Input header is"),
    "bad boolean": ("Signature-Input", f"sig1={COMPONENTS}{PARAMS};x=?2", "Signature-Input header is not a valid"),
    "label twice": ("Signature-Input", f"sig1={COMPONENTS}{PARAMS}, sig1={COMPONENTS}{PARAMS}", "appears twice"),
    "parameter twice": ("Signature-Input", f"sig1={COMPONENTS}{PARAMS};created=1", "appears twice"),
    "item, not inner list": ("Signature-Input", f'sig1="@method"{PARAMS}', "list of quoted component names"),
    "components as tokens": ("Signature-Input", f"sig1=(method target){PARAMS}", "list of quoted component names"),
    "empty": ("Signature-Input", "", "exactly one signature"),
    "keyid as bytes": ("Signature-Input", f"sig1={COMPONENTS};created={CREATED};keyid=:YWJj:", "keyid and created"),
    "created as decimal": ("Signature-Input", f'sig1={COMPONENTS};created=1.5;keyid="{KEY_ID}"', "keyid and created"),
    "component parameters": ("Signature-Input", f'sig1=("@method";req "@target-uri" "content-digest"){PARAMS}',
                             "component parameters are not supported"),
    "signature not base64": ("Signature", "sig1=:a!b=:", "Signature header is not a valid"),
    "signature unterminated": ("Signature", "sig1=:YWJj", "Signature header is not a valid"),
    "signature under another label": ("Signature", "sig2=:YWJj:", "no byte sequence"),
    "signature as a string": ("Signature", 'sig1="YWJj"', "no byte sequence"),
    "signature twice": ("Signature", "sig1=:YWJj:, sig1=:YWJj:", "appears twice"),
    "digest upper-case": ("Content-Digest", "SHA-256=:YWJj:", "Content-Digest header is not a valid"),
    "digest unterminated": ("Content-Digest", "sha-256=:YWJj", "Content-Digest header is not a valid"),
    "digest as a token": ("Content-Digest", "sha-256=YWJj", "sha-256 value is not a byte sequence"),
    "digest twice": ("Content-Digest", "sha-256=:YWJj:, sha-256=:YWJj:", "appears twice"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
async def test_a_malformed_structured_field_is_refused_before_any_key_lookup(alice: KeyPair, case: str) -> None:
    field, value, reason = MALFORMED[case]
    headers = {**fedify_post(alice.private_pem), field: value}
    keys = KeyServer(alice.public_pem)

    with pytest.raises(SignatureError, match=reason) as refused:
        await verify(headers, keys)

    assert refused.value.status_code == 401
    assert keys.calls == []


async def test_the_peer_is_told_which_header_is_wrong_and_the_parser_detail_stays_in_the_log(alice: KeyPair) -> None:
    headers = {**fedify_post(alice.private_pem), "Signature-Input": "sig1=("}

    with pytest.raises(SignatureError) as refused:
        await verify(headers, KeyServer(alice.public_pem))

    assert refused.value.public_message == (
        "the Signature-Input header is not a valid structured field (RFC 9651 dictionary)"
    )
    assert "End of inner list not found" in str(refused.value)


async def test_spaces_the_grammar_allows_in_signature_input_change_nothing(alice: KeyPair) -> None:
    # The signature base holds the re-serialised (canonical) parameters (RFC 9421 §2.3).
    headers = fedify_post(alice.private_pem)
    headers["Signature-Input"] = "  " + headers["Signature-Input"].replace(";", "; ")

    assert (await verify(headers, KeyServer(alice.public_pem))).key_id == KEY_ID


ALPHABET = ' "(),;=:?*-._/@abcdefghijklmnopqrstuvwxyzABCDEF0123456789\\\t\x00é'


def _mutations(text: str, count: int, seed: int) -> list[str]:
    """Deterministic single-character edits (insert, delete or replace) of ``text``."""
    rng = random.Random(seed)
    variants = []
    for _ in range(count):
        at = rng.randrange(len(text) + 1)
        edit = rng.choice(("insert", "delete", "replace"))
        char = rng.choice(ALPHABET)
        if edit == "insert":
            variants.append(text[:at] + char + text[at:])
        elif edit == "delete":
            variants.append(text[:at] + text[at + 1:])
        else:
            variants.append(text[:at] + char + text[at + 1:])
    return variants


@pytest.mark.parametrize("field", ["Signature-Input", "Signature", "Content-Digest"])
async def test_no_edit_of_a_field_gets_past_verification_or_crashes_it(alice: KeyPair, field: str) -> None:
    headers = fedify_post(alice.private_pem)
    signature = base64.b64decode(headers["Signature"].removeprefix("sig1=:").removesuffix(":"))
    outcomes: set[str] = set()
    for variant in _mutations(headers[field], 150, seed=sum(map(ord, field))):
        try:
            await verify({**headers, field: variant}, KeyServer(alice.public_pem))
        except AuthenticationFailed as refused:  # a 401 with its own public message, never a 500
            outcomes.add(type(refused).__name__)
        else:
            # Only edits that change nothing the signature covers may pass: whitespace, or a
            # parameter or digest that is not checked. The signature itself never survives an edit.
            outcomes.add("verified")
            if field == "Signature":  # e.g. base64 padding dropped, which RFC 9651 §4.2.7 tolerates
                assert http_sf.parse(variant.encode(), tltype="dictionary")["sig1"] == (signature, {})
    assert "SignatureError" in outcomes
