r"""Kong & Lucey: a strided convolution rearranged into unit-stride form.

Kong & Lucey (2017), "Take it in your stride: Do we need striding in CNNs?", observe that a
strided convolution is a non-strided one with more filters of smaller size. Split the
(padded) input and the kernel into polyphase components by residue modulo the stride
:math:`s` (per spatial dim):

.. math::

    x_r[m] = x[s m + r], \qquad w_r[q] = w[j] \ \text{ where } d\,j = s\,q + r

(:math:`d` the dilation; a tap lands in exactly one phase). Then, for cross-correlation,

.. math::

    y[t] = \sum_j w[j]\, x[s t + d j] = \sum_r \sum_q w_r[q]\, x_r[t + q]
         = \sum_r (w_r \star x_r)[t],

a sum of *unit-stride* convolutions, one per phase. Two views of the same identity:

- matrix view (:attr:`KongLucey.permutation`, :attr:`KongLucey.blocks`): the banded strided
  matrix, its columns grouped by phase, is ``[T_0 | T_1 | ...]`` with every ``T_r`` an
  ordinary unit-stride (multi-level) Toeplitz matrix;
- layer view (:meth:`KongLucey.space_to_depth`, :attr:`KongLucey.unit_weight`): a stride-1
  layer with ``C_in * prod(s)`` input channels and kernels of size ``ceil(k_eff / s)``,
  ``k_eff = d(k-1) + 1``, applied to the space-to-depth input.

The converse direction is :func:`strided_weight` (a unit-stride weight of that shape is a
strided one only when it vanishes off the tap positions: the unit-stride layer is *more*
general), and :func:`polyphase` writes a stride-1 convolution in the polyphase domain, a
``prod(s) x prod(s)`` block matrix of tied, phase-shifted pieces of one filter
(pseudo-circulant).

Conventions: phases are enumerated in C order over the per-dim residues (``np.ndindex``);
the permuted columns are phase-major, then channel, then position; the space-to-depth
channel index is ``c * prod(s) + flat phase index`` as in ``torch.nn.functional.pixel_unshuffle``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from . import geometry
from .errors import ConvmatError, error_context, shape_of
from .padding import index_map, padding_matrix
from ._phases import phase_blocks
from .memory import check_budget
from .sparse import as_array, as_weight, conv_matrix, estimate_bytes
from .sparse_format import check_format

# convmat.symbolic and convmat.latex import this module: they (and sympy) are imported
# inside the functions that need them

__all__ = [
    "KongLucey",
    "SymbolicKongLucey",
    "ParameterCounts",
    "Polyphase",
    "kong_lucey",
    "symbolic_kong_lucey",
    "strided_weight",
    "polyphase",
]


# --------------------------------------------------------------------------- phase geometry


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _phases(stride: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Per-dim residues of every phase, in C order."""
    return tuple(np.ndindex(*stride))


def _phase_shape(shape, stride, phase) -> tuple[int, ...]:
    """Length of ``x[r::s]`` per dim (0 when the residue lies past the end)."""
    return tuple(_ceil_div(n - r, s) for n, s, r in zip(shape, stride, phase))


def _phase_order(shape, stride, channels: int) -> np.ndarray:
    """Flat indices into ``(channels, *shape)`` grouped by phase: phase, channel, position."""
    size = math.prod(shape)
    parts = []
    for phase in _phases(stride):
        flat = np.zeros((), dtype=np.int64)
        for n, s, r in zip(shape, stride, phase):
            flat = flat[..., None] * n + np.arange(r, n, s, dtype=np.int64)
        parts.append((np.arange(channels, dtype=np.int64)[:, None] * size
                      + flat.ravel()).ravel())
    return np.concatenate(parts)


def _permutation(order: np.ndarray, dtype) -> sp.csr_array:
    """Square permutation ``Pi[order[k], k] = 1``, so ``(A @ Pi)[:, k] = A[:, order[k]]``."""
    n = order.size
    return sp.csc_array((np.ones(n, dtype=dtype), order, np.arange(n + 1)), shape=(n, n)).tocsr()


def _split_columns(matrix, order: np.ndarray, widths: Sequence[int]) -> tuple:
    """Columns of ``matrix`` taken in ``order``, cut into consecutive blocks of ``widths``."""
    permuted = sp.csc_array(matrix)[:, order]
    cuts = np.concatenate(([0], np.cumsum(widths)))
    return tuple(permuted[:, lo:hi].tocsr() for lo, hi in zip(cuts[:-1], cuts[1:]))


def _tap_slots(kernel_shape, stride, dilation, offset):
    """Where each tap goes: ``offset + d*j = s*q + r`` per dim, taps ``j`` in C order.

    Returns the flat phase index of ``r`` and the per-dim positions ``q`` (one row per dim).
    """
    j = np.indices(kernel_shape).reshape(len(kernel_shape), -1)
    pos = np.asarray(offset)[:, None] + np.asarray(dilation)[:, None] * j
    q, r = np.divmod(pos, np.asarray(stride)[:, None])
    return np.ravel_multi_index(tuple(r), stride), q


def _phase_kernel_shape(kernel_shape, stride, dilation, offset=None) -> tuple[int, ...]:
    """Size per dim of the phase kernels: ``ceil(k_eff / s)`` (``offset`` adds up to ``s-1``)."""
    offset = offset or (0,) * len(stride)
    return tuple((o + d * (k - 1)) // s + 1
                 for k, s, d, o in zip(kernel_shape, stride, dilation, offset))


def _rearrange_weight(w4: np.ndarray, stride, dilation, offset, kshape) -> np.ndarray:
    """``(C_out, C_in/G, *k)`` → ``(C_out, C_in/G * S, *kshape)``: channel ``c*S + r``, position
    ``q`` holds the tap ``j`` with ``offset + d*j = s*q + r`` (zero elsewhere)."""
    c_out, c_in_g, *kernel = w4.shape
    n_phases = math.prod(stride)
    phase, q = _tap_slots(tuple(kernel), stride, dilation, offset)
    out = np.zeros((c_out, c_in_g, n_phases, *kshape), dtype=w4.dtype)
    out[(slice(None), slice(None), phase, *q)] = w4.reshape(c_out, c_in_g, -1)
    return out.reshape(c_out, c_in_g * n_phases, *kshape)


