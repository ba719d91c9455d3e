"""Two instances where a coalition on one is followed (accepted) from the other, the start of most federation tests."""

from __future__ import annotations

from fedihub.coalitions import service
from fedihub.federation import follows
from fedihub.federation.actors import resolve_target
from tests.support.edges import committed
from tests.support.network import FederationNet, Instance


async def climate_followed_by_hub(net: FederationNet) -> tuple[Instance, Instance]:
    """climate@a.test, followed (accepted) by the coalition hub@b.test; returns (a.test, b.test)."""
    a = await net.add_instance("a.test")
    b = await net.add_instance("b.test")
    await committed(a.ctx, service.create_coalition, "climate", name="Berlin Climate Coalition")
    await committed(b.ctx, service.create_coalition, "hub", name="Regional hub")
    await committed(b.ctx, follows.follow, "hub", await resolve_target(b.ctx, "climate@a.test"))
    await net.settle()
    return a, b
