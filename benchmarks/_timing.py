"""Shared timing helper of the benchmark scripts."""

from __future__ import annotations

import gc
import time


def best_time(fn, repeat: int = 5, number: int = 1) -> float:
    """Best of ``repeat`` runs of ``number`` calls, in seconds per call."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        for _ in range(number):
            result = fn()
        best = min(best, (time.perf_counter() - t) / number)
        del result
    return best
