"""A fake Mastodon-like server for tests: accounts with RSA keys, WebFinger, actors and a recording inbox."""

from __future__ import annotations

import copy
import functools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import httpx

from fedihub.protocol.keys import KeyPair, generate_key_pair
from fedihub.protocol.signatures import (
    PublicKeyInfo,
    sign_request_headers,
    sign_request_rfc9421,
    verify_request,
)
from tests.support.network import FederationNet, Instance

ACTIVITY_JSON = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


@functools.cache
def key_pair(slot: int) -> KeyPair:
    """RSA-2048 generation takes tens of milliseconds, so each slot is made once per test session.

    Accounts of a peer take slots 0, 1, 2 …; tests that need a key nobody publishes (a forger,
    a rotated key) use high slot numbers.
    """
    return generate_key_pair()


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class FakeAccount:
    """One account on the fake server, with Mastodon's URL layout (/users/<name>)."""

    host: str
    username: str
    keys: KeyPair
    manually_approves_followers: bool = False
    gone: bool = False  # its actor URL answers 410, as Mastodon does for deleted accounts
    actor_type: str = "Person"  # "Group" for a fake coalition or hub
    document_extra: dict[str, Any] = field(default_factory=dict)  # merged into its actor document

    @property
    def id(self) -> str:
        return f"http://{self.host}/users/{self.username}"

    @property
    def key_id(self) -> str:
        return f"{self.id}#main-key"

    @property
    def inbox(self) -> str:
        return f"{self.id}/inbox"

    @property
    def shared_inbox(self) -> str:
        return f"http://{self.host}/inbox"

    @property
    def followers(self) -> str:
        return f"{self.id}/followers"

    @property
    def handle(self) -> str:
        return f"{self.username}@{self.host}"


