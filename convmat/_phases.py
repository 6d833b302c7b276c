"""Phase algebra of Kong & Lucey: polyphase components by index arithmetic, no values.

For a stride ``s`` per dim, position ``p`` of the padded input belongs to phase ``r = p mod
s`` at position ``p // s``; kernel tap ``j`` at dilation ``d`` sits at ``d j = s q + r``.
:mod:`convmat.striding` (numeric) and :mod:`convmat.symbolic` (sympy) build their Kong &
Lucey results from the same fields computed here.

Conventions: phases are enumerated in C order over the per-dim residues (``np.ndindex``);
permuted columns are phase-major, then channel, then position.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from . import geometry
from ._memory import index_dtype_for
from .errors import ConvmatError
from .geometry import ceil_div

__all__ = [
    "as_channels", "kong_lucey_fields", "permutation", "phase_kernel_shape", "phase_order",
    "phase_shape", "rearrange_weight", "residues", "required", "split_columns",
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
    out[(slice(None), slice(None), phase, *q)] = w4.reshape(c_out, c_in_g, -1)
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
    return geometry.conv_geometry(
        w.shape, input_shape, stride=required(stride, "stride", "2"), padding=padding,
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
