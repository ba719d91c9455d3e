"""Hypothesis strategies for hostile inbound traffic (activity shapes, signature headers) and a sampler
that draws a reproducible list of cases from them: the suite's quick sample and bench/fuzz.py share it."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from fedihub.coalitions import service as coalitions
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from fedihub.protocol.signatures import sign_request_headers, sign_request_rfc9421
from fedihub.storage.models import InboxItem
from tests.support.edges import committed
from tests.support.fake_peer import FakeAccount, FakePeer
from tests.support.network import FederationNet, Instance

T = TypeVar("T")
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
KEY_PLACEHOLDER = "@@signer-public-key@@"  # replaced by the signer's PEM when the document is served
AS_CONTEXT = "https://www.w3.org/ns/activitystreams"

ACTIVITY_TYPES = (
    "Create", "Update", "Delete", "Announce", "Follow", "Accept", "Reject", "Undo", "Like", "Join", "Leave",
    "Flag", "Add", "Remove", "Block", "Move", "TentativeAccept", "Invite", "Offer", "EmojiReact",
)
OBJECT_TYPES = ("Note", "Event", "Page", "Article", "Question", "Tombstone", "Group", "Person", "Place", "Image",
                "Collection", "OrderedCollection", "Follow", "Join")
# Text that is valid JSON but awkward for everything after the parser.
AWKWARD_TEXT = (
    "\ud800", "a\udfffb", "\udc00\ud800", "\x00", "javascript:alert(1)", "<script>alert(1)</script>",
    "<p onclick=alert(1)>hi</p>", "line\r\nBREAK:1", "\u0085next\u2028line\u2029", "\u202eevil", "💥" * 3, "",
    " ", "data:text/html,<b>x</b>", "http://", "https://[::1", "//no-scheme.example/x", "acct:a@b",
    "2030-13-45T99:99:99Z", "9999-12-31T23:59:59+14:00", "-0001-01-01T00:00:00Z",
)


@dataclass(frozen=True)
class Nested:
    """``depth`` levels of lists or objects around ``leaf``, kept as a recipe: to_json() writes it as
    text, because json.dumps (and Hypothesis printing a failing case) would recurse that deep."""

    depth: int
    leaf: str  # JSON text
    as_object: bool

    def text(self) -> str:
        opening, closing = ('{"a":', "}") if self.as_object else ("[", "]")
        return opening * self.depth + self.leaf + closing * self.depth


@st.composite
def deep(draw: st.DrawFn) -> Nested:
    """Nesting from harmless to far past any limit (the parser's own guard is near 1,000)."""
    depth = draw(st.sampled_from((3, 20, 63, 64, 65, 200, 900, 5_000)))
    return Nested(depth, draw(st.sampled_from(("1", '"x"', "null", "{}"))), draw(st.booleans()))


def to_json(value: Any) -> bytes:
    """``value`` as JSON bytes, with every Nested written out in place."""
    nested: dict[str, Nested] = {}

    def placeholder(item: Any) -> str:
        if not isinstance(item, Nested):
            raise TypeError(f"{type(item).__name__} is not JSON")
        token = f"@@nested-{len(nested)}@@"
        nested[token] = item
        return token

    text = json.dumps(value, default=placeholder)
    for token, item in nested.items():
        text = text.replace(f'"{token}"', item.text(), 1)
    return text.encode()


def huge_text() -> st.SearchStrategy[str]:
    # Built, not drawn character by character: Hypothesis's buffer would refuse a 300 KB string.
    return st.tuples(st.sampled_from(("x", "é", "💥", "<b>", "\ud800")), st.sampled_from((1_000, 70_000, 300_000))).map(
        lambda pair: pair[0] * (pair[1] // len(pair[0].encode("utf-8", "surrogatepass")))
    )


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12), st.sampled_from(AWKWARD_TEXT),
    )


def junk() -> st.SearchStrategy[Any]:
    """A value of the wrong shape for wherever it lands."""
    return st.one_of(
        scalars(),
        st.lists(scalars(), max_size=3),
        st.dictionaries(st.sampled_from(("id", "type", "href", "name", "x")), scalars(), max_size=3),
        st.just({"id": {"id": "x"}, "type": {"type": "Note"}}),  # object-valued id and type
        deep(),
        huge_text(),
    )


