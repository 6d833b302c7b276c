"""Layer kinds: upsampling (``Upsample``: nearest, nearest-exact, linear, bilinear,
trilinear), with PyTorch's index arithmetic."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .._validate import as_per_dim
from ..errors import ConvmatError, brief
from ._factors import kron_all, window_matrix
from ._kinds import Field, LinearKind, registered

__all__ = ["INTERPOLATION", "Upsample"]

INTERPOLATION = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear")
_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _linear_source(t, i: int, o: int, align_corners, scale):
    """The real source position of output ``t`` (array or scalar) of linear interpolation."""
    if align_corners:
        f = (i - 1) / (o - 1) if o > 1 else 0.0
        return f * t
    f = 1.0 / scale if scale is not None and scale > 0 else i / o
    return np.maximum(f * (t + 0.5) - 0.5, 0.0)


def _interpolation(i: int, o: int, mode: str, align_corners, scale) -> sp.csr_array:
    """The ``o x i`` matrix of 1-D interpolation, with PyTorch's index arithmetic."""
    t = np.arange(o, dtype=np.int64)
    if mode in ("nearest", "nearest-exact"):
        if mode == "nearest" and o == i:
            src = t
        elif mode == "nearest" and o == 2 * i:
            src = t >> 1
        else:  # PyTorch computes the nearest source in single precision
            f = (np.float32(1.0 / scale) if scale is not None and scale > 0
                 else np.float32(i) / np.float32(o))
            shift = np.float32(0.5) if mode == "nearest-exact" else np.float32(0)
            src = np.minimum(np.floor((t.astype(np.float32) + shift) * f).astype(np.int64),
                             i - 1)
        return window_matrix(src, src + 1, i)
    real = _linear_source(t, i, o, align_corners, scale)
    i0 = np.minimum(np.floor(real).astype(np.int64), i - 1)
    lam = np.clip(real - i0, 0.0, 1.0)
    i1 = i0 + (i0 < i - 1)
    rows = np.repeat(t, 2)
    cols = np.stack([i0, i1], axis=1).ravel()
    data = np.stack([1.0 - lam, lam], axis=1).ravel()
    matrix = sp.coo_array((data, (rows, cols)), shape=(o, i)).tocsr()
    matrix.sum_duplicates()
    return matrix


def _interpolation_entries(i: int, o: int, mode: str, align_corners, scale) -> int:
    """``_interpolation(...).nnz`` without building it: one entry per row for the nearest
    modes; for linear, two per row but one where the source reaches the last input (the
    source position grows with the row: the first such row is found by bisection, with
    the same floating-point formula)."""
    if mode in ("nearest", "nearest-exact"):
        return o
    lo, hi = 0, o  # the first row whose source is >= i - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if _linear_source(np.float64(mid), i, o, align_corners, scale) >= i - 1:
            hi = mid
        else:
            lo = mid + 1
    return o + lo


@registered
class Upsample(LinearKind):
    name = "upsample"
    words = ("upsample",)
    modules = ("Upsample",)
    positional = ("scale_factor",)

    def read_module(self, stage, m, ndim):
        if m.mode not in INTERPOLATION:
            raise ConvmatError(f"mode={brief(m.mode)} is not supported (nearest, nearest-exact, "
                               f"linear, bilinear, trilinear are)")
        stage.cfg = dict(size=m.size, scale_factor=m.scale_factor, mode=m.mode,
                         align_corners=bool(m.align_corners),
                         recompute_scale_factor=m.recompute_scale_factor)

    def read_description(self, stage, take, word, shape):
        stage.cfg = dict(size=take("size", None), scale_factor=take("scale_factor", None),
                         mode=take("mode", "nearest"),
                         align_corners=bool(take("align_corners", False)),
                         recompute_scale_factor=None)
        if stage.cfg["mode"] not in INTERPOLATION:
            raise ConvmatError(f"mode={stage.cfg['mode']!r} is not one of {INTERPOLATION}")
        stage.type = "Upsample"

    def first_geometry(self, stage):
        return None, None, False  # looks through

    def plan(self, stage, spatial: tuple):
        """(output spatial shape, per-dim scale given to the kernel or None)."""
        cfg = stage.cfg
        n = len(spatial)
        if cfg["size"] is not None:
            return as_per_dim(cfg["size"], n, "size", minimum=1), (None,) * n
        factors = cfg["scale_factor"]
        factors = tuple(factors) if isinstance(factors, (tuple, list)) else (factors,) * n
        if len(factors) != n or any(f is None or f <= 0 for f in factors):
            raise ConvmatError(f"scale_factor={cfg['scale_factor']!r} must be one positive "
                               f"number or one per spatial dim ({n})")
        size = tuple(int(math.floor(float(i) * float(f))) for i, f in zip(spatial, factors))
        if any(v < 1 for v in size):
            raise ConvmatError(f"scale_factor={cfg['scale_factor']!r} gives the empty output "
                               f"{brief(size)}")
        scales = (None,) * n if cfg.get("recompute_scale_factor") else tuple(map(float, factors))
        return size, scales

    def out_shape(self, stage, shape):
        n = len(shape) - 1
        want = _LINEAR_DIMS.get(stage.cfg["mode"])
        if n < 1 or (want is not None and n != want):
            raise ConvmatError(f"mode={stage.cfg['mode']!r} expects {want} spatial dims, got "
                               f"an input of shape {brief(shape)}")
        size, _ = self.plan(stage, shape[1:])
        return (shape[0], *size)

    def _per_dim(self, stage, shape):
        size, scales = self.plan(stage, shape[1:])
        mode = "linear" if stage.cfg["mode"] in _LINEAR_DIMS else stage.cfg["mode"]
        return [(i, o, mode, stage.cfg["align_corners"], s)
                for i, o, s in zip(shape[1:], size, scales)]

    def stored(self, stage, shape, out_shape):
        count = shape[0]
        for args in self._per_dim(stage, shape):
            count *= _interpolation_entries(*args)
        return count, True

    def matrix(self, stage, shape, out_shape):
        factors = [_interpolation(*args) for args in self._per_dim(stage, shape)]
        return kron_all(factors, shape[0]), np.zeros(math.prod(out_shape))

    def field_step(self, stage, shape):
        return Field.ENDS  # no integer window

    def spectral(self, stage, shape, norm):
        return None  # not computed for upsampling
