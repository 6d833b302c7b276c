"""The memory guard: estimate a build's bytes before allocating, refuse past the limit.

The limit is :func:`convmat.options.get("memory_limit") <convmat.options.get>` (default half
of the physical memory; see :mod:`convmat.options` to change it).
"""

from __future__ import annotations

import numpy as np

from . import options
from .errors import ConvmatError

__all__ = ["CHUNK", "INT32_MAX", "check_budget", "estimate_bytes", "format_bytes",
           "index_dtype_for"]

INT32_MAX = int(np.iinfo(np.int32).max)
#: entries the engine enumerates per chunk on its rest path (bounds its temporaries, kept
#: in cache)
CHUNK = 1 << 18


def index_dtype_for(largest: int) -> type:
    """``np.int32`` when ``largest`` (an index or a count) fits, else ``np.int64``.

    ``convmat.options.set(force_int64=True)`` (or ``CONVMAT_INDEX_DTYPE=int64``) always
    gives ``np.int64``.
    """
    if options.get("force_int64") or largest > INT32_MAX:
        return np.int64
    return np.int32


def format_bytes(n: float) -> str:
    """``1536`` → ``'1.5 KiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def check_budget(nbytes: int, what: str, *, nnz: int | None = None, advice: str = "") -> None:
    """Raise :class:`ConvmatError` when ``nbytes`` exceeds the memory limit."""
    limit = int(options.get("memory_limit"))  # type: ignore[arg-type]
    if nbytes <= limit:
        return
    stored = f"{nnz:,} stored entries, " if nnz is not None else ""
    raise ConvmatError(
        f"{what} would need about {format_bytes(nbytes)} ({stored}estimated before "
        f"allocating), over the memory limit of {format_bytes(limit)}. "
        f"{advice}Raise the limit with convmat.options.set(memory_limit=...) or the "
        f"CONVMAT_MEMORY_LIMIT environment variable if the machine has the room."
    )


def estimate_bytes(geom, itemsize: int, *, transposed: bool,
                   extra_per_entry: int = 0) -> tuple[int, int]:
    """(stored entries, peak bytes) of a numeric build, computed from the geometry alone.

    ``geom`` is a :class:`~convmat.geometry.ConvGeometry`. ``extra_per_entry`` adds the bytes
    per stored entry of a caller's own temporaries (a view built on the structure, such as
    the kernel-as-unknown or max-pooling matrix).
    """
    nnz = geom.nnz_upper_bound()
    rows, cols = geom.shape
    idx = np.dtype(index_dtype_for(max(nnz, rows, cols))).itemsize
    final = nnz * (itemsize + idx) + (rows + 1) * idx
    # the engine's border chunks hold about a dozen int64 temporaries of CHUNK entries;
    # summing the duplicates of a padding mode may copy the arrays once
    peak = final + 12 * 8 * min(CHUNK, nnz) + nnz * extra_per_entry
    if geom.padding_mode != "zeros":
        peak += final
    if transposed:
        peak = max(peak, 2 * final + (cols + 1) * idx)  # CSR of the transpose is a copy
    return nnz, peak
