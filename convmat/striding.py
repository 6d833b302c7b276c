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

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from . import _phases, geometry
from ._deprecation import MISSING, _Missing, renamed, warn_renamed
from ._memory import check_budget, kong_lucey_bytes, polyphase_bytes
from ._padmap import index_map
from ._validate import as_array, as_flag, as_int, as_per_dim, as_shape, as_weight, check_format
from .errors import ConvmatError, error_context, shape_of
from .padding import padding_matrix
from .sparse import conv_matrix

__all__ = ["kong_lucey", "polyphase", "strided_weight"]


def _stored(block: Any) -> int:
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
    def permuted(self) -> sp.csr_array:
        """``A @ permutation``, i.e. ``[T_0 | T_1 | ...]`` (CSR)."""
        return sp.hstack(self.blocks, format="csr")

    @property
    def n_phases(self) -> int:
        return math.prod(self.stride)

    def _phase_number(self, phase: int | Sequence[int]) -> int:
        if isinstance(phase, Sequence):
            key = tuple(as_int(r, "phase") for r in phase)
            if key not in self.phases:
                raise ConvmatError(f"phase={key!r} is not a residue tuple of stride="
                                   f"{self.stride!r}; phases are {self.phases}")
            return self.phases.index(key)
        number = as_int(phase, "phase")
        if not 0 <= number < self.n_phases:
            raise ConvmatError(f"phase={number} must be in range({self.n_phases}) (or a "
                               f"residue tuple like {self.phases[-1]!r})")
        return number

    def phase_weight(self, phase: int | Sequence[int]) -> np.ndarray:
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
        mask = _phases.rearrange_weight(ones, self.stride, self.dilation, (0,) * self.ndim,
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

    def strided_matrix(self, *, padded: bool = True,
                       format: str = "csr") -> sp.sparray:  # noqa: A002
        """Rebuild the strided matrix from the parts: ``hstack(blocks) @ permutation.T``.

        With ``padded=True`` this is ``conv_matrix(weight, padded_shape, stride, dilation,
        groups)``; with ``padded=False`` it is multiplied by the padding matrix, giving
        ``conv_matrix(weight, input_shape, stride, padding, dilation, groups, padding_mode)``.
        """
        with error_context("KongLucey.strided_matrix", format=format):
            check_format(format)
            padded = as_flag(padded, "padded")
        matrix = self.permuted @ self.permutation.T
        if not padded:
            matrix = matrix @ padding_matrix(
                self.input_shape, self.padding, padding_mode=self.padding_mode,
                channels=self.in_channels, dtype=self.weight.dtype)
        return sp.csr_array(matrix).asformat(format)

    def _check_x(self, x: ArrayLike, spatial: Sequence[int], name: str,
                 channels: int) -> None:
        shape = as_array(x, name).shape
        n = self.ndim
        want = (channels, *spatial)
        if tuple(shape[-n:]) != tuple(spatial) or (
                len(shape) > n and shape[-n - 1] != channels) or (
                len(shape) == n and channels != 1):
            raise ConvmatError(f"{name}.shape={tuple(shape)!r} must end in {want!r}")

    def space_to_depth(self, x: ArrayLike) -> np.ndarray:
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
            x = as_array(x, "x")
            n = self.ndim
            batch = x.shape[:-n - 1] if x.ndim > n else ()
            channels = self.in_channels
            # per dim: source input index of (phase r, position m), -1 for padding zeros
            flat: np.ndarray = np.zeros((), dtype=np.int64)
            inside: np.ndarray = np.ones((), dtype=bool)
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

    def depth_to_space(self, z: ArrayLike, *, padded: bool = False) -> np.ndarray:
        """Inverse of :meth:`space_to_depth`: ``(..., C_in * prod(stride), *phase_shape)`` →
        ``(..., C_in, *input_shape)`` (or ``(..., C_in, *padded_shape)`` with ``padded=True``).

        Input position ``p`` is read at padded position ``p + before`` (per dim), so
        ``depth_to_space(space_to_depth(x))`` equals ``x`` on every input position the
        padding keeps; the zero fill (and, unless ``padded``, the padding) is dropped. An
        input position that a negative padding crops away is in no phase: it comes back as
        zero (as the adjoint of zero padding gives it: the convolution never reads it).
        """
        with error_context("KongLucey.depth_to_space", z_shape=shape_of(z)):
            padded = as_flag(padded, "padded")
            self._check_x(z, self.phase_shape, "z", self.in_channels * self.n_phases)
            z = as_array(z, "z")
            n = self.ndim
            batch = z.shape[:-n - 1] if z.ndim > n else ()
            # flat index in one channel's (phase, *phase_shape) block: separable per dim
            pos_strides = np.cumprod((1,) + self.phase_shape[:0:-1])[::-1]
            phase_strides = (np.cumprod((1,) + self.stride[:0:-1])[::-1]
                             * math.prod(self.phase_shape))
            flat = np.zeros((), dtype=np.int64)
            kept = np.ones((), dtype=bool)
            for i, (b, a), s, ps, ms in zip(self.input_shape, self.padding, self.stride,
                                            phase_strides, pos_strides):
                # the padded position of every position asked for (crops: outside [0, i+b+a))
                where = np.arange(i + b + a) if padded else np.arange(i) + b
                inside = (where >= 0) & (where < i + b + a)
                m, r = np.divmod(np.where(inside, where, 0), s)
                flat = flat[..., None] + (r * ps + m * ms)
                kept = kept[..., None] & inside
            values = z.reshape(*batch, self.in_channels, -1)
            out = values[..., flat]
            if not kept.all():
                out[..., ~kept] = 0
            return out

    @functools.cached_property
    def geometry(self) -> geometry.ConvGeometry:
        """Geometry of the strided convolution on the padded input (the matrix ``A``);
        computed once (a display reads it several times)."""
        return geometry.convolution_geometry(self.padded_shape, self.weight.shape,
                                             stride=self.stride, dilation=self.dilation,
                                             groups=self.groups)

    def phase_inputs(self, name: str = "x", *, base: int = 0) -> tuple:
        """The phase inputs ``x_r`` as sympy column vectors of the padded input's symbols
        ``name_{c,i,j}`` (indexed by padded position; no channel index for one channel)."""
        from ._symbols import phase_vectors

        return phase_vectors(self, name, base)

    def latex(self, part: str = "all", **options: Any) -> str:
        """LaTeX of the rearrangement: ``convmat.to_latex(self, part=part, **options)``."""
        from .latex import to_latex

        return to_latex(self, part=part, **options)

    def _repr_latex_(self) -> str | None:
        """Jupyter's LaTeX display: ``convmat.display.latex_repr``."""
        from .display import latex_repr

        return latex_repr(self)

    def text(self, *, max_size: int = 40) -> str:
        """Plain-text account (what ``convmat kong-lucey`` prints):
        :func:`convmat.text.kong_lucey_text`."""
        from .text import kong_lucey_text

        return kong_lucey_text(self, max_size=max_size)

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
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int],
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
        Required (keyword only; without it Python raises its ``TypeError`` for a missing
        keyword): one int or one per dim, each ``>= 1`` (``1`` is allowed: one phase).
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
        geom = _phases.strided_geometry(w, input_shape, stride, padding, dilation, groups,
                                        padding_mode)
        # the strided convolution on the padded input, whose phase blocks the engine builds
        strided = geometry.convolution_geometry(geom.padded_shape, w.shape, stride=geom.stride,
                                                dilation=geom.dilation, groups=geom.groups)
        _guard_kong_lucey(w, geom, strided)
        fields, order, _ = _phases.kong_lucey_fields(w, geom)
        return KongLucey(**fields, permutation=_phases.permutation(order, w.dtype),
                         blocks=_phases.phase_blocks(strided, w))


