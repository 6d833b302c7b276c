r"""One validated convolution layer for the spectral functions, and its fast products.

:class:`Layer` checks a spectral request once (the arguments of :func:`convmat.conv_matrix`,
or a PyTorch ``nn.Conv1d/2d/3d`` whose weight, stride, padding, dilation, groups and padding
mode are read from it). :func:`fast_products` applies the layer and its adjoint without a
matrix: PyTorch's ``convNd``/``conv_transpose_Nd`` when torch is installed (imported here,
inside the function), :func:`convmat.conv_operator` otherwise. Both factor the layer as

.. math::

    A = V P, \qquad P = P_1 \otimes \cdots \otimes P_N,

with :math:`V` the padding-free ("valid") convolution on the padded grid and :math:`P_i` the
padding map of axis :math:`i` (one 1 per row: which input position a padded position copies;
a zero row for a padding zero). :math:`P^\mathsf{T} P` is diagonal (the number of copies of
each input position), so :math:`\|P\|_2 = \prod_i \sqrt{\max \text{copies}_i}`
(:func:`padding_norm`).
"""

from __future__ import annotations

import contextlib
import functools
import math
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import geometry
from ._memory import check_budget
from ._padmap import index_map
from ._validate import as_weight
from .errors import ConvmatError, brief
from .operator import conv_operator

__all__ = ["Layer", "read_layer", "fast_products", "padding_norm", "padding_matrices",
           "limited_threads", "THREADS", "torch_or_none", "Progress"]

#: the geometry keywords a PyTorch layer carries, with the public functions' defaults
GEOMETRY_DEFAULTS = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1,
                     "padding_mode": "zeros"}


def torch_or_none():
    """``torch`` if it is installed (imported on first use only), else ``None``."""
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is optional
        return None
    return torch


def _is_torch_conv(obj: object) -> bool:
    kind = type(obj)
    return (kind.__module__.startswith("torch.nn") and hasattr(obj, "weight")
            and hasattr(obj, "padding_mode") and hasattr(obj, "dilation"))


def read_layer(weight: Any, given: dict) -> tuple[object, dict]:
    """``(weight, geometry keywords)``: a PyTorch ``nn.ConvNd`` gives both (a keyword also
    given to the call with another value than its default is refused); a tensor gives its
    values; anything else passes through."""
    if _is_torch_conv(weight):
        module = weight
        if getattr(module, "transposed", False):
            raise ConvmatError(
                f"weight={type(module).__name__} is a transposed convolution; the spectral "
                f"functions take a forward convolution (its adjoint has the same singular "
                f"values: pass the forward layer of the same weight)")
        read = {"stride": tuple(module.stride), "padding": module.padding,
                "dilation": tuple(module.dilation), "groups": int(module.groups),
                "padding_mode": module.padding_mode}
        if isinstance(read["padding"], (tuple, list)):
            read["padding"] = tuple(int(p) for p in read["padding"])
        for key, value in given.items():
            if key in read and value is not GEOMETRY_DEFAULTS[key] and \
                    value != GEOMETRY_DEFAULTS[key]:
                raise ConvmatError(
                    f"{key}={brief(value)} was given for a PyTorch layer, which carries its "
                    f"own {key}={brief(read[key])}; pass either the layer or its weight")
        merged = dict(given)
        merged.update(read)
        return module.weight.detach().cpu().numpy(), merged
    if hasattr(weight, "detach") and hasattr(weight, "numpy"):  # a tensor
        return weight.detach().cpu().resolve_conj().numpy(), dict(given)
    return weight, dict(given)


class Layer:
    """A validated layer: geometry, float weight ``(C_out, C_in/G, *kernel)``, group sizes."""

    def __init__(self, weight, input_shape, stride, padding, dilation, groups, padding_mode):
        w = as_weight(weight)
        self.geom = geometry.convolution_geometry(
            input_shape, w.shape, stride=stride, padding=padding, dilation=dilation,
            groups=groups, padding_mode=padding_mode,
        )
        g = self.geom
        w = w.reshape(g.weight_shape)
        dtype = np.complex128 if w.dtype.kind == "c" else np.float64
        if not np.isfinite(w).all():
            raise ConvmatError("weight contains NaN or infinite entries; singular values "
                               "are defined for finite weights only")
        self.w = w.astype(dtype, copy=False)
        self.groups = g.groups
        self.c_out = g.out_channels // g.groups
        self.c_in = g.in_channels // g.groups
        self.rows = self.c_out * math.prod(g.output_shape)  # of one group's block
        self.cols = self.c_in * math.prod(g.input_shape)
        self.side = min(self.rows, self.cols)
        self.count = self.groups * self.side  # singular values of the whole matrix

    @classmethod
    def from_call(cls, weight: Any, input_shape: Any, **given: Any) -> Layer:
        """The layer of a public call's arguments (a PyTorch layer read first)."""
        weight, kw = read_layer(weight, given)
        return cls(weight, input_shape, kw["stride"], kw["padding"], kw["dilation"],
                   kw["groups"], kw["padding_mode"])

    def group_weight(self, index: int) -> np.ndarray:
        return self.w[index * self.c_out:(index + 1) * self.c_out]

    def group_geometry(self) -> geometry.ConvGeometry:
        g = self.geom
        return geometry.convolution_geometry(
            g.input_shape, (self.c_out, self.c_in, *g.kernel_shape), stride=g.stride,
            padding=g.padding, dilation=g.dilation, padding_mode=g.padding_mode,
        )

    def kwargs(self) -> dict:
        g = self.geom
        return dict(stride=g.stride, padding=g.padding, dilation=g.dilation,
                    padding_mode=g.padding_mode)


