"""The tree below a hub's members: each member hub's own members, as this server knows them, down a
bounded number of levels and nodes, so a hostile or huge tree (or a loop) makes a page of bounded size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from fedihub.hubs.service import RosterEntry, count_members, list_members


@dataclass(frozen=True)
class TreeLimits:
    depth: int = 3  # levels below a member hub of the page's hub
    per_hub: int = 50  # members listed under one hub; the rest are counted
    nodes: int = 300  # members listed under all the page's member hubs together


@dataclass
class TreeNode:
    """A member hub's members as known here: ``more`` counts those not listed (limits), ``cut``
    says the tree goes on below but is not read further (depth, or a hub already shown above)."""

    members: list[tuple[RosterEntry, TreeNode | None]] = field(default_factory=list)
    total: int = 0
    more: int = 0
    cut: bool = False


@dataclass
class _Budget:
    nodes: int


async def _node(
    session: AsyncSession, hub: RosterEntry, level: int, limits: TreeLimits, budget: _Budget, seen: set[str],
) -> TreeNode:
    assert hub.actor is not None
    node = TreeNode(total=await count_members(session, hub.actor.id))
    if level > limits.depth:
        node.cut = node.total > 0
        return node
    room = min(limits.per_hub, budget.nodes)
    entries = await list_members(session, hub.actor.id, limit=room) if room > 0 and node.total else []
    budget.nodes -= len(entries)
    for entry in entries:
        child = None
        if entry.is_hub and entry.actor is not None:
            if entry.uri in seen:
                child = TreeNode(cut=True)  # a loop, or a hub listed twice: shown once, above
            else:
                seen.add(entry.uri)
                child = await _node(session, entry, level + 1, limits, budget, seen)
        node.members.append((entry, child))
    node.more = node.total - len(entries)
    return node


async def member_trees(
    session: AsyncSession, hub_uri: str, members: Sequence[RosterEntry], limits: TreeLimits = TreeLimits(),
) -> dict[str, TreeNode]:
    """The tree below each member hub among ``members`` (one page of a roster), keyed by its uri."""
    budget = _Budget(limits.nodes)
    seen = {hub_uri, *(entry.uri for entry in members)}
    return {
        entry.uri: await _node(session, entry, 1, limits, budget, seen)
        for entry in members if entry.is_hub and entry.actor is not None
    }
