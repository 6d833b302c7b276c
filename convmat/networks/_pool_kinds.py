"""Layer kinds: pooling (``AvgPoolNd``, ``MaxPoolNd``, ``AdaptiveAvgPoolNd``,
``AdaptiveMaxPoolNd``), with PyTorch's output sizes and divisors."""

from __future__ import annotations

import functools
import math

import numpy as np
import scipy.sparse as sp

from .. import _engine, _maxima, geometry
from .._validate import as_per_dim
from ..errors import ConvmatError
from ..pooling import avg_pool_matrix, pool_geometry
from ..receptive import Layer
from ._factors import Rows, kron_all, window_matrix
from ._kinds import Field, LinearKind, NonLinearKind, registered, spatial_split

__all__ = ["AdaptiveAvgPool", "AdaptiveMaxPool", "AvgPool", "MaxPool", "pool_pairs"]


def _suffix(ndim: int) -> str:
    return f"{ndim}d" if 1 <= ndim <= 3 else f"{ndim}-D"


def pool_pairs(i_shape, kernel, stride, padding, dilation, ceil_mode, what):
    """PyTorch's pooling output size; padding pairs with the extra ``ceil_mode`` room."""
    pairs, out = [], []
    for axis, (i, k, s, p, d) in enumerate(zip(i_shape, kernel, stride, padding, dilation)):
        span = geometry.effective_size(k, d)
        if 2 * p > span:
            raise ConvmatError(f"padding={p} must be at most half of the {what} window "
                               f"{span} (dim {axis}), as PyTorch requires")
        numerator = i + 2 * p - span + (s - 1 if ceil_mode else 0)
        if numerator < 0 or (not ceil_mode and i + 2 * p < span):
            raise ConvmatError(f"the {what} window {span} is larger than the padded input "
                               f"{i + 2 * p} (dim {axis})")
        o = numerator // s + 1
        if ceil_mode and (o - 1) * s >= i + p:
            o -= 1
        pairs.append((p, p + max(0, (o - 1) * s + span - (i + 2 * p))))
        out.append(o)
    return tuple(pairs), tuple(out)


