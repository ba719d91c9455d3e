"""A hostile call origin against the servers that show its call: a pledges collection too big to copy,
with an endless `next`, and pledges of other servers' real coalitions with messages they never wrote."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from fedihub.coalitions import service
from fedihub.pledges import service as pledges
from fedihub.pledges.calls import get_call_target
from fedihub.pledges.queries import rollup_of
from fedihub.protocol.pledges import PLEDGE_CONTEXT, build_notice
from fedihub.storage.models import Pledge, StoredObject
from tests.support.edges import committed
from tests.support.fake_peer import PUBLIC, FakePeer, add_fake_peer
from tests.support.network import FederationNet, Instance

HOST = "calls.test"
EVENT = f"http://{HOST}/events/1"
COLLECTION = f"{EVENT}/pledges"
VIEW = f"/calls/view?url={quote(EVENT, safe='')}"


class HostileOrigin:
    """A call's server whose pledges collection has ``per_page`` items on every page and always a next."""

    def __init__(self, peer: FakePeer, net: FederationNet, *, per_page: int, listed: list[dict[str, Any]]) -> None:
        self.peer = peer
        self.per_page = per_page
        self.loop_back = False  # page 2 leads back to page 1 instead of on to page 3
        self.listed = listed  # items put first on page 1 (pledges of other servers' coalitions)
        self.page_requests = 0
        self.author = peer.accounts["organizers"]
        start = net.clock() + timedelta(days=20)
        peer.serve({
            "@context": PLEDGE_CONTEXT, "id": EVENT, "type": "Event", "attributedTo": self.author.id,
            "name": "Day of action", "content": "<p>Everywhere.</p>", "startTime": start.isoformat(),
            "endTime": (start + timedelta(hours=2)).isoformat(), "to": [PUBLIC], "cc": [],
            "pledges": COLLECTION, "url": EVENT,
        })

    def item(self, page: int, index: int) -> dict[str, Any]:
        coalition = f"http://{HOST}/groups/g{page}-{index}"
        return {
            "type": "Join", "id": f"http://{HOST}/joins/{page}-{index}", "object": EVENT,
            "actor": {"id": coalition, "type": "Group", "name": f"Coalition {page}-{index} " + "x" * 100,
                      "preferredUsername": f"g{page}_{index}"},
            "content": "We are many. " * 20,
            "vouched": True,  # the origin vouches for its own coalitions: its list counts in the headline
        }

    def summary(self) -> dict[str, Any]:
        return {"id": COLLECTION, "type": "OrderedCollection", "totalItems": 40_000, "pledgesOf": EVENT,
                "first": f"{COLLECTION}?page=1"}

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/events/1/pledges":
            page = request.url.params.get("page")
            if page is None:
                return self.peer._as2({"@context": PLEDGE_CONTEXT, **self.summary()})
            self.page_requests += 1
            number = int(page)
            items = (self.listed if number == 1 else []) + [self.item(number, i) for i in range(self.per_page)]
            return self.peer._as2({
                "@context": PLEDGE_CONTEXT, "id": f"{COLLECTION}?page={number}", "type": "OrderedCollectionPage",
                "partOf": COLLECTION, "orderedItems": items,
                "next": f"{COLLECTION}?page={1 if self.loop_back and number == 2 else number + 1}",
            })
        return await self.peer.handle(request)

    async def notify(self, instance: Instance, item: dict[str, Any]) -> None:
        """The origin's Add of one pledge: makes the instance re-read the whole (disagreeing) list."""
        notice = build_notice(kind="Add", activity_id=f"http://{HOST}/activities/{item['id'].rsplit('/', 1)[1]}",
                              actor=self.author.id, obj=item, summary=self.summary(), to=[PUBLIC])
        response = await self.peer.send(instance, notice)
        assert response.status_code == 202, response.text


def hostile(net: FederationNet, fixtures_dir: Path, *, per_page: int,
            listed: list[dict[str, Any]] | None = None) -> HostileOrigin:
    peer = add_fake_peer(net, HOST, fixtures_dir, usernames=("organizers",))
    origin = HostileOrigin(peer, net, per_page=per_page, listed=listed or [])
    net.add_handler(HOST, origin.handle)
    return origin


@pytest.fixture
def pledge_inserts_per_commit() -> Iterator[list[int]]:
    """New pledge rows written by each committed transaction, on any instance."""
    commits: list[int] = []

    def after_flush(session: Session, context: Any) -> None:
        session.info["new_pledges"] = session.info.get("new_pledges", 0) + sum(
            isinstance(row, Pledge) for row in session.new
        )

    def after_commit(session: Session) -> None:
        commits.append(session.info.pop("new_pledges", 0))

    def after_rollback(session: Session) -> None:
        session.info.pop("new_pledges", None)

    event.listen(Session, "after_flush", after_flush)
    event.listen(Session, "after_commit", after_commit)
    event.listen(Session, "after_soft_rollback", after_rollback)
    yield commits
    event.remove(Session, "after_flush", after_flush)
    event.remove(Session, "after_commit", after_commit)
    event.remove(Session, "after_soft_rollback", after_rollback)


async def _mirrored(instance: Instance) -> list[Pledge]:
    async with instance.ctx.sessions() as session:
        return list((await session.scalars(select(Pledge).where(Pledge.call_uri == EVENT))).all())


async def _rollup(instance: Instance):  # type: ignore[no-untyped-def]
    async with instance.ctx.sessions() as session:
        call = await session.scalar(select(StoredObject).where(StoredObject.uri == EVENT))
        assert call is not None
        return await rollup_of(session, call)