@dataclass(frozen=True)
class ReceivedPost:
    """A POST the fake server received, kept byte for byte so its signature can be checked."""

    url: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def activity(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def type(self) -> str | None:
        return self.activity.get("type")


@dataclass
class FakePeer:
    """A fake fediverse server; register it with ``net.add_handler(peer.host, peer.handle)``.

    Actor documents are shaped like the captured ``mastodon/actor_person.json`` and activities
    are the captured Mastodon (and Lemmy) payloads rewritten to this server's ids.
    """

    host: str
    fixtures_dir: Path
    clock: Callable[[], datetime] = _utcnow
    accounts: dict[str, FakeAccount] = field(default_factory=dict)
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    inbox_posts: list[ReceivedPost] = field(default_factory=list)

    # --- Accounts -------------------------------------------------------------------------------

    def add_account(self, username: str, *, key_slot: int | None = None, **options: Any) -> FakeAccount:
        slot = len(self.accounts) if key_slot is None else key_slot
        account = FakeAccount(host=self.host, username=username, keys=key_pair(slot), **options)
        self.accounts[username] = account
        return account

    def rotate_key(self, account: FakeAccount, keys: KeyPair) -> None:
        """Publish a new key under the same key id, as Mastodon does after a key regeneration."""
        account.keys = keys

    def actor_document(self, account: FakeAccount) -> dict[str, Any]:
        doc = self._fixture("mastodon/actor_person.json")
        base = f"http://{self.host}"
        doc.update(
            id=account.id,
            following=f"{account.id}/following",
            followers=account.followers,
            inbox=account.inbox,
            outbox=f"{account.id}/outbox",
            featured=f"{account.id}/collections/featured",
            featuredTags=f"{account.id}/collections/tags",
            preferredUsername=account.username,
            name=account.username.title(),
            url=f"{base}/@{account.username}",
            manuallyApprovesFollowers=account.manually_approves_followers,
            devices=f"{account.id}/collections/devices",
            publicKey={"id": account.key_id, "owner": account.id, "publicKeyPem": account.keys.public_pem},
            endpoints={"sharedInbox": account.shared_inbox},
        )
        doc["icon"]["url"] = f"{base}/avatars/{account.username}.png"
        doc["type"] = account.actor_type
        doc.update(account.document_extra)
        return doc

    def serve(self, document: dict[str, Any]) -> None:
        """Serve ``document`` at its id (an object a fetcher may dereference)."""
        self.documents[document["id"]] = document

    # --- The server -----------------------------------------------------------------------------

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if request.method == "POST":
            if path == "/inbox" or any(path == urlsplit(a.inbox).path for a in self.accounts.values()):
                self.inbox_posts.append(
                    ReceivedPost(
                        url=str(request.url),
                        path=request.url.raw_path.decode("ascii").split("?", 1)[0],
                        query=request.url.query.decode("ascii"),
                        headers=dict(request.headers.items()),
                        body=request.content,
                    )
                )
                return httpx.Response(202)
            return httpx.Response(404)
        if path == "/.well-known/webfinger":
            return self._webfinger(request.url.params.get("resource", ""))
        url = f"http://{self.host}{path}"
        for account in self.accounts.values():
            if url == account.id:
                if account.gone:
                    return httpx.Response(410, json={"error": "Gone"})
                return self._as2(self.actor_document(account))
        if url in self.documents:
            return self._as2(self.documents[url])
        return httpx.Response(404, json={"error": "Record not found"})

    def _webfinger(self, resource: str) -> httpx.Response:
        name = resource.removeprefix("acct:").split("@", 1)[0]
        account = self.accounts.get(name)
        if account is None or resource != f"acct:{account.handle}" or account.gone:
            return httpx.Response(404)
        jrd = self._fixture("mastodon/webfinger.json")
        jrd["subject"] = f"acct:{account.handle}"
        jrd["aliases"] = [f"http://{self.host}/@{account.username}", account.id]
        jrd["links"][0]["href"] = f"http://{self.host}/@{account.username}"
        jrd["links"][1]["href"] = account.id
        jrd["links"][2]["template"] = f"http://{self.host}/authorize_interaction?uri={{uri}}"
        return httpx.Response(200, json=jrd, headers={"Content-Type": "application/jrd+json; charset=utf-8"})

    @staticmethod
    def _as2(document: dict[str, Any]) -> httpx.Response:
        body = json.dumps(document).encode()
        return httpx.Response(200, content=body, headers={"Content-Type": f"{ACTIVITY_JSON}; charset=utf-8"})

    def received(self, activity_type: str) -> list[dict[str, Any]]:
        """The activities of one type POSTed to this server's inboxes, in arrival order."""
        return [post.activity for post in self.inbox_posts if post.type == activity_type]

    def fetches_of(self, url: str) -> int:
        """How many times ``url`` was fetched with GET."""
        return sum(1 for r in self.requests if r.method == "GET" and str(r.url) == url)

    # --- Talking to an instance -----------------------------------------------------------------

    async def send(
        self,
        instance: Instance,
        activity: dict[str, Any] | bytes,
        *,
        inbox: str = "/inbox",
        signer: FakeAccount | None = None,
        scheme: str | None = "cavage",
        key_id: str | None = None,
        keys: KeyPair | None = None,
        after_signing: Callable[[bytes], bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST ``activity`` to an inbox of ``instance``, signed like Mastodon (``cavage``), like
        Fedify (``rfc9421``) or not at all (``None``).

        ``signer`` defaults to the activity's actor; ``key_id``/``keys`` override what signs
        (forgeries); ``after_signing`` changes the body once the signature is made (tampering).
        """
        body = activity if isinstance(activity, bytes) else json.dumps(activity).encode()
        request_headers = {"Content-Type": ACTIVITY_JSON, "Accept": ACTIVITY_JSON, **(headers or {})}
        if scheme is not None:
            account = signer or self._actor_of(activity)
            sign = sign_request_headers if scheme == "cavage" else sign_request_rfc9421
            request_headers.update(
                sign(
                    method="POST",
                    url=instance.base_url + inbox,
                    headers=request_headers,
                    body=body,
                    key_id=key_id or account.key_id,
                    private_key=(keys or account.keys).private_pem,
                    now=self.clock(),
                )
            )
        if after_signing is not None:
            body = after_signing(body)
        return await instance.post(inbox, content=body, headers=request_headers)

    async def fetch(
        self,
        instance: Instance,
        path: str,
        *,
        signer: FakeAccount | None = None,
        accept: str = ACTIVITY_JSON,
    ) -> httpx.Response:
        """GET ``path`` from ``instance``; signed by ``signer`` when given (authorized fetch)."""
        headers = {"Accept": accept}
        if signer is not None:
            headers.update(
                sign_request_headers(
                    method="GET",
                    url=instance.base_url + path,
                    headers=headers,
                    body=None,
                    key_id=signer.key_id,
                    private_key=signer.keys.private_pem,
                    now=self.clock(),
                )
            )
        return await instance.get(path, headers=headers)

    async def verify(self, post: ReceivedPost, instance: Instance) -> PublicKeyInfo:
        """Check a received POST's signature as Mastodon would, against the key ``instance``
        publishes (fetched with a signed GET, so this works in authorized-fetch mode too)."""
        signer = next(iter(self.accounts.values()))

        async def lookup(key_id: str, refresh: bool) -> PublicKeyInfo | None:
            actor_url = urldefrag(key_id).url
            if urlsplit(actor_url).netloc != instance.host:
                return None
            response = await self.fetch(instance, urlsplit(actor_url).path, signer=signer)
            if response.status_code != 200:
                return None
            key = response.json().get("publicKey") or {}
            if key.get("id") != key_id:
                return None
            return PublicKeyInfo(key_id=key_id, owner=key["owner"], public_key_pem=key["publicKeyPem"])

        return await verify_request(
            method="POST", path=post.path, query=post.query, headers=post.headers, body=post.body,
            lookup=lookup, now=self.clock(),
        )

    def _actor_of(self, activity: dict[str, Any] | bytes) -> FakeAccount:
        actor = json.loads(activity).get("actor") if isinstance(activity, bytes) else activity.get("actor")
        for account in self.accounts.values():
            if account.id == actor:
                return account
        raise ValueError(f"the activity's actor {actor!r} is not an account of {self.host}; pass signer=")

    # --- Captured payloads rewritten to this server's ids ---------------------------------------

    def new_id(self, account: FakeAccount | None = None, suffix: str = "") -> str:
        base = account.id if account is not None else f"http://{self.host}"
        return f"{base}/{uuid.uuid4()}{suffix}"

    def build_follow(self, account: FakeAccount, target: str) -> dict[str, Any]:
        """mastodon/follow.json: id is ``https://host/<uuid>``, no addressing."""
        doc = self._fixture("mastodon/follow.json")
        doc.update(id=self.new_id(), actor=account.id, object=target)
        return doc

    def build_undo_follow(self, account: FakeAccount, follow: dict[str, Any]) -> dict[str, Any]:
        """mastodon/undo_follow.json: the Follow embedded with its own id."""
        doc = self._fixture("mastodon/undo_follow.json")
        doc["id"] = f"{account.id}#follows/{uuid.uuid4().int % 10_000}/undo"
        doc["actor"] = account.id
        doc["object"].update(id=follow["id"], actor=follow["actor"], object=follow["object"])
        return doc

    def build_accept(self, account: FakeAccount, follow: dict[str, Any]) -> dict[str, Any]:
        """lemmy/accept_follow.json: the answer to a Follow, with the Follow embedded."""
        doc = self._fixture("lemmy/accept_follow.json")
        doc.update(id=self.new_id(suffix="/accept"), actor=account.id, to=[follow["actor"]])
        doc["object"].update(id=follow["id"], actor=follow["actor"], object=follow["object"], to=[account.id])
        return doc

    def build_create(
        self,
        account: FakeAccount,
        *,
        object_type: str = "Note",
        content: str = "<p>Solidarity forever</p>",
        attributed_to: str | None = None,
    ) -> dict[str, Any]:
        """mastodon/create_note.json, as a public post rather than the capture's unlisted reply.

        Mastodon addresses public posts to Public with the followers in cc; the capture (to
        followers, cc Public) is Mastodon's "unlisted".
        """
        doc = self._fixture("mastodon/create_note.json")
        status = f"{account.id}/statuses/{uuid.uuid4().int % 10**18}"
        addressing = {"to": [PUBLIC], "cc": [account.followers]}
        doc.update(id=f"{status}/activity", actor=account.id, **addressing)
        note = doc["object"]
        note.update(
            id=status, type=object_type, attributedTo=attributed_to or account.id, content=content,
            contentMap={"en": content}, url=f"http://{self.host}/@{account.username}/{status.rsplit('/', 1)[1]}",
            atomUri=status, inReplyTo=None, inReplyToAtomUri=None, tag=[], **addressing,
        )
        note["replies"]["id"] = f"{status}/replies"
        note["replies"]["first"].update(partOf=f"{status}/replies", next=f"{status}/replies?page=true")
        if object_type == "Event":
            # What Mobilizon and Gancio send: a plain-text name and a start time.
            note.update(name="Tenants' assembly", startTime="2030-05-01T18:00:00Z")
        return doc

    def build_update(self, create: dict[str, Any], *, content: str) -> dict[str, Any]:
        """Mastodon's Update of an edited status: the whole object again, with ``updated``."""
        note = copy.deepcopy(create["object"])
        note.update(content=content, contentMap={"en": content}, updated="2030-01-01T00:00:00Z")
        return {
            "@context": create["@context"], "id": f"{note['id']}#updates/1", "type": "Update",
            "actor": create["actor"], "to": note["to"], "cc": note["cc"], "object": note,
        }

    def build_delete(self, account: FakeAccount, object_id: str) -> dict[str, Any]:
        """mastodon/delete_tombstone.json: the object as a Tombstone."""
        doc = self._fixture("mastodon/delete_tombstone.json")
        # The capture's LD signature covered the original text; after rewriting it would be
        # a forgery, and fedihub authenticates by HTTP signature anyway.
        doc.pop("signature")
        doc.update(id=f"{object_id}#delete", actor=account.id)
        doc["object"].update(id=object_id, atomUri=object_id)
        return doc

    def build_delete_actor(self, account: FakeAccount) -> dict[str, Any]:
        """Mastodon's Delete of a whole account: object is the actor itself."""
        return {
            "@context": "https://www.w3.org/ns/activitystreams", "id": f"{account.id}#delete",
            "type": "Delete", "actor": account.id, "to": [PUBLIC], "object": account.id,
        }

    def build_like(self, account: FakeAccount, object_id: str) -> dict[str, Any]:
        """mastodon/like.json: ``<actor>#likes/<n>`` liking an object by id."""
        doc = self._fixture("mastodon/like.json")
        doc.update(id=f"{account.id}#likes/{uuid.uuid4().int % 10**6}", actor=account.id, object=object_id)
        return doc

    def build_announce(self, account: FakeAccount, object_id: str, object_author: str) -> dict[str, Any]:
        """A Mastodon boost: the status id plus /activity, the object by id, cc the author."""
        return {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{account.id}/statuses/{uuid.uuid4().int % 10**18}/activity",
            "type": "Announce", "actor": account.id, "published": "2030-01-01T00:00:00Z",
            "to": [PUBLIC], "cc": [object_author, account.followers], "object": object_id,
        }

    def _fixture(self, name: str) -> dict[str, Any]:
        return json.loads((self.fixtures_dir / name).read_text())


def add_fake_peer(
    net: FederationNet, host: str, fixtures_dir: Path, usernames: tuple[str, ...] = ("alice",)
) -> FakePeer:
    """A fake server at ``host`` with the given accounts, reachable from every instance of ``net``."""
    peer = FakePeer(host=host, fixtures_dir=fixtures_dir, clock=net.clock)
    for username in usernames:
        peer.add_account(username)
    net.add_handler(host, peer.handle)
    return peer
