r"""Matrix-free convolution: a SciPy ``LinearOperator`` for layers too large to store.

:func:`conv_operator` takes the arguments of :func:`convmat.conv_matrix` and returns an
operator that applies the same map, :math:`y = A x`, and its adjoint (the transposed
convolution), :math:`x = A^\mathsf{T} y`, without forming :math:`A`. Memory is that of the
input, the padded input and the output; time is one small matrix product per kernel tap
(or one in all, when the windows tile the input).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse.linalg import LinearOperator

from . import geometry
from ._memory import check_budget
from ._padmap import index_map
from ._validate import as_weight
from .errors import error_context, shape_of

__all__ = ["conv_operator"]

#: most values of the stacked per-tap products held at once (one matrix product per chunk
#: of taps, in one buffer reused by every chunk; memory stays that of the vectors plus this
#: many values)
TAP_CHUNK = 1 << 18
#: taps are stacked into one product when each tap's product has fewer values than this
STACK_BELOW = 1 << 14
#: windows that tile the input are applied as one product per group on the input's tiles
TILES = True


@functools.lru_cache(maxsize=64)
def _tap_windows(g: geometry.ConvGeometry) -> list:
    """Per tap of ``g``: its kernel index and the strided slices of the padded input it
    reads (made once per geometry: a network's layers recur)."""
    return [(j, tuple(slice(jj * d, jj * d + (o - 1) * s + 1, s)
                      for jj, d, o, s in zip(j, g.dilation, g.output_shape, g.stride)))
            for j in np.ndindex(*g.kernel_shape)]


class ConvOperator(LinearOperator):
    r"""The convolution of a :class:`~convmat.geometry.ConvGeometry` as a ``LinearOperator``.

    ``matvec``/``matmat`` compute the convolution, ``rmatvec``/``rmatmat`` its adjoint.
    Columns of a ``matmat`` argument are independent inputs (a batch).

    Notes
    -----
    For every tap :math:`j` of the kernel and every group :math:`g`,

    .. math::

        Y_g \mathrel{+}= W_g[:, :, j]\; \tilde X_g[:, t s + j d],

    where :math:`\tilde X = P x` is the padded input (per-axis padding maps of
    :func:`convmat.padding.index_map`). The adjoint scatters the same products back and
    folds the padding with :math:`P^\mathsf{T}`. When the windows tile the input (stride
    = kernel, no padding or dilation) the taps of a window are one column of the
    input's tiles :math:`T_g` (space to depth) and :math:`Y_g = W_g T_g`, one product.
    """

    def __init__(self, weight: np.ndarray, geom: geometry.ConvGeometry) -> None:
        self.geom = geom
        n = geom.ndim
        #: the weight in the layout ``(C_out, C_in / groups, *kernel)``, as given
        self.weight = self._w = weight.reshape(geom.weight_shape)
        if geom.flip:
            self._w = self._w[(slice(None), slice(None)) + (slice(None, None, -1),) * n]
        # (C_out, C_in / groups, taps), taps in the order of :meth:`_taps`
        self._w_taps = self._w.reshape(*geom.weight_shape[:2], -1)
        self._maps = [index_map(i, b, a, geom.padding_mode)
                      for i, (b, a) in zip(geom.input_shape, geom.padding)]
        #: the windows tile the input (stride = kernel, no padding or dilation): then the
        #: layer is one matrix product per group on the input's tiles (space to depth), and
        #: with one output channel per group its adjoint on a batch one broadcast product
        self._tiled = TILES and geom.stride == geom.kernel_shape and all(
            d == 1 for d in geom.dilation) and not any(b or a for b, a in geom.padding)
        super().__init__(dtype=weight.dtype, shape=geom.shape)

    # -- helpers ---------------------------------------------------------------------------
    def _taps(self) -> list:
        """Per tap: the kernel index and the strided slice of the padded input it reads."""
        return _tap_windows(self.geom)

    def _pad(self, x: np.ndarray) -> np.ndarray:
        """(C, *input_shape, B) -> (C, *padded_shape, B), zeros where the mode says so."""
        g = self.geom
        if g.padding_mode == "zeros":  # the input (cropped where negative) into zeros
            source, target = [slice(None)], [slice(None)]
            for (b, a), n in zip(g.padding, g.input_shape):
                kept = n - max(-b, 0) - max(-a, 0)
                source.append(slice(max(-b, 0), max(-b, 0) + kept))
                target.append(slice(max(b, 0), max(b, 0) + kept))
            xp = np.zeros((x.shape[0], *g.padded_shape, x.shape[-1]), dtype=x.dtype)
            xp[tuple(target)] = x[tuple(source)]
            return xp
        for axis, m in enumerate(self._maps, start=1):
            inside = m >= 0
            taken = np.take(x, np.where(inside, m, 0), axis=axis)
            if not inside.all():
                shape = [1] * taken.ndim
                shape[axis] = m.size
                taken = taken * inside.reshape(shape)
            x = taken
        return x

    def _unpad(self, xp: np.ndarray) -> np.ndarray:
        """Adjoint of :meth:`_pad`: add every padded position back onto its source."""
        for axis, (m, n) in enumerate(zip(self._maps, self.geom.input_shape), start=1):
            keep = np.flatnonzero(m >= 0)
            if keep.size == n and keep[-1] - keep[0] + 1 == n and (m[keep] == np.arange(n)).all():
                # each input position read once, in order (zero padding, a crop): a slice
                index = [slice(None)] * xp.ndim
                index[axis] = slice(int(keep[0]), int(keep[-1]) + 1)
                xp = xp[tuple(index)]
                continue
            moved = np.moveaxis(xp, axis, 0)
            out = np.zeros((n, *moved.shape[1:]), dtype=xp.dtype)
            np.add.at(out, m[keep], moved[keep])
            xp = np.moveaxis(out, 0, axis)
        return xp

    def _grouped(self) -> Iterator[tuple[slice, slice]]:
        g = self.geom
        c_in_g, c_out_g = g.in_channels // g.groups, g.out_channels // g.groups
        for k in range(g.groups):
            yield (slice(k * c_out_g, (k + 1) * c_out_g), slice(k * c_in_g, (k + 1) * c_in_g))

    # -- LinearOperator interface -------------------------------------------------------------
    def _tap_chunks(self, per_tap: int) -> Iterator[tuple[slice, list]]:
        """The taps in chunks whose stacked products hold about :data:`TAP_CHUNK` values
        (``per_tap`` each): one matrix product per chunk instead of one per tap, when the
        per-tap products are small (below :data:`STACK_BELOW` values) and their number,
        not their size, would set the time."""
        taps = self._taps()
        # large products are efficient one per tap (stacking would only copy the input)
        step = 1 if per_tap >= STACK_BELOW else max(1, TAP_CHUNK // max(per_tap, 1))
        for first in range(0, len(taps), step):
            yield slice(first, first + step), taps[first:first + step]

    def _tiled_matmat(self, x: np.ndarray) -> np.ndarray:
        """``A x`` when the windows tile the input: per group, the weight
        ``(C_out/G, C_in/G * k)`` times the tiles ``(C_in/G * k, positions * B)``."""
        g = self.geom
        batch = x.shape[-1]
        c_in_g, c_out_g = g.in_channels // g.groups, g.out_channels // g.groups
        used = tuple(slice(0, o * k) for o, k in zip(g.output_shape, g.kernel_shape))
        x = x[(slice(None),) + used]  # the remainder no window reads (o k <= i)
        tiles = x.reshape(g.groups, c_in_g,
                          *[v for o, k in zip(g.output_shape, g.kernel_shape) for v in (o, k)],
                          batch)
        at = [2 + 2 * a for a in range(g.ndim)]  # (G, C_in/G, o_1, k_1, ..., o_N, k_N, B)
        tiles = tiles.transpose(0, 1, *[a + 1 for a in at], *at, tiles.ndim - 1).reshape(
            g.groups, c_in_g * math.prod(g.kernel_shape), -1)
        w = self._w_taps.reshape(g.groups, c_out_g, -1)  # (G, C_out/G, C_in/G * k)
        y = np.matmul(w, tiles)  # (G, C_out/G, positions * B)
        return y.reshape(g.out_channels * math.prod(g.output_shape), batch)

    def _tiled_rmatmat(self, y: np.ndarray) -> np.ndarray:
        """``A^T y`` when the windows tile the input and each group has one output channel:
        every tile is its output's value times the window's weights, one broadcast product
        written in the input's layout (zeros where no window reads)."""
        g = self.geom
        batch = y.shape[-1]
        c_in_g = g.in_channels // g.groups
        w = self._w_taps.conj().reshape(
            g.groups, c_in_g, *[v for k in g.kernel_shape for v in (1, k)], 1)
        y = y.reshape(g.groups, 1, *[v for o in g.output_shape for v in (o, 1)], batch)
        tiles = w * y  # (G, C_in/G, o_1, k_1, ..., o_N, k_N, B)
        covered = tuple(o * k for o, k in zip(g.output_shape, g.kernel_shape))
        if covered == g.input_shape:
            return tiles.reshape(g.in_channels * math.prod(g.input_shape), batch)
        x = np.zeros((g.in_channels, *g.input_shape, batch), dtype=tiles.dtype)
        x[(slice(None),) + tuple(slice(0, c) for c in covered)] = tiles.reshape(
            g.in_channels, *covered, batch)
        return x.reshape(g.in_channels * math.prod(g.input_shape), batch)

    def _matmat(self, x: np.ndarray) -> np.ndarray:
        g = self.geom
        batch = x.shape[1]
        if self._tiled:
            return self._tiled_matmat(np.asarray(x).reshape(g.in_channels, *g.input_shape,
                                                            batch))
        xp = self._pad(np.asarray(x).reshape(g.in_channels, *g.input_shape, batch))
        dtype = np.result_type(self._w, x)
        y = np.zeros((g.out_channels, *g.output_shape, batch), dtype=dtype)
        c_in_g = g.in_channels // g.groups
        if c_in_g == 1 and (g.groups > 1 or batch * math.prod(g.output_shape) >= STACK_BELOW):
            # one input channel per group (no channel sum): a broadcast multiply-add per tap
            # on a view of the input (no copy), unless one stacked product is cheaper; every
            # group at once: y as (G, C_out/G, ...), the input's channel g broadcast
            per_group = y.reshape(g.groups, -1, *y.shape[1:])
            ones = (1,) * (y.ndim - 1)
            for j, window in self._taps():
                patch = xp[(slice(None),) + window]  # (C_in, *output_shape, B), a view
                w = self._w[(slice(None), 0) + j]  # (C_out,)
                per_group += w.reshape(per_group.shape[:2] + ones) * patch[:, None]
            return y.reshape(g.out_channels * math.prod(g.output_shape), batch)
        flat = y.reshape(g.out_channels, -1)
        buffer = None  # one buffer for every chunk's patches (fresh pages once, not per chunk)
        for taps, chunk in self._tap_chunks(c_in_g * flat.shape[1]):
            # the chunk's patches stacked (C_in, taps, positions), one product per group
            if buffer is None:
                buffer = np.empty((g.in_channels, len(chunk), *g.output_shape, batch),
                                  dtype=xp.dtype)
            stacked = np.stack([xp[(slice(None),) + window] for _, window in chunk], axis=1,
                               out=buffer[:, :len(chunk)])
            stacked = stacked.reshape(g.in_channels, len(chunk), -1)
            for rows, cols in self._grouped():
                w = self._w_taps[rows, :, taps]  # (C_out/G, C_in/G, taps of the chunk)
                flat[rows] += w.reshape(w.shape[0], -1) @ stacked[cols].reshape(
                    -1, stacked.shape[2])
        return y.reshape(g.out_channels * math.prod(g.output_shape), batch)

    def _rmatmat(self, y: np.ndarray) -> np.ndarray:
        g = self.geom
        batch = y.shape[1]
        if self._tiled and g.out_channels == g.groups and batch > 1:
            # (several output channels a group would need a transposed copy, and with one
            # column the broadcast's innermost loop is a window's few positions: the per-tap
            # path is faster then)
            return self._tiled_rmatmat(np.asarray(y).reshape(g.out_channels, -1, batch))
        y = np.asarray(y).reshape(g.out_channels, -1)
        dtype = np.result_type(self._w, y)
        xp = np.zeros((g.in_channels, *g.padded_shape, batch), dtype=dtype)
        shaped = y.reshape(g.out_channels, *g.output_shape, batch)
        c_in_g = g.in_channels // g.groups
        if g.out_channels == g.groups and (g.groups > 1 or c_in_g * y.shape[1] >= STACK_BELOW):
            # one output channel per group: a broadcast multiply-add per tap, unless one
            # stacked product is cheaper; every group at once: the input as (G, C_in/G, ...),
            # output channel g broadcast
            per_group = xp.reshape(g.groups, c_in_g, *xp.shape[1:])
            ones = (1,) * (xp.ndim - 1)
            for j, window in self._taps():
                w = self._w[(slice(None), slice(None)) + j].conj()  # (G, C_in/G)
                per_group[(slice(None), slice(None)) + window] += \
                    w.reshape(w.shape + ones) * shaped[:, None]
            return self._unpad(xp).reshape(g.in_channels * math.prod(g.input_shape), batch)
        out_shape = (*g.output_shape, batch)
        buffer = None  # one buffer for every chunk's products (fresh pages once, not per chunk)
        for taps, chunk in self._tap_chunks(c_in_g * y.shape[1]):
            # every tap's products in one matrix product per group: (C_in/G * taps, positions)
            if buffer is None:
                buffer = np.empty((c_in_g * len(chunk), y.shape[1]), dtype=dtype)
            for rows, cols in self._grouped():
                w = self._w_taps[rows, :, taps]  # (C_out/G, C_in/G, taps of the chunk)
                # (taps * C_in/G, C_out/G): each tap's products one contiguous block
                w = w.transpose(2, 1, 0).reshape(-1, w.shape[0]).conj()
                products = np.matmul(w, y[rows], out=buffer[:w.shape[0]]).reshape(
                    len(chunk), c_in_g, *out_shape)
                for t, (_, window) in enumerate(chunk):
                    xp[(cols,) + window] += products[t]
        return self._unpad(xp).reshape(g.in_channels * math.prod(g.input_shape), batch)

    def _matvec(self, x: ArrayLike) -> np.ndarray:
        return self._matmat(np.asarray(x).reshape(-1, 1)).ravel()

    def _rmatvec(self, y: ArrayLike) -> np.ndarray:
        return self._rmatmat(np.asarray(y).reshape(-1, 1)).ravel()

    def _adjoint(self) -> _Adjoint:
        return _Adjoint(self)

    def __repr__(self) -> str:
        g = self.geom
        return (f"<ConvOperator {self.shape[0]}x{self.shape[1]}: input {g.input_shape}, "
                f"kernel {g.kernel_shape}, stride {g.stride}, padding {g.padding} "
                f"({g.padding_mode}), dilation {g.dilation}, groups {g.groups}, "
                f"dtype {self.dtype}>")


class _Adjoint(LinearOperator):
    def __init__(self, op: ConvOperator) -> None:
        self.op = op
        super().__init__(dtype=op.dtype, shape=op.shape[::-1])

    def _matmat(self, x: np.ndarray) -> np.ndarray:
        return self.op._rmatmat(x)

    def _rmatmat(self, x: np.ndarray) -> np.ndarray:
        return self.op._matmat(x)

    def _matvec(self, x: ArrayLike) -> np.ndarray:
        return self.op._rmatvec(x)

    def _rmatvec(self, x: ArrayLike) -> np.ndarray:
        return self.op._matvec(x)

    def _adjoint(self) -> ConvOperator:
        return self.op


def conv_operator(
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    flip: bool = False,
) -> ConvOperator:
    r"""The convolution of :func:`convmat.conv_matrix` as a matrix-free ``LinearOperator``.

    Parameters
    ----------
    weight, input_shape, stride, padding, dilation, groups, padding_mode, flip
        Exactly as :func:`convmat.conv_matrix`.

    Returns
    -------
    ConvOperator
        A :class:`scipy.sparse.linalg.LinearOperator` of the matrix's shape: ``op @ x``
        equals ``conv_matrix(...) @ x``, ``op.H @ y`` (``rmatvec``) the transposed
        convolution, and ``op @ X`` with ``X`` of shape ``(n, B)`` a batch.

    Notes
    -----
    Nothing of nnz size is allocated, so layers whose matrix exceeds the memory guard can
    still be applied, inverted iteratively (``scipy.sparse.linalg.lsqr``) or studied by
    their singular values (``scipy.sparse.linalg.svds``).

    Examples
    --------
    >>> import numpy as np
    >>> op = conv_operator([1, 2, 3], (5,))
    >>> op @ np.arange(5.0)
    array([ 8., 14., 20.])
    >>> op.H @ np.ones(3)
    array([1., 3., 6., 5., 3.])
    """
    with error_context("conv_operator", input_shape=input_shape, weight_shape=shape_of(weight)):
        w = as_weight(weight)
        geom = geometry.convolution_geometry(
            input_shape, w.shape, stride=stride, padding=padding, dilation=dilation,
            groups=groups, padding_mode=padding_mode, flip=flip,
        )
        # the padding maps (one int64 per padded position per axis, with temporaries) are
        # made here; the product's buffers are those of the vector the caller gives
        check_budget(24 * sum(geom.padded_shape), f"conv_operator of shape {geom.shape} "
                     f"(its padding maps)", advice="Less padding needs less. ")
        return ConvOperator(w, geom)