@pytest.mark.all_backends
async def test_a_huge_endless_pledges_collection_is_copied_capped_in_small_batches_and_off_the_inbox(
    net: FederationNet, fixtures_dir: Path, pledge_inserts_per_commit: list[int]
) -> None:
    a = await net.add_instance("a.test")
    origin = hostile(net, fixtures_dir, per_page=800)
    await get_call_target(a.ctx, EVENT)  # a coalition here opened the call to pledge: it is shown here

    await origin.notify(a, origin.item(0, 0))
    # Processing the notice itself writes one row and queues the re-read; it never reads the collection.
    await a.runtime.worker.inbox.run_once()
    assert origin.page_requests == 0
    await net.settle()

    rows = await _mirrored(a)
    assert len(rows) == 500  # FEDIHUB_PLEDGE_MIRROR_MAX_ITEMS, not 40,000
    assert origin.page_requests == 1  # the cap was reached on the first page: the endless next not followed
    assert max(pledge_inserts_per_commit) <= 100, pledge_inserts_per_commit
    assert (await _rollup(a)).pledged == 500

    page = await a.get(VIEW)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert '<dd data-rollup="pledged">500</dd>' in page.text
    assert "and 400 more coalitions" in text
    assert len(page.content) < 400_000, len(page.content)  # was 9.5 MB


async def test_an_endless_next_is_followed_only_up_to_the_page_limit(net: FederationNet, fixtures_dir: Path) -> None:
    a = await net.add_instance("a.test", pledge_mirror_max_pages=4)
    origin = hostile(net, fixtures_dir, per_page=3)
    await get_call_target(a.ctx, EVENT)

    await origin.notify(a, origin.item(0, 0))
    await net.settle()

    assert origin.page_requests == 4
    assert len(await _mirrored(a)) == 12  # 4 pages × 3 items; the notice's own item is not in the list


async def test_a_next_leading_back_to_a_page_already_read_ends_the_reading(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a = await net.add_instance("a.test")
    origin = hostile(net, fixtures_dir, per_page=3)
    origin.loop_back = True
    await get_call_target(a.ctx, EVENT)

    await origin.notify(a, origin.item(0, 0))
    await net.settle()

    assert origin.page_requests == 2 and len(await _mirrored(a)) == 6


async def test_a_page_view_queues_the_refresh_instead_of_reading_the_origin(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a = await net.add_instance("a.test")
    origin = hostile(net, fixtures_dir, per_page=800)
    await get_call_target(a.ctx, EVENT)

    page = await a.get(VIEW)
    assert page.status_code == 200 and origin.page_requests == 0
    await net.settle()
    assert origin.page_requests == 1 and len(await _mirrored(a)) == 500


async def test_forged_pledges_of_another_servers_coalitions_are_neither_shown_nor_counted(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await committed(b.ctx, service.create_coalition, "renters", name="Springfield Renters")
    await committed(b.ctx, service.create_coalition, "union", name="Decatur Union")
    origin = hostile(net, fixtures_dir, per_page=0)
    # b's renters really pledged to the call, with their own words …
    real = await committed(b.ctx, pledges.pledge, "renters", await get_call_target(b.ctx, EVENT),
                           message="We will be there")
    await net.settle()
    # … and the origin lists them with other words, and b's union (which never pledged) as well, each
    # vouched for: its word counts a pledge in, never what it puts in another server's coalition's mouth.
    origin.listed += [
        {"type": "Join", "id": real.uri, "object": EVENT, "content": "We endorse the organizers' candidate",
         "vouched": True,
         "actor": {"id": f"{b.base_url}/g/renters", "type": "Group", "name": "Renters for the candidate"}},
        {"type": "Join", "id": f"{b.base_url}/a/forged-join", "object": EVENT, "content": "Vote for them!",
         "vouched": True, "actor": {"id": f"{b.base_url}/g/union", "type": "Group", "name": "Decatur Union"}},
        {"type": "Join", "id": f"http://{HOST}/joins/renters", "object": EVENT, "content": "Hosted elsewhere",
         "vouched": True, "actor": {"id": f"{b.base_url}/g/renters", "type": "Group", "name": "Springfield Renters"}},
    ]
    await get_call_target(a.ctx, EVENT)

    await origin.notify(a, origin.item(9, 9))
    await net.settle()

    rollup = await _rollup(a)
    shown = {item.coalition.uri: item for item in rollup.pledges}
    assert f"{b.base_url}/g/union" not in shown
    assert shown[f"{b.base_url}/g/renters"].message == "We will be there"
    assert shown[f"{b.base_url}/g/renters"].coalition.name == "Springfield Renters"
    assert rollup.pledged == 1  # renters, confirmed by b; the notice's own item is no longer listed

    page = html.unescape((await a.get(VIEW)).text)
    assert "We will be there" in page and "Springfield Renters" in page
    for forged in ("candidate", "Vote for them", "Decatur Union", "Hosted elsewhere"):
        assert forged not in page

    # b withdraws: its Join is gone at its id, and the next confirmation takes the pledge off a's page.
    await committed(b.ctx, pledges.withdraw, "renters", EVENT)
    origin.listed[0] = {**origin.listed[0], "report": {"type": "Note", "happened": True, "turnout": 10_000_000}}
    await origin.notify(a, origin.item(9, 10))
    await net.settle()
    assert f"{b.base_url}/g/renters" not in {item.coalition.uri for item in (await _rollup(a)).pledges}
