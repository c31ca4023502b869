"""Run one function in a forked process while this one goes on: the second core, for a long serial step.

`in_background(fn)` starts `fn()` in a child that inherits this process's memory (so `fn` may
close over anything, nothing is pickled on the way in) and returns a function that waits for the
result.  Where fork is not available, or the child cannot start, `fn` simply runs when its result
is asked for: the answer is the same, only slower.  An exception in the child is raised again here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_PENDING: dict[int, Callable] = {}
_KEYS = itertools.count()


def _call(key: int):
    return _PENDING[key]()


def in_background(fn: Callable[[], T]) -> Callable[[], T]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in mp.get_all_start_methods():
        return fn
    key = next(_KEYS)
    _PENDING[key] = fn  # inherited by the child at fork; only the key is sent
    try:
        pool = ProcessPoolExecutor(1, mp_context=mp.get_context("fork"))
        future = pool.submit(_call, key)  # forks here
    except OSError:
        return fn
    finally:
        _PENDING.pop(key, None)  # the child has its own copy

    def result() -> T:
        try:
            return future.result()
        finally:
            pool.shutdown()

    return result
