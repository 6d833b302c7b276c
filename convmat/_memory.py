"""The memory guard: estimate a build's bytes before allocating, refuse past the limit.

The limit is :func:`convmat.options.get("memory_limit") <convmat.options.get>` (default half
of the physical memory; see :mod:`convmat.options` to change it).
"""

from __future__ import annotations

import math

import numpy as np

from . import options
from .errors import ConvmatError

__all__ = ["CHUNK", "INT32_MAX", "PER_BLOCK", "check_budget", "check_build",
           "conversion_bytes", "count_diagonals", "engine_tables", "estimate_bytes",
           "format_bytes", "index_dtype_for", "kong_lucey_bytes", "polyphase_bytes"]

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
    """``1536`` → ``'1.5 KiB'`` (any size: past an exbibyte as a power of two)."""
    if n >= 2**70:
        return f"about 2^{int(n).bit_length() - 1} B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if n < 1024 or unit == "EiB":
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


def engine_tables(geom) -> int:
    """Bytes of the engine's tables that scale with the output, not with the entries: per
    axis about a dozen int64 arrays of the output length (tap ranges, classes), ``(o, k)``
    tables for padding modes other than zeros, and per output position the row lengths,
    the block cover and the rest positions."""
    per_axis = 0
    for o, k in zip(geom.output_shape, geom.kernel_shape):
        per_axis += 96 * o + (56 * o * k if geom.padding_mode != "zeros" else 0)
    return per_axis + 32 * math.prod(geom.output_shape)


def conversion_bytes(format: str, nnz: int, rows: int, cols: int, itemsize: int,  # noqa: A002
                     index_size: int, diagonals: int | None = None) -> int:
    """Peak bytes SciPy's conversion of a compressed (CSR/CSC) array into ``format`` adds to
    that array (measured per format): a compressed copy for csr/csc/bsr, row indices for coo,
    Python objects per entry for lil (about 100 B, plus 150 B per row) and dok (about 240
    B), and for dia the ``diagonals x cols`` data array (every diagonal when ``diagonals``
    is not known yet) plus the sort that finds the diagonals."""
    copy = nnz * (itemsize + index_size) + (max(rows, cols) + 1) * index_size
    if format in ("csr", "csc"):
        return copy
    if format == "bsr":
        return copy + nnz * itemsize // 2  # blocks may store up to 1/0.7 of the entries
    if format == "coo":
        return copy + nnz * index_size
    if format == "lil":
        return 100 * nnz + 150 * rows
    if format == "dok":
        return 240 * nnz
    if format == "dia":
        if diagonals is None:
            diagonals = min(nnz, rows + cols - 1)
        return 2 * nnz * index_size + 32 * nnz + diagonals * cols * itemsize
    raise AssertionError(format)


