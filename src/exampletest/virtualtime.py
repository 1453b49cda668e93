"""A virtual clock for the smoke run: a block that sleeps does not hold a worker.

Examples sleep a lot (``await asyncio.sleep(2)`` to show concurrency, ``time.sleep(1)`` in a
retry loop). Where nothing else could happen meanwhile, waiting changes nothing but the wall
clock, so the clock jumps instead: the job's only thread sleeping, or an event loop with
nothing to wait for but its timers (no socket, pipe or subprocess registered, no other
thread or child process that could act meanwhile). Every clock the block can read through
:mod:`time` (``time``, ``monotonic``, ``perf_counter`` and their ``_ns`` forms) moves by the
same amount, so timeouts fire in the same order and a measured duration reads as it would
have; where something else could happen (a thread, a child, real I/O), the wait is real.
``datetime.now()`` reads the system clock directly and does not move. The job's own time
limit stays in real time: a block that sleeps in an endless loop still runs out of it.

A ``timeit`` measurement is a wait of the same kind: ``timeit.timeit(stmt, number=100)`` of a
statement taking 15 ms holds a worker 1.5 s to print a duration no reader's machine repeats.
The statement runs in growing batches until it has run ``number`` times or for
:data:`TIMEIT_BUDGET_S`; the rest is read off what it took (and the clock moves by it). What
the statement raises or warns, it does on its first run; only a count its side effects keep
(a list it appends to) can come out smaller, for a statement slow enough to be cut short.

Install it in the job's own process only (never the worker's).
"""

from __future__ import annotations

import os
import selectors
import threading
import time
import timeit
from collections.abc import Callable
from typing import Any, SupportsIndex

_offset_s = 0.0
#: How long a ``timeit`` measurement really runs before the rest of it is read off.
TIMEIT_BUDGET_S = 0.05


def _shifted(read: Callable[[], float]) -> Callable[[], float]:
    def now() -> float:
        return read() + _offset_s

    return now


def _shifted_ns(read: Callable[[], int]) -> Callable[[], int]:
    def now() -> int:
        return read() + int(_offset_s * 1e9)

    return now


def _alone() -> bool:
    """No other thread, and no child process, that could act (or wake a loop) while this
    one waits: a sleep that gives a ``subprocess`` or ``multiprocessing`` child its time is
    a real one."""
    if threading.active_count() != 1:
        return False
    try:
        with open(f"/proc/self/task/{os.getpid()}/children", encoding="ascii") as fh:
            return not fh.read().strip()
    except OSError:  # no such file (an older kernel): a child cannot be told, assume none
        return True


def install() -> None:
    """Let sleeps and idle event loops of this process move the clock instead of waiting."""
    if not hasattr(selectors, "EpollSelector"):  # asyncio's selector outside Linux: as is
        return
    real_sleep = time.sleep
    real_select = selectors.EpollSelector.select

    def sleep(seconds: float | SupportsIndex) -> None:
        global _offset_s
        if float(seconds) > 0 and _alone():
            _offset_s += float(seconds)
            real_sleep(0)  # still a point where signals (the job's time limit) are handled
        else:
            real_sleep(seconds)

    def select(self: Any, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        # asyncio's loop registers one file of its own (its wake-up socket); any other is I/O
        # that may complete meanwhile, and then the wait is real.
        if timeout is None or timeout <= 0 or len(self.get_map()) > 1 or not _alone():
            return real_select(self, timeout)
        ready = real_select(self, 0)
        if not ready:
            global _offset_s
            _offset_s += timeout
        return ready

    clocks: dict[str, Any] = {
        name: _shifted(getattr(time, name)) for name in ("time", "monotonic", "perf_counter")
    }
    clocks |= {
        name: _shifted_ns(getattr(time, name))
        for name in ("time_ns", "monotonic_ns", "perf_counter_ns")
    }
    for name, clock in clocks.items():
        setattr(time, name, clock)
    time.sleep = sleep
    selectors.EpollSelector.select = select  # type: ignore[method-assign]
    timeit.Timer.timeit = _timeit(timeit.Timer.timeit)  # type: ignore[method-assign,assignment]


def _timeit(real: Callable[[timeit.Timer, int], float]) -> Callable[[timeit.Timer, int], float]:
    def measure(self: timeit.Timer, number: int = 1_000_000) -> float:  # timeit's default
        global _offset_s
        done, took, batch = 0, 0.0, 1
        while done < number:
            step = min(batch, number - done)
            took += real(self, step)
            done += step
            if took >= TIMEIT_BUDGET_S and done < number:
                rest = took / done * (number - done)
                _offset_s += rest
                return took + rest
            batch *= 10
        return took

    return measure
