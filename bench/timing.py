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


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds of this process, and of the children it waited for, user and system."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time(), children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Spent:
    """What a piece of work took: wall-clock seconds, and the CPU seconds of this process and
    the processes it started and waited for (on an idle machine the wall time of work done by
    one process is about its CPU time; on a loaded one it is longer)."""

    wall: float
    #: This process's CPU seconds.
    own: float
    #: The CPU seconds of the processes it started.
    children: float = 0.0
    #: This thread's CPU seconds (of ``own``: the rest is other threads', SQLite's helpers).
    thread: float = 0.0

    @property
    def cpu(self) -> float:
        return self.own + self.children

    def __add__(self, other: Spent) -> Spent:
        return Spent(
            self.wall + other.wall,
            self.own + other.own,
            self.children + other.children,
            self.thread + other.thread,
        )

    @property
    def on_two_cores(self) -> float:
        """About the seconds this process's work takes on an idle machine with two free
        cores: this thread's CPU, or half of the process's when its other threads take
        more."""
        return max(self.thread, self.own / 2)


def spent(work: Callable[[], T]) -> tuple[Spent, T]:
    """The wall and CPU seconds ``work`` took, and what it gave."""
    own, children = _cpu_seconds()
    thread = time.thread_time()
    seconds, result = timed(work)
    thread = time.thread_time() - thread
    own_after, children_after = _cpu_seconds()
    return Spent(seconds, own_after - own, children_after - children, thread), result


def cpu_timed(work: Callable[[], T]) -> tuple[float, float, T]:
    """Wall-clock and this process's CPU seconds ``work`` took, and what it gave: on a
    shared machine the CPU time says what the work costs, the wall clock what a user waits."""
    took, result = spent(work)
    return took.wall, took.own, result
