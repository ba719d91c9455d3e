"""Nearby points on a drawn map grouped, so points in one city are one mark with a count rather than a pile."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

RADIUS = 24.0  # pixels: marks closer than this would overlap


@dataclass
class Cluster(Generic[T]):
    x: float
    y: float
    members: list[T] = field(default_factory=list)
    _sum_x: float = 0.0
    _sum_y: float = 0.0

    def add(self, item: T, x: float, y: float) -> None:
        self.members.append(item)
        self._sum_x += x
        self._sum_y += y
        self.x, self.y = self._sum_x / len(self.members), self._sum_y / len(self.members)


def cluster(placed: Sequence[tuple[T, float, float]], radius: float = RADIUS) -> list[Cluster[T]]:
    """Greedy grouping in drawing order: each point joins the first group whose centre is within ``radius``.

    A grid of ``radius``-sized cells keeps it near-linear: only the 3×3 cells around a point are looked at.
    """
    grid: dict[tuple[int, int], list[Cluster[T]]] = {}
    groups: list[Cluster[T]] = []
    for item, x, y in placed:
        cx, cy = int(x // radius), int(y // radius)
        near = next((
            group for dx in (-1, 0, 1) for dy in (-1, 0, 1) for group in grid.get((cx + dx, cy + dy), ())
            if (group.x - x) ** 2 + (group.y - y) ** 2 <= radius * radius
        ), None)
        if near is None:
            near = Cluster(x, y)
            groups.append(near)
            grid.setdefault((cx, cy), []).append(near)
        near.add(item, x, y)
    return groups