def _as_channels(weight: np.ndarray, ndim: int) -> np.ndarray:
    """A bare kernel as ``(1, 1, *kernel)``; the channel layout unchanged."""
    return weight.reshape((1, 1) + weight.shape) if weight.ndim == ndim else weight


def _required(value, name: str, example: str):
    if value is None:
        raise ConvmatError(f"{name}=None: {name} is required (an int or one int per spatial "
                           f"dim, each >= 1), e.g. {name}={example}")
    return value


_LATEX_PARTS = ("all", "strided", "permuted", "sum")


def _stored(block) -> int:
    """Stored entries of a SciPy sparse array (``.nnz``) or a sympy matrix (``.nnz()``)."""
    return block.nnz if isinstance(block.nnz, int) else block.nnz()


# ----------------------------------------------------------------------------- Kong & Lucey


class ParameterCounts(NamedTuple):
    """Free parameters of a strided layer and of the unit-stride layer of Kong & Lucey's shape."""

    strided: int
    unit_stride: int


@dataclass(frozen=True, repr=False, eq=False)
class KongLucey:
    r"""A strided convolution rearranged into unit-stride form (see :func:`kong_lucey`).

    Attributes
    ----------
    weight : numpy.ndarray
        The strided weight as given (bare kernel or ``(C_out, C_in/groups, *kernel)``).
    input_shape, padded_shape, output_shape : tuple of int
        Spatial shapes: the input, the input after padding, the strided output.
    stride, dilation : tuple of int
    padding : tuple of (int, int)
        Resolved ``(before, after)`` per dim.
    padding_mode : str
    groups, in_channels, out_channels : int
    phases : tuple of tuple of int
        The per-dim residues ``r`` of every phase, in C order (``prod(stride)`` of them).
    phase_shapes : tuple of tuple of int
        Spatial shape of each phase input ``x_r`` of the padded input (unequal when the
        padded shape is not a multiple of the stride; empty when ``r`` lies past the end).
    phase_shape : tuple of int
        ``ceil(padded_shape / stride)``: spatial shape of the space-to-depth input (every
        phase zero-filled to the longest).
    kernel_shape : tuple of int
        ``ceil(k_eff / stride)`` with ``k_eff = dilation*(k-1) + 1``: the phase kernels' size.
    unit_weight : numpy.ndarray
        ``(C_out, C_in/groups * prod(stride), *kernel_shape)``.
    column_order : numpy.ndarray
        Flat indices into ``(C_in, *padded_shape)`` in phase order (phase, then channel,
        then position): ``permutation.T @ x`` is ``x[column_order]``.
    permutation : scipy.sparse.csr_array
        Square permutation on the flattened padded input, ``permutation[column_order[k], k]
        = 1``.
    blocks : tuple of scipy.sparse.csr_array
        ``T_r`` in phase order, ``T_r`` of shape ``(C_out*prod(output_shape),
        C_in*prod(phase_shapes[r]))``.
    """

    weight: np.ndarray
    input_shape: tuple[int, ...]
    padded_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    padding_mode: str
    groups: int
    in_channels: int
    out_channels: int
    phases: tuple[tuple[int, ...], ...]
    phase_shapes: tuple[tuple[int, ...], ...]
    phase_shape: tuple[int, ...]
    kernel_shape: tuple[int, ...]
    unit_weight: np.ndarray
    column_order: np.ndarray
    permutation: sp.csr_array
    blocks: tuple

    @property
    def ndim(self) -> int:
        return len(self.input_shape)

    @property
    def permuted(self):
        """``A @ permutation``, i.e. ``[T_0 | T_1 | ...]`` (CSR)."""
        return sp.hstack(self.blocks, format="csr")

    @property
    def n_phases(self) -> int:
        return math.prod(self.stride)

    def _phase_number(self, phase) -> int:
        if isinstance(phase, Sequence):
            key = tuple(geometry.as_int(r, "phase") for r in phase)
            if key not in self.phases:
                raise ConvmatError(f"phase={key!r} is not a residue tuple of stride="
                                   f"{self.stride!r}; phases are {self.phases}")
            return self.phases.index(key)
        number = geometry.as_int(phase, "phase")
        if not 0 <= number < self.n_phases:
            raise ConvmatError(f"phase={number} must be in range({self.n_phases}) (or a "
                               f"residue tuple like {self.phases[-1]!r})")
        return number

    def phase_weight(self, phase) -> np.ndarray:
        """The kernel of phase ``phase`` (flat index or residue tuple): ``w_r``.

        Shape ``(C_out, C_in/groups, *kernel_shape)``, or ``kernel_shape`` for a bare kernel;
        ``w_r[q] = w[j]`` where ``d*j = s*q + r`` (zero where no tap lands).
        """
        with error_context("KongLucey.phase_weight", phase=phase):
            r = self._phase_number(phase)
        kernel = self.unit_weight[:, r::self.n_phases]
        return kernel[0, 0] if self.weight.ndim == self.ndim else kernel

    @property
    def tap_mask(self) -> np.ndarray:
        """Boolean array of ``unit_weight``'s shape: ``True`` where a strided tap lands."""
        c_in_g = self.unit_weight.shape[1] // self.n_phases
        ones = np.ones((1, c_in_g, *self.weight.shape[-self.ndim:]), dtype=bool)
        mask = _rearrange_weight(ones, self.stride, self.dilation, (0,) * self.ndim,
                                 self.kernel_shape)
        return np.broadcast_to(mask, self.unit_weight.shape)

    def parameter_counts(self) -> ParameterCounts:
        """Free parameters: the strided layer vs. a unit-stride layer of ``unit_weight``'s shape.

        The strided layers are the unit-stride layers whose weights vanish off
        :attr:`tap_mask`, a subspace; the counts are equal only when the taps fill every
        slot (per dim: the stride divides the kernel size and there is no dilation, or the
        kernel has a single tap).
        """
        return ParameterCounts(int(self.weight.size), int(self.unit_weight.size))

    def strided_matrix(self, *, padded: bool = True, format: str = "csr"):  # noqa: A002
        """Rebuild the strided matrix from the parts: ``hstack(blocks) @ permutation.T``.

        With ``padded=True`` this is ``conv_matrix(weight, padded_shape, stride, dilation,
        groups)``; with ``padded=False`` it is multiplied by the padding matrix, giving
        ``conv_matrix(weight, input_shape, stride, padding, dilation, groups, padding_mode)``.
        """
        with error_context("KongLucey.strided_matrix", format=format):
            check_format(format)
        matrix = self.permuted @ self.permutation.T
        if not padded:
            matrix = matrix @ padding_matrix(self.input_shape, self.padding,
                                             mode=self.padding_mode, channels=self.in_channels,
                                             dtype=self.weight.dtype)
        return sp.csr_array(matrix).asformat(format)

    def _check_x(self, x, spatial, name, channels):
        shape = as_array(x, name).shape
        n = self.ndim
        want = (channels, *spatial)
        if tuple(shape[-n:]) != tuple(spatial) or (
                len(shape) > n and shape[-n - 1] != channels) or (
                len(shape) == n and channels != 1):
            raise ConvmatError(f"{name}.shape={tuple(shape)!r} must end in {want!r}")

    def space_to_depth(self, x) -> np.ndarray:
        """Pad ``x`` (``(..., C_in, *input_shape)``), zero-fill to a multiple of the stride and
        rearrange the phases into channels: ``(..., C_in * prod(stride), *phase_shape)``.

        Channel ``c * prod(stride) + flat phase index`` at position ``m`` holds padded
        position ``stride * m + r`` of channel ``c``, as ``torch.nn.functional.pixel_unshuffle``.
        The padding uses :attr:`padding_mode`. A single-channel input may omit the channel
        axis (``x.shape == input_shape``); the result still has the ``prod(stride)``
        channels.
        """
        with error_context("KongLucey.space_to_depth", x_shape=shape_of(x)):
            self._check_x(x, self.input_shape, "x", self.in_channels)
            x = np.asarray(x)
            n = self.ndim
            batch = x.shape[:-n - 1] if x.ndim > n else ()
            channels = self.in_channels
            # per dim: source input index of (phase r, position m), -1 for padding zeros
            flat = np.zeros((), dtype=np.int64)
            inside = np.ones((), dtype=bool)
            for axis, (i, (b, a), s, n0) in enumerate(
                    zip(self.input_shape, self.padding, self.stride, self.phase_shape)):
                source = np.full(n0 * s, -1, dtype=np.int64)
                source[:i + b + a] = index_map(i, b, a, self.padding_mode)
                source = source.reshape(n0, s).T  # (r, m)
                shape = [1] * (2 * n)
                shape[axis], shape[n + axis] = s, n0
                source = source.reshape(shape)
                flat = flat * i + np.maximum(source, 0)
                inside = inside & (source >= 0)
            size = math.prod(self.input_shape)
            flat = np.where(inside, flat, size).ravel()  # `size` indexes an appended zero
            values = x.reshape(*batch, channels, size)
            values = np.concatenate([values, np.zeros((*batch, channels, 1), x.dtype)], axis=-1)
            return values[..., flat].reshape(*batch, channels * self.n_phases, *self.phase_shape)

    def depth_to_space(self, z, *, padded: bool = False) -> np.ndarray:
        """Inverse of :meth:`space_to_depth`: ``(..., C_in * prod(stride), *phase_shape)`` →
        ``(..., C_in, *input_shape)`` (or ``(..., C_in, *padded_shape)`` with ``padded=True``).

        ``depth_to_space(space_to_depth(x))`` equals ``x``; the zero fill (and, unless
        ``padded``, the padding) is dropped.
        """
        with error_context("KongLucey.depth_to_space", z_shape=shape_of(z)):
            self._check_x(z, self.phase_shape, "z", self.in_channels * self.n_phases)
            z = np.asarray(z)
            n = self.ndim
            batch = z.shape[:-n - 1] if z.ndim > n else ()
            # flat index in one channel's (phase, *phase_shape) block: separable per dim
            pos_strides = np.cumprod((1,) + self.phase_shape[:0:-1])[::-1]
            phase_strides = (np.cumprod((1,) + self.stride[:0:-1])[::-1]
                             * math.prod(self.phase_shape))
            flat = np.zeros((), dtype=np.int64)
            for i, (b, a), s, ps, ms in zip(self.input_shape, self.padding, self.stride,
                                            phase_strides, pos_strides):
                m, r = np.divmod(np.arange(i + b + a) if padded else np.arange(b, b + i), s)
                flat = flat[..., None] + (r * ps + m * ms)
            values = z.reshape(*batch, self.in_channels, -1)
            return values[..., flat]

    @property
    def geometry(self) -> geometry.ConvGeometry:
        """Geometry of the strided convolution on the padded input (the matrix ``A``)."""
        return geometry.conv_geometry(self.weight.shape, self.padded_shape, stride=self.stride,
                                      dilation=self.dilation, groups=self.groups)

    def _symbols(self, name: str, channels: int, spatial, base: int) -> list:
        from .symbolic import symbols

        shape = spatial if channels == 1 else (channels, *spatial)
        return list(np.ravel(np.array(symbols(shape, name, base=base).tolist(), dtype=object)))

    def phase_inputs(self, name: str = "x", *, base: int = 0) -> tuple:
        """The phase inputs ``x_r`` as sympy column vectors of the padded input's symbols
        ``name_{c,i,j}`` (indexed by padded position; no channel index for one channel)."""
        import sympy

        x = np.array(self._symbols(name, self.in_channels, self.padded_shape, base),
                     dtype=object)[self.column_order]
        cuts = np.cumsum([0] + [block.shape[1] for block in self.blocks])
        return tuple(sympy.Matrix(x[lo:hi].tolist()) for lo, hi in zip(cuts[:-1], cuts[1:]))

    def latex(self, part: str = "all", *, zero: str = "0", x: str = "x", y: str = "y",
              standalone: bool = False, **options) -> str:
        r"""LaTeX of the rearrangement (amsmath).

        Parameters
        ----------
        part : {"all", "strided", "permuted", "sum"}
            ``"strided"``: :math:`y = A x`; ``"permuted"``: :math:`y = [T_0 \mid T_1 \mid
            \cdots] [x_0; x_1; \ldots]`, rules between the phases; ``"sum"``:
            :math:`y = T_0 x_0 + T_1 x_1 + \cdots` (blocks without entries left out);
            ``"all"``: the three, one under the other (``gathered``).
        zero : {"0", "cdot", "blank"}
            How structural zeros print.
        x, y : str
            Names of the (padded) input and output symbols.
        standalone : bool
            A complete document that compiles with ``pdflatex``.
        **options
            Passed to :func:`convmat.to_latex` for the ``strided`` and ``sum`` parts
            (``environment``, ``max_rows``, ``max_cols``, ``precision``, ...). The
            ``permuted`` part reads ``environment``, ``precision``, ``max_rows`` and
            ``max_cols``; it elides the middle of every phase's columns, each phase keeping
            ``max(2, max_cols // prod(stride))`` of them, so all phases stay visible.

        Examples
        --------
        >>> print(kong_lucey([1, 2, 3], (5,), stride=2).latex("permuted"))
        \begin{bmatrix}
        y_{0} \\
        y_{1}
        \end{bmatrix}
        =
        \left[\begin{array}{@{}ccc|cc@{}}
        1 & 3 & 0 & 2 & 0 \\
        0 & 1 & 3 & 0 & 2
        \end{array}\right]
        \left[\begin{array}{@{}c@{}}
        x_{0} \\
        x_{2} \\
        x_{4} \\
        \hline
        x_{1} \\
        x_{3}
        \end{array}\right]
        """
        from .latex import (ENVIRONMENTS, ZERO_STYLES, _check_choice, _check_limit,
                            _check_precision, _Formatter, _shown, _vector, document, to_latex)
        from .symbolic import _name, element, vector_shapes

        with error_context("KongLucey.latex", part=part):
            if part not in _LATEX_PARTS:
                raise ConvmatError(f"part={part!r} is not one of {_LATEX_PARTS}")
            if zero not in ZERO_STYLES:
                raise ConvmatError(f"zero={zero!r} is not one of {tuple(ZERO_STYLES)}")
            environment = _check_choice(options.get("environment", "bmatrix"), "environment",
                                        ENVIRONMENTS)
            fmt = _Formatter(_check_precision(options.get("precision", 4)))
            limits = (_check_limit(options.get("max_rows", 40), "max_rows"),
                      _check_limit(options.get("max_cols", 40), "max_cols"))
            base = geometry.as_int(options.get("base", 0), "base")
            for value, label in ((x, "x"), (y, "y")):
                if not isinstance(value, str) or not value:
                    raise ConvmatError(f"{label}={value!r} must be a non-empty name")
            # only the written entries get a name: the vectors can be far longer than the page
            x_shape, y_shape = vector_shapes(self.geometry)
            rows = _shown(math.prod(y_shape), limits[0])  # the rows to_latex writes
            lhs = _vector(lambda k: element(y, y_shape, k, base), rows, {}, fmt, environment,
                          set(), "boxed") + "\n="
            if part == "all":
                body = "\\begin{gathered}\n" + "\n\\\\[2ex]\n".join(
                    self.latex(p, zero=zero, x=x, y=y, **options) for p in _LATEX_PARTS[1:]
                ) + "\n\\end{gathered}"
            elif part == "strided":
                body = to_latex(self.strided_matrix(), geometry=self.geometry, x=x, y=y,
                                zero=zero, **options)
            elif part == "sum":
                cuts = np.cumsum([0] + [block.shape[1] for block in self.blocks])
                terms = []
                for block, lo, hi in zip(self.blocks, cuts[:-1], cuts[1:]):
                    if _stored(block):  # x_r as LaTeX names (strings are cheap, symbols not)
                        names = [_name(x, index, base) for index in
                                 zip(*np.unravel_index(self.column_order[lo:hi], x_shape))]
                        terms.append(to_latex(block, x=names, zero=zero, **options))
                body = lhs + "\n" + ("\n+\n".join(terms) or "0")
            else:
                body = lhs + "\n" + self._latex_permuted(
                    lambda k: element(x, x_shape, self.column_order[k], base), rows, limits[1],
                    zero, fmt, environment)
            return document(body) if standalone else body

    def _latex_permuted(self, x_entry, rows, max_cols, zero: str, fmt, environment) -> str:
        """``[T_0 | T_1 | ...] [x_0; x_1; ...]`` with rules between the phases, the middle of
        each phase's columns elided.

        The phase boundaries are not equally spaced (``to_latex``'s ``blocks`` are), so the
        cells go straight to latex.py's writers.
        """
        from .latex import MAX_CELLS, ZERO_STYLES, _cells, _Entries, _environment, _shown, _vector

        per_phase = None if max_cols is None else max(2, max_cols // self.n_phases)
        cols: list[int | None] = []
        rules: dict[int, str] = {}
        start = 0
        for block in self.blocks:
            shown = _shown(block.shape[1], per_phase)
            cols += [None if c is None else start + c for c in shown]
            if shown:
                rules[len(cols) - 1] = "|"
            start += block.shape[1]
        rules.pop(len(cols) - 1, None)
        if len(rows) * len(cols) > MAX_CELLS:
            raise ConvmatError(
                f"writing {len(rows)} x {len(cols)} entries of the permuted matrix makes more "
                f"than {MAX_CELLS:,} cells; set max_rows and max_cols to elide the middle"
            )
        cells = _cells(_Entries(self.permuted), rows, cols, fmt, ZERO_STYLES[zero])
        return (_environment(cells, {}, rules, environment) + "\n"
                + _vector(x_entry, cols, {k: r"\hline" for k in rules}, fmt, environment,
                          set(), "boxed"))

    def text(self, *, max_size: int = 40) -> str:
        """Plain-text account: ``A``, the phase order of its columns, every block with its
        phase kernel, and the unit-stride layer (what ``convmat kong-lucey`` prints)."""
        from .text import to_text

        n_blocks = " | ".join(f"T_{r}" for r in range(self.n_phases))
        lines = [
            f"strided matrix A on the padded input {self.padded_shape} (stride "
            f"{self.stride}, dilation {self.dilation}), {self.permuted.shape[0]} x "
            f"{self.permuted.shape[1]}:",
            to_text(self.strided_matrix(), max_rows=max_size, max_cols=max_size), "",
            f"columns grouped by phase: A @ permutation = [{n_blocks}]",
        ]
        cuts = np.cumsum([0] + [block.shape[1] for block in self.blocks])
        for r, (phase, block) in enumerate(zip(self.phases, self.blocks)):
            where = ", ".join(f"{p}::{s}" for p, s in zip(phase, self.stride))
            columns = self.column_order[cuts[r]:cuts[r + 1]]
            shown = (" ".join(map(str, columns)) if columns.size <= max_size
                     else f"{columns.size} columns")
            lines.append(f"T_{r}: phase {phase}, input x[{where}], columns {shown or '(none)'}")
            if self.weight.ndim == self.ndim:
                kernel = np.array2string(self.phase_weight(r), separator=", ")
                lines.append(f"     kernel {' '.join(kernel.split())}")
            if 0 not in block.shape:
                lines.append(to_text(block, max_rows=max_size, max_cols=max_size))
        counts = self.parameter_counts()
        lines += [
            "",
            f"unit-stride layer: unit_weight {self.unit_weight.shape} on the space-to-depth "
            f"input ({self.in_channels * self.n_phases}, "
            f"{', '.join(map(str, self.phase_shape))}), cropped to {self.output_shape}",
            f"parameters: strided {counts.strided}, unit-stride {counts.unit_stride}",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        lines = [
            f"KongLucey(stride={self.stride}, dilation={self.dilation}, "
            f"padding={self.padding}, padding_mode={self.padding_mode!r}, "
            f"groups={self.groups})",
            f"  input {self.input_shape} -> padded {self.padded_shape} -> output "
            f"{self.output_shape}; weight {self.weight.shape} -> unit_weight "
            f"{self.unit_weight.shape}",
            f"  {self.n_phases} phases, space-to-depth input "
            f"({self.in_channels * self.n_phases}, {', '.join(map(str, self.phase_shape))})",
        ]
        for r, (phase, shape, block) in enumerate(zip(self.phases, self.phase_shapes,
                                                      self.blocks)):
            lines.append(f"  T_{r}: phase {phase}, input {shape}, block "
                         f"{block.shape[0]}x{block.shape[1]}, {_stored(block)} stored entries")
        return "\n".join(lines)


def kong_lucey(
    weight,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
) -> KongLucey:
    r"""Rearrange a strided convolution into unit-stride form (Kong & Lucey 2017).

    Parameters
    ----------
    weight : array_like
        The bare kernel (``N`` dims) or PyTorch's ``(C_out, C_in/groups, *kernel)``.
    input_shape : sequence of int
        Spatial input shape (length ``N``).
    stride : int or sequence of int
        Required; one int or one per dim, each ``>= 1`` (``1`` is allowed: one phase).
    padding, dilation, groups, padding_mode
        As in :func:`convmat.conv_matrix`. The rearrangement acts on the padded input.

    Returns
    -------
    KongLucey
        ``permutation``, ``blocks``, ``unit_weight``, ``space_to_depth``,
        ``depth_to_space``, ``output_shape``, ``phase_weight``, ``strided_matrix``, ...

    Notes
    -----
    With padded input :math:`x` (shape :math:`P`), stride :math:`s`, dilation :math:`d`,
    phases :math:`x_r[m] = x[s m + r]` (shape :math:`\lceil (P - r)/s \rceil` per dim) and
    phase kernels :math:`w_r[q] = w[j]` for :math:`d j = s q + r`:

    .. math::

        A\,\Pi = [\,T_0 \mid T_1 \mid \cdots \mid T_{S-1}\,], \qquad
        y = A x = \sum_r T_r\, x_r, \qquad T_r[t, m] = w_r[m - t],

    where :math:`A` is ``conv_matrix(weight, P, stride=s, dilation=d, groups=g)``,
    :math:`\Pi` the :attr:`~KongLucey.permutation` (``Pi.T @ x`` lists the phase inputs
    one after the other, channels inside each) and :math:`S = \prod s`. Each
    :math:`T_r` is a unit-stride (multi-level block) Toeplitz matrix: the first
    ``output_shape`` rows of the stride-1 convolution of :math:`w_r` with the phase input
    zero-filled to :math:`\lceil P/s \rceil`. As a layer:

    .. math::

        \operatorname{conv}_s(x, w) = \operatorname{crop}\bigl(
            \operatorname{conv}_1(\operatorname{s2d}(x), W)\bigr), \quad
        W[o, c S + r, q] = w_r[o, c, q],

    with :math:`W` of shape ``(C_out, C_in/g * S, *ceil(k_eff/s))``, ``k_eff = d(k-1)+1``.
    Each group's input channels stay contiguous under ``c*S + r``, so ``groups`` carries
    over unchanged.

    Examples
    --------
    The 1-D toy: stride 2, kernel ``(h0, h1, h2) = (1, 2, 3)``, input length 7.

    >>> kl = kong_lucey([1, 2, 3], (7,), stride=2)
    >>> (kl.strided_matrix() @ kl.permutation).toarray()   # columns 0, 2, 4, 6 | 1, 3, 5
    array([[1, 3, 0, 0, 2, 0, 0],
           [0, 1, 3, 0, 0, 2, 0],
           [0, 0, 1, 3, 0, 0, 2]])
    >>> [b.shape for b in kl.blocks], kl.phase_weight(0), kl.phase_weight(1)
    ([(3, 4), (3, 3)], array([1, 3]), array([2, 0]))
    >>> kl.unit_weight.shape, kl.space_to_depth(np.arange(7))
    ((1, 2, 2), array([[0, 2, 4, 6],
           [1, 3, 5, 0]]))
    """
    with error_context("kong_lucey", input_shape=input_shape,
                       weight_shape=shape_of(weight), stride=stride):
        w = as_weight(weight)
        geom = _strided_geometry(w, input_shape, stride, padding, dilation, groups,
                                 padding_mode)
        fields, order, widths = _fields(w, geom)
        # the blocks come from the engine directly, one unit-stride build per phase
        strided = geometry.conv_geometry(w.shape, geom.padded_shape, stride=geom.stride,
                                         dilation=geom.dilation, groups=geom.groups)
        nnz, peak = estimate_bytes(strided, w.dtype.itemsize, transposed=False)
        check_budget(peak, f"kong_lucey blocks of a {strided.shape} matrix", nnz=nnz)
        return KongLucey(**fields, permutation=_permutation(order, w.dtype),
                         blocks=phase_blocks(strided, w))


def _strided_geometry(w, input_shape, stride, padding, dilation, groups, padding_mode):
    return geometry.conv_geometry(
        w.shape, input_shape, stride=_required(stride, "stride", "2"), padding=padding,
        dilation=dilation, groups=groups, padding_mode=padding_mode)


def _fields(w: np.ndarray, geom: geometry.ConvGeometry):
    """The value-independent fields of a :class:`KongLucey` plus ``unit_weight``; the phase
    order of the padded input's entries and the column count of every block."""
    n, s, padded = geom.ndim, geom.stride, geom.padded_shape
    phases = _phases(s)
    phase_shapes = tuple(_phase_shape(padded, s, r) for r in phases)
    kshape = _phase_kernel_shape(geom.kernel_shape, s, geom.dilation)
    fields = dict(
        weight=w, input_shape=geom.input_shape, padded_shape=padded,
        output_shape=geom.output_shape, stride=s, dilation=geom.dilation,
        padding=geom.padding, padding_mode=geom.padding_mode, groups=geom.groups,
        in_channels=geom.in_channels, out_channels=geom.out_channels, phases=phases,
        phase_shapes=phase_shapes, phase_shape=tuple(_ceil_div(p, f) for p, f in zip(padded, s)),
        kernel_shape=kshape,
        unit_weight=_rearrange_weight(_as_channels(w, n), s, geom.dilation, (0,) * n, kshape),
    )
    order = _phase_order(padded, s, geom.in_channels)
    fields["column_order"] = order
    widths = [geom.in_channels * math.prod(shape) for shape in phase_shapes]
    return fields, order, widths


def strided_weight(
    unit_weight,
    kernel_shape: Sequence[int] | None = None,
    *,
    stride: int | Sequence[int] | None = None,
    dilation: int | Sequence[int] = 1,
) -> np.ndarray:
    r"""The strided weight whose Kong & Lucey rearrangement is ``unit_weight``, if there is one.

    Parameters
    ----------
    unit_weight : array_like
        ``(C_out, C_in/groups * prod(stride), *K)``, the shape :func:`kong_lucey` produces.
    kernel_shape : sequence of int, optional
        The strided kernel's spatial shape; it must satisfy ``ceil(k_eff / s) == K`` per dim.
        Default: the largest such kernel, ``k = (s*K - 1) // d + 1``.
    stride : int or sequence of int
        Required.
    dilation : int or sequence of int

    Returns
    -------
    numpy.ndarray
        ``(C_out, C_in/groups, *kernel_shape)``.

    Raises
    ------
    ConvmatError
        When ``unit_weight`` is not zero at every position where no strided tap lands: that
        unit-stride layer is not a strided one.

    Notes
    -----
    The strided weight has ``C_out * C_in/g * prod(k)`` parameters; a unit-stride layer of
    the same shape has ``C_out * C_in/g * prod(s) * prod(ceil(k_eff/s))``, at least as
    many. The strided layers are the linear subspace ``W[o, cS + r, q] = 0`` whenever
    :math:`s q + r` is not of the form :math:`d j` (per dim), :math:`j < k`.

    Examples
    --------
    >>> kl = kong_lucey([1, 2, 3], (7,), stride=2)
    >>> strided_weight(kl.unit_weight, (3,), stride=2)
    array([[[1, 2, 3]]])
    >>> strided_weight([[[1, 3], [2, 5]]], (3,), stride=2)
    Traceback (most recent call last):
        ...
    convmat.errors.ConvmatError: unit_weight has 1 non-zero entries where no tap of a kernel ...
    """
    with error_context("strided_weight", unit_weight_shape=shape_of(unit_weight),
                       kernel_shape=kernel_shape, stride=stride):
        uw = as_weight(unit_weight, "unit_weight")
        if uw.ndim < 3:
            raise ConvmatError(f"unit_weight.shape={uw.shape!r} must be (C_out, C_in/groups * "
                               f"prod(stride), *K) with at least one spatial dim")
        n = uw.ndim - 2
        strides = geometry.as_per_dim(_required(stride, "stride", "2"), n, "stride", minimum=1)
        dilations = geometry.as_per_dim(dilation, n, "dilation", minimum=1)
        n_phases = math.prod(strides)
        if uw.shape[1] % n_phases:
            raise ConvmatError(f"unit_weight.shape={uw.shape!r}: its {uw.shape[1]} input "
                               f"channels are not a multiple of prod(stride)={n_phases}")
        kshape = uw.shape[2:]
        if kernel_shape is None:
            kernel = tuple((s * k - 1) // d + 1 for s, k, d in zip(strides, kshape, dilations))
        else:
            kernel = geometry.as_shape(kernel_shape, "kernel_shape")
            if len(kernel) != n:
                raise ConvmatError(f"kernel_shape={kernel!r} must have {n} dims, like "
                                   f"unit_weight.shape={uw.shape!r}")
            expected = _phase_kernel_shape(kernel, strides, dilations)
            if expected != kshape:
                raise ConvmatError(
                    f"kernel_shape={kernel!r} does not match unit_weight.shape={uw.shape!r}: "
                    f"with stride={strides!r} and dilation={dilations!r} its phase kernels "
                    f"have shape {expected!r}"
                )
        c_out, c_in_g = uw.shape[0], uw.shape[1] // n_phases
        phase, q = _tap_slots(kernel, strides, dilations, (0,) * n)
        grouped = uw.reshape(c_out, c_in_g, n_phases, *kshape)
        off_tap = np.ones((n_phases, *kshape), dtype=bool)
        off_tap[(phase, *q)] = False
        stray = np.count_nonzero(grouped[:, :, off_tap])
        if stray:
            raise ConvmatError(
                f"unit_weight has {stray} non-zero entries where no tap of a kernel "
                f"{kernel!r} with stride={strides!r}, dilation={dilations!r} lands; it is a "
                f"unit-stride layer with no strided equivalent (the unit-stride form has "
                f"{uw.size} parameters, the strided one {c_out * c_in_g * math.prod(kernel)})"
            )
        return grouped[(slice(None), slice(None), phase, *q)].reshape(c_out, c_in_g, *kernel)


# -------------------------------------------------------------------------------- polyphase


@dataclass(frozen=True, repr=False, eq=False)
class Polyphase:
    r"""A stride-1 convolution in the polyphase domain (see :func:`polyphase`).

    Attributes
    ----------
    weight : numpy.ndarray
    factor, dilation : tuple of int
    groups, in_channels, out_channels : int
    padded_shape, output_shape : tuple of int
        The padded input and the stride-1 output (``padded - k_eff + 1`` per dim).
    phases : tuple of tuple of int
        Residues, C order; used for output (rows) and input (columns) alike.
    row_permutation, column_permutation : scipy.sparse.csr_array
        Group the output rows and the padded-input columns by phase (phase, channel,
        position).
    blocks : tuple of tuple of scipy.sparse.csr_array
        ``blocks[rho][r] = H_{rho, r}``: output phase ``rho`` from input phase ``r``.
    unit_weight : numpy.ndarray
        ``(C_out * S, C_in/groups * S, *kernel_shape)``; ``unit_weight[o*S + rho, c*S + r]``
        is the kernel of ``H_{rho, r}`` (see :meth:`block_weight`).
    kernel_shape : tuple of int
        ``(s - 1 + d(k-1)) // s + 1`` per dim.
    """

    weight: np.ndarray
    factor: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int
    in_channels: int
    out_channels: int
    padded_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    phases: tuple[tuple[int, ...], ...]
    row_permutation: sp.csr_array
    column_permutation: sp.csr_array
    blocks: tuple
    unit_weight: np.ndarray
    kernel_shape: tuple[int, ...]

    def block_weight(self, rho: int, r: int) -> np.ndarray:
        r"""Kernel of block ``H_{rho, r}`` (flat phase indices), ``(C_out, C_in/groups, *K)``.

        Per dim, ``H_{rho, r}[q] = w[j]`` where ``rho + d*j = s*q + r``: the phase
        ``(r - rho) mod s`` of the filter, one position later where ``r < rho`` (the
        wrap-around delay of a pseudo-circulant matrix).
        """
        n_phases = len(self.phases)
        return self.unit_weight[rho::n_phases, r::n_phases]

    def matrix(self, format: str = "csr"):  # noqa: A002
        """The ``S x S`` block matrix ``row_permutation.T @ A @ column_permutation``."""
        with error_context("Polyphase.matrix", format=format):
            check_format(format)
        return sp.block_array(self.blocks, format=format)

    def __repr__(self) -> str:
        n_phases = len(self.phases)
        return (f"Polyphase(factor={self.factor}, dilation={self.dilation}, groups="
                f"{self.groups}): padded input {self.padded_shape} -> output "
                f"{self.output_shape}, {n_phases}x{n_phases} blocks, block kernels "
                f"{self.kernel_shape}")


def polyphase(
    weight,
    input_shape: Sequence[int],
    *,
    factor: int | Sequence[int] | None = None,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Polyphase:
    r"""A stride-1 convolution written in the polyphase domain of factor ``s``.

    Both the stride-1 output and the padded input are split into their ``S = prod(s)``
    phases; the matrix becomes an ``S x S`` block matrix whose blocks are unit-stride
    Toeplitz matrices of phase-shifted pieces of the one filter (pseudo-circulant).

    Parameters
    ----------
    weight, input_shape, padding, dilation, groups
        As in :func:`convmat.conv_matrix` (the convolution itself has stride 1; the phases
        are those of the zero-padded input).
    factor : int or sequence of int
        The polyphase factor ``s`` per dim (required).

    Returns
    -------
    Polyphase

    Notes
    -----
    With :math:`A` = ``conv_matrix(weight, padded_shape, dilation=d, groups=g)``,
    :math:`y_\rho[t] = y[s t + \rho]` and :math:`x_r[m] = x[s m + r]`:

    .. math::

        \Pi_{\text{out}}^\mathsf{T} A\, \Pi_{\text{in}} = [H_{\rho, r}]_{\rho, r},\qquad
        H_{\rho, r}[t, m] = h_{\rho, r}[m - t],\qquad
        h_{\rho, r}[q] = w[j] \text{ for } \rho + d j = s q + r.

    In 1-D, :math:`h_{\rho, r} = e_{(r - \rho) \bmod s}` delayed by one position when
    :math:`r < \rho`, with :math:`e_m` the phase kernels of Kong & Lucey: every block row is
    the previous one shifted right by one block, the wrapped block delayed (in N-D, per dim).
    The first block row, :math:`\rho = 0`, is the stride-``s`` convolution's
    ``[T_0 | T_1 | ...]`` of :func:`kong_lucey`.

    Examples
    --------
    >>> pp = polyphase([1, 2, 3], (6,), factor=2)
    >>> pp.matrix().toarray()
    array([[1, 3, 0, 2, 0, 0],
           [0, 1, 3, 0, 2, 0],
           [0, 2, 0, 1, 3, 0],
           [0, 0, 2, 0, 1, 3]])
    >>> pp.block_weight(0, 0).ravel(), pp.block_weight(1, 1).ravel()
    (array([1, 3]), array([1, 3]))
    >>> pp.block_weight(0, 1).ravel(), pp.block_weight(1, 0).ravel()
    (array([2, 0]), array([0, 2]))
    """
    with error_context("polyphase", input_shape=input_shape,
                       weight_shape=shape_of(weight), factor=factor):
        w = as_weight(weight)
        geom = geometry.conv_geometry(w.shape, input_shape, padding=padding, dilation=dilation,
                                      groups=groups)
        n = geom.ndim
        s = geometry.as_per_dim(_required(factor, "factor", "2"), n, "factor", minimum=1)
        dilations = geom.dilation
        padded, out_shape = geom.padded_shape, geom.output_shape
        unit = conv_matrix(w, padded, dilation=dilations, groups=geom.groups)
        phases = _phases(s)
        rows = _phase_order(out_shape, s, geom.out_channels)
        cols = _phase_order(padded, s, geom.in_channels)
        row_widths = [geom.out_channels * math.prod(_phase_shape(out_shape, s, p))
                      for p in phases]
        col_widths = [geom.in_channels * math.prod(_phase_shape(padded, s, p)) for p in phases]
        by_rows = _split_columns(unit.T, rows, row_widths)  # transposed: rows as columns
        blocks = tuple(_split_columns(band.T, cols, col_widths) for band in by_rows)
        kshape = _phase_kernel_shape(geom.kernel_shape, s, dilations, tuple(f - 1 for f in s))
        w4 = _as_channels(w, n)
        per_phase = [_rearrange_weight(w4, s, dilations, rho, kshape) for rho in phases]
        unit_weight = np.stack(per_phase, axis=1).reshape(-1, *per_phase[0].shape[1:])
        return Polyphase(
            weight=w, factor=s, dilation=dilations, groups=geom.groups,
            in_channels=geom.in_channels, out_channels=geom.out_channels,
            padded_shape=padded, output_shape=out_shape, phases=phases,
            row_permutation=_permutation(rows, w.dtype),
            column_permutation=_permutation(cols, w.dtype), blocks=blocks,
            unit_weight=unit_weight, kernel_shape=kshape,
        )


# ------------------------------------------------------------------------------- symbolic


@dataclass(frozen=True, repr=False, eq=False)
class SymbolicKongLucey(KongLucey):
    r"""Kong & Lucey with sympy entries (see :func:`symbolic_kong_lucey`).

    As :class:`KongLucey`, but ``weight`` and ``unit_weight`` are numpy object arrays of sympy
    expressions and ``permutation``, ``blocks`` and :attr:`matrix` are sympy matrices.

    Attributes
    ----------
    matrix : convmat.symbolic.ConvMatrix
        The strided matrix on the padded input, ``A`` (it carries its geometry).
    """

    matrix: object

    @property
    def permuted(self):
        """``A * permutation``, i.e. ``[T_0 | T_1 | ...]``."""
        import sympy

        return sympy.SparseMatrix.hstack(*self.blocks)

    def strided_matrix(self, *, padded: bool = True):
        """``hstack(blocks) * permutation.T`` (times the padding matrix unless ``padded``),
        a sympy matrix."""
        import sympy

        matrix = self.permuted * self.permutation.T
        if not padded:
            pad = padding_matrix(self.input_shape, self.padding, mode=self.padding_mode,
                                 channels=self.in_channels, dtype=int).tocoo()
            entries = zip(zip(pad.row.tolist(), pad.col.tolist()), pad.data.tolist())
            matrix = matrix * sympy.SparseMatrix(*pad.shape, dict(entries))
        return matrix

    def __repr__(self) -> str:
        return "Symbolic" + super().__repr__()


def symbolic_kong_lucey(
    weight,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] | None = None,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    name: str = "w",
    base: int = 0,
) -> SymbolicKongLucey:
    r"""Kong & Lucey's rearrangement with sympy entries (``convmat.symbolic.kong_lucey``).

    Parameters
    ----------
    weight : tuple of int, sympy Array, array_like
        A shape (symbols ``name_{...}`` are made, see :func:`convmat.symbolic.kernel`) or the
        values (sympy expressions and numbers).
    input_shape, stride, padding, dilation, groups, padding_mode
        As in :func:`kong_lucey`.
    name, base : str, int
        Name and first index of the symbols made when ``weight`` is a shape.

    Returns
    -------
    SymbolicKongLucey
        As :func:`kong_lucey`, with sympy matrices; ``.latex(part)`` writes the strided
        matrix, the permuted one with rules between the phases, and the sum of unit-stride
        convolutions. Substituting numbers for the symbols gives :func:`kong_lucey`'s
        matrices exactly.

    Examples
    --------
    The 1-D toy of the slides, kernel ``(h0, h1, h2)``, stride 2, input length 7:

    >>> kl = symbolic_kong_lucey((3,), (7,), stride=2, name="h")
    >>> kl.permuted
    Matrix([
    [h_{0}, h_{2},     0,     0, h_{1},     0,     0],
    [    0, h_{0}, h_{2},     0,     0, h_{1},     0],
    [    0,     0, h_{0}, h_{2},     0,     0, h_{1}]])
    >>> [list(xr) for xr in kl.phase_inputs()]
    [[x_{0}, x_{2}, x_{4}, x_{6}], [x_{1}, x_{3}, x_{5}]]
    >>> kl.phase_weight(0), kl.phase_weight(1)
    (array([h_{0}, h_{2}], dtype=object), array([h_{1}, 0], dtype=object))
    """
    from . import symbolic

    with error_context("symbolic.kong_lucey", input_shape=input_shape,
                       weight_shape=symbolic._describe(weight), stride=stride):
        import sympy

        w = symbolic.as_symbolic_weight(weight, name=name, base=base)
        geom = _strided_geometry(w, input_shape, stride, padding, dilation, groups,
                                 padding_mode)
        fields, order, widths = _fields(w, geom)
        fields["unit_weight"] = np.frompyfunc(sympy.sympify, 1, 1)(fields["unit_weight"])
        matrix = symbolic.conv_matrix(w, geom.padded_shape, stride=geom.stride,
                                      dilation=geom.dilation, groups=geom.groups)
        size = order.size
        permutation = sympy.SparseMatrix(size, size, {(int(order[k]), k): 1
                                                      for k in range(size)})
        cuts = np.concatenate(([0], np.cumsum(widths)))
        rows = list(range(matrix.rows))
        blocks = tuple(sympy.SparseMatrix(matrix.extract(rows, order[lo:hi].tolist()))
                       for lo, hi in zip(cuts[:-1], cuts[1:]))
        return SymbolicKongLucey(**fields, permutation=permutation, blocks=blocks,
                                 matrix=matrix)
