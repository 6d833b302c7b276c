r"""Kong & Lucey's phase blocks straight from the index engine.

The columns of a strided convolution matrix (zero padding already applied: the input is
the padded input) that read phase :math:`r` of the input, :math:`x_r[m] = x[s m + r]`,
form the block :math:`T_r[t, m] = w[j]` for :math:`d j = s (m - t) + r`. Per dimension the
taps landing in phase :math:`r` are :math:`j = j_0, j_0 + s/g, j_0 + 2s/g, \ldots` with
:math:`g = \gcd(s, d)`, reading phase position :math:`m = t + q_0 + (d/g) u` for the
:math:`u`-th of them, :math:`q_0 = (d j_0 - r)/s`. So :math:`T_r` *is* a convolution matrix:
stride 1, dilation :math:`d/g`, the sub-kernel ``w[..., j0::s/g]`` and the phase input
cropped by :math:`q_0` before (a negative padding), output restricted to the strided
output. Each block is built by :func:`convmat._structure.build` at the engine's speed —
no strided matrix is formed and no column is sliced.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .geometry import ConvGeometry
from ._structure import build
from .memory import index_dtype_for

__all__ = ["phase_geometry", "phase_blocks"]


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
    >>> from convmat.geometry import conv_geometry
    >>> g = conv_geometry((3,), (7,), stride=2)
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
