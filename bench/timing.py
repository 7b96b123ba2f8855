"""How long one piece of work took, for the benchmarks that time several."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


def timed(work: Callable[[], T]) -> tuple[float, T]:
    """The wall-clock seconds ``work`` took, and what it gave."""
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def _cpu_seconds() -> float:
    """CPU seconds of this process and of the children it waited for, user and system."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Spent:
    """What a piece of work took: wall-clock seconds, and the CPU seconds of this process and
    the processes it started and waited for (on an idle machine the wall time of work done by
    one process is about its CPU time; on a loaded one it is longer)."""

    wall: float
    cpu: float


def spent(work: Callable[[], T]) -> tuple[Spent, T]:
    """The wall and CPU seconds ``work`` took, and what it gave."""
    cpu = _cpu_seconds()
    seconds, result = timed(work)
    return Spent(seconds, _cpu_seconds() - cpu), result
