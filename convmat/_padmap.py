r"""Padding modes as one table: name -> index map, per-side limit, description.

A padding mode says which input position every padded position copies. Each entry of
:data:`MODES` holds

- ``index_map(q, n)``: for positions ``q`` of the (cropped) input of size ``n`` extended on
  both sides (``q < 0`` before, ``q >= n`` after), the source position in ``[0, n)``;
- ``limit(n)``: the largest padding one side may take on an input of size ``n`` (``None``:
  no limit), with ``limit_text`` naming the rule in error messages;
- ``description``.

``zeros`` has no index map (``None``): a padded position outside the input reads a zero.
The enumeration :data:`PADDING_MODES` (also :data:`convmat._choices.PADDING_MODES`) and the
type :data:`convmat.geometry.PaddingMode` are derived from this table, the padding checks
(:func:`convmat.geometry.check_mode`) read its limits, and the engine, the padding matrix and
the matrix-free operator read its maps through :func:`index_map`. Adding a mode is adding
an entry.

This module is a foundation (pure index arithmetic on NumPy, no geometry): the geometry
layer reads its limits, the engine its maps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .errors import ConvmatError

__all__ = ["MODES", "PADDING_MODES", "PaddingModeSpec", "index_map"]


class PaddingModeSpec(NamedTuple):
    """One padding mode: its index map, its per-side limit and a description."""

    #: ``(q, n) -> source index in [0, n)`` for every extended position ``q``; ``None`` for
    #: zeros (positions outside the input read a zero)
    index_map: Callable[[np.ndarray, int], np.ndarray] | None
    #: ``n -> the largest padding of one side`` on an input of size ``n``; ``None``: no limit
    limit: Callable[[int], int] | None
    #: the limit as a phrase on the input size ``n``: "each side must be {limit_text} ..."
    limit_text: str
    description: str


def _reflect(q: np.ndarray, n: int) -> np.ndarray:
    q = np.abs(q)
    return np.where(q < n, q, 2 * (n - 1) - q)


def _symmetric(q: np.ndarray, n: int) -> np.ndarray:
    q = np.where(q < 0, -q - 1, q)
    return np.where(q < n, q, 2 * n - 1 - q)


#: every padding mode, in the order they are listed to users
MODES: dict[str, PaddingModeSpec] = {
    "zeros": PaddingModeSpec(None, None, "",
                             "zeros outside the input"),
    "reflect": PaddingModeSpec(_reflect, lambda n: n - 1, "smaller than",
                               "mirror without repeating the edge: d c b | a b c d | c b a"),
    "replicate": PaddingModeSpec(lambda q, n: np.clip(q, 0, n - 1), None, "",
                                 "repeat the edge: a a a | a b c d | d d d"),
    "circular": PaddingModeSpec(lambda q, n: q % n, lambda n: n, "at most",
                                "wrap around: b c d | a b c d | a b c"),
    "symmetric": PaddingModeSpec(_symmetric, lambda n: n, "at most",
                                 "mirror repeating the edge: c b a | a b c d | d c b"),
}

#: the names of the padding modes (``torch.nn.functional.pad``'s four and ``numpy.pad``'s
#: ``symmetric``), derived from :data:`MODES`
PADDING_MODES: tuple[str, ...] = tuple(MODES)


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
    spec = MODES.get(mode) if isinstance(mode, str) else None
    if spec is None:
        raise ConvmatError(f"padding_mode={mode!r} is not one of {tuple(MODES)}")
    if spec.index_map is None:
        q = np.arange(-before, n + after, dtype=np.int64)
        return np.where((q >= 0) & (q < n), q, -1)
    crop = max(-before, 0)
    n = n - crop - max(-after, 0)  # the cropped input
    before, after = max(before, 0), max(after, 0)
    q = np.arange(-before, n + after, dtype=np.int64)
    return spec.index_map(q, n) + crop