@dataclass(frozen=True)
class World:
    """The names a fuzz case may refer to: the signing actor, and actors and objects of the server under test."""

    actor: str  # the fake peer's actor that signs (its host serves its actor document)
    local: Sequence[str]  # ids on the server under test: coalitions, their followers, calls
    elsewhere: Sequence[str] = ("http://elsewhere.test/users/x", "http://elsewhere.test/notes/1")

    @property
    def peer_base(self) -> str:
        return self.actor.split("/users/", 1)[0]


def references(world: World) -> st.SearchStrategy[Any]:
    own = st.builds(lambda n: f"{world.actor}/objects/{n}", st.integers(0, 5))
    return st.one_of(st.sampled_from(list(world.local)), st.sampled_from(list(world.elsewhere)),
                     st.just(world.actor), own, st.just(PUBLIC))


@st.composite
def embedded(draw: st.DrawFn, world: World, depth: int = 0) -> dict[str, Any]:
    """An embedded object as peers send them, with ids on the signer's own host most of the time."""
    kind = draw(st.sampled_from(OBJECT_TYPES))
    obj: dict[str, Any] = {
        "id": f"{world.actor}/objects/{draw(st.integers(0, 5))}" if draw(st.booleans()) else draw(references(world)),
        "type": kind, "attributedTo": world.actor, "actor": world.actor,
        "to": [PUBLIC], "cc": [f"{world.actor}/followers"], "content": "<p>hello</p>",
    }
    optional = {
        "name": st.one_of(st.text(max_size=20), st.sampled_from(AWKWARD_TEXT)),
        "summary": st.sampled_from(AWKWARD_TEXT),
        "startTime": st.sampled_from(("2030-05-01T18:00:00Z", "2030-05-01", *AWKWARD_TEXT[-3:])),
        "endTime": st.sampled_from(("2030-05-01T20:00:00Z", "yesterday")),
        "location": st.one_of(st.just({"type": "Place", "name": "Hall"}), junk()),
        "url": st.one_of(st.sampled_from(("javascript:alert(1)", "http://masto.test/@a/1")),
                         st.just([{"type": "Link", "href": "javascript:x", "mediaType": "text/html"}])),
        "tag": st.lists(st.one_of(st.just({"type": "Hashtag", "name": "#x"}), junk()), max_size=3),
        "attachment": st.lists(st.one_of(st.just({"type": "Document", "url": "http://x.test/a.png"}), junk()),
                               max_size=2),
        "inReplyTo": references(world), "object": references(world),
        "target": references(world), "icon": junk(), "published": scalars(),
        "joinMode": junk(), "timezone": st.sampled_from(("Europe/Berlin", "Mars/Olympus", "../../etc")),
    }
    for key in draw(st.lists(st.sampled_from(sorted(optional)), unique=True, max_size=5)):
        obj[key] = draw(optional[key])
    if depth < 2 and draw(st.integers(0, 4)) == 0:
        obj["object"] = draw(embedded(world, depth + 1))
    return obj


@st.composite
def activities(draw: st.DrawFn, world: World) -> dict[str, Any]:
    """A signed peer's activity: a plausible one, then up to four fields dropped, retyped or replaced."""
    kind = draw(st.sampled_from(ACTIVITY_TYPES))
    doc: dict[str, Any] = {
        "@context": draw(st.sampled_from((AS_CONTEXT, [AS_CONTEXT, "https://w3id.org/security/v1"],
                                          [AS_CONTEXT, {"toot": "http://joinmastodon.org/ns#"}]))),
        "id": f"{world.actor}/activities/{uuid.UUID(int=draw(st.integers(0, 2**64)))}",
        "type": kind, "actor": world.actor, "to": [PUBLIC], "cc": [f"{world.actor}/followers"],
        "object": draw(st.one_of(references(world), embedded(world),
                                 st.lists(embedded(world), min_size=1, max_size=2))),
    }
    if draw(st.booleans()):
        doc["target"] = draw(references(world))
    for _ in range(draw(st.integers(0, 4))):
        where = doc
        if isinstance(doc.get("object"), dict) and draw(st.booleans()):
            where = doc["object"]
        key = draw(st.sampled_from(("type", "object", "to", "cc", "target", "actor", "id", "content", "name",
                                    "attributedTo", "published", "audience", "startTime", "@context", "tag")))
        how = draw(st.sampled_from(("drop", "junk", "list", "object-type", "nest")))
        if how == "drop":
            where.pop(key, None)
        elif how == "junk":
            where[key] = draw(junk())
        elif how == "list":
            where[key] = [where.get(key), draw(junk())] if key in where else [draw(junk())]
        elif how == "object-type":
            where[key] = {"type": {"id": "x"}, "id": where.get(key) if isinstance(where.get(key), str) else "x"}
        else:
            where[key] = draw(deep())
    return doc


