"""Window maxima: the input position of every window's maximum (max pooling), from the engine.

When the windows tile the input (stride = window, no padding or dilation, sizes divisible)
the maxima are one ``argmax`` over a reshape of the input; otherwise they are a per-row
argmax (:func:`row_argmax`) over the windows' CSR structure built by the one index engine
(:func:`convmat._engine.build`). Max pooling's matrix (:mod:`convmat.pooling`) and a
network's Jacobian at a point read them through :func:`window_maxima`.
"""

from __future__ import annotations

import math

import numpy as np

from ._engine import build
from ._memory import check_build
from .geometry import ConvGeometry

__all__ = ["ARGMAX_BYTES", "row_argmax", "window_maxima"]


def row_argmax(indptr: np.ndarray, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row of a CSR skeleton (every row non-empty), the position in ``indices`` of the
    row's largest ``values[indices]``: the first in the row's order, or, in floating
    point, the row's last NaN (as PyTorch's max pooling picks). Compared in ``values``'
    own dtype (a cast to float64 would tie distinct int64 values)."""
    gathered = values[indices]
    starts, counts = indptr[:-1], np.diff(indptr)
    order = np.arange(indices.size)
    best = np.maximum.reduceat(gathered, starts)
    first = np.minimum.reduceat(np.where(gathered == np.repeat(best, counts), order,
                                         indices.size), starts)
    if values.dtype.kind == "f":
        last_nan = np.maximum.reduceat(np.where(np.isnan(gathered), order, -1), starts)
        first = np.where(last_nan >= 0, last_nan, first)
    return first


#: bytes per stored entry of :func:`row_argmax`'s temporaries (the gathered values, their
#: order, the repeated maxima and two masks: about 6 entry-sized arrays)
ARGMAX_BYTES = 48


def window_maxima(x: np.ndarray, geom: ConvGeometry, guard: str | None = None) -> np.ndarray:
    """The flat input index of every window's maximum (max pooling of ``x``, shape
    ``(C, *input_shape)``, in the depthwise geometry ``geom``): one ``argmax`` over the
    tiles when the windows tile the input, else :func:`row_argmax` on the windows'
    structure (memory-guarded first as ``guard``, when given)."""
    columns = _tiled_argmax(x, geom)
    if columns is None:
        if guard is not None:
            check_build(geom, 8, guard, extra_per_entry=ARGMAX_BYTES)
        structure = build(geom)
        columns = structure.indices[row_argmax(structure.indptr, structure.indices,
                                               x.reshape(-1))]
    return columns


def _tiled_argmax(x: np.ndarray, geom: ConvGeometry) -> np.ndarray | None:
    """The flat input index of every window's maximum when the windows tile the input
    (stride = window, no padding or dilation, sizes divisible): a reshape of ``x`` and one
    ``argmax`` (its first maximum, as the general path picks); ``None`` otherwise, and
    for floating input holding a NaN (PyTorch picks a window's *last* NaN)."""
    k, out, spatial = geom.kernel_shape, geom.output_shape, geom.input_shape
    if (geom.stride != k or any(b or a for b, a in geom.padding) or any(
            d != 1 for d in geom.dilation) or tuple(o * kk for o, kk in zip(out, k)) != spatial
            or (x.dtype.kind == "f" and np.isnan(x).any())):
        return None
    n, lead = len(k), x.shape[0]
    tiles = x.reshape(lead, *[v for pair in zip(out, k) for v in pair])
    tiles = tiles.transpose(0, *range(1, 2 * n, 2), *range(2, 2 * n + 1, 2))
    within = np.argmax(tiles.reshape(-1, math.prod(k)), axis=1)
    # flat index = the window's first position + the maximum's offset inside the window
    first, offset = np.arange(0, x.size, math.prod(spatial)), np.zeros(1, dtype=np.intp)
    step = x.size // lead
    for o, kk, i in zip(out, k, spatial):
        step //= i  # the axis's C-order stride
        first = np.add.outer(first, np.arange(0, o * kk * step, kk * step)).ravel()
        offset = np.add.outer(offset, np.arange(0, kk * step, step)).ravel()
    return first + offset[within]
