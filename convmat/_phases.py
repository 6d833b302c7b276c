r"""Phase algebra of Kong & Lucey: polyphase components by index arithmetic, no values.

For a stride ``s`` per dim, position ``p`` of the padded input belongs to phase ``r = p mod
s`` at position ``p // s``; kernel tap ``j`` at dilation ``d`` sits at ``d j = s q + r``.
:mod:`convmat.striding` (numeric) and :mod:`convmat.symbolic` (sympy) build their Kong &
Lucey results from the same fields computed here.

The blocks themselves come straight from the index engine (:func:`phase_blocks`): the
columns of a strided convolution matrix that read phase :math:`r`, :math:`x_r[m] = x[s m +
r]`, form :math:`T_r[t, m] = w[j]` for :math:`d j = s (m - t) + r`. Per dimension the taps
landing in phase :math:`r` are :math:`j = j_0, j_0 + s/g, \ldots` with :math:`g = \gcd(s,
d)`, reading phase position :math:`m = t + q_0 + (d/g) u` for the :math:`u`-th of them,
:math:`q_0 = (d j_0 - r)/s`. So :math:`T_r` *is* a convolution matrix: stride 1, dilation
:math:`d/g`, the sub-kernel ``w[..., j0::s/g]`` and the phase input cropped by :math:`q_0`
before (a negative padding), output restricted to the strided output; no strided matrix is
formed and no column is sliced.

Conventions: phases are enumerated in C order over the per-dim residues (``np.ndindex``);
permuted columns are phase-major, then channel, then position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from . import geometry
from ._engine import build
from ._memory import index_dtype_for
from .errors import ConvmatError
from .geometry import ConvGeometry, ceil_div

__all__ = [
    "as_channels", "kong_lucey_fields", "permutation", "phase_kernel_shape", "phase_order",
    "phase_blocks", "phase_geometry", "phase_shape", "rearrange_weight", "residues", "required",
    "split_columns",
    "strided_geometry", "tap_slots",
]


def residues(stride: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """Per-dim residues of every phase, in C order."""
    return tuple(np.ndindex(*stride))


def phase_shape(shape, stride, phase) -> tuple[int, ...]:
    """Length of ``x[r::s]`` per dim (0 when the residue lies past the end)."""
    return tuple(ceil_div(n - r, s) for n, s, r in zip(shape, stride, phase))


def phase_order(shape, stride, channels: int) -> np.ndarray:
    """Flat indices into ``(channels, *shape)`` grouped by phase: phase, channel, position."""
    size = math.prod(shape)
    parts = []
    for phase in residues(stride):
        flat = np.zeros((), dtype=np.int64)
        for n, s, r in zip(shape, stride, phase):
            flat = flat[..., None] * n + np.arange(r, n, s, dtype=np.int64)
        parts.append((np.arange(channels, dtype=np.int64)[:, None] * size
                      + flat.ravel()).ravel())
    return np.concatenate(parts)


def permutation(order: np.ndarray, dtype) -> sp.csr_array:
    """Square permutation ``Pi[order[k], k] = 1``, so ``(A @ Pi)[:, k] = A[:, order[k]]``."""
    n = order.size
    index = index_dtype_for(n)  # int32 unless needed, as every other index of the package
    return sp.csc_array((np.ones(n, dtype=dtype), order.astype(index, copy=False),
                         np.arange(n + 1, dtype=index)), shape=(n, n)).tocsr()


def split_columns(matrix, order: np.ndarray, widths: Sequence[int]) -> tuple:
    """Columns of ``matrix`` taken in ``order``, cut into consecutive blocks of ``widths``."""
    permuted = sp.csc_array(matrix)[:, order]
    cuts = np.concatenate(([0], np.cumsum(widths)))
    return tuple(permuted[:, lo:hi].tocsr() for lo, hi in zip(cuts[:-1], cuts[1:]))


def tap_slots(kernel_shape, stride, dilation, offset):
    """Where each tap goes: ``offset + d*j = s*q + r`` per dim, taps ``j`` in C order.

    Returns the flat phase index of ``r`` and the per-dim positions ``q`` (one row per dim).
    """
    j = np.indices(kernel_shape).reshape(len(kernel_shape), -1)
    pos = np.asarray(offset)[:, None] + np.asarray(dilation)[:, None] * j
    q, r = np.divmod(pos, np.asarray(stride)[:, None])
    return np.ravel_multi_index(tuple(r), stride), q


def phase_kernel_shape(kernel_shape, stride, dilation, offset=None) -> tuple[int, ...]:
    """Size per dim of the phase kernels: ``ceil(k_eff / s)`` (``offset`` adds up to ``s-1``)."""
    offset = offset or (0,) * len(stride)
    return tuple((o + d * (k - 1)) // s + 1
                 for k, s, d, o in zip(kernel_shape, stride, dilation, offset))


def rearrange_weight(w4: np.ndarray, stride, dilation, offset, kshape) -> np.ndarray:
    """``(C_out, C_in/G, *k)`` → ``(C_out, C_in/G * S, *kshape)``: channel ``c*S + r``, position
    ``q`` holds the tap ``j`` with ``offset + d*j = s*q + r`` (zero elsewhere)."""
    c_out, c_in_g, *kernel = w4.shape
    n_phases = math.prod(stride)
    phase, q = tap_slots(tuple(kernel), stride, dilation, offset)
    out = np.zeros((c_out, c_in_g, n_phases, *kshape), dtype=w4.dtype)
    taps = (slice(None), slice(None), phase, *q)
    out[taps] = w4.reshape(c_out, c_in_g, -1)
    return out.reshape(c_out, c_in_g * n_phases, *kshape)


def as_channels(weight: np.ndarray, ndim: int) -> np.ndarray:
    """A bare kernel as ``(1, 1, *kernel)``; the channel layout unchanged."""
    return weight.reshape((1, 1) + weight.shape) if weight.ndim == ndim else weight


def required(value, name: str, example: str):
    if value is None:
        raise ConvmatError(f"{name}=None: {name} is required (an int or one int per spatial "
                           f"dim, each >= 1), e.g. {name}={example}")
    return value


def strided_geometry(w, input_shape, stride, padding, dilation, groups, padding_mode):
    return geometry.convolution_geometry(
        input_shape, w.shape, stride=required(stride, "stride", "2"), padding=padding,
        dilation=dilation, groups=groups, padding_mode=padding_mode)


def kong_lucey_fields(w: np.ndarray, geom: geometry.ConvGeometry):
    """The value-independent fields of a :class:`KongLucey` plus ``unit_weight``; the phase
    order of the padded input's entries and the column count of every block."""
    n, s, padded = geom.ndim, geom.stride, geom.padded_shape
    phases = residues(s)
    phase_shapes = tuple(phase_shape(padded, s, r) for r in phases)
    kshape = phase_kernel_shape(geom.kernel_shape, s, geom.dilation)
    fields = dict(
        weight=w, input_shape=geom.input_shape, padded_shape=padded,
        output_shape=geom.output_shape, stride=s, dilation=geom.dilation,
        padding=geom.padding, padding_mode=geom.padding_mode, groups=geom.groups,
        in_channels=geom.in_channels, out_channels=geom.out_channels, phases=phases,
        phase_shapes=phase_shapes, phase_shape=tuple(ceil_div(p, f) for p, f in zip(padded, s)),
        kernel_shape=kshape,
        unit_weight=rearrange_weight(as_channels(w, n), s, geom.dilation, (0,) * n, kshape),
    )
    order = phase_order(padded, s, geom.in_channels)
    fields["column_order"] = order
    widths = [geom.in_channels * math.prod(shape) for shape in phase_shapes]
    return fields, order, widths