# --- Signature headers --------------------------------------------------------------------------

_CAVAGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class HeaderEdit:
    """One change to the headers of an otherwise correctly signed POST; ``name`` says what it does."""

    name: str
    apply: Callable[[dict[str, str]], None] = field(compare=False)


def _cavage_params(headers: dict[str, str]) -> list[tuple[str, str]]:
    return _CAVAGE_PARAM.findall(headers.get("signature", ""))


def _set_cavage(headers: dict[str, str], params: list[tuple[str, str]]) -> None:
    headers["signature"] = ",".join(f'{k}="{v}"' for k, v in params)


@st.composite
def header_edits(draw: st.DrawFn, world: World) -> HeaderEdit:
    """Permutations of draft-cavage Signature and RFC 9421 Signature-Input/Signature: params missing or
    doubled, values swapped for garbage, other headers (Date, Digest, Host) broken, or nothing at all."""
    param = draw(st.sampled_from(("keyId", "algorithm", "headers", "signature", "created", "expires")))
    garbage = draw(st.one_of(st.text(max_size=30), st.sampled_from((
        "", '"', "\\", "rsa-sha1", "hs2019", "(request-target)", "x" * 5_000, f"{world.actor}#main-key",
        "http://elsewhere.test/key", "http://127.0.0.1:9/key", "=" * 7, "\u2028", "ünï", "sig1=:=:",
    )))).replace("\r", "").replace("\n", "")
    header = draw(st.sampled_from(("date", "digest", "host", "content-digest", "signature", "signature-input",
                                   "content-type")))

    def drop_param(h: dict[str, str]) -> None:
        _set_cavage(h, [(k, v) for k, v in _cavage_params(h) if k != param])

    def dup_param(h: dict[str, str]) -> None:
        params = _cavage_params(h)
        _set_cavage(h, params + [(param, garbage or "x")] + [(k, v) for k, v in params if k == param])

    def garble_param(h: dict[str, str]) -> None:
        params = [(k, garbage.replace('"', "") if k == param else v) for k, v in _cavage_params(h)]
        _set_cavage(h, params if any(k == param for k, _ in params) else params + [(param, garbage.replace('"', ""))])

    def replace_header(h: dict[str, str]) -> None:
        h[header] = garbage

    def drop_header(h: dict[str, str]) -> None:
        h.pop(header, None)

    def double_header(h: dict[str, str]) -> None:
        if header in h:
            h[header] = f"{h[header]}, {h[header]}"

    def rfc9421_edit(h: dict[str, str]) -> None:
        if "signature-input" not in h:
            h["signature-input"] = f'sig1=("@method" "@target-uri");created=1;keyid="{garbage}"'
            return
        which = draw_choice
        if which == "label":
            h["signature"] = h.get("signature", "").replace("sig1=", "other=", 1)
        elif which == "no-keyid":
            h["signature-input"] = re.sub(r';keyid="[^"]*"', "", h["signature-input"])
        elif which == "no-created":
            h["signature-input"] = re.sub(r";created=\d+", "", h["signature-input"])
        elif which == "components":
            h["signature-input"] = h["signature-input"].replace('"content-digest"', '"content-digest" "content-digest"')
        elif which == "two-signatures":
            h["signature-input"] += ", " + h["signature-input"].replace("sig1=", "sig2=", 1)
            h["signature"] += ", sig2=:" + base64.b64encode(b"nonsense").decode() + ":"
        else:
            h["signature"] = "sig1=:" + base64.b64encode(garbage.encode()).decode() + ":"

    draw_choice = draw(st.sampled_from(("label", "no-keyid", "no-created", "components", "two-signatures", "bytes")))
    edits = {
        "none": lambda h: None, "drop-param": drop_param, "duplicate-param": dup_param, "garble-param": garble_param,
        "replace-header": replace_header, "drop-header": drop_header, "double-header": double_header,
        "rfc9421": rfc9421_edit,
    }
    name = draw(st.sampled_from(sorted(edits)))
    detail = {"drop-param": param, "duplicate-param": param, "garble-param": param, "replace-header": header,
              "drop-header": header, "double-header": header, "rfc9421": draw_choice}.get(name, "")
    return HeaderEdit(f"{name}:{detail}" if detail else name, edits[name])


