r"""Whole networks as matrices: PyTorch layers and models as affine maps, Jacobians, summaries.

A network of linear layers (convolution, transposed convolution, average pooling, batch
normalisation in eval mode, fully connected, padding, upsampling, pixel shuffles, reshapes)
is one affine map :math:`x \mapsto A x + b`. :func:`from_torch` builds ``A`` as a SciPy
sparse array from convmat's own builders, layer by layer, and multiplies the layers'
matrices (sparse products, the bias carried through). Non-linear layers (ReLU, max
pooling, ...) have no such matrix; at a point :math:`x` they have a Jacobian (a diagonal
mask, a selection of the windows' maxima), and the product of the layers' Jacobians is the
network's Jacobian at :math:`x`.

:func:`summary` tabulates a network layer by layer (output shape, parameters, the layer's
matrix shape, stored entries, density, receptive field) from a PyTorch model or from a
plain description of its layers (no PyTorch needed), e.g.
``"conv 6 5x5 pad 2; avgpool 2; conv 16 5x5; avgpool 2; linear 120; linear 84; linear 10"``.

Conventions as everywhere in convmat: one sample, no batch axis, flattened in C order, so
``A @ x.ravel() + b == model(x[None])[0].ravel()`` for ``x`` of shape ``(C, *spatial)``.
PyTorch is imported only inside the functions that need it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from . import geometry
from .errors import ConvmatError, error_context
from .memory import check_budget
from .operator import conv_operator
from .padding import index_map, padding_matrix
from .pooling import avg_pool_matrix, max_pool_matrix
from .receptive import Layer, receptive_field
from .sparse import conv_matrix, conv_transpose_matrix

__all__ = ["from_torch", "summary", "Summary", "LayerSummary", "parse_layers", "MODELS",
           "LAYER_GRAMMAR"]

#: element-wise activations (PyTorch class names): Jacobian at x is diagonal
ACTIVATIONS = (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU", "GELU", "SiLU",
    "Mish", "Sigmoid", "Tanh", "Hardtanh", "Hardsigmoid", "Hardswish", "Softplus", "Softsign",
    "Softshrink", "Hardshrink", "Tanhshrink", "LogSigmoid", "Threshold",
)
_ACTIVATION_NAMES = {name.lower(): name for name in ACTIVATIONS}

_PAD_MODES = {"ZeroPad": "zeros", "ConstantPad": "zeros", "ReflectionPad": "reflect",
              "ReplicationPad": "replicate", "CircularPad": "circular"}

#: named models of ``convmat summary --model`` (layer descriptions, see LAYER_GRAMMAR)
MODELS = {
    "lenet5": ("conv1: conv 6 5x5 pad 2; tanh; pool1: avgpool 2; conv2: conv 16 5x5; tanh; "
               "pool2: avgpool 2; flatten; fc1: linear 120; tanh; fc2: linear 84; tanh; "
               "fc3: linear 10"),
    "vgg-block": ("conv 64 3x3 pad 1; bn; relu; conv 64 3x3 pad 1; bn; relu; maxpool 2"),
}

LAYER_GRAMMAR = """\
Layers are separated by ';'. Each is '[name:] kind arguments', sizes written like 5x5
(or 5 for every spatial dim):

  conv C K [stride S] [pad P|same|valid] [dilation D] [groups G] [mode M] [nobias]
  deconv C K [stride S] [pad P] [outpad Q] [dilation D] [groups G] [nobias]
  avgpool K [stride S] [pad P] [ceil] [exclude-pad]
  maxpool K [stride S] [pad P] [dilation D] [ceil]
  adaptiveavgpool O     adaptivemaxpool O
  linear N [nobias]     (also fc, dense; flattens its input)
  bn                    batch normalisation (eval mode)
  pad P [mode zeros|reflect|replicate|circular]
  upsample F [nearest|linear|bilinear|trilinear] [align-corners]
  pixelshuffle R        pixelunshuffle R
  flatten   dropout   identity
  relu, tanh, sigmoid, leakyrelu, gelu, ... (any element-wise activation)

C channels, K kernel, S stride, P padding, D dilation, G groups, Q output padding,
O output size, N features, F scale factor, R factor, M padding mode (zeros, reflect,
replicate, circular). Example (LeNet-5):
  "conv 6 5x5 pad 2; tanh; avgpool 2; conv 16 5x5; tanh; avgpool 2; linear 120; tanh;
   linear 84; tanh; linear 10"
"""


# ------------------------------------------------------------------------------ one layer


@dataclass
class _Op:
    """One layer: what it does (``kind``, ``cfg``), its values and where it sits."""

    name: str
    type: str
    kind: str
    cfg: dict
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    module: object = None  # the PyTorch module (for the non-linear layers' values at x)
    parameters: int | None = None

    @property
    def label(self) -> str:
        return f"layer {self.name} ({self.type})"

    @property
    def linear(self) -> bool:
        return self.kind not in ("activation", "maxpool", "adaptive_maxpool")


def _spatial(shape: tuple, n: int, op: _Op) -> tuple[int, tuple]:
    """(leading size, spatial shape) of ``shape`` for a layer of ``n`` spatial dims."""
    if len(shape) < n + 1:
        raise ConvmatError(f"the input of shape {shape!r} has no room for a channel axis and "
                           f"{n} spatial dims")
    return math.prod(shape[:-n]), tuple(shape[-n:])


def _channels(shape: tuple, n: int, op: _Op) -> tuple[int, tuple]:
    if len(shape) != n + 1:
        raise ConvmatError(f"expects an input (channels, {n} spatial dims), got shape "
                           f"{shape!r}")
    return shape[0], tuple(shape[1:])


def _pool_pairs(i_shape, kernel, stride, padding, dilation, ceil_mode, what):
    """PyTorch's pooling output size; padding pairs with the extra ``ceil_mode`` room."""
    pairs, out = [], []
    for axis, (i, k, s, p, d) in enumerate(zip(i_shape, kernel, stride, padding, dilation)):
        span = d * (k - 1) + 1
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


def _kron_all(factors, leading: int):
    """``kron(I_leading, F_1, ..., F_N)`` as CSR."""
    out = sp.eye_array(leading, format="csr")
    for f in factors:
        out = sp.kron(out, f, format="csr")
    return sp.csr_array(out)


def _window_matrix(starts, ends, size, values=None):
    """Rows ``t`` with ones (or ``values``) on ``starts[t] <= j < ends[t]``, as CSR."""
    counts = ends - starts
    indptr = np.concatenate(([0], np.cumsum(counts)))
    cols = np.repeat(starts - indptr[:-1], counts) + np.arange(indptr[-1])
    data = np.ones(cols.size) if values is None else np.repeat(values, counts)
    return sp.csr_array((data, cols, indptr), shape=(len(starts), size))


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
        return _window_matrix(src, src + 1, i)
    if align_corners:
        f = (i - 1) / (o - 1) if o > 1 else 0.0
        real = f * t
    else:
        f = 1.0 / scale if scale is not None and scale > 0 else i / o
        real = np.maximum(f * (t + 0.5) - 0.5, 0.0)
    i0 = np.minimum(np.floor(real).astype(np.int64), i - 1)
    lam = np.clip(real - i0, 0.0, 1.0)
    i1 = i0 + (i0 < i - 1)
    rows = np.repeat(t, 2)
    cols = np.stack([i0, i1], axis=1).ravel()
    data = np.stack([1.0 - lam, lam], axis=1).ravel()
    matrix = sp.coo_array((data, (rows, cols)), shape=(o, i)).tocsr()
    matrix.sum_duplicates()
    return matrix


def _upsample_plan(op: _Op, spatial: tuple):
    """(output spatial shape, per-dim scale given to the kernel or None)."""
    cfg = op.cfg
    n = len(spatial)
    if cfg["size"] is not None:
        size = geometry.as_per_dim(cfg["size"], n, "size", minimum=1)
        return size, (None,) * n
    factors = cfg["scale_factor"]
    factors = tuple(factors) if isinstance(factors, (tuple, list)) else (factors,) * n
    if len(factors) != n or any(f is None or f <= 0 for f in factors):
        raise ConvmatError(f"scale_factor={cfg['scale_factor']!r} must be one positive "
                           f"number or one per spatial dim ({n})")
    size = tuple(int(math.floor(float(i) * float(f))) for i, f in zip(spatial, factors))
    if any(v < 1 for v in size):
        raise ConvmatError(f"scale_factor={cfg['scale_factor']!r} gives the empty output "
                           f"{size!r}")
    scales = (None,) * n if cfg.get("recompute_scale_factor") else tuple(map(float, factors))
    return size, scales


_UPSAMPLE_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _conv_counts(i, k, s, d, b, a, mode, o):
    """Per output position ``t < o`` of one dim, the distinct input positions it reads."""
    source = index_map(i, b, a, mode)
    pos = (np.arange(o, dtype=np.int64)[:, None] * s + np.arange(k, dtype=np.int64) * d)
    read = np.sort(source[pos], axis=1)
    distinct = 1 + (np.diff(read, axis=1) != 0).sum(axis=1)
    return distinct - (read[:, 0] < 0)


def _resolved_conv_padding(cfg, spatial):
    padding = cfg["padding"]
    if isinstance(padding, str):
        if padding == "same" and any(s != 1 for s in np.atleast_1d(cfg["stride"])):
            raise ConvmatError("padding='same' needs stride 1 (as in PyTorch)")
        kernel = cfg["kernel_size"]
        return geometry.resolve_padding(padding, spatial, kernel, cfg["stride"],
                                        cfg["dilation"])
    return geometry.resolve_padding(padding, spatial, cfg["kernel_size"])


