"""The garbage collector tuned for a server: start-up objects frozen, young collections rarer.

A request allocates thousands of short-lived containers; with CPython's defaults each ~700 of them
start a young collection, and every so often a full one walks the ~150,000 objects alive since start-up
(the schema, SQLAlchemy's mappers, the declarations) for 100 ms or more: that was the latency tail.
Frozen, those objects are no longer walked; they are still freed by reference counting.
"""

from __future__ import annotations

import gc

_tuned = False


def tune_garbage_collector(generation0_threshold: int) -> None:
    """Call once start-up is done; 0 leaves the collector as it is. Once per process: a process that
    starts several apps (tests, a host mounting two shops) would otherwise freeze each one's leftovers."""
    global _tuned  # noqa: PLW0603 - one collector per process
    if generation0_threshold <= 0 or _tuned:
        return
    _tuned = True
    gc.collect()  # what start-up left as garbage goes now, not into the frozen generation
    gc.freeze()
    _, generation1, generation2 = gc.get_threshold()
    gc.set_threshold(generation0_threshold, generation1, generation2)
