"""One layer of a network as a matrix: the layer record (:class:`_Op`), its output shape,
its matrix (or Jacobian at a point), its stored entries counted from the geometry, its
receptive-field step and spectral norm. :mod:`convmat.networks` chains them."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .. import _engine, geometry
from .._memory import check_budget
from .._padmap import index_map
from .._validate import as_per_dim
from ..errors import ConvmatError, brief
from ..operator import conv_operator
from ..padding import padding_matrix
from ..pooling import avg_pool_matrix, pool_geometry
from ..receptive import Layer
from ..sparse import conv_matrix, conv_transpose_matrix

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
        raise ConvmatError(f"the input of shape {brief(shape)} has no room for a channel axis and "
                           f"{n} spatial dims")
    return math.prod(shape[:-n]), tuple(shape[-n:])


def _channels(shape: tuple, n: int, op: _Op) -> tuple[int, tuple]:
    if len(shape) != n + 1:
        raise ConvmatError(f"expects an input (channels, {n} spatial dims), got shape "
                           f"{brief(shape)}")
    return shape[0], tuple(shape[1:])


def _pool_pairs(i_shape, kernel, stride, padding, dilation, ceil_mode, what):
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
        size = as_per_dim(cfg["size"], n, "size", minimum=1)
        return size, (None,) * n
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


_UPSAMPLE_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _distinct_reads(i, k, s, d, b, a, mode, o) -> tuple[np.ndarray, np.ndarray]:
    """Per output position ``t < o`` of one dim, the input positions its taps read, sorted
    (``-1``: zero padding), and a mask of the first read of each distinct input."""
    pos = (np.arange(o, dtype=np.int64)[:, None] * s + np.arange(k, dtype=np.int64) * d)
    read = np.sort(index_map(i, b, a, mode)[pos], axis=1)
    distinct = read >= 0
    distinct[:, 1:] &= read[:, 1:] != read[:, :-1]
    return read, distinct


def _conv_counts(i, k, s, d, b, a, mode, o):
    """Per output position ``t < o`` of one dim, the distinct input positions it reads."""
    return _distinct_reads(i, k, s, d, b, a, mode, o)[1].sum(axis=1)


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
                               f"channels (shape {brief(shape)})")
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
                               f"got shape {brief(shape)}")
        return shape
    if kind == "linear":
        if cfg["flatten"]:
            shape = (math.prod(shape),)
        if cfg["in_features"] is not None and shape[-1] != cfg["in_features"]:
            raise ConvmatError(f"in_features={cfg['in_features']} but the input has shape "
                               f"{brief(shape)} (Linear acts on the last axis; a Flatten before "
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
            raise ConvmatError(f"cannot unflatten dim {cfg['dim']} of {brief(batched)} into "
                               f"{brief(sizes)}")
        return (*batched[1:dim], *sizes, *batched[dim + 1:])
    if kind in ("identity", "activation"):
        return shape
    if kind == "pad":
        n = cfg["ndim"]
        _spatial(shape, n, op)
        out = tuple(i + b + a for i, (b, a) in zip(shape[-n:], cfg["pairs"]))
        if any(v < 1 for v in out):
            raise ConvmatError(f"padding {cfg['pairs']!r} crops the input {brief(shape)} to "
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
            raise ConvmatError(f"expects an input (channels, height, width), got {brief(shape)}")
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
                               f"input of shape {brief(shape)}")
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


def _matrix(op: _Op, shape: tuple, out_shape: tuple | None = None):
    """``(A, b)`` of one linear layer on an input of ``shape`` (its output shape, when
    known, as ``out_shape``; the non-linear layers have a Jacobian at a point:
    :func:`convmat._chain.linearise`). ``A`` is ``None`` for a layer that only reshapes
    (the identity on the flattened values)."""
    cfg, kind = op.cfg, op.kind
    out_shape = _out_shape(op, shape) if out_shape is None else out_shape
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
    if kind == "avgpool":
        n = cfg["ndim"]
        lead, spatial = _spatial(shape, n, op)
        pairs, _ = _pool_pairs(spatial, cfg["kernel_size"], cfg["stride"], cfg["padding"],
                               cfg["dilation"], cfg["ceil_mode"], "avg pooling")
        override = cfg["divisor_override"]
        divisor, alike = _avg_divisor(spatial, tuple(cfg["kernel_size"]), tuple(cfg["stride"]),
                                      pairs, tuple(out_shape[-n:]),
                                      bool(cfg["count_include_pad"]),
                                      float(override) if override else None)
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
    if kind == "adaptive_avgpool":
        n = cfg["ndim"]
        lead, spatial = _spatial(shape, n, op)
        factors = []
        for i, o in zip(spatial, out_shape[-n:]):
            start, end = _adaptive_windows(i, o)
            factors.append(_window_matrix(start, end, i, 1.0 / (end - start)))
        return _kron_all(factors, lead), zeros
    if kind == "batchnorm":
        per = n_in // shape[0]
        return (sp.diags_array(np.repeat(op.weight, per), format="csr"),
                np.repeat(op.bias, per))
    if kind == "linear":
        w = np.asarray(op.weight, dtype=np.float64)
        lead = n_out // w.shape[0]
        check_budget(lead * w.size * 16, f"the matrix of {op.label}", nnz=lead * w.size)
        if lead == 1:  # the dense layer it is (the chain's products take arrays as well)
            return w, _bias_vector(op, out_shape, last_axis=True)
        rows, cols = w.shape  # every weight stored, once per leading position
        a = sp.csr_array((w.ravel(), np.tile(np.arange(cols), rows),
                          np.arange(0, rows * cols + 1, cols)), shape=w.shape)
        return _kron_all([a], lead), _bias_vector(op, out_shape, last_axis=True)
    if kind in ("flatten", "unflatten", "identity"):
        return None, zeros  # the identity: a chain of factors leaves it out
    if kind == "pad":
        n = cfg["ndim"]
        lead, spatial = _spatial(shape, n, op)
        positive = [(max(b, 0), max(a, 0)) for b, a in cfg["pairs"]]
        p = padding_matrix(spatial, positive, padding_mode=cfg["mode"], channels=lead)
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
    tensors = [*module.named_parameters(), *module.named_buffers()]
    if all(v.dtype == torch.float64 or not v.is_floating_point() for _, v in tensors):
        return module(xt)  # already float64 (or nothing to convert)
    state = {k: (v.detach().to(torch.float64) if v.is_floating_point() else v)
             for k, v in tensors}
    return torch.func.functional_call(module, state, (xt,))


def _stored(op: _Op, shape: tuple) -> tuple[int, bool]:
    """(stored entries of the layer's matrix, exact?) without building it."""
    cfg, kind = op.cfg, op.kind
    out_shape = _out_shape(op, shape)
    n_in, n_out = math.prod(shape), math.prod(out_shape)
    if kind in ("conv", "conv_transpose"):
        c_in, c_out, g = shape[0], out_shape[0], cfg["groups"]
        n = cfg["ndim"]
        kernel = as_per_dim(cfg["kernel_size"], n, "kernel_size", minimum=1)
        stride = as_per_dim(cfg["stride"], n, "stride", minimum=1)
        dilation = as_per_dim(cfg["dilation"], n, "dilation", minimum=1)
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
        opad = as_per_dim(cfg["output_padding"], len(out), "output_padding",
                                   minimum=0)
        stride = as_per_dim(cfg["stride"], len(out), "stride", minimum=1)
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

    def take_rows(self, rows: np.ndarray, scale: np.ndarray) -> sp.csr_array | None:
        """``diag(scale) @ A[rows]`` as CSR (rows scaled by 0 store nothing) from the
        layer's cached one-shot structure, without building the other rows; ``None`` when
        there is none (then the rows come from :meth:`matrix`)."""
        structure = None if self._built is not None else _engine.shared(self.operator.geom)
        if structure is None:
            return None
        kept = scale != 0
        indptr, indices, data = structure.take_rows(rows, self.operator.weight, kept)
        if not np.all(scale[kept] == 1):  # a selection keeps its rows as they are
            data *= np.repeat(scale, np.diff(indptr))
        out = sp.csr_array((data, indices, indptr), shape=(rows.size, self.shape[1]))
        out.has_canonical_format = True
        return out

    def counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(stored entries per column, per row) of the matrix, from the geometry alone:
        per axis, the distinct input positions each output position reads (the padding
        map's duplicates merged), multiplied over the axes and the channels."""
        g = self.operator.geom
        per_row, per_col = np.ones((), dtype=np.int64), np.ones((), dtype=np.int64)
        for i, k, o, s, d, (b, a) in zip(g.input_shape, g.kernel_shape, g.output_shape,
                                         g.stride, g.dilation, g.padding):
            read, distinct = _distinct_reads(i, k, s, d, b, a, g.padding_mode, o)
            per_row = np.multiply.outer(per_row, distinct.sum(axis=1))
            per_col = np.multiply.outer(per_col, np.bincount(read[distinct], minlength=i))
        c_in_g, c_out_g = g.in_channels // g.groups, g.out_channels // g.groups
        return (np.tile(per_col.ravel() * c_out_g, g.in_channels),
                np.tile(per_row.ravel() * c_in_g, g.out_channels))