# Each kind: output shape, matrix, stored entries, receptive-field step, spectral norm.


def _out_shape(op: _Op, shape: tuple) -> tuple:
    cfg, kind = op.cfg, op.kind
    if kind in ("conv", "conv_transpose"):
        n = cfg["ndim"]
        c, spatial = _channels(shape, n, op)
        if cfg["in_channels"] is not None and c != cfg["in_channels"]:
            raise ConvmatError(f"in_channels={cfg['in_channels']} but the input has {c} "
                               f"channels (shape {shape!r})")
        if c % cfg["groups"]:
            raise ConvmatError(f"groups={cfg['groups']} does not divide the {c} input "
                               f"channels")
        if kind == "conv":
            pads = _resolved_conv_padding(cfg, spatial)
            out = geometry.conv_output_shape(spatial, cfg["kernel_size"], stride=cfg["stride"],
                                             padding=pads, dilation=cfg["dilation"])
        else:
            out = geometry.conv_transpose_output_shape(
                spatial, cfg["kernel_size"], stride=cfg["stride"], padding=cfg["padding"],
                output_padding=cfg["output_padding"], dilation=cfg["dilation"])
        return (cfg["out_channels"], *out)
    if kind in ("avgpool", "maxpool"):
        lead, spatial = _spatial(shape, cfg["ndim"], op)
        _, out = _pool_pairs(spatial, cfg["kernel_size"], cfg["stride"], cfg["padding"],
                             cfg["dilation"], cfg["ceil_mode"], kind[:3] + " pooling")
        return (*shape[:-cfg["ndim"]], *out)
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        n = cfg["ndim"]
        _spatial(shape, n, op)
        size = cfg["output_size"]
        size = tuple(size) if isinstance(size, (tuple, list)) else (size,) * n
        out = tuple(i if o is None else int(o) for i, o in zip(shape[-n:], size))
        return (*shape[:-n], *out)
    if kind == "batchnorm":
        n = cfg["ndim"]
        allowed = (1, 2) if n is None else (n + 1,)
        if len(shape) not in allowed or shape[0] != cfg["num_features"] and \
                cfg["num_features"] is not None:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ConvmatError(f"expects a {want} input with {cfg['num_features']} channels, "
                               f"got shape {shape!r}")
        return shape
    if kind == "linear":
        if cfg["flatten"]:
            shape = (math.prod(shape),)
        if cfg["in_features"] is not None and shape[-1] != cfg["in_features"]:
            raise ConvmatError(f"in_features={cfg['in_features']} but the input has shape "
                               f"{shape!r} (Linear acts on the last axis; a Flatten before "
                               f"it makes that all {math.prod(shape)} values)")
        return (*shape[:-1], cfg["out_features"])
    if kind == "flatten":
        batched = (1, *shape)
        nd = len(batched)
        start, end = cfg["start_dim"] % nd, cfg["end_dim"] % nd
        if start == 0:
            raise ConvmatError("start_dim=0 would merge the batch axis; use start_dim=1")
        if end < start:
            return shape
        out = (*batched[:start], math.prod(batched[start:end + 1]), *batched[end + 1:])
        return out[1:]
    if kind == "unflatten":
        batched = (1, *shape)
        dim = cfg["dim"] % len(batched)
        sizes = tuple(cfg["sizes"])
        if dim == 0 or math.prod(sizes) != batched[dim]:
            raise ConvmatError(f"cannot unflatten dim {cfg['dim']} of {batched!r} into "
                               f"{sizes!r}")
        return (*batched[1:dim], *sizes, *batched[dim + 1:])
    if kind in ("identity", "activation"):
        return shape
    if kind == "pad":
        n = cfg["ndim"]
        _spatial(shape, n, op)
        out = tuple(i + b + a for i, (b, a) in zip(shape[-n:], cfg["pairs"]))
        if any(v < 1 for v in out):
            raise ConvmatError(f"padding {cfg['pairs']!r} crops the input {shape!r} to "
                               f"nothing")
        if cfg["mode"] != "zeros":
            if any(min(p) < 0 for p in cfg["pairs"]):
                raise ConvmatError(f"negative padding {cfg['pairs']!r} (a crop) is supported "
                                   f"with constant padding only")
            geometry.check_mode(cfg["mode"], cfg["pairs"], shape[-n:], name="mode")
        return (*shape[:-n], *out)
    if kind in ("pixel_shuffle", "pixel_unshuffle"):
        r = cfg["factor"]
        if len(shape) < 3:
            raise ConvmatError(f"expects an input (channels, height, width), got {shape!r}")
        *lead, c, h, w = shape
        if kind == "pixel_shuffle":
            if c % (r * r):
                raise ConvmatError(f"the {c} input channels are not divisible by "
                                   f"upscale_factor**2 = {r * r}")
            return (*lead, c // (r * r), h * r, w * r)
        if h % r or w % r:
            raise ConvmatError(f"height {h} and width {w} must be divisible by "
                               f"downscale_factor={r}")
        return (*lead, c * r * r, h // r, w // r)
    if kind == "upsample":
        n = len(shape) - 1
        want = _UPSAMPLE_DIMS.get(cfg["mode"])
        if n < 1 or (want is not None and n != want):
            raise ConvmatError(f"mode={cfg['mode']!r} expects {want} spatial dims, got an "
                               f"input of shape {shape!r}")
        size, _ = _upsample_plan(op, shape[1:])
        return (shape[0], *size)
    raise AssertionError(kind)


def _bias_vector(op: _Op, out_shape: tuple, *, last_axis: bool = False) -> np.ndarray:
    """The bias of every output: per channel (first axis) or per feature (last axis)."""
    size = math.prod(out_shape)
    if op.bias is None:
        return np.zeros(size)
    if last_axis:
        return np.tile(op.bias, size // op.bias.size)
    return np.repeat(op.bias, size // op.bias.size)


def _matrix(op: _Op, shape: tuple, x: np.ndarray | None = None):
    """``(A, b)`` of one layer on an input of ``shape`` (at ``x`` for non-linear layers)."""
    cfg, kind = op.cfg, op.kind
    out_shape = _out_shape(op, shape)
    n_in, n_out = math.prod(shape), math.prod(out_shape)
    zeros = np.zeros(n_out)
    if kind in ("conv", "conv_transpose"):
        spatial = shape[1:]
        if kind == "conv":
            a = _LazyConv(op.weight, spatial, stride=cfg["stride"],
                          padding=_resolved_conv_padding(cfg, spatial),
                          dilation=cfg["dilation"], groups=cfg["groups"],
                          padding_mode=cfg["padding_mode"])
        else:
            a = conv_transpose_matrix(op.weight, spatial, stride=cfg["stride"],
                                      padding=cfg["padding"],
                                      output_padding=cfg["output_padding"],
                                      dilation=cfg["dilation"], groups=cfg["groups"])
        return a, _bias_vector(op, out_shape)
    if kind in ("avgpool", "maxpool"):
        n = cfg["ndim"]
        lead, spatial = _spatial(shape, n, op)
        pairs, _ = _pool_pairs(spatial, cfg["kernel_size"], cfg["stride"], cfg["padding"],
                               cfg["dilation"], cfg["ceil_mode"], kind[:3] + " pooling")
        if kind == "maxpool":
            a = max_pool_matrix(x.reshape(lead, *spatial), cfg["kernel_size"],
                                stride=cfg["stride"], padding=pairs, dilation=cfg["dilation"])
            return a, zeros
        a = avg_pool_matrix(spatial, cfg["kernel_size"], stride=cfg["stride"], padding=pairs,
                            channels=lead, divisor_override=1)
        if cfg["divisor_override"]:
            divisor = np.full(n_out // lead, float(cfg["divisor_override"]))
        else:  # PyTorch's divisor: the window clipped to the padded (or the bare) input
            divisor = np.ones(())
            for i, k, s, (p, _), o in zip(spatial, cfg["kernel_size"], cfg["stride"], pairs,
                                          out_shape[-n:]):
                start = np.arange(o) * s - p
                end = np.minimum(start + k, i + p)
                if not cfg["count_include_pad"]:
                    start, end = np.maximum(start, 0), np.minimum(end, i)
                divisor = np.multiply.outer(divisor, end - start)
            divisor = divisor.ravel()
        a.data /= np.repeat(np.tile(divisor, lead), np.diff(a.indptr))
        return a, zeros
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        n = cfg["ndim"]
        lead, spatial = _spatial(shape, n, op)
        factors = []
        for i, o in zip(spatial, out_shape[-n:]):
            start, end = _adaptive_windows(i, o)
            scale = 1.0 / (end - start) if kind == "adaptive_avgpool" else None
            factors.append(_window_matrix(start, end, i, scale))
        windows = _kron_all(factors, lead)
        if kind == "adaptive_avgpool":
            return windows, zeros
        return _select_maxima(windows, x), zeros
    if kind == "batchnorm":
        per = n_in // shape[0]
        return (sp.diags_array(np.repeat(op.weight, per), format="csr"),
                np.repeat(op.bias, per))
    if kind == "linear":
        w = np.asarray(op.weight, dtype=np.float64)
        lead = n_out // w.shape[0]
        check_budget(lead * w.size * 16, f"the matrix of {op.label}", nnz=lead * w.size)
        rows, cols = w.shape  # every weight stored, as the dense layer it is
        a = sp.csr_array((w.ravel(), np.tile(np.arange(cols), rows),
                          np.arange(0, rows * cols + 1, cols)), shape=w.shape)
        a = _kron_all([a], lead) if lead > 1 else a
        return a, _bias_vector(op, out_shape, last_axis=True)
    if kind in ("flatten", "unflatten", "identity"):
        return sp.eye_array(n_in, format="csr"), zeros
    if kind == "activation":
        return _diagonal(_activation(op, x, shape)[0]), zeros
    if kind == "pad":
        n = cfg["ndim"]
        lead, spatial = _spatial(shape, n, op)
        positive = [(max(b, 0), max(a, 0)) for b, a in cfg["pairs"]]
        p = padding_matrix(spatial, positive, mode=cfg["mode"], channels=lead)
        if any(min(pair) < 0 for pair in cfg["pairs"]):  # a crop: keep the inner rows
            rows = np.arange(lead)
            for i, (b, a), (pb, pa) in zip(spatial, cfg["pairs"], positive):
                rows = rows[:, None] * (i + pb + pa) + np.arange(max(-b, 0),
                                                                 i + pb + pa - max(-a, 0))
                rows = rows.ravel()
            p = p[rows]
        b = cfg["value"] * (np.diff(p.indptr) == 0) if cfg["value"] else zeros
        return sp.csr_array(p), b
    if kind in ("pixel_shuffle", "pixel_unshuffle"):
        r = cfg["factor"]
        *lead, c, h, w = shape
        idx = np.arange(n_in, dtype=np.int64)
        if kind == "pixel_shuffle":  # out[c, y*r+i, x*r+j] = in[c*r*r + i*r + j, y, x]
            idx = idx.reshape(*lead, c // (r * r), r, r, h, w)
            order = idx.transpose(*range(len(lead)), len(lead), len(lead) + 3, len(lead) + 1,
                                  len(lead) + 4, len(lead) + 2)
        else:  # out[c*r*r + i*r + j, y, x] = in[c, y*r+i, x*r+j]
            idx = idx.reshape(*lead, c, h // r, r, w // r, r)
            order = idx.transpose(*range(len(lead)), len(lead), len(lead) + 2, len(lead) + 4,
                                  len(lead) + 1, len(lead) + 3)
        cols = order.reshape(-1)
        return sp.csr_array((np.ones(n_in), cols, np.arange(n_in + 1)), shape=(n_in, n_in)), \
            zeros
    if kind == "upsample":
        size, scales = _upsample_plan(op, shape[1:])
        mode = "linear" if cfg["mode"] in _UPSAMPLE_DIMS else cfg["mode"]
        factors = [_interpolation(i, o, mode, cfg["align_corners"], s)
                   for i, o, s in zip(shape[1:], size, scales)]
        return _kron_all(factors, shape[0]), zeros
    raise AssertionError(kind)


def _select_maxima(windows: sp.csr_array, x: np.ndarray) -> sp.csr_array:
    """One 1 per row at the first maximum of the row's window (the last NaN, if any)."""
    gathered = x.reshape(-1)[windows.indices]
    starts, counts = windows.indptr[:-1], np.diff(windows.indptr)
    order = np.arange(windows.nnz)
    best = np.maximum.reduceat(gathered, starts)
    first = np.minimum.reduceat(np.where(gathered == np.repeat(best, counts), order,
                                         windows.nnz), starts)
    last_nan = np.maximum.reduceat(np.where(np.isnan(gathered), order, -1), starts)
    first = np.where(last_nan >= 0, last_nan, first)
    rows = windows.shape[0]
    return sp.csr_array((np.ones(rows), windows.indices[first], np.arange(rows + 1)),
                        shape=windows.shape)


def _diagonal(values: np.ndarray) -> sp.csr_array:
    """``diag(values)`` storing its non-zero entries only (a dead ReLU unit stores nothing)."""
    keep = values != 0
    indptr = np.concatenate(([0], np.cumsum(keep)))
    return sp.csr_array((values[keep], np.flatnonzero(keep), indptr),
                        shape=(values.size, values.size))


def _activation(op: _Op, x: np.ndarray, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Derivative and value of an element-wise activation at ``x``.

    The common ones by PyTorch's own formulas (the derivative at a kink as its backward
    takes it: ReLU's is 0 at 0); any other by PyTorch, one backward pass (the layer acts
    entry by entry, so the gradient of the sum is the diagonal).
    """
    m = op.module
    with np.errstate(over="ignore"):
        if op.type == "ReLU":
            return (~(x <= 0)).astype(np.float64), np.where(x <= 0, 0.0, x)
        if op.type == "LeakyReLU":
            slope = np.where(x > 0, 1.0, m.negative_slope)
            return slope, np.where(x > 0, x, x * m.negative_slope)
        if op.type in ("Hardtanh", "ReLU6"):
            inside = (x > m.min_val) & (x < m.max_val)
            return inside.astype(np.float64), np.clip(x, m.min_val, m.max_val)
        if op.type == "Tanh":
            y = np.tanh(x)
            return 1 - y * y, y
        if op.type == "Sigmoid":
            y = 1 / (1 + np.exp(-x))
            return (1 - y) * y, y
    return _activation_by_autograd(op, x, shape)


def _activation_by_autograd(op: _Op, x: np.ndarray, shape: tuple):
    import torch

    xt = torch.tensor(x.reshape(1, *shape), dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        y = _call(op, xt.clone())
        (slope,) = torch.autograd.grad(y.sum(), xt)
    return slope.numpy().reshape(-1), y.detach().numpy().reshape(-1)


def _call(op: _Op, xt):
    """The PyTorch module of ``op`` applied in float64 (its parameters converted)."""
    import torch

    module = op.module
    state = {k: (v.detach().to(torch.float64) if v.is_floating_point() else v)
             for k, v in [*module.named_parameters(), *module.named_buffers()]}
    if not state:
        return module(xt)
    return torch.func.functional_call(module, state, (xt,))


def _stored(op: _Op, shape: tuple) -> tuple[int, bool]:
    """(stored entries of the layer's matrix, exact?) without building it."""
    cfg, kind = op.cfg, op.kind
    out_shape = _out_shape(op, shape)
    n_in, n_out = math.prod(shape), math.prod(out_shape)
    if kind in ("conv", "conv_transpose"):
        c_in, c_out, g = shape[0], out_shape[0], cfg["groups"]
        n = cfg["ndim"]
        kernel = geometry.as_per_dim(cfg["kernel_size"], n, "kernel_size", minimum=1)
        stride = geometry.as_per_dim(cfg["stride"], n, "stride", minimum=1)
        dilation = geometry.as_per_dim(cfg["dilation"], n, "dilation", minimum=1)
        if kind == "conv":
            pads = _resolved_conv_padding(cfg, shape[1:])
            fwd_in, fwd_out, mode = shape[1:], out_shape[1:], cfg["padding_mode"]
        else:  # the forward convolution on the transposed output, first rows only
            pads = geometry.resolve_padding(cfg["padding"], shape[1:], kernel)
            fwd_in, fwd_out, mode = out_shape[1:], shape[1:], "zeros"
        per_dim = 1
        for i, k, s, d, (b, a), o in zip(fwd_in, kernel, stride, dilation, pads, fwd_out):
            per_dim *= int(_conv_counts(i, k, s, d, b, a, mode, o).sum())
        return c_out * (c_in // g) * per_dim, True
    if kind in ("avgpool", "adaptive_avgpool"):
        n = cfg["ndim"]
        lead, spatial = _spatial(shape, n, op)
        per_dim = 1
        if kind == "avgpool":
            pairs, out = _pool_pairs(spatial, cfg["kernel_size"], cfg["stride"],
                                     cfg["padding"], cfg["dilation"], cfg["ceil_mode"],
                                     "avg pooling")
            for i, k, s, (b, a), o in zip(spatial, cfg["kernel_size"], cfg["stride"], pairs,
                                          out):
                per_dim *= int(_conv_counts(i, k, s, 1, b, a, "zeros", o).sum())
        else:
            for i, o in zip(spatial, out_shape[-n:]):
                start, end = _adaptive_windows(i, o)
                per_dim *= int((end - start).sum())
        return lead * per_dim, True
    if kind in ("maxpool", "adaptive_maxpool"):
        return n_out, True
    if kind == "activation":
        return n_in, False
    if kind == "linear":
        return n_out * (n_in if cfg["flatten"] else shape[-1]), True
    if kind == "pad":
        if cfg["mode"] != "zeros":
            return n_out, True
        n = cfg["ndim"]
        lead, spatial = _spatial(shape, n, op)
        inside = 1
        for i, (b, a) in zip(spatial, cfg["pairs"]):
            m = index_map(i, max(b, 0), max(a, 0), "zeros")
            inside *= int((m[max(-b, 0):m.size - max(-a, 0)] >= 0).sum())
        return lead * inside, True
    if kind == "upsample":
        size, scales = _upsample_plan(op, shape[1:])
        mode = "linear" if cfg["mode"] in _UPSAMPLE_DIMS else cfg["mode"]
        count = shape[0]
        for i, o, s in zip(shape[1:], size, scales):
            count *= _interpolation(i, o, mode, cfg["align_corners"], s).nnz
        return count, True
    return n_in, True  # batchnorm, identity, flatten, permutations


def _field_step(op: _Op, shape: tuple):
    """The receptive-field :class:`Layer` of ``op``; ``None``: keeps it; ``False``: ends it."""
    cfg, kind = op.cfg, op.kind
    if kind == "conv":
        return Layer(cfg["kernel_size"], stride=cfg["stride"],
                     padding=_resolved_conv_padding(cfg, shape[1:]), dilation=cfg["dilation"])
    if kind in ("avgpool", "maxpool"):
        return Layer(cfg["kernel_size"], stride=cfg["stride"],
                     padding=[(p, p) for p in cfg["padding"]], dilation=cfg["dilation"])
    if kind in ("adaptive_avgpool", "adaptive_maxpool"):
        n = cfg["ndim"]
        out = _out_shape(op, shape)[-n:]
        if all(i % o == 0 for i, o in zip(shape[-n:], out)):
            k = tuple(i // o for i, o in zip(shape[-n:], out))
            return Layer(k, stride=k)
        return False
    if kind == "pad":
        return Layer(1, padding=[(max(b, 0), max(a, 0)) for b, a in cfg["pairs"]])
    if kind == "pixel_unshuffle":
        return Layer(cfg["factor"], stride=cfg["factor"])
    if kind in ("activation", "batchnorm", "identity"):
        return None
    return False  # linear, flatten, transposed convolution, upsampling, pixel shuffle


def _spectral(op: _Op, shape: tuple, norm) -> float | None:
    """The layer's spectral norm by ``norm`` (convmat.spectral.spectral_norm), if defined."""
    cfg, kind = op.cfg, op.kind
    if kind == "conv" and op.weight is not None:
        return norm(op.weight, shape[1:], stride=cfg["stride"],
                    padding=_resolved_conv_padding(cfg, shape[1:]), dilation=cfg["dilation"],
                    groups=cfg["groups"], padding_mode=cfg["padding_mode"])
    if kind == "conv_transpose" and op.weight is not None:
        out = _out_shape(op, shape)[1:]
        opad = geometry.as_per_dim(cfg["output_padding"], len(out), "output_padding",
                                   minimum=0)
        stride = geometry.as_per_dim(cfg["stride"], len(out), "stride", minimum=1)
        if any(q >= s for q, s in zip(opad, stride)):
            return None  # a restriction of the forward matrix: not its norm
        return norm(op.weight, out, stride=cfg["stride"], padding=cfg["padding"],
                    dilation=cfg["dilation"], groups=cfg["groups"], padding_mode="zeros")
    if kind == "linear" and op.weight is not None:
        w = np.asarray(op.weight, dtype=np.float64)
        return norm(w[:, :, None], (1,), stride=1, padding=0, dilation=1, groups=1,
                    padding_mode="zeros")
    if kind == "batchnorm" and op.weight is not None:
        return float(np.max(np.abs(op.weight)))
    if kind in ("identity", "flatten", "unflatten", "pixel_shuffle", "pixel_unshuffle"):
        return 1.0
    return None


# ------------------------------------------------------------------------- from PyTorch


def _import_torch():
    try:
        import torch
    except ImportError:
        raise ConvmatError("PyTorch is not installed; from_torch needs it (pip install "
                           "torch), summary also accepts a list of layer descriptions "
                           "without it") from None
    return torch


def _numpy(tensor) -> np.ndarray | None:
    if tensor is None:
        return None
    return tensor.detach().cpu().to(dtype=tensor.dtype).double().numpy()


def _count(module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def _leaves(module, prefix: str = ""):
    """(dotted name, module) of every leaf, descending into nn.Sequential and into custom
    modules whose forward is a chain of layers (traced with torch.fx)."""
    import torch.nn as nn

    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            yield from _leaves(child, f"{prefix}{name}.")
    elif any(True for _ in module.children()):
        yield from _traced(module, prefix)
    else:
        yield prefix[:-1] if prefix else "0", module


def _functional_module(node, target):
    """The module equivalent of a traced function call on the chain, or None."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    args, kwargs = list(node.args[1:]), dict(node.kwargs)
    kwargs.pop("inplace", None)
    elementwise = {F.relu: nn.ReLU, torch.relu: nn.ReLU, "relu": nn.ReLU,
                   torch.tanh: nn.Tanh, F.tanh: nn.Tanh, "tanh": nn.Tanh,
                   torch.sigmoid: nn.Sigmoid, F.sigmoid: nn.Sigmoid, "sigmoid": nn.Sigmoid,
                   F.gelu: nn.GELU, F.silu: nn.SiLU, F.elu: nn.ELU, F.relu6: nn.ReLU6,
                   F.leaky_relu: nn.LeakyReLU, F.hardtanh: nn.Hardtanh,
                   F.softplus: nn.Softplus}
    pools = {F.max_pool1d: nn.MaxPool1d, F.max_pool2d: nn.MaxPool2d, F.max_pool3d:
             nn.MaxPool3d, F.avg_pool1d: nn.AvgPool1d, F.avg_pool2d: nn.AvgPool2d,
             F.avg_pool3d: nn.AvgPool3d, F.adaptive_avg_pool2d: nn.AdaptiveAvgPool2d,
             F.adaptive_max_pool2d: nn.AdaptiveMaxPool2d}
    try:
        if target in elementwise:
            return elementwise[target](*args, **kwargs)
        if target in pools:
            return pools[target](*args, **kwargs)
        if target in (torch.flatten, "flatten"):
            return nn.Flatten(*(args or [0]), **kwargs) if args or kwargs else nn.Flatten(0)
    except TypeError:
        return None
    return None


def _traced(module, prefix: str):
    """Leaves of a custom module whose forward is a straight chain ``x -> f_1 -> ... -> f_L``
    of submodules and simple functions (activations, pooling, flatten, ``view(n, -1)``)."""
    import torch.fx

    here = prefix[:-1] if prefix else "0"
    kind = type(module).__name__
    try:
        graph = torch.fx.symbolic_trace(module).graph
    except Exception as exc:  # noqa: BLE001 - any tracing failure means "not a chain"
        raise ConvmatError(f"layer {here} ({kind}) is not a supported module type and its "
                           f"forward could not be traced ({type(exc).__name__}: {exc})") \
            from None
    nodes = list(graph.nodes)
    inputs = [n for n in nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise ConvmatError(f"layer {here} ({kind}) takes {len(inputs)} inputs; one is needed")
    previous, sizes = inputs[0], set()

    def fail(node, why):
        target = getattr(node.target, "__name__", node.target)
        return ConvmatError(f"layer {prefix}{node.name} ({kind}.forward: {node.op} "
                            f"{target}) {why}; from_torch follows chains of layers (write the "
                            f"model as an nn.Sequential)")

    for node in nodes:
        if node.op in ("placeholder", "get_attr") and node is not inputs[0]:
            raise fail(node, "reads a tensor attribute")
        if node.op == "placeholder":
            continue
        if node.op == "output":
            if node.args[0] is not previous:
                raise fail(node, "does not return the end of the chain")
            return
        if node.op == "call_method" and node.target == "size" and node.args[0] is previous:
            sizes.add(node)
            continue
        if not node.args or node.args[0] is not previous or any(
                isinstance(a, torch.fx.Node) and a not in sizes for a in
                [*node.args[1:], *node.kwargs.values()]):
            raise fail(node, "is not a step of a chain (it mixes several tensors)")
        if node.op == "call_module":
            yield from _leaves(module.get_submodule(node.target), f"{prefix}{node.target}.")
        elif node.op == "call_method" and node.target in ("view", "reshape") and \
                len(node.args) == 3 and node.args[1] in sizes | {1} and node.args[2] == -1:
            yield f"{prefix}{node.name}", torch.nn.Flatten()
        else:
            equivalent = _functional_module(node, node.target)
            if equivalent is None:
                raise fail(node, "is a function from_torch does not know")
            yield f"{prefix}{node.name}", equivalent
        previous = node
    raise fail(nodes[-1], "has no output")


def _torch_op(name: str, m) -> _Op:
    """The :class:`_Op` of one PyTorch leaf module (or a ConvmatError naming it)."""
    import torch.nn as nn

    t = type(m).__name__
    op = _Op(name, t, "", {}, module=m, parameters=_count(m))
    match = re.fullmatch(r"(\D+?)(\d)d", t)
    base, n = (match.group(1), int(match.group(2))) if match else (t, None)

    def per(value):
        return geometry.as_per_dim(value, n, "kernel_size", minimum=0)

    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        padding = m.padding if isinstance(m.padding, str) else tuple(m.padding)
        op.kind = "conv"
        op.cfg = dict(ndim=n, in_channels=m.in_channels, out_channels=m.out_channels,
                      kernel_size=tuple(m.kernel_size), stride=tuple(m.stride),
                      padding=padding, dilation=tuple(m.dilation), groups=m.groups,
                      padding_mode=m.padding_mode)
    elif isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        if m.padding_mode != "zeros":
            raise ConvmatError(f"padding_mode={m.padding_mode!r}: PyTorch's transposed "
                               f"convolutions support zeros only")
        op.kind = "conv_transpose"
        op.cfg = dict(ndim=n, in_channels=m.in_channels, out_channels=m.out_channels,
                      kernel_size=tuple(m.kernel_size), stride=tuple(m.stride),
                      padding=tuple(m.padding), output_padding=tuple(m.output_padding),
                      dilation=tuple(m.dilation), groups=m.groups)
    elif isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
        op.kind = "avgpool"
        k = per(m.kernel_size)
        op.cfg = dict(ndim=n, kernel_size=k, stride=per(m.stride or m.kernel_size),
                      padding=per(m.padding), dilation=(1,) * n, ceil_mode=bool(m.ceil_mode),
                      count_include_pad=bool(m.count_include_pad),
                      divisor_override=getattr(m, "divisor_override", None))
    elif isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
        if m.return_indices:
            raise ConvmatError("return_indices=True returns a tuple, not a tensor")
        op.kind = "maxpool"
        op.cfg = dict(ndim=n, kernel_size=per(m.kernel_size),
                      stride=per(m.stride or m.kernel_size), padding=per(m.padding),
                      dilation=per(m.dilation), ceil_mode=bool(m.ceil_mode))
    elif isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                        nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)):
        if getattr(m, "return_indices", False):
            raise ConvmatError("return_indices=True returns a tuple, not a tensor")
        op.kind = "adaptive_avgpool" if "Avg" in t else "adaptive_maxpool"
        op.cfg = dict(ndim=n, output_size=m.output_size)
    elif isinstance(m, nn.modules.batchnorm._BatchNorm):
        if m.training:
            raise ConvmatError("is in training mode: it normalises by the batch's own "
                               "statistics, not a fixed affine map; call model.eval() first")
        if not m.track_running_stats or m.running_mean is None:
            raise ConvmatError("has track_running_stats=False: it always normalises by the "
                               "batch's statistics (not a fixed affine map)")
        mean, var = _numpy(m.running_mean), _numpy(m.running_var)
        gamma = _numpy(m.weight) if m.affine else np.ones_like(mean)
        beta = _numpy(m.bias) if m.affine else np.zeros_like(mean)
        scale = gamma / np.sqrt(var + m.eps)
        op.kind = "batchnorm"
        op.cfg = dict(ndim=None if n == 1 else n, num_features=m.num_features)
        op.weight, op.bias = scale, beta - mean * scale
        return op
    elif isinstance(m, nn.Linear):
        op.kind = "linear"
        op.cfg = dict(in_features=m.in_features, out_features=m.out_features, flatten=False)
    elif isinstance(m, nn.Flatten):
        op.kind = "flatten"
        op.cfg = dict(start_dim=m.start_dim, end_dim=m.end_dim)
    elif isinstance(m, nn.Unflatten):
        if not isinstance(m.dim, int):
            raise ConvmatError("a named dim cannot be unflattened here")
        op.kind = "unflatten"
        op.cfg = dict(dim=m.dim, sizes=tuple(m.unflattened_size))
    elif isinstance(m, nn.Identity):
        op.kind = "identity"
    elif isinstance(m, nn.modules.dropout._DropoutNd):
        if m.training and m.p > 0:
            raise ConvmatError("is in training mode (random); call model.eval() first")
        op.kind = "identity"
    elif base in _PAD_MODES and n is not None:
        pad = tuple(m.padding)
        op.kind = "pad"
        op.cfg = dict(ndim=n, pairs=tuple((pad[2 * (n - 1 - d)], pad[2 * (n - 1 - d) + 1])
                                          for d in range(n)),
                      mode=_PAD_MODES[base], value=float(getattr(m, "value", 0.0)))
    elif isinstance(m, (nn.PixelShuffle, nn.PixelUnshuffle)):
        op.kind = "pixel_shuffle" if isinstance(m, nn.PixelShuffle) else "pixel_unshuffle"
        op.cfg = dict(factor=int(getattr(m, "upscale_factor", None)
                                 or getattr(m, "downscale_factor", None)))
    elif isinstance(m, nn.Upsample):
        if m.mode not in ("nearest", "nearest-exact", *_UPSAMPLE_DIMS):
            raise ConvmatError(f"mode={m.mode!r} is not supported (nearest, nearest-exact, "
                               f"linear, bilinear, trilinear are)")
        op.kind = "upsample"
        op.cfg = dict(size=m.size, scale_factor=m.scale_factor, mode=m.mode,
                      align_corners=bool(m.align_corners),
                      recompute_scale_factor=m.recompute_scale_factor)
    elif t in ACTIVATIONS:
        if t == "RReLU" and m.training:
            raise ConvmatError("is in training mode (random slopes); call model.eval() first")
        op.kind = "activation"
        return op
    else:
        raise ConvmatError(
            f"is not a supported module type; from_torch follows nn.Sequential containers of "
            f"convolutions, transposed convolutions, pooling, batch normalisation, Linear, "
            f"Flatten, padding, upsampling, pixel shuffles, dropout and element-wise "
            f"activations (a custom module can be rewritten as an nn.Sequential)")
    op.weight = _numpy(getattr(m, "weight", None))
    op.bias = _numpy(getattr(m, "bias", None))
    if op.kind == "linear" and op.weight is None:
        raise ConvmatError("has no weight (an uninitialised lazy module?)")
    return op


def _torch_ops(module) -> list[_Op]:
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise ConvmatError(f"module={type(module).__name__} is not a torch.nn.Module")
    ops = []
    leaves = list(_leaves(module))
    if not leaves:
        raise ConvmatError("the model has no layers")
    for name, m in leaves:
        try:
            ops.append(_torch_op(name, m))
        except ConvmatError as exc:
            raise ConvmatError(f"layer {name} ({type(m).__name__}) {exc.message}") from None
    return ops


def _first_geometry(ops: Sequence[_Op]):
    """(spatial dims, channels) the first layers fix (either may be None)."""
    ndim = channels = None
    for op in ops:
        cfg = op.cfg
        if op.kind in ("conv", "conv_transpose"):
            return cfg["ndim"] if ndim is None else ndim, cfg["in_channels"]
        if op.kind == "batchnorm":
            return (cfg["ndim"] if ndim is None else ndim), cfg["num_features"]
        if op.kind in ("avgpool", "maxpool", "adaptive_avgpool", "adaptive_maxpool", "pad"):
            ndim = cfg["ndim"] if ndim is None else ndim
        elif op.kind not in ("activation", "identity", "upsample"):
            break
    return ndim, channels


def _input_shape(ops, input_shape, at=None, in_channels=None) -> tuple:
    """The full shape of one sample, ``(C, *spatial)`` (or ``(features,)``)."""
    ndim, channels = _first_geometry(ops)
    if at is not None:
        given = geometry.as_shape(input_shape, "input_shape")
        shape = tuple(np.shape(at))
        full = None if ndim is None else ndim + 1
        while len(shape) > 1 and shape[0] == 1 and (
                (full is not None and len(shape) > full) or shape[1:] == given
                and full is None):
            shape = shape[1:]  # a batch of one
        if shape != given and shape[1:] != given:
            raise ConvmatError(f"at.shape={tuple(np.shape(at))!r} does not match "
                               f"input_shape={given!r} (give x of shape (C, *input_shape))")
        return shape
    shape = geometry.as_shape(input_shape, "input_shape")
    channels = in_channels if in_channels is not None else channels
    if ops[0].kind == "linear" and not ops[0].cfg["flatten"]:
        return shape
    if ndim is not None and len(shape) == ndim:
        if channels is None:
            raise ConvmatError(
                f"input_shape={shape!r} is spatial but the first layers do not fix the number "
                f"of channels; give the full shape (C, *spatial)")
        return (channels, *shape)
    if ndim is None and channels is not None and len(shape) == 1 and shape != (channels,):
        return (channels, *shape)  # BatchNorm1d on (C, L)
    return shape


def _shapes(ops, shape) -> list[tuple]:
    """Input shape of every layer, then the output shape (errors name the layer)."""
    shapes = [shape]
    for op in ops:
        try:
            shapes.append(_out_shape(op, shapes[-1]))
        except ConvmatError as exc:
            raise ConvmatError(f"{op.label}: {exc.message}") from None
    return shapes


class _LazyConv:
    """A convolution's matrix (:func:`convmat.conv_matrix`), built when a sparse product
    first needs it; a dense partial product (a few rows, or columns, that are mostly
    non-zero) goes through the matrix-free :func:`convmat.conv_operator` instead."""

    def __init__(self, weight, spatial, **kw):
        self.weight, self.spatial, self.kw = weight, spatial, kw
        self.operator = conv_operator(weight, spatial, **kw)
        self.shape = self.operator.shape
        self._built = None

    def matrix(self) -> sp.csr_array:
        if self._built is None:
            self._built = conv_matrix(self.weight, self.spatial, **self.kw)
        return self._built


def _built(a):
    return a.matrix() if isinstance(a, _LazyConv) else a


def _apply(a, v: np.ndarray) -> np.ndarray:
    """``a @ v`` for a vector ``v``."""
    return a.operator.matvec(v) if isinstance(a, _LazyConv) else a @ v


def _product(left, right, what: str):
    """``left @ right`` with the memory guard (the multiplications bound the result).

    A factor held as a numpy array (a product that came out at least half full, where the
    array takes no more memory than CSR) is multiplied as sparse-by-dense.
    """
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        check_budget(8 * left.shape[0] * right.shape[1], what)
        if isinstance(right, _LazyConv):  # rows of `left` through the transposed layer
            return np.asarray(right.operator.rmatmat(left.T)).T
        if isinstance(left, _LazyConv):
            return np.asarray(left.operator.matmat(right))
        return np.asarray(left @ right)
    left, right = _built(left), _built(right)
    cols = np.bincount(left.indices, minlength=left.shape[1])
    rows = np.diff(right.indptr)
    bound = min(int(cols @ rows), left.shape[0] * right.shape[1])
    check_budget(bound * 24 + (left.shape[0] + 1) * 16, what, nnz=bound,
                 advice="The Jacobian-vector products of the layers (or a smaller input) "
                        "avoid forming the product. ")
    out = sp.csr_array(left @ right)
    if 2 * out.nnz >= out.shape[0] * out.shape[1]:
        return out.toarray()
    return out


def _counts(a) -> tuple[np.ndarray, np.ndarray]:
    """(stored entries per column, per row) of a factor."""
    a = _built(a)
    if isinstance(a, np.ndarray):
        return np.full(a.shape[1], a.shape[0]), np.full(a.shape[0], a.shape[1])
    return np.bincount(a.indices, minlength=a.shape[1]), np.diff(a.indptr)


def _compose(pairs: list, n_in: int, n_out: int):
    """``A = A_L ... A_1`` and the bias carried through.

    When the output (input) is much narrower than every other point of the chain, the
    products are taken from that end, so that every partial product is that narrow (as
    reverse- and forward-mode differentiation do). Otherwise the chain is associated
    greedily: the adjacent pair whose product needs the fewest multiplications (counted
    exactly from the factors' column and row counts) is multiplied first. A segment's bias
    is ``M_2 b_1 + b_2`` when segments 1 then 2 are joined.
    """
    mats = [a for a, _ in pairs]
    biases = [np.asarray(b, dtype=np.float64) for _, b in pairs]
    inner = [a.shape[1] for a in mats[1:]]  # widths between the layers
    narrow_out = 4 * n_out <= min(inner + [n_in], default=n_in)
    narrow_in = not narrow_out and 4 * n_in <= min(inner + [n_out], default=n_out)
    counts = [] if narrow_out or narrow_in else [_counts(a) for a in mats]
    while len(mats) > 1:
        if narrow_out:
            i = len(mats) - 2
        elif narrow_in:
            i = 0
        else:
            costs = [int(counts[i + 1][0] @ counts[i][1]) for i in range(len(mats) - 1)]
            i = int(np.argmin(costs))
        a = _product(mats[i + 1], mats[i], "the network's matrix")
        b = _apply(mats[i + 1], biases[i]) + biases[i + 1]
        mats[i:i + 2], biases[i:i + 2] = [a], [b]
        if counts:
            counts[i:i + 2] = [_counts(a)]
    a = sp.csr_array(_built(mats[0]))
    a.sort_indices()
    return a, biases[0]


def from_torch(module, input_shape, *, at=None):
    r"""A PyTorch layer or model as an affine map ``(A, b)``; at ``x``, its Jacobian.

    Parameters
    ----------
    module : torch.nn.Module
        A supported layer, an ``nn.Sequential`` (nested ones too) of them, or a custom
        module whose ``forward`` is a chain of them (traced with ``torch.fx``; activations,
        pooling, ``torch.flatten`` and ``x.view(x.size(0), -1)`` may be functions): ``ConvNd``
        (every padding mode, ``padding="same"``, groups, dilation, bias),
        ``ConvTransposeNd``, ``AvgPoolNd`` (``ceil_mode``, ``count_include_pad``,
        ``divisor_override``), ``AdaptiveAvgPoolNd``, ``BatchNormNd`` in eval mode,
        ``Linear``, ``Flatten``, ``Unflatten``, ``Identity``, dropout in eval mode,
        ``PixelShuffle``, ``PixelUnshuffle``, the padding modules (``ZeroPadNd``,
        ``ConstantPadNd``, ``ReflectionPadNd``, ``ReplicationPadNd``, ``CircularPadNd``),
        ``Upsample`` (nearest, nearest-exact, linear, bilinear, trilinear); with ``at``
        also ``MaxPoolNd``, ``AdaptiveMaxPoolNd`` and the element-wise activations
        (``ReLU``, ``LeakyReLU``, ``Hardtanh``, ``Tanh``, ``GELU``, ...).
    input_shape : sequence of int
        The spatial shape of one sample; its channels come from the first layer that fixes
        them. The full shape ``(C, *spatial)`` (or ``(features,)`` before a ``Linear``) is
        accepted too.
    at : array_like, optional
        A point ``x`` of shape ``(C, *input_shape)``: linearise the network there.
        Required when the network has a non-linear layer.

    Returns
    -------
    A : scipy.sparse.csr_array of float64, shape ``(prod(output shape), prod(input shape))``
    b : numpy.ndarray of float64
        Zeros when no layer has a bias.

    Notes
    -----
    For layers :math:`f_l(x) = A_l x + b_l` the network is

    .. math::

        A = A_L \cdots A_1, \qquad b = \sum_l A_L \cdots A_{l+1} b_l,

    multiplied as sparse products: from the output (input) end when that is much narrower
    than the rest of the chain, as reverse-mode (forward-mode) differentiation does, else
    cheapest adjacent pair first (multiplications counted exactly from the factors). With ``at=x`` a non-linear layer contributes its Jacobian at
    its own input :math:`x_l`: an activation :math:`\operatorname{diag}(\sigma'(x_l))`, max
    pooling the 0/1 selection of every window's maximum (the first in C order, as PyTorch
    picks it); then ``A`` is the network's Jacobian at ``x`` and :math:`b = f(x) - A x`.
    Every layer's matrix stores O(its outputs × its window) entries and the product is
    refused, before it is formed, when its bound exceeds the memory limit.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> layer = torch.nn.Conv2d(1, 2, 3, padding=1).double()  # doctest: +SKIP
    >>> A, b = from_torch(layer, (5, 5))  # doctest: +SKIP
    >>> A.shape, b.shape  # doctest: +SKIP
    ((50, 25), (50,))
    """
    with error_context("from_torch", module=type(module).__name__, input_shape=input_shape):
        ops = _torch_ops(module)
        if at is None:
            for op in ops:
                if not op.linear:
                    raise ConvmatError(
                        f"{op.label} is not linear: its matrix depends on the input; pass "
                        f"at=x for the network's Jacobian at x")
        shapes = _shapes(ops, _input_shape(ops, input_shape, at))
        n_in, n_out = math.prod(shapes[0]), math.prod(shapes[-1])
        if at is None:
            pairs = []
            for op, shape in zip(ops, shapes):
                try:
                    pairs.append(_matrix(op, shape))
                except ConvmatError as exc:
                    raise ConvmatError(f"{op.label}: {exc.message}") from None
            return _compose(pairs, n_in, n_out)
        return _linearise(ops, shapes, np.asarray(at, dtype=np.float64))


def _linearise(ops, shapes, x):
    """(Jacobian, f(x) - J x) at ``x``.

    A linear layer's output is ``A_l x_l + b_l``; a max pooling's is its selection of
    ``x_l``; an activation's value and slope come from PyTorch (one backward pass).
    """
    x0 = x.reshape(-1)
    value = x0
    pairs = []
    for op, shape in zip(ops, shapes):
        try:
            if op.kind == "activation":
                slope, after = _activation(op, value, shape)
                pairs.append((_diagonal(slope), np.zeros(slope.size)))
                value = after
                continue
            a_l, b_l = _matrix(op, shape, value)
        except ConvmatError as exc:
            raise ConvmatError(f"{op.label}: {exc.message}") from None
        pairs.append((a_l, b_l))
        value = _apply(a_l, value) + b_l
    a, _ = _compose(pairs, math.prod(shapes[0]), math.prod(shapes[-1]))
    with np.errstate(invalid="ignore"):  # inf - inf at a non-finite point is NaN
        return a, value - a @ x0


# ------------------------------------------------------------------- layer descriptions

_KIND_ALIASES = {
    "conv": "conv", "conv1d": "conv", "conv2d": "conv", "conv3d": "conv",
    "deconv": "conv_transpose", "convt": "conv_transpose", "convtranspose": "conv_transpose",
    "conv_transpose": "conv_transpose", "avgpool": "avgpool", "maxpool": "maxpool",
    "adaptiveavgpool": "adaptive_avgpool", "adaptive_avgpool": "adaptive_avgpool",
    "adaptivemaxpool": "adaptive_maxpool", "adaptive_maxpool": "adaptive_maxpool",
    "bn": "batchnorm", "batchnorm": "batchnorm", "linear": "linear", "fc": "linear",
    "dense": "linear", "flatten": "flatten", "identity": "identity", "dropout": "identity",
    "pad": "pad", "upsample": "upsample", "pixelshuffle": "pixel_shuffle",
    "pixel_shuffle": "pixel_shuffle", "pixelunshuffle": "pixel_unshuffle",
    "pixel_unshuffle": "pixel_unshuffle",
}
_KEYWORDS = {"stride": "stride", "pad": "padding", "padding": "padding",
             "dilation": "dilation", "dil": "dilation", "groups": "groups",
             "mode": "mode", "outpad": "output_padding", "output_padding": "output_padding",
             "value": "value", "divisor": "divisor_override"}
_FLAGS = {"nobias": ("bias", False), "ceil": ("ceil_mode", True),
          "exclude-pad": ("count_include_pad", False), "align-corners": ("align_corners", True)}
_INTERPOLATION = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear")


def _size(token: str, what: str):
    parts = re.split(r"[x×,]", token)
    if not all(re.fullmatch(r"-?\d+", p) for p in parts):
        raise ConvmatError(f"{what} {token!r} is not an int or per-dim ints like 5x5")
    values = tuple(int(p) for p in parts)
    return values[0] if len(values) == 1 else values


def _parse_one(text: str, number: int) -> dict:
    words = text.split()
    name = None
    if words and words[0].endswith(":"):
        name, words = words[0][:-1], words[1:]
    elif ":" in text:
        name, rest = text.split(":", 1)
        name, words = name.strip(), rest.split()
    if not words:
        raise ConvmatError(f"layer {number} {text.strip()!r} is empty")
    kind, args = words[0].lower(), words[1:]
    layer: dict = {"type": kind}
    if name:
        layer["name"] = name
    positional = {"conv": ("out_channels", "kernel_size"),
                  "conv_transpose": ("out_channels", "kernel_size"),
                  "avgpool": ("kernel_size",), "maxpool": ("kernel_size",),
                  "adaptive_avgpool": ("output_size",), "adaptive_maxpool": ("output_size",),
                  "linear": ("out_features",), "pad": ("padding",), "upsample": ("scale_factor",),
                  "pixel_shuffle": ("factor",), "pixel_unshuffle": ("factor",)}.get(
                      _KIND_ALIASES.get(kind, ""), ())
    k = 0
    while args:
        word = args.pop(0)
        low = word.lower()
        if low in _FLAGS:
            key, value = _FLAGS[low]
            layer[key] = value
        elif low in _INTERPOLATION:
            layer["mode"] = low
        elif low in _KEYWORDS:
            if not args:
                raise ConvmatError(f"layer {number} {text.strip()!r}: {word} needs a value")
            value = args.pop(0)
            key = _KEYWORDS[low]
            if key == "mode":
                layer[key] = value.lower()
            elif key == "value":
                layer[key] = float(value)
            elif key == "padding" and value.lower() in ("same", "valid"):
                layer[key] = value.lower()
            else:
                layer[key] = _size(value, word)
        elif k < len(positional):
            key = positional[k]
            if key == "padding" and low in ("same", "valid"):
                layer[key] = low
            elif key == "scale_factor":
                try:
                    layer[key] = float(word) if "." in word else int(word)
                except ValueError:
                    raise ConvmatError(f"layer {number} {text.strip()!r}: scale factor "
                                       f"{word!r} is not a number") from None
            else:
                layer[key] = _size(word, key)
            k += 1
        else:
            raise ConvmatError(f"layer {number} {text.strip()!r}: {word!r} is not understood "
                               f"(see the layer grammar: convmat summary --help)")
    if k < len(positional):
        raise ConvmatError(f"layer {number} {text.strip()!r} needs {' and '.join(positional)}")
    return layer


def parse_layers(spec: str) -> list[dict]:
    """Layer descriptions from the text grammar (:data:`LAYER_GRAMMAR`).

    Examples
    --------
    >>> parse_layers("conv1: conv 6 5x5 pad 2; relu; avgpool 2; linear 10")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'type': 'conv', 'name': 'conv1', 'out_channels': 6, 'kernel_size': (5, 5),
      'padding': 2}, {'type': 'relu'}, {'type': 'avgpool', 'kernel_size': 2},
     {'type': 'linear', 'out_features': 10}]
    """
    if not isinstance(spec, str):
        raise ConvmatError(f"spec={spec!r} must be a string")
    parts = [p for p in spec.replace("\n", " ").split(";") if p.strip()]
    if not parts:
        raise ConvmatError(f"spec={spec!r} has no layers")
    return [_parse_one(p, n) for n, p in enumerate(parts)]


def _description_op(layer, number: int, ndim: int, channels: int) -> _Op:
    if isinstance(layer, str):
        layer = _parse_one(layer, number)
    if not isinstance(layer, Mapping) or "type" not in layer:
        raise ConvmatError(f"layers[{number}]={layer!r} must be a dict with a 'type' (or a "
                           f"string like 'conv 6 5x5')")
    d = dict(layer)
    raw = str(d.pop("type")).lower()
    name = str(d.pop("name", number))
    kind = _KIND_ALIASES.get(raw)
    if kind is None and raw.replace("_", "") in _ACTIVATION_NAMES:
        kind = "activation"
    if kind is None:
        raise ConvmatError(f"layers[{number}] type={raw!r} is not a known layer type; use "
                           f"one of {sorted(set(_KIND_ALIASES))} or an activation "
                           f"({', '.join(sorted(_ACTIVATION_NAMES))})")
    if "kernel" in d:
        d["kernel_size"] = d.pop("kernel")

    def take(key, default):
        return d.pop(key, default)

    def per(value, what, minimum):
        return geometry.as_per_dim(value, ndim, what, minimum=minimum)

    suffix = f"{ndim}d" if 1 <= ndim <= 3 else f"{ndim}-D"
    cfg: dict = {}
    parameters = 0
    if kind in ("conv", "conv_transpose"):
        out = geometry.as_int(take("out_channels", None), "out_channels")
        kernel = per(take("kernel_size", None), "kernel_size", 1)
        groups = geometry.as_int(take("groups", 1), "groups")
        bias = bool(take("bias", True))
        cfg = dict(ndim=ndim, in_channels=None, out_channels=out, kernel_size=kernel,
                   stride=per(take("stride", 1), "stride", 1), padding=take("padding", 0),
                   dilation=per(take("dilation", 1), "dilation", 1), groups=groups)
        if kind == "conv":
            cfg["padding_mode"] = take("padding_mode", take("mode", "zeros"))
            parameters = out * (channels // groups) * math.prod(kernel) + (out if bias else 0)
            type_ = f"Conv{suffix}"
        else:
            cfg["output_padding"] = take("output_padding", 0)
            parameters = channels * (out // groups) * math.prod(kernel) + (out if bias else 0)
            type_ = f"ConvTranspose{suffix}"
        if isinstance(cfg["padding"], str) and kind == "conv_transpose":
            raise ConvmatError(f"layers[{number}]: a transposed convolution's padding must be "
                               f"numbers")
        cfg["bias"] = bias
    elif kind in ("avgpool", "maxpool"):
        kernel = per(take("kernel_size", None), "kernel_size", 1)
        stride = take("stride", None)
        cfg = dict(ndim=ndim, kernel_size=kernel,
                   stride=kernel if stride is None else per(stride, "stride", 1),
                   padding=per(take("padding", 0), "padding", 0),
                   dilation=per(take("dilation", 1), "dilation", 1),
                   ceil_mode=bool(take("ceil_mode", False)),
                   count_include_pad=bool(take("count_include_pad", True)),
                   divisor_override=take("divisor_override", None))
        if kind == "avgpool" and any(v != 1 for v in cfg["dilation"]):
            raise ConvmatError(f"layers[{number}]: average pooling has no dilation")
        type_ = f"{'Avg' if kind == 'avgpool' else 'Max'}Pool{suffix}"
    elif kind in ("adaptive_avgpool", "adaptive_maxpool"):
        cfg = dict(ndim=ndim, output_size=per(take("output_size", None), "output_size", 1))
        type_ = f"Adaptive{'Avg' if 'avg' in kind else 'Max'}Pool{suffix}"
    elif kind == "batchnorm":
        cfg = dict(ndim=ndim, num_features=None)
        parameters = 2 * channels
        type_ = f"BatchNorm{suffix}"
    elif kind == "linear":
        out = geometry.as_int(take("out_features", None), "out_features")
        bias = bool(take("bias", True))
        cfg = dict(in_features=None, out_features=out, flatten=True, bias=bias)
        type_ = "Linear"
    elif kind == "flatten":
        cfg = dict(start_dim=1, end_dim=-1)
        type_ = "Flatten"
    elif kind == "identity":
        type_ = "Dropout" if raw == "dropout" else "Identity"
    elif kind == "activation":
        type_ = _ACTIVATION_NAMES[raw.replace("_", "")]
    elif kind == "pad":
        padding = take("padding", None)
        cfg = dict(ndim=ndim, pairs=geometry.resolve_padding(padding, (1,) * ndim, (1,) * ndim,
                                                             allow_negative=True),
                   mode=take("mode", "zeros"), value=float(take("value", 0.0)))
        if cfg["mode"] == "constant":
            cfg["mode"] = "zeros"
        type_ = {"zeros": "ZeroPad", "reflect": "ReflectionPad", "replicate":
                 "ReplicationPad", "circular": "CircularPad"}.get(cfg["mode"], "Pad") + suffix
    elif kind == "upsample":
        cfg = dict(size=take("size", None), scale_factor=take("scale_factor", None),
                   mode=take("mode", "nearest"), align_corners=bool(take("align_corners",
                                                                        False)),
                   recompute_scale_factor=None)
        if cfg["mode"] not in _INTERPOLATION:
            raise ConvmatError(f"layers[{number}]: mode={cfg['mode']!r} is not one of "
                               f"{_INTERPOLATION}")
        type_ = "Upsample"
    elif kind in ("pixel_shuffle", "pixel_unshuffle"):
        cfg = dict(factor=geometry.as_int(take("factor", None), "factor"))
        type_ = "PixelShuffle" if kind == "pixel_shuffle" else "PixelUnshuffle"
    d.pop("in_channels", None)
    if d:
        raise ConvmatError(f"layers[{number}] ({raw}): unknown keys {sorted(d)}")
    return _Op(name, type_, kind, cfg, parameters=parameters)


def _description_ops(layers, shape: tuple) -> tuple[list[_Op], list[tuple]]:
    """Ops and shapes of a description list; parameter counts need the input channels."""
    if isinstance(layers, str):
        layers = parse_layers(layers)
    if not isinstance(layers, Sequence) or not layers:
        raise ConvmatError(f"layers={layers!r} must be a non-empty list of layer descriptions")
    ops, shapes = [], [shape]
    for number, layer in enumerate(layers):
        current = shapes[-1]
        ndim = max(len(current) - 1, 1)
        try:
            op = _description_op(layer, number, ndim, current[0])
        except ConvmatError as exc:
            raise ConvmatError(exc.message if exc.message.startswith("layers[")
                               else f"layers[{number}]: {exc.message}") from None
        if op.kind == "linear":
            op.parameters = (math.prod(current) + op.cfg["bias"]) * op.cfg["out_features"]
        try:
            shapes.append(_out_shape(op, current))
        except ConvmatError as exc:
            raise ConvmatError(f"{op.label}: {exc.message}") from None
        ops.append(op)
    return ops, shapes


# ---------------------------------------------------------------------------- summaries


@dataclass(frozen=True)
class LayerSummary:
    """One row of a :class:`Summary`."""

    name: str
    type: str
    output_shape: tuple
    parameters: int
    matrix_shape: tuple[int, int]
    stored: int
    exact: bool  # False: an upper bound (a non-linear layer's Jacobian at a point)
    linear: bool
    receptive_field: tuple[int, ...] | None
    spectral_norm: float | None = None

    @property
    def density(self) -> float:
        rows, cols = self.matrix_shape
        return self.stored / (rows * cols)


@dataclass
class Summary:
    """A network layer by layer; ``str()`` is the text table, see also :meth:`markdown` and
    :meth:`latex`. ``rows`` holds one :class:`LayerSummary` per layer."""

    input_shape: tuple
    rows: list[LayerSummary] = field(default_factory=list)
    spectral: bool = False

    @property
    def total_parameters(self) -> int:
        return sum(r.parameters for r in self.rows)

    def _columns(self) -> list[str]:
        cols = ["layer", "type", "output", "params", "matrix", "stored", "density",
                "receptive field"]
        return cols + ["spectral norm"] if self.spectral else cols

    def _cells(self, times: str = "x", le: str = "≤") -> list[list[str]]:
        def join(shape):
            return times.join(str(v) for v in shape)

        out = []
        for r in self.rows:
            bound = "" if r.exact else le
            cells = [r.name, r.type, join(r.output_shape), f"{r.parameters:,}",
                     join(r.matrix_shape), f"{bound}{r.stored:,}",
                     f"{bound}{_percent(r.density)}",
                     "" if r.receptive_field is None else join(r.receptive_field)]
            if self.spectral:
                cells.append("" if r.spectral_norm is None else f"{r.spectral_norm:.4g}")
            out.append(cells)
        return out

    def _footer(self, times: str = "x") -> list[str]:
        cells = ["total", "", "", f"{self.total_parameters:,}", "", "", "", ""]
        return cells + [""] if self.spectral else cells

    def text(self) -> str:
        """A plain-text table (numbers right-aligned)."""
        header, rows = self._columns(), self._cells()
        table = [header, *rows, self._footer()]
        widths = [max(len(row[c]) for row in table) for c in range(len(header))]
        left = {0, 1}

        def line(row):
            return "  ".join(v.ljust(w) if c in left else v.rjust(w)
                             for c, (v, w) in enumerate(zip(row, widths))).rstrip()

        rule = "-" * len(line(header))
        return "\n".join([line(header), rule, *map(line, rows), rule, line(self._footer())])

    def markdown(self) -> str:
        """A Markdown (GitHub) table."""
        header = self._columns()
        align = ["---", "---"] + ["--:"] * (len(header) - 2)
        rows = [*self._cells(times="×"), [f"**{v}**" if v else "" for v in self._footer()]]
        return "\n".join("| " + " | ".join(r) + " |" for r in [header, align, *rows])

    def latex(self, *, standalone: bool = False) -> str:
        r"""A LaTeX ``tabular`` (plain ``\hline`` rules, no packages needed); with
        ``standalone=True`` a complete document that compiles with pdflatex."""
        if standalone:
            from .latex import document

            return document(self.latex())
        header = self._columns()
        spec = "ll" + "r" * (len(header) - 2)

        def esc(text: str) -> str:
            for a, b in (("\\", r"\textbackslash{}"), ("_", r"\_"), ("%", r"\%"),
                         ("&", r"\&"), ("#", r"\#"), ("$", r"\$")):
                text = text.replace(a, b)
            return text

        cells = [[esc(c).replace(",", "{,}") if i >= 2 else esc(c) for i, c in enumerate(row)]
                 for row in self._cells(times="x", le="≤")]
        cells = [[c.replace("≤", r"$\le$").replace("x", r"$\times$") if i >= 2 else c
                  for i, c in enumerate(row)] for row in cells]
        footer = [esc(c).replace(",", "{,}") for c in self._footer()]
        lines = [rf"\begin{{tabular}}{{{spec}}}", r"\hline",
                 " & ".join(esc(h) for h in header) + r" \\", r"\hline",
                 *(" & ".join(row) + r" \\" for row in cells), r"\hline",
                 " & ".join(footer) + r" \\", r"\hline", r"\end{tabular}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _percent(value: float) -> str:
    percent = 100 * value
    if percent >= 10:
        return f"{percent:.0f}%"
    if percent >= 0.01:
        return f"{percent:.2g}%"
    return f"{percent:.1e}%"


def _spectral_function():
    try:
        from .spectral import spectral_norm
    except ImportError:
        return None
    return spectral_norm


def summary(model, input_shape, *, in_channels: int | None = None) -> Summary:
    r"""A network layer by layer: output shape, parameters, matrix, stored entries, density,
    receptive field (and spectral norm).

    Parameters
    ----------
    model : torch.nn.Module, str or sequence of dict/str
        A PyTorch model (as accepted by :func:`from_torch`), or a plain description of its
        layers: a string in the grammar of :data:`LAYER_GRAMMAR` (``"conv 6 5x5 pad 2;
        avgpool 2; ..."``) or a list of such strings or of dicts (``{"type": "conv",
        "out_channels": 6, "kernel_size": 5, "padding": 2, "name": "conv1"}``, keys as the
        PyTorch constructors'). Descriptions need no PyTorch; their ``linear`` layers act
        on the flattened input.
    input_shape : sequence of int
        Spatial shape of one sample (or the full shape ``(C, *spatial)`` of a model).
    in_channels : int, optional
        Channels of the input (descriptions: default 1; models: from the first layer).

    Returns
    -------
    Summary
        ``str(s)`` / ``s.text()``, ``s.markdown()``, ``s.latex()``; ``s.rows``.

    Notes
    -----
    Row ``l`` describes layer ``l`` alone, as the matrix :math:`A_l` from its input to its
    output (not the product up to it): stored entries are the structural entries of
    :math:`A_l` (counted from the geometry, never built), density is
    :math:`\text{stored} / (\text{rows} \cdot \text{cols})`. A non-linear layer has a
    Jacobian at each point; its entries are an upper bound (``≤``). The receptive field
    is that of the stack up to the layer (:func:`convmat.receptive_field`), blank once a
    layer mixes all positions (Linear, Flatten) or has no integer window (upsampling,
    transposed convolution). The spectral norm column appears when
    ``convmat.spectral.spectral_norm`` is available.

    Examples
    --------
    >>> s = summary("conv 6 5x5 pad 2; avgpool 2; conv 16 5x5; avgpool 2; linear 120",
    ...             (28, 28))
    >>> print(s.text())
    layer  type         output  params     matrix   stored  density  receptive field
    --------------------------------------------------------------------------------
    0      Conv2d      6x28x28     156   4704x784  107,736     2.9%              5x5
    1      AvgPool2d   6x14x14       0  1176x4704    4,704   0.085%              6x6
    2      Conv2d     16x10x10   2,416  1600x1176  240,000      13%            14x14
    3      AvgPool2d    16x5x5       0   400x1600    1,600    0.25%            16x16
    4      Linear          120  48,120    120x400   48,000     100%
    --------------------------------------------------------------------------------
    total                       50,692
    """
    with error_context("summary", input_shape=input_shape):
        torch_model = not isinstance(model, (str, Sequence))
        if torch_model:
            ops = _torch_ops(model)
            shapes = _shapes(ops, _input_shape(ops, input_shape, in_channels=in_channels))
        else:
            shape = geometry.as_shape(input_shape, "input_shape")
            channels = 1 if in_channels is None else geometry.as_int(in_channels,
                                                                     "in_channels")
            ops, shapes = _description_ops(model, (channels, *shape))
        norm = _spectral_function()
        rows, stack, field_open = [], [], True
        spatial = shapes[0][1:]
        for op, shape, out in zip(ops, shapes, shapes[1:]):
            try:
                stored, exact = _stored(op, shape)
                step = _field_step(op, shape) if field_open else False
                value = None
                if norm is not None and op.linear:
                    try:
                        value = _spectral(op, shape, norm)
                    except ConvmatError:
                        value = None
            except ConvmatError as exc:
                raise ConvmatError(f"{op.label}: {exc.message}") from None
            if step is False:
                field_open = False
            elif step is not None:
                stack.append(step)
            rf = None
            if field_open and spatial:
                rf = receptive_field(stack).size if stack else (1,) * len(spatial)
            params = op.parameters if op.parameters is not None else 0
            rows.append(LayerSummary(op.name, op.type, tuple(out), params,
                                     (math.prod(out), math.prod(shape)), stored, exact,
                                     op.linear, rf, None if value is None else float(value)))
        return Summary(tuple(shapes[0]), rows, spectral=norm is not None)