# --------------------------------------------------------------------------------------------
# the padding factor
# --------------------------------------------------------------------------------------------

def _maps(geom: geometry.ConvGeometry) -> list[np.ndarray]:
    return [index_map(n, b, a, geom.padding_mode)
            for n, (b, a) in zip(geom.input_shape, geom.padding)]


def padding_norm(geom: geometry.ConvGeometry) -> float:
    r""":math:`\|P\|_2 = \prod_i \sqrt{\max_u \#\{p : P_i \text{ copies } u \text{ to } p\}}`
    (1 for zero padding and crops)."""
    norm = 1.0
    for source in _maps(geom):
        kept = source[source >= 0]
        copies = np.bincount(kept).max() if kept.size else 0
        norm *= math.sqrt(copies)
    return norm


def padding_matrices(geom: geometry.ConvGeometry) -> list[np.ndarray]:
    """Per axis the dense padding map ``P_i`` (padded size x input size), checked against
    the memory guard first."""
    maps = _maps(geom)
    check_budget(8 * sum(source.size * n for n, source in zip(geom.input_shape, maps)),
                 f"the per-axis padding maps of a {geom.padding_mode} layer")
    mats = []
    for n, source in zip(geom.input_shape, maps):
        m = np.zeros((source.size, n))
        keep = source >= 0
        m[np.flatnonzero(keep), source[keep]] = 1.0
        mats.append(m)
    return mats


# --------------------------------------------------------------------------------------------
# fast products
# --------------------------------------------------------------------------------------------

def _torch_products(torch: Any, w: np.ndarray, geom: geometry.ConvGeometry, groups: int
                    ) -> tuple[Callable[[np.ndarray], np.ndarray],
                               Callable[[np.ndarray], np.ndarray]]:
    """matvec / rmatvec on flat float64 numpy vectors through PyTorch (N = 1, 2, 3)."""
    import torch.nn.functional as F

    n = geom.ndim
    conv = (F.conv1d, F.conv2d, F.conv3d)[n - 1]
    convt = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[n - 1]
    weight = torch.from_numpy(np.ascontiguousarray(w))
    c_in, c_out = geom.in_channels, geom.out_channels
    ishape, oshape, mshape = geom.input_shape, geom.output_shape, geom.padded_shape
    extra = tuple(m - ((o - 1) * s + d * (k - 1) + 1) for m, o, s, d, k in zip(
        mshape, oshape, geom.stride, geom.dilation, geom.kernel_shape))
    zeros = geom.padding_mode == "zeros" and all(b >= 0 and a >= 0 for b, a in geom.padding)
    # zero padding equal on both sides of every axis: PyTorch's own padding (no copies)
    symmetric = zeros and all(b == a for b, a in geom.padding)
    pads = [] if zeros else [torch.from_numpy(m) for m in padding_matrices(geom)]
    flat_pads = [p for pair in reversed(geom.padding) for p in pair]  # F.pad's order
    crop = tuple(slice(b, b + i) for (b, _), i in zip(geom.padding, ishape))

    def along(x, mats, transpose):
        for axis, m in enumerate(mats):
            x = torch.movedim(torch.tensordot(m.T if transpose else m, x,
                                              dims=([1], [axis + 1])), 0, axis + 1)
        return x.contiguous()

    def matvec(x):
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64)).reshape(c_in, *ishape)
        if symmetric:
            y = conv(t[None], weight, stride=geom.stride, dilation=geom.dilation,
                     groups=groups, padding=tuple(b for b, _ in geom.padding))
            return y.reshape(-1).numpy()
        t = F.pad(t, flat_pads) if zeros else along(t, pads, False)
        y = conv(t[None], weight, stride=geom.stride, dilation=geom.dilation, groups=groups)
        return y.reshape(-1).numpy()

    def rmatvec(y):
        t = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float64)).reshape(c_out, *oshape)
        if symmetric:
            x = convt(t[None], weight, stride=geom.stride, dilation=geom.dilation,
                      groups=groups, padding=tuple(b for b, _ in geom.padding),
                      output_padding=extra)
            return x.reshape(-1).numpy()
        x = convt(t[None], weight, stride=geom.stride, dilation=geom.dilation, groups=groups,
                  output_padding=extra)[0]
        x = x[(slice(None),) + crop] if zeros else along(x, pads, True)
        return x.reshape(-1).numpy()

    return matvec, rmatvec


