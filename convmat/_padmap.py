"""Padding maps: which input position every padded position copies, per axis.

Part of the engine layer: the index engine (:mod:`convmat._engine`), the padding matrix and
the matrix-free operator all read the padding modes through :func:`index_map`.
"""

from __future__ import annotations

import numpy as np

from ._choices import PADDING_MODES
from .errors import ConvmatError

__all__ = ["index_map"]


def index_map(n: int, before: int, after: int, mode: str = "zeros") -> np.ndarray:
    """Source input index of every padded position along one axis (``-1`` for a zero).

    A negative ``before`` or ``after`` crops the input on that side first.

    Examples
    --------
    >>> index_map(4, 2, 2, "reflect")
    array([2, 1, 0, 1, 2, 3, 2, 1])
    >>> index_map(4, 2, 2, "replicate")
    array([0, 0, 0, 1, 2, 3, 3, 3])
    >>> index_map(4, 2, 2, "circular")
    array([2, 3, 0, 1, 2, 3, 0, 1])
    >>> index_map(4, 2, 2, "symmetric")
    array([1, 0, 0, 1, 2, 3, 3, 2])
    >>> index_map(4, 2, 2, "zeros")
    array([-1, -1,  0,  1,  2,  3, -1, -1])
    >>> index_map(4, -1, 2, "symmetric")  # crop one position before, then pad 2 after
    array([1, 2, 3, 3, 2])
    """
    if mode == "zeros":
        q = np.arange(-before, n + after, dtype=np.int64)
        return np.where((q >= 0) & (q < n), q, -1)
    crop = max(-before, 0)
    n = n - crop - max(-after, 0)  # the cropped input
    before, after = max(before, 0), max(after, 0)
    q = np.arange(-before, n + after, dtype=np.int64)
    if mode == "reflect":
        q = np.abs(q)
        q = np.where(q < n, q, 2 * (n - 1) - q)
    elif mode == "replicate":
        q = np.clip(q, 0, n - 1)
    elif mode == "circular":
        q = q % n
    elif mode == "symmetric":
        q = np.where(q < 0, -q - 1, q)
        q = np.where(q < n, q, 2 * n - 1 - q)
    else:
        raise ConvmatError(f"padding_mode={mode!r} is not one of {PADDING_MODES}")
    return q + crop
