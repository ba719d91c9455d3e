"""Keeping the objects a process builds at start-up out of the garbage collector's full passes."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collect once, then have the collector skip every object alive now, for good.

    A full collection walks every tracked object, and in a server almost all of them are what start-up
    built and keeps until exit: modules, SQLAlchemy's mappers and compiled statements, templates,
    translations. The collector scheduled one about once per 1,000 deliveries of a fan-out, and
    each took 100 to 200 ms (bench/fanout.py). Frozen objects are still freed by reference counting;
    only cycles among them are never collected, and start-up leaves none behind (collected first).
    """
    gc.collect()
    gc.freeze()
