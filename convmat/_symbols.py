"""The symbols of the symbolic builders: ``w_{0,1}``, ``x_{c,i,j}``, ``y_{...}``.

A symbol's name is its identity (``sympy.Symbol("w_{0,1}")`` is the kernel's entry), chosen
so that sympy prints it as a subscript; the renderer writes the same names without making
symbols (:func:`convmat.latex.subscript`, a test checks both agree). Names given by the user
follow the package's one rule (:func:`convmat._validate.symbol_name`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import sympy

from ._memory import check_budget
from ._validate import as_int, as_shape, symbol_name
from .errors import ConvmatError, brief

__all__ = ["element", "name_of", "phase_vectors", "symbols"]


def name_of(name: str, index: Sequence[int], base: int) -> str:
    """The name of the symbol at ``index`` (every index shifted by ``base``)."""
    return f"{name}_{{{','.join(str(int(i) + base) for i in index)}}}"


def element(name: str, shape: Sequence[int], flat: int, base: int = 0) -> sympy.Symbol:
    """The symbol at C-order position ``flat`` of an array of symbols of ``shape``.

    Examples
    --------
    >>> element("x", (3, 3), 5)
    x_{1,2}
    >>> element("x", (3, 3), 5, base=1)
    x_{2,3}
    """
    return sympy.Symbol(name_of(name, np.unravel_index(flat, tuple(shape)), base))


#: bytes per symbol made (a sympy Symbol, its name, sympy's cache; about 300 measured)
SYMBOL_BYTES = 400


def symbols(shape: Sequence[int], name: str, *, base: int = 0,
            what: str = "name") -> sympy.Array:
    """A sympy Array of distinct symbols ``name_{i,j,...}`` of the given shape.

    ``what`` is the parameter that gave ``name`` (for error messages). The symbols are
    counted by the memory guard before any is made.

    Examples
    --------
    >>> symbols((2, 2), "v")
    [[v_{0,0}, v_{0,1}], [v_{1,0}, v_{1,1}]]
    """
    dims = as_shape(shape, "shape")
    base = as_int(base, "base")
    if not isinstance(name, str) or not name:
        raise ConvmatError(f"{what}={brief(name)} must be a non-empty string")
    symbol_name(name, what)
    count = math.prod(dims)
    check_budget(count * SYMBOL_BYTES, f"{count:,} symbols {name}_{{...}} of shape {dims}")
    flat = [sympy.Symbol(name_of(name, index, base)) for index in np.ndindex(*dims)]
    return sympy.ImmutableDenseNDimArray(flat, dims)


def phase_vectors(kl, name: str, base: int) -> tuple:
    """The phase inputs ``x_r`` of a Kong & Lucey result as sympy column vectors of the
    padded input's symbols (indexed by padded position; no channel index for one channel)."""
    spatial = kl.padded_shape
    shape = spatial if kl.in_channels == 1 else (kl.in_channels, *spatial)
    flat = np.array(symbols(shape, name, base=base).tolist(), dtype=object).ravel()
    x = flat[kl.column_order]
    cuts = np.cumsum([0] + [block.shape[1] for block in kl.blocks])
    return tuple(sympy.Matrix(x[lo:hi].tolist()) for lo, hi in zip(cuts[:-1], cuts[1:]))
