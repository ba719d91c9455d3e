"""A local actor's private key is read only to sign: pages and actor documents never load it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event

from fedihub.coalitions import calls, service
from tests.integration.helpers import AS2, BROWSER, followed_by, path_of
from tests.support.edges import committed
from tests.support.fake_peer import add_fake_peer
from tests.support.network import FederationNet, Instance


@contextmanager
def statements(instance: Instance) -> Iterator[list[str]]:
    """Every SQL statement the instance runs inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    engine = instance.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def reads_keys(seen: list[str]) -> bool:
    return any("actor_keys" in statement or "private_key" in statement for statement in seen)


async def test_pages_and_documents_never_load_a_private_key_and_delivery_does(
    net: FederationNet, fixtures_dir: Path
) -> None:
    a = await net.add_instance("a.test")
    peer = add_fake_peer(net, "masto.test", fixtures_dir, usernames=("alice",))
    coalition = await committed(a.ctx, service.create_coalition, "tenants", name="Tenants Union")
    await followed_by(net, a, peer, coalition.uri, peer.accounts["alice"])

    with statements(a) as seen:
        for path, accept in [(path_of(coalition.uri), BROWSER), (path_of(coalition.uri), AS2), ("/", BROWSER),
                             ("/directory", BROWSER), (f"{path_of(coalition.uri)}/followers", AS2)]:
            response = await a.get(path, headers={"Accept": accept})
            assert response.status_code == 200, path
    assert seen and not reads_keys(seen)
    assert "PRIVATE KEY" not in response.text

    with statements(a) as seen:
        form = calls.parse_call_form({
            "title": "Rent strike assembly", "start": "2030-05-01T18:00", "timezone": "America/Chicago",
            "place_name": "Union Park",
        })
        await committed(a.ctx, calls.publish_call, "tenants", form)
        await net.settle()
    assert reads_keys(seen)  # signing the delivery to alice's inbox
    assert any(request.method == "POST" and "signature" in request.headers for request in peer.requests)