@dataclass(frozen=True)
class Case:
    """One inbound POST: the activity (or raw bytes), how it is signed, what is done to its headers, and
    the documents the hostile server answers with while the case runs (URL → body)."""

    body: dict[str, Any] | bytes
    scheme: str | None  # "cavage", "rfc9421" or None (unsigned)
    edit: HeaderEdit | None = None
    served: tuple[tuple[str, Any], ...] = ()

    def describe(self) -> str:
        what = str(self.body.get("type"))[:40] if isinstance(self.body, dict) else f"{len(self.body)} raw bytes"
        return f"{what!r} signed={self.scheme} edit={self.edit.name if self.edit else '-'}"


def raw_bodies() -> st.SearchStrategy[bytes]:
    """Bodies that are not a JSON object of the right shape at all."""
    return st.one_of(
        st.binary(max_size=64),
        st.sampled_from((b"", b"null", b"[]", b"{}", b'"x"', b"{\"a\":NaN}", b"{\"a\":1e99999}", b"\xff\xfe{}",
                         b'{"a":"\\ud800"}', b"[" * 100_000 + b"]" * 100_000, b'{"a":' + b"[" * 900 + b"]" * 900 + b"}",
                         b'{"id":1' + b"0" * 5000 + b"}")),
    )


@st.composite
def fetched_objects(draw: st.DrawFn, world: World) -> Case:
    """An activity naming objects on the signer's server by id, which serves them (shapes as above): the
    worker fetches what the peer serves, not what it embedded."""
    activity = draw(activities(world))
    served = []
    for number in range(draw(st.integers(1, 3))):
        obj = draw(embedded(world))
        obj["id"] = f"{world.actor}/objects/{number}"
        served.append((obj["id"], obj if draw(st.integers(0, 5)) else draw(junk())))
    activity["object"] = served[0][0]
    return Case(activity, draw(st.sampled_from(("cavage", "rfc9421"))), served=tuple(served))


@st.composite
def hostile_actors(draw: st.DrawFn, world: World) -> Case:
    """An activity by an actor the server has never seen, whose actor document (fetched to find the key)
    has fields missing, retyped, nested deep or replaced by garbage; the key itself is the signer's."""
    number = draw(st.integers(0, 2**32))
    actor = f"{world.peer_base}/users/ghost{number}"
    document: dict[str, Any] = {
        "@context": [AS_CONTEXT, "https://w3id.org/security/v1"], "id": actor, "type": "Person",
        "preferredUsername": f"ghost{number}", "inbox": f"{actor}/inbox", "outbox": f"{actor}/outbox",
        "followers": f"{actor}/followers", "endpoints": {"sharedInbox": f"{world.peer_base}/inbox"},
        "publicKey": {"id": f"{actor}#main-key", "owner": actor, "publicKeyPem": KEY_PLACEHOLDER},
        "name": "Ghost", "summary": "<p>boo</p>", "url": f"{world.peer_base}/@ghost{number}",
        "icon": {"type": "Image", "url": f"{world.peer_base}/a.png"},
    }
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(("type", "inbox", "publicKey", "endpoints", "url", "icon", "name", "summary",
                                    "preferredUsername", "id", "attachment", "tag", "location", "followers")))
        how = draw(st.sampled_from(("drop", "junk", "nest", "object-type")))
        if how == "drop":
            document.pop(key, None)
        elif how == "junk":
            document[key] = draw(junk())
        elif how == "nest":
            document[key] = draw(deep())
        else:
            document[key] = {"type": {"type": "Person"}, "id": {"id": actor}}
    activity = draw(activities(World(actor=actor, local=world.local, elsewhere=world.elsewhere)))
    raw = draw(st.sampled_from((None, None, None, b"[" * 900 + b"]" * 900, b'{"a":' + b"[" * 100_000, b"\xff")))
    return Case(activity, draw(st.sampled_from(("cavage", "rfc9421"))),
                served=((actor, raw if raw is not None else document),))


