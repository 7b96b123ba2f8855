"""How long one piece of work took, for the benchmarks that time several."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[float, T]:
    """The wall-clock seconds ``work`` took, and what it gave."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def cpu_timed(work: Callable[[], T]) -> tuple[float, float, T]:
    """Wall-clock and this process's CPU seconds ``work`` took, and what it gave: on a
    shared machine the CPU time says what the work costs, the wall clock what a user waits."""
    cpu = time.process_time()
    seconds, result = timed(work)
    return seconds, time.process_time() - cpu, result