def count_diagonals(matrix) -> int:
    """Distinct diagonals ``col - row`` holding an entry of a CSR/CSC array, counted in
    chunks of rows (a bitmap of ``rows + cols`` bytes; nothing nnz-sized)."""
    compressed = matrix if matrix.format == "csr" else matrix.T  # CSC: diagonals negate
    n_rows, n_cols = compressed.shape
    seen = np.zeros(n_rows + n_cols, dtype=bool)
    indptr, indices = compressed.indptr, compressed.indices
    step = max(1, CHUNK // max(1, int(indptr[-1]) // max(1, n_rows) + 1))
    for first in range(0, n_rows, step):
        last = min(first + step, n_rows)
        lo, hi = int(indptr[first]), int(indptr[last])
        rows = np.repeat(np.arange(first, last, dtype=np.int64), np.diff(indptr[first:last + 1]))
        seen[indices[lo:hi].astype(np.int64) - rows + n_rows] = True
    return int(np.count_nonzero(seen))


def estimate_bytes(geom, itemsize: int, *, transposed: bool,
                   extra_per_entry: int = 0, format: str = "csr") -> tuple[int, int]:  # noqa: A002
    """(stored entries, peak bytes) of a numeric build, computed from the geometry alone.

    ``geom`` is a :class:`~convmat.geometry.ConvGeometry`. ``extra_per_entry`` adds the bytes
    per stored entry of a caller's own temporaries (a view built on the structure, such as
    the kernel-as-unknown or max-pooling matrix). ``format`` adds the conversion of the
    result (:func:`conversion_bytes`; for ``"dia"`` the diagonals are counted again on the
    built matrix, before converting).
    """
    nnz = geom.nnz_upper_bound()
    rows, cols = geom.shape
    idx = np.dtype(index_dtype_for(max(nnz, rows, cols))).itemsize
    final = nnz * (itemsize + idx) + (rows + 1) * idx
    # the engine's border chunks hold about two dozen int64 temporaries of CHUNK entries;
    # summing the duplicates of a padding mode may copy the arrays once
    peak = final + 24 * 8 * min(CHUNK, nnz) + nnz * extra_per_entry + engine_tables(geom)
    if geom.padding_mode != "zeros":
        peak += final
    if transposed:  # the transpose is a CSC view; any format but csc converts it
        if format == "csc":
            return nnz, peak
        format_extra = conversion_bytes(format, nnz, cols, rows, itemsize, idx, 1)
    elif format == "csr":
        return nnz, peak
    else:
        format_extra = conversion_bytes(format, nnz, rows, cols, itemsize, idx, 1)
    return nnz, max(peak, final + format_extra)


def check_build(geom, itemsize: int, what: str, *, extra_per_entry: int = 0,
                format: str = "csr") -> None:  # noqa: A002
    """The memory guard of a build on ``geom`` (:func:`estimate_bytes`), before anything
    is allocated: a refusal names ``what`` and its shape."""
    nnz, peak = estimate_bytes(geom, itemsize, transposed=False,
                               extra_per_entry=extra_per_entry, format=format)
    check_budget(peak, f"{what} of shape {geom.shape}", nnz=nnz)


#: bytes of Python objects per Kong & Lucey phase or polyphase block (a SciPy array with its
#: three index arrays, tuples of residues and shapes; about 1 KiB measured, kept generous)
PER_BLOCK = 4096


def kong_lucey_bytes(geom, itemsize: int, n_phases: int, phase_kernel: tuple[int, ...]) -> int:
    """Peak bytes of :func:`convmat.kong_lucey` on ``geom`` (the strided convolution of the
    padded input): the strided matrix, the phase order of the padded input, the
    permutation, the column split into blocks (copies of the matrix), ``unit_weight`` and
    the Python objects of every phase."""
    nnz = geom.nnz_upper_bound()
    rows, _ = geom.shape
    n = geom.in_channels * math.prod(geom.padded_shape)
    idx = 8
    final = nnz * (itemsize + idx) + (rows + 1) * idx
    unit = (geom.out_channels * (geom.in_channels // geom.groups) * n_phases
            * math.prod(phase_kernel) * itemsize)
    build = estimate_bytes(geom, itemsize, transposed=False)[1]
    after = 4 * final + n * (16 + 2 * (itemsize + 16))
    return max(build, after) + 2 * unit + n_phases * PER_BLOCK


def polyphase_bytes(geom, itemsize: int, n_phases: int, phase_kernel: tuple[int, ...]) -> int:
    """Peak bytes of :func:`convmat.polyphase`: the stride-1 matrix split by rows and then
    by columns (about six copies of it), both phase orders and permutations, the block
    weights and ``n_phases**2`` blocks."""
    nnz = geom.nnz_upper_bound()
    rows, _ = geom.shape
    n = geom.in_channels * math.prod(geom.padded_shape)
    idx = 8
    final = nnz * (itemsize + idx) + (max(rows, n) + 1) * idx
    unit = (geom.out_channels * (geom.in_channels // geom.groups) * n_phases ** 2
            * math.prod(phase_kernel) * itemsize)
    build = estimate_bytes(geom, itemsize, transposed=False)[1]
    after = 7 * final + (rows + n) * (16 + 2 * (itemsize + 16))
    return max(build, after) + 2 * unit + (n_phases ** 2 + n_phases) * PER_BLOCK