def cases(world: World) -> st.SearchStrategy[Case]:
    signed = st.builds(Case, body=activities(world), scheme=st.sampled_from(("cavage", "rfc9421")))
    tampered = st.builds(Case, body=activities(world), scheme=st.sampled_from(("cavage", "rfc9421")),
                         edit=header_edits(world))
    raw = st.builds(Case, body=raw_bodies(), scheme=st.sampled_from(("cavage", None)))
    return st.one_of(signed, signed, tampered, raw, fetched_objects(world), hostile_actors(world))


def sample(strategy: st.SearchStrategy[T], count: int, *, seed_value: int | None = None) -> list[T]:
    """``count`` values drawn from ``strategy``: the same ones on every run (derandomized), or those of
    ``seed_value``. No shrinking: the caller runs the cases, and prints the one that failed."""
    drawn: list[T] = []

    @settings(max_examples=count, derandomize=seed_value is None, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=(Phase.generate,))
    @given(strategy)
    def collect(value: T) -> None:
        drawn.append(value)

    if seed_value is not None:
        collect = seed(seed_value)(collect)
    collect()
    return drawn


def encode(case: Case) -> bytes:
    return case.body if isinstance(case.body, bytes) else to_json(case.body)


# --- Running cases against an instance ----------------------------------------------------------


class ErrorLog(logging.Handler):
    """Collects log records that carry a traceback (an error nobody classified) or say a request failed."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def tracebacks(self) -> list[logging.LogRecord]:
        return [record for record in self.records if record.exc_info]


class HostileServer:
    """The fake peer, answering for the documents a case serves (byte for byte) before anything else."""

    def __init__(self, peer: FakePeer) -> None:
        self.peer = peer
        self.served: dict[str, bytes] = {}

    async def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url.copy_with(query=None, fragment=None))
        if request.method == "GET" and url in self.served:
            return httpx.Response(200, content=self.served[url],
                                  headers={"Content-Type": "application/activity+json"})
        return await self.peer.handle(request)

    def serve(self, case: Case) -> None:
        account = next(iter(self.peer.accounts.values()))
        self.served = {}
        for url, document in case.served:
            body = document if isinstance(document, bytes) else to_json(document)
            pem = json.dumps(account.keys.public_pem)[1:-1]
            self.served[url] = body.replace(KEY_PLACEHOLDER.encode(), pem.encode())


def install_hostile_server(net: FederationNet, peer: FakePeer) -> HostileServer:
    """Put a HostileServer in front of ``peer``, and a server at elsewhere.test that knows nothing (404)."""
    server = HostileServer(peer)
    net.add_handler(peer.host, server.handle)
    net.add_handler("elsewhere.test", lambda request: httpx.Response(404))
    return server


async def send_case(instance: Instance, peer: FakePeer, case: Case) -> int:
    """POST ``case`` to the instance's shared inbox; the status, or 500 when the app raised."""
    account = next(iter(peer.accounts.values()))
    body = encode(case)
    actor = case.body.get("actor") if isinstance(case.body, dict) else None
    # Signed as the activity's actor when it is on the peer (the key is always the first account's).
    on_peer = isinstance(actor, str) and actor.startswith(f"http://{peer.host}/")
    key_id = f"{actor}#main-key" if on_peer else account.key_id
    headers = {"Content-Type": "application/activity+json", "Accept": "application/activity+json"}
    if case.scheme is not None:
        sign = sign_request_headers if case.scheme == "cavage" else sign_request_rfc9421
        headers.update(sign(method="POST", url=instance.base_url + "/inbox", headers=headers, body=body,
                            key_id=key_id, private_key=account.keys.private_pem, now=peer.clock()))
    headers = {name.lower(): value for name, value in headers.items()}
    if case.edit is not None:
        case.edit.apply(headers)
    try:
        # As bytes: a hostile peer's header may carry any byte, not only ASCII.
        raw_headers = [(name.encode(), value.encode("utf-8", "surrogateescape")) for name, value in headers.items()]
        response = await instance.post("/inbox", content=body, headers=raw_headers)
    except Exception:  # noqa: BLE001 - the app crashed: exactly what is being counted
        logging.getLogger(__name__).exception("the inbox crashed on %s", case.describe())
        return 500
    return response.status_code