def _guard_kong_lucey(w: np.ndarray, geom: geometry.ConvGeometry,
                      unit: geometry.ConvGeometry) -> None:
    """Refuse, before anything is allocated, a rearrangement past the memory limit
    (``unit``: the strided convolution on the padded input)."""
    n_phases = math.prod(geom.stride)
    kshape = _phases.phase_kernel_shape(geom.kernel_shape, geom.stride, geom.dilation)
    check_budget(kong_lucey_bytes(unit, w.dtype.itemsize, n_phases, kshape),
                 f"kong_lucey with {n_phases} phases of a {unit.shape[0]}x{unit.shape[1]} "
                 f"strided matrix", nnz=unit.nnz_upper_bound(),
                 advice="Each phase is a block of its own: a stride larger than the input "
                        "makes empty phases. ")


def strided_weight(
    unit_weight: ArrayLike,
    kernel_shape: Sequence[int] | None = None,
    *,
    stride: int | Sequence[int],
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
        Required (keyword only).
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
        strides = as_per_dim(_phases.required(stride, "stride", "2"), n, "stride", minimum=1)
        dilations = as_per_dim(dilation, n, "dilation", minimum=1)
        n_phases = math.prod(strides)
        if uw.shape[1] % n_phases:
            raise ConvmatError(f"unit_weight.shape={uw.shape!r}: its {uw.shape[1]} input "
                               f"channels are not a multiple of prod(stride)={n_phases}")
        kshape = uw.shape[2:]
        if kernel_shape is None:
            kernel = tuple((s * k - 1) // d + 1 for s, k, d in zip(strides, kshape, dilations))
        else:
            kernel = as_shape(kernel_shape, "kernel_shape")
            if len(kernel) != n:
                raise ConvmatError(f"kernel_shape={kernel!r} must have {n} dims, like "
                                   f"unit_weight.shape={uw.shape!r}")
            expected = _phases.phase_kernel_shape(kernel, strides, dilations)
            if expected != kshape:
                raise ConvmatError(
                    f"kernel_shape={kernel!r} does not match unit_weight.shape={uw.shape!r}: "
                    f"with stride={strides!r} and dilation={dilations!r} its phase kernels "
                    f"have shape {expected!r}"
                )
        c_out, c_in_g = uw.shape[0], uw.shape[1] // n_phases
        phase, q = _phases.tap_slots(kernel, strides, dilations, (0,) * n)
        grouped = uw.reshape(c_out, c_in_g, n_phases, *kshape)
        off_tap = np.ones((n_phases, *kshape), dtype=bool)
        taps = (phase, *q)
        off_tap[taps] = False
        stray = np.count_nonzero(grouped[:, :, off_tap])
        if stray:
            raise ConvmatError(
                f"unit_weight has {stray} non-zero entries where no tap of a kernel "
                f"{kernel!r} with stride={strides!r}, dilation={dilations!r} lands; it is a "
                f"unit-stride layer with no strided equivalent (the unit-stride form has "
                f"{uw.size} parameters, the strided one {c_out * c_in_g * math.prod(kernel)})"
            )
        taps = (slice(None), slice(None), phase, *q)
        return grouped[taps].reshape(c_out, c_in_g, *kernel)


# -------------------------------------------------------------------------------- polyphase


@dataclass(frozen=True, repr=False, eq=False)
class Polyphase:
    r"""A stride-1 convolution in the polyphase domain (see :func:`polyphase`).

    Attributes
    ----------
    weight : numpy.ndarray
    stride, dilation : tuple of int
        The polyphase factor ``s`` (a stride: the phases are those of a stride-``s``
        sampling) and the dilation. ``factor`` is the deprecated name of ``stride``.
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
    stride: tuple[int, ...]
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

    @property
    def factor(self) -> tuple[int, ...]:
        """Deprecated name of :attr:`stride` (warns)."""
        warn_renamed("Polyphase", "factor", "stride", stacklevel=2)
        return self.stride

    def block_weight(self, rho: int, r: int) -> np.ndarray:
        r"""Kernel of block ``H_{rho, r}`` (flat phase indices), ``(C_out, C_in/groups, *K)``.

        Per dim, ``H_{rho, r}[q] = w[j]`` where ``rho + d*j = s*q + r``: the phase
        ``(r - rho) mod s`` of the filter, one position later where ``r < rho`` (the
        wrap-around delay of a pseudo-circulant matrix).
        """
        n_phases = len(self.phases)
        with error_context("Polyphase.block_weight", rho=rho, r=r):
            rho, r = (self._phase_number(value, name) for value, name in ((rho, "rho"), (r, "r")))
        return self.unit_weight[rho::n_phases, r::n_phases]

    def _phase_number(self, value: object, name: str) -> int:
        number = as_int(value, name)
        if not 0 <= number < len(self.phases):
            raise ConvmatError(f"{name}={number} must be a flat phase index in "
                               f"range({len(self.phases)})")
        return number

    def matrix(self, format: str = "csr") -> sp.sparray:  # noqa: A002
        """The ``S x S`` block matrix ``row_permutation.T @ A @ column_permutation``."""
        with error_context("Polyphase.matrix", format=format):
            check_format(format)
        return sp.block_array(self.blocks, format=format)

    def __repr__(self) -> str:
        n_phases = len(self.phases)
        return (f"Polyphase(stride={self.stride}, dilation={self.dilation}, groups="
                f"{self.groups}): padded input {self.padded_shape} -> output "
                f"{self.output_shape}, {n_phases}x{n_phases} blocks, block kernels "
                f"{self.kernel_shape}")


def polyphase(
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] | _Missing = MISSING,  # required
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    factor: object = MISSING,  # the deprecated spelling
) -> Polyphase:
    r"""A stride-1 convolution written in the polyphase domain of stride (factor) ``s``.

    Both the stride-1 output and the padded input are split into their ``S = prod(s)``
    phases; the matrix becomes an ``S x S`` block matrix whose blocks are unit-stride
    Toeplitz matrices of phase-shifted pieces of the one filter (pseudo-circulant).

    Parameters
    ----------
    weight, input_shape, padding, dilation, groups
        As in :func:`convmat.conv_matrix` (the convolution itself has stride 1; the phases
        are those of the zero-padded input).
    stride : int or sequence of int
        The polyphase factor ``s`` per dim (required, keyword only): the phases are those of
        a stride-``s`` sampling of the output and of the padded input.
    factor : int or sequence of int
        Deprecated spelling of ``stride`` (warns).

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
    >>> pp = polyphase([1, 2, 3], (6,), stride=2)
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
    stride = cast("int | Sequence[int] | _Missing",  # either spelling, checked below
                  renamed("polyphase", "factor", factor, "stride", stride))
    if stride is MISSING:
        raise TypeError("polyphase() missing 1 required keyword-only argument: 'stride'")
    with error_context("polyphase", input_shape=input_shape,
                       weight_shape=shape_of(weight), stride=stride):
        w = as_weight(weight)
        geom = geometry.convolution_geometry(input_shape, w.shape, padding=padding,
                                             dilation=dilation, groups=groups)
        n = geom.ndim
        s = as_per_dim(_phases.required(stride, "stride", "2"), n, "stride", minimum=1)
        dilations = geom.dilation
        padded, out_shape = geom.padded_shape, geom.output_shape
        unit_geom = geometry.convolution_geometry(padded, w.shape, dilation=dilations,
                                                  groups=geom.groups)
        n_phases = math.prod(s)
        check_budget(
            polyphase_bytes(unit_geom, w.dtype.itemsize, n_phases, _phases.phase_kernel_shape(
                geom.kernel_shape, s, dilations, tuple(f - 1 for f in s))),
            f"polyphase with {n_phases}x{n_phases} blocks of a {unit_geom.shape[0]}x"
            f"{unit_geom.shape[1]} matrix", nnz=unit_geom.nnz_upper_bound(),
            advice="A stride larger than the input makes empty blocks. ")
        unit = conv_matrix(w, padded, dilation=dilations, groups=geom.groups)
        phases = _phases.residues(s)
        rows = _phases.phase_order(out_shape, s, geom.out_channels)
        cols = _phases.phase_order(padded, s, geom.in_channels)
        row_widths = [geom.out_channels * math.prod(_phases.phase_shape(out_shape, s, p))
                      for p in phases]
        col_widths = [geom.in_channels * math.prod(_phases.phase_shape(padded, s, p))
                      for p in phases]
        by_rows = _phases.split_columns(unit.T, rows, row_widths)  # transposed: rows as columns
        blocks = tuple(_phases.split_columns(band.T, cols, col_widths) for band in by_rows)
        kshape = _phases.phase_kernel_shape(geom.kernel_shape, s, dilations,
                                            tuple(f - 1 for f in s))
        w4 = _phases.as_channels(w, n)
        per_phase = [_phases.rearrange_weight(w4, s, dilations, rho, kshape) for rho in phases]
        unit_weight = np.stack(per_phase, axis=1).reshape(-1, *per_phase[0].shape[1:])
        return Polyphase(
            weight=w, stride=s, dilation=dilations, groups=geom.groups,
            in_channels=geom.in_channels, out_channels=geom.out_channels,
            padded_shape=padded, output_shape=out_shape, phases=phases,
            row_permutation=_phases.permutation(rows, w.dtype),
            column_permutation=_phases.permutation(cols, w.dtype), blocks=blocks,
            unit_weight=unit_weight, kernel_shape=kshape,
        )