def fast_products(w: np.ndarray, geom: geometry.ConvGeometry, groups: int, *,
                  use_torch: bool | None = None
                  ) -> tuple[Callable[[np.ndarray], np.ndarray],
                             Callable[[np.ndarray], np.ndarray], str]:
    """``(matvec, rmatvec, engine)`` of the layer ``geom`` with weight ``w``: PyTorch's
    convolutions for real weights in 1-3 dimensions when torch is installed (``engine`` is
    ``"torch"``), :func:`convmat.conv_operator` otherwise (``"numpy"``)."""
    # the input, its padded copy and the output of one product, with a temporary each
    check_budget(2 * 8 * (geom.in_channels * (math.prod(geom.input_shape)
                                              + math.prod(geom.padded_shape))
                          + geom.out_channels * math.prod(geom.output_shape)),
                 "one product's vectors")
    torch = torch_or_none() if use_torch in (None, True) else None
    if torch is not None and geom.ndim <= 3 and w.dtype.kind == "f":
        matvec, rmatvec = _torch_products(torch, w, geom, groups)
        return matvec, rmatvec, "torch"
    op = conv_operator(w, geom.input_shape, stride=geom.stride, padding=geom.padding,
                       dilation=geom.dilation, groups=groups, padding_mode=geom.padding_mode)
    return op.matvec, op.rmatvec, "numpy"


#: threads the spectral functions use for BLAS and PyTorch while they run (restored after):
#: their products and batched small factorisations gain little from threads on an idle
#: machine and lose many times over when the cores are shared (threads wait on each other)
THREADS = 1

#: (set, get) symbol names of the OpenBLAS builds numpy and SciPy ship or link
_OPENBLAS_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


@functools.lru_cache(maxsize=1)
def _openblas_controls() -> tuple:
    """(set, get) functions of every OpenBLAS loaded in this process (Linux; empty
    elsewhere): what ``threadpoolctl`` does, for when it is not installed."""
    import ctypes

    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps
                            if "openblas" in line.lower() and ".so" in line})
    except OSError:
        return ()
    found = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _OPENBLAS_SYMBOLS:
            setter, getter = getattr(lib, set_name, None), getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                found.append((setter, getter))
                break
    return tuple(found)


@contextlib.contextmanager
def limited_threads(limit: int | None = None) -> Iterator[None]:
    """Run with ``limit`` (default :data:`THREADS`) BLAS and PyTorch threads, restored after:
    ``threadpoolctl`` when installed, else OpenBLAS's own setter; PyTorch's if it is loaded."""
    limit = THREADS if limit is None else limit
    torch = sys.modules.get("torch")
    torch_before = torch.get_num_threads() if torch is not None else None
    with contextlib.ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            controls = _openblas_controls()
            before = [getter() for _, getter in controls]
            for setter, _ in controls:
                setter(limit)
            stack.callback(lambda: [setter(b) for (setter, _), b in zip(controls, before)])
        else:
            stack.enter_context(threadpool_limits(limits=limit, user_api="blas"))
        if torch is not None:
            torch.set_num_threads(limit)
            stack.callback(torch.set_num_threads, torch_before)
        yield


class Progress:
    r"""A one-line progress bar on ``sys.stderr`` (``enabled=False``: does nothing).

    ``step(n)`` advances by ``n`` units of ``total`` (``None``: a count without a bar) and
    redraws at most every :data:`REDRAW` seconds; ``close()`` draws the last state and ends
    the line. The line reads ``label [#####.....] done/total unit, elapsed s``.
    """

    REDRAW = 0.2
    WIDTH = 24

    def __init__(self, enabled: bool, label: str, total: int | None, unit: str = "steps"):
        self.enabled = bool(enabled)
        self.label, self.total, self.unit = label, total, unit
        self.done = 0
        self.start = self.last = time.perf_counter()
        if self.enabled:
            self._draw()

    def _draw(self) -> None:
        elapsed = time.perf_counter() - self.start
        if self.total:
            filled = min(self.WIDTH, self.WIDTH * self.done // max(self.total, 1))
            bar = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {self.done}/{self.total}"
        else:
            bar = f"{self.done}"
        sys.stderr.write(f"\r{self.label} {bar} {self.unit}, {elapsed:.1f} s")
        sys.stderr.flush()

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and now - self.last >= self.REDRAW:
            self.last = now
            self._draw()

    def close(self) -> None:
        if self.enabled:
            self._draw()
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.enabled = False