def describe_traceback(record: logging.LogRecord) -> str:
    """The message, the exception and the last line of fedihub's code it passed through."""
    exc = record.exc_info[1] if record.exc_info else None
    frames = traceback.extract_tb(exc.__traceback__) if exc is not None else []
    ours = [frame for frame in frames if "/fedihub/" in frame.filename] or frames
    where = f" at {ours[-1].filename.rsplit('/fedihub/', 1)[-1]}:{ours[-1].lineno}" if ours else ""
    return f"{record.getMessage()[:120]}: {exc!r}"[:400] + where


@dataclass
class FuzzReport:
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)  # the cases answered 5xx
    tracebacks: list[str] = field(default_factory=list)  # errors logged with a traceback (unclassified)
    pending: int = 0  # accepted inbox items not finished after draining (waiting for a retry)
    pending_errors: list[str] = field(default_factory=list)  # why they wait
    retried: int = 0  # inbox items whose failure was scheduled for a retry
    drain_seconds: float = 0.0
    cases: int = 0


async def prepare_world(net: FederationNet, instance: Instance, peer: FakePeer) -> tuple[World, HostileServer]:
    """A coalition with a post, following the peer's first account: the fuzzed activities then reach
    the handlers for followed actors, for local objects and for the coalition itself."""
    server = install_hostile_server(net, peer)
    coalition = await committed(instance.ctx, coalitions.create_coalition, "fuzzed", name="Fuzzed", summary="")
    note = await committed(instance.ctx, coalitions.post_note, "fuzzed", "A local post")
    account = next(iter(peer.accounts.values()))
    await _followed(net, instance, peer, account)
    world = World(actor=account.id, local=(coalition.uri, f"{coalition.uri}/followers", note.uri))
    return world, server


async def fresh_signer(net: FederationNet, instance: Instance, peer: FakePeer, world: World, number: int) -> World:
    """The world with a new signing account (the same key, another actor), followed by the coalition: a
    case may rightly end its signer (its own Delete, a Move), and the next cases need one that works."""
    account = peer.add_account(f"signer{number}", key_slot=0)  # slot 0: the key send_case signs with
    await _followed(net, instance, peer, account)
    return World(actor=account.id, local=world.local, elsewhere=world.elsewhere)


async def _followed(net: FederationNet, instance: Instance, peer: FakePeer, account: FakeAccount) -> None:
    await committed(instance.ctx, follows.follow, "fuzzed", await resolve_target(instance.ctx, account.handle))
    await net.settle()
    follow = next(f for f in peer.received("Follow") if f["object"] == account.id)
    await peer.send(instance, peer.build_accept(account, follow))
    await net.settle()


async def run_cases(
    net: FederationNet, instance: Instance, peer: FakePeer, cases: Sequence[Case], server: HostileServer | None = None
) -> FuzzReport:
    """Send every case (each with the documents it serves), then run the worker until idle; what went
    wrong, counted. The worker runs after every case that serves documents, while they are served."""
    report = FuzzReport()
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        for case in cases:
            if server is not None:
                server.serve(case)
            status = await send_case(instance, peer, case)
            if server is not None and case.served:
                started = time.monotonic()
                await net.settle(max_rounds=10_000)
                report.drain_seconds += time.monotonic() - started
            report.cases += 1
            report.statuses[status] += 1
            if status >= 500:
                report.server_errors.append(case.describe())
        started = time.monotonic()
        await net.settle(max_rounds=10_000)
        report.drain_seconds += time.monotonic() - started
    finally:
        logging.getLogger().removeHandler(errors)
    report.tracebacks = [describe_traceback(record) for record in errors.tracebacks]
    async with instance.ctx.sessions() as session:
        waiting = (await session.execute(
            select(InboxItem.activity_type, InboxItem.last_error).where(InboxItem.state.not_in(("done", "failed")))
        )).all()
        report.pending = len(waiting)
        report.pending_errors = [f"{kind}: {(error or '')[:200]}" for kind, error in waiting]
        report.retried = await session.scalar(
            select(func.count(InboxItem.id)).where(InboxItem.attempts > 1)) or 0
    return report