def _adaptive_windows(i: int, o: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(o, dtype=np.int64)
    return (t * i) // o, ((t + 1) * i + o - 1) // o


@functools.lru_cache(maxsize=64)
def _avg_divisor(spatial, kernel, stride, pairs, out, count_include_pad, override):
    """PyTorch's divisor of every average-pooling window (C order over the positions, made
    once per configuration; read-only) and whether all are alike: ``override`` when
    given, else the window clipped to the padded input (to the bare input without
    ``count_include_pad``)."""
    if override:
        divisor = np.full(math.prod(out), override)
    else:
        divisor = np.ones(())
        for i, k, s, (p, _), o in zip(spatial, kernel, stride, pairs, out):
            start = np.arange(o) * s - p
            end = np.minimum(start + k, i + p)
            if not count_include_pad:
                start, end = np.maximum(start, 0), np.minimum(end, i)
            divisor = np.multiply.outer(divisor, end - start)
        divisor = divisor.ravel().astype(np.float64)
    divisor.flags.writeable = False
    return divisor, bool(np.all(divisor == divisor[0]))


class _Windows:
    """What average and max pooling share: PyTorch's configuration and output size."""

    average: bool
    positional = ("kernel_size",)

    def first_geometry(self, stage):
        return stage.cfg["ndim"], None, False

    def _what(self):
        return "avg pooling" if self.average else "max pooling"

    def read_module(self, stage, m, ndim):
        def per(value):
            return as_per_dim(value, ndim, "kernel_size", minimum=0)

        if not self.average and m.return_indices:
            raise ConvmatError("return_indices=True returns a tuple, not a tensor")
        stage.cfg = dict(ndim=ndim, kernel_size=per(m.kernel_size),
                         stride=per(m.stride or m.kernel_size), padding=per(m.padding),
                         dilation=per(getattr(m, "dilation", 1)), ceil_mode=bool(m.ceil_mode))
        if self.average:
            stage.cfg.update(count_include_pad=bool(m.count_include_pad),
                             divisor_override=getattr(m, "divisor_override", None))

    def read_description(self, stage, take, word, shape):
        ndim = max(len(shape) - 1, 1)
        kernel = as_per_dim(take("kernel_size", None), ndim, "kernel_size", minimum=1)
        stride = take("stride", None)
        stage.cfg = dict(ndim=ndim, kernel_size=kernel,
                         stride=kernel if stride is None else as_per_dim(stride, ndim, "stride",
                                                                         minimum=1),
                         padding=as_per_dim(take("padding", 0), ndim, "padding", minimum=0),
                         dilation=as_per_dim(take("dilation", 1), ndim, "dilation", minimum=1),
                         ceil_mode=bool(take("ceil_mode", False)),
                         count_include_pad=bool(take("count_include_pad", True)),
                         divisor_override=take("divisor_override", None))
        if self.average and any(v != 1 for v in stage.cfg["dilation"]):
            raise ConvmatError("average pooling has no dilation")
        stage.type = f"{'Avg' if self.average else 'Max'}Pool{_suffix(ndim)}"
        stage.parameters = 0

    def pairs(self, stage, spatial):
        cfg = stage.cfg
        return pool_pairs(spatial, cfg["kernel_size"], cfg["stride"], cfg["padding"],
                          cfg["dilation"], cfg["ceil_mode"], self._what())

    def out_shape(self, stage, shape):
        n = stage.cfg["ndim"]
        _, spatial = spatial_split(shape, n)
        return (*shape[:-n], *self.pairs(stage, spatial)[1])

    def field_step(self, stage, shape):
        cfg = stage.cfg
        return Layer(cfg["kernel_size"], stride=cfg["stride"],
                     padding=[(p, p) for p in cfg["padding"]], dilation=cfg["dilation"])

    def spectral(self, stage, shape, norm):
        return None  # not computed for pooling


@registered
class AvgPool(_Windows, LinearKind):
    name = "avgpool"
    words = ("avgpool",)
    modules = ("AvgPool1d", "AvgPool2d", "AvgPool3d")
    average = True

    def stored(self, stage, shape, out_shape):
        cfg = stage.cfg
        lead, spatial = spatial_split(shape, cfg["ndim"])
        pairs, out = self.pairs(stage, spatial)
        per_dim = 1
        for i, k, s, (b, _), o in zip(spatial, cfg["kernel_size"], cfg["stride"], pairs, out):
            per_dim *= geometry.axis_entries(i, k, s, 1, b, o)
        return lead * per_dim, True

    def matrix(self, stage, shape, out_shape):
        cfg, n = stage.cfg, stage.cfg["ndim"]
        lead, spatial = spatial_split(shape, n)
        pairs, _ = self.pairs(stage, spatial)
        override = cfg["divisor_override"]
        divisor, alike = _avg_divisor(spatial, tuple(cfg["kernel_size"]), tuple(cfg["stride"]),
                                      pairs, tuple(out_shape[-n:]),
                                      bool(cfg["count_include_pad"]),
                                      float(override) if override else None)
        zeros = np.zeros(math.prod(out_shape))
        structure = _engine.shared(pool_geometry(spatial, cfg["kernel_size"],
                                                 stride=cfg["stride"], padding=pairs,
                                                 channels=lead))
        if structure is None:  # a large layer: built (memory-guarded) as the public one is
            a = avg_pool_matrix(spatial, cfg["kernel_size"], stride=cfg["stride"],
                                padding=pairs, channels=lead, divisor_override=1)
            a.data /= np.repeat(np.tile(divisor, lead), np.diff(a.indptr))
            return a, zeros
        # the windows' cached structure (its index arrays copied: the cache shares them)
        if alike:  # every window divided alike
            data = np.full(structure.nnz, 1 / divisor[0])
        else:
            data = np.repeat(np.tile(1 / divisor, lead), np.diff(structure.indptr))
        a = sp.csr_array((data, structure.indices.copy(), structure.indptr.copy()),
                         shape=structure.shape)
        a.has_canonical_format = True
        return a, zeros


@registered
class MaxPool(_Windows, NonLinearKind):
    name = "maxpool"
    words = ("maxpool",)
    modules = ("MaxPool1d", "MaxPool2d", "MaxPool3d")
    average = False

    def stored(self, stage, shape, out_shape):
        return math.prod(out_shape), True

    def jacobian(self, stage, x, shape, out_shape):
        """The selection of every window's maximum (the first in C order, the last NaN),
        as :func:`convmat.max_pool_matrix` picks it."""
        cfg = stage.cfg
        lead, spatial = spatial_split(shape, cfg["ndim"])
        pairs, _ = self.pairs(stage, spatial)
        geom = pool_geometry(spatial, cfg["kernel_size"], stride=cfg["stride"], padding=pairs,
                             dilation=cfg["dilation"], channels=lead)
        columns = _maxima.window_maxima(x.reshape(lead, *spatial), geom, guard="max pooling")
        return Rows(columns, np.ones(columns.size), geom.shape[1]), None, x[columns]


class _Adaptive:
    """What adaptive average and max pooling share: the windows ``floor(t i / o)`` to
    ``ceil((t + 1) i / o)``."""

    positional = ("output_size",)
    average: bool

    def first_geometry(self, stage):
        return stage.cfg["ndim"], None, False

    def read_module(self, stage, m, ndim):
        if getattr(m, "return_indices", False):
            raise ConvmatError("return_indices=True returns a tuple, not a tensor")
        stage.cfg = dict(ndim=ndim, output_size=m.output_size)

    def read_description(self, stage, take, word, shape):
        ndim = max(len(shape) - 1, 1)
        stage.cfg = dict(ndim=ndim, output_size=as_per_dim(take("output_size", None), ndim,
                                                           "output_size", minimum=1))
        stage.type = f"Adaptive{'Avg' if self.average else 'Max'}Pool{_suffix(ndim)}"
        stage.parameters = 0

    def out_shape(self, stage, shape):
        n = stage.cfg["ndim"]
        spatial_split(shape, n)
        size = stage.cfg["output_size"]
        size = tuple(size) if isinstance(size, (tuple, list)) else (size,) * n
        out = tuple(i if o is None else int(o) for i, o in zip(shape[-n:], size))
        return (*shape[:-n], *out)

    def windows(self, stage, shape, out_shape, values: bool):
        n = stage.cfg["ndim"]
        lead, spatial = spatial_split(shape, n)
        factors = []
        for i, o in zip(spatial, out_shape[-n:]):
            start, end = _adaptive_windows(i, o)
            factors.append(window_matrix(start, end, i, 1.0 / (end - start) if values else None))
        return kron_all(factors, lead)

    def field_step(self, stage, shape):
        n = stage.cfg["ndim"]
        out = self.out_shape(stage, shape)[-n:]
        if all(i % o == 0 for i, o in zip(shape[-n:], out)):
            k = tuple(i // o for i, o in zip(shape[-n:], out))
            return Layer(k, stride=k)
        return Field.ENDS

    def spectral(self, stage, shape, norm):
        return None  # not computed for pooling


@registered
class AdaptiveAvgPool(_Adaptive, LinearKind):
    name = "adaptive_avgpool"
    words = ("adaptiveavgpool", "adaptive_avgpool")
    modules = ("AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d")
    average = True

    def stored(self, stage, shape, out_shape):
        n = stage.cfg["ndim"]
        lead, spatial = spatial_split(shape, n)
        per_dim = 1
        for i, o in zip(spatial, out_shape[-n:]):  # sum of ceil((t+1) i/o) - floor(t i/o)
            per_dim *= (geometry.floor_sum(o, o, i, i + o - 1) - geometry.floor_sum(o, o, i, 0))
        return lead * per_dim, True

    def matrix(self, stage, shape, out_shape):
        return self.windows(stage, shape, out_shape, True), np.zeros(math.prod(out_shape))


@registered
class AdaptiveMaxPool(_Adaptive, NonLinearKind):
    name = "adaptive_maxpool"
    words = ("adaptivemaxpool", "adaptive_maxpool")
    modules = ("AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d")
    average = False

    def stored(self, stage, shape, out_shape):
        return math.prod(out_shape), True

    def jacobian(self, stage, x, shape, out_shape):
        """The selection of every window's maximum, by the engine's row maxima on the
        windows' matrix."""
        windows = self.windows(stage, shape, out_shape, False)
        columns = windows.indices[_maxima.row_argmax(windows.indptr, windows.indices, x)]
        return Rows(columns, np.ones(columns.size), windows.shape[1]), None, x[columns]