# -- the blocks T_r straight from the engine ----------------------------------------------

def _axis_phase(padded: int, k: int, s: int, d: int, o: int, r: int):
    """(phase length, tap indices, dilation, padding pair) of phase ``r`` along one axis."""
    length = -(-(padded - r) // s) if padded > r else 0
    taps = np.flatnonzero((d * np.arange(k)) % s == r)
    if taps.size == 0 or length == 0:
        return length, taps, 1, (0, 0)
    dil = d // math.gcd(s, d)
    q0 = (d * int(taps[0]) - r) // s
    span = dil * (taps.size - 1) + 1
    before = -q0
    after = (o - 1) + span - (length + before)  # so that the output has o positions
    return length, taps, dil, (before, after)


def phase_geometry(geom: ConvGeometry, r: tuple[int, ...]):
    """The unit-stride geometry of phase ``r`` of ``geom`` (whose input is the padded
    input, zero padding) and the per-axis tap indices of its sub-kernel; ``None`` for the
    geometry when the block is all zeros (no tap lands in the phase, or it is empty)."""
    parts = [_axis_phase(p, k, s, d, o, rr) for p, k, s, d, o, rr in zip(
        geom.input_shape, geom.kernel_shape, geom.stride, geom.dilation, geom.output_shape, r)]
    lengths = tuple(p[0] for p in parts)
    taps = tuple(p[1] for p in parts)
    if any(t.size == 0 for t in taps) or 0 in lengths:
        return lengths, taps, None
    sub = ConvGeometry(lengths, tuple(t.size for t in taps), geom.output_shape,
                       (1,) * geom.ndim, tuple(p[2] for p in parts), tuple(p[3] for p in parts),
                       geom.in_channels, geom.out_channels, geom.groups)
    return lengths, taps, sub


def phase_blocks(geom: ConvGeometry, weight: np.ndarray) -> tuple:
    """The CSR blocks ``T_r`` (phases ``r`` in C order) of the strided convolution
    ``geom`` (zero padding; its input is the padded input) with values from ``weight``.

    Examples
    --------
    >>> from convmat.geometry import convolution_geometry
    >>> g = convolution_geometry((7,), (3,), stride=2)
    >>> [b.toarray().tolist() for b in phase_blocks(g, np.array([1, 2, 3]))]
    [[[1, 3, 0, 0], [0, 1, 3, 0], [0, 0, 1, 3]], [[2, 0, 0], [0, 2, 0], [0, 0, 2]]]
    """
    w = np.asarray(weight).reshape(geom.weight_shape)
    rows = geom.out_channels * math.prod(geom.output_shape)
    blocks = []
    for r in np.ndindex(*geom.stride):  # one block per phase
        lengths, taps, sub = phase_geometry(geom, r)
        cols = geom.in_channels * math.prod(lengths)
        if sub is None:
            idx = index_dtype_for(max(rows, cols) + 1)
            blocks.append(sp.csr_array((np.zeros(0, dtype=w.dtype), np.zeros(0, dtype=idx),
                                        np.zeros(rows + 1, dtype=idx)), shape=(rows, cols)))
            continue
        structure = build(sub)
        sub_weight = w[(slice(None), slice(None)) + np.ix_(*taps)]
        block = sp.csr_array((structure.gather(sub_weight), structure.indices,
                              structure.indptr), shape=structure.shape)
        block.has_canonical_format = True
        blocks.append(block)
    return tuple(blocks)
