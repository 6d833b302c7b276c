r"""The Jacobian of a chain with a narrow output (a classifier) at a point, by its layers'
adjoints applied with PyTorch's kernels, from the output end.

With ``m`` outputs much fewer than the values at every other point of the chain, the
Jacobian :math:`J = J_L \cdots J_1` is formed as reverse-mode differentiation does: the
block :math:`G_L = I_m` (shape ``(m, *output_shape)``) goes back through the layers,
:math:`G_{l-1} = G_l J_l`, every layer's adjoint applied to the ``m`` rows at once:

- a convolution: the transposed convolution (PyTorch's ``convolution_backward``), the
  padding folded back onto the positions it copies (:func:`convmat.padding.index_map`);
- a transposed convolution: the convolution; ``Linear``: :math:`G W`; batch normalisation
  in eval mode: its per-channel scale;
- an element-wise activation: its derivative at the layer's input (convmat's formulas,
  :func:`convmat.networks._activation_kind._slope_and_value`), multiplied;
- max pooling: every row's values added back onto the position of its window's maximum
  (the indices PyTorch's forward returns: its own choice among ties);
- a reshape: a reshape; any other linear layer without parameters (average pooling,
  padding, upsampling, pixel shuffles): its vector-Jacobian product by PyTorch on the
  ``m`` rows (a linear map: the same at every point).

The values each layer sees come from one forward pass in float64 (the layers' weights as
convmat read them). Every call reads the model anew: nothing is cached across calls. A
layer of another kind (normalisations, soft-max, a user's converter) or a chain whose
dense blocks would be large leaves the product to :func:`convmat.networks._chain.linearise`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import scipy.sparse as sp

from .. import options
from .._padmap import index_map
from ._activation_kind import _slope_and_value
from ._chain import _dense_csr
from ._conv_kinds import _padding
from ._kinds import Stage

__all__ = ["ADJOINTS", "narrow_jacobian"]

#: the chain is narrow when its output has at most this fraction of the values at every
#: other point (as :func:`convmat.networks._chain.compose` decides to go from the output)
NARROW = 4
#: the dense blocks ``(outputs, values)`` may take at most this fraction of the memory limit
BLOCKS = 8


class _Declined(Exception):
    """A layer this path does not take: the chain is multiplied by the general path."""


def _torch() -> Any:
    import torch

    return torch


def _tensor(values: np.ndarray | None) -> Any:
    return None if values is None else _torch().from_numpy(values)


# ------------------------------------------------------------------ padding by index maps


def _pad(t: Any, pairs: Any, mode: str, spatial: tuple) -> Any:
    """``t`` (batch, channels, *spatial) padded: per axis, the padded positions read their
    source (:func:`convmat.padding.index_map`), zeros where it is ``-1``."""
    torch = _torch()
    for axis, (n, (b, a)) in enumerate(zip(spatial, pairs), start=2):
        m = index_map(n, b, a, mode)
        inside = m >= 0
        t = t.index_select(axis, torch.from_numpy(np.where(inside, m, 0)))
        if not inside.all():
            shape = [1] * t.dim()
            shape[axis] = m.size
            t = t * torch.from_numpy(inside.astype(np.float64)).reshape(shape)
    return t


def _unpad(g: Any, pairs: Any, mode: str, spatial: tuple) -> Any:
    """The adjoint of :func:`_pad`: every padded position's rows added onto its source."""
    torch = _torch()
    for axis, (n, (b, a)) in enumerate(zip(spatial, pairs), start=2):
        m = index_map(n, b, a, mode)
        keep = np.flatnonzero(m >= 0)
        shape = list(g.shape)
        shape[axis] = n
        out = g.new_zeros(shape)
        out.index_add_(axis, torch.from_numpy(m[keep]),
                       g.index_select(axis, torch.from_numpy(keep)))
        g = out
    return g


# ---------------------------------------------------------------------- the layers' rules


class _Rule:
    """How one kind of layer runs forward (keeping what its adjoint needs) and applies
    its adjoint to a block of rows ``g`` of shape ``(m, *out_shape)``."""

    def forward(self, stage: Stage, t: Any, shape: tuple, out_shape: tuple) -> tuple[Any, Any]:
        raise NotImplementedError

    def adjoint(self, stage: Stage, kept: Any, g: Any, shape: tuple, out_shape: tuple) -> Any:
        raise NotImplementedError


def _spatial_ok(stage: Stage, shape: tuple) -> int:
    """The layer's spatial dims, when its input is ``(channels, *spatial)`` as PyTorch's
    functions take it."""
    n = stage.cfg.get("ndim")
    if n is None or len(shape) != n + 1 or not 1 <= n <= 3:
        raise _Declined
    return n


def _conv_backward(g: Any, input_shape: tuple, weight: Any, stride: Any, padding: Any,
                   dilation: Any, transposed: bool, output_padding: Any, groups: int) -> Any:
    """The input's gradient of a (transposed) convolution for the rows ``g``."""
    torch = _torch()
    empty = g.new_empty(1).expand(g.shape[0], *input_shape)
    return torch.ops.aten.convolution_backward(
        g, empty, weight, None, list(stride), list(padding), list(dilation), transposed,
        list(output_padding), groups, [True, False, False])[0]


class _Conv(_Rule):
    def forward(self, stage, t, shape, out_shape):
        torch = _torch()
        cfg = stage.cfg
        n = _spatial_ok(stage, shape)
        pairs = _padding(cfg, shape[1:])
        mode = cfg["padding_mode"]
        weight = _tensor(stage.weight)
        if any(b < 0 or a < 0 for b, a in pairs):
            raise _Declined
        if all(b == a for b, a in pairs) and mode == "zeros":  # the convolution pads
            padding = tuple(b for b, _ in pairs)
            padded = None
        else:
            padding = (0,) * n
            t = _pad(t, pairs, mode, shape[1:])
            padded = tuple(t.shape[1:])
        y = torch.ops.aten.convolution(t, weight, _tensor(stage.bias), list(cfg["stride"]),
                                       list(padding), list(cfg["dilation"]), False, [0] * n,
                                       cfg["groups"])
        return y, (weight, padding, pairs, padded)

    def adjoint(self, stage, kept, g, shape, out_shape):
        weight, padding, pairs, padded = kept
        cfg = stage.cfg
        g = _conv_backward(g, padded or shape, weight, cfg["stride"], padding, cfg["dilation"],
                           False, (0,) * len(padding), cfg["groups"])
        return g if padded is None else _unpad(g, pairs, cfg["padding_mode"], shape[1:])


class _ConvTranspose(_Rule):
    def forward(self, stage, t, shape, out_shape):
        torch = _torch()
        cfg = stage.cfg
        _spatial_ok(stage, shape)
        n = len(shape) - 1
        if isinstance(cfg["padding"], str):
            raise _Declined
        per = [tuple(np.broadcast_to(cfg[k], (n,)).tolist())
               for k in ("stride", "padding", "output_padding", "dilation")]
        weight = _tensor(stage.weight)
        y = torch.ops.aten.convolution(t, weight, _tensor(stage.bias), list(per[0]),
                                       list(per[1]), list(per[3]), True, list(per[2]),
                                       cfg["groups"])
        return y, (weight, per)

    def adjoint(self, stage, kept, g, shape, out_shape):
        weight, (stride, padding, output_padding, dilation) = kept
        return _conv_backward(g, shape, weight, stride, padding, dilation, True,
                              output_padding, stage.cfg["groups"])


class _Linear(_Rule):
    """``W x + b`` on the last axis; both products by NumPy (faster than PyTorch's on
    these few rows)."""

    def forward(self, stage, t, shape, out_shape):
        if stage.cfg.get("flatten"):
            raise _Declined
        y = t.numpy() @ stage.weight.T
        return _tensor(y if stage.bias is None else y + stage.bias), None

    def adjoint(self, stage, kept, g, shape, out_shape):
        return _tensor(g.numpy() @ stage.weight)


class _BatchNorm(_Rule):
    def forward(self, stage, t, shape, out_shape):
        per = (-1,) + (1,) * (len(shape) - 1)
        scale = _tensor(stage.weight).reshape(per)
        return t * scale + _tensor(stage.bias).reshape(per), scale

    def adjoint(self, stage, kept, g, shape, out_shape):
        return g * kept


class _Reshape(_Rule):
    def forward(self, stage, t, shape, out_shape):
        return t.reshape(1, *out_shape), None

    def adjoint(self, stage, kept, g, shape, out_shape):
        return g.reshape(g.shape[0], *shape)


class _Activation(_Rule):
    def forward(self, stage, t, shape, out_shape):
        if stage.type == "ReLU":  # _slope_and_value's ReLU in two operations: slope 1
            value = np.maximum(t.numpy(), 0.0)  # where the value is not 0 (NaN too)
            return _tensor(value), _tensor((value != 0).astype(np.float64))
        slope, value = _slope_and_value(stage, t.numpy().reshape(-1), shape)
        return _tensor(value).reshape(1, *out_shape), _tensor(slope).reshape(1, *shape)

    def adjoint(self, stage, kept, g, shape, out_shape):
        return g if kept is None else g * kept  # None: taken by the max pooling after it


class _MaxPool(_Rule):
    """Max pooling (``adaptive``: adaptive max pooling) by PyTorch's forward with the
    indices of the maxima; the adjoint adds every row's values back there."""

    def __init__(self, adaptive: bool) -> None:
        self.adaptive = adaptive

    def forward(self, stage, t, shape, out_shape):
        F = _torch().nn.functional
        n = _spatial_ok(stage, shape)
        m = stage.module
        if self.adaptive:
            pool = (F.adaptive_max_pool1d, F.adaptive_max_pool2d, F.adaptive_max_pool3d)[n - 1]
            y, where = pool(t, m.output_size, return_indices=True)
        else:
            pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[n - 1]
            y, where = pool(t, m.kernel_size, m.stride, m.padding, m.dilation,
                            ceil_mode=m.ceil_mode, return_indices=True)
        return y, (where.reshape(1, shape[0], -1), None)

    @staticmethod
    def take_slope(kept: tuple, slope: Any) -> tuple:
        """``kept`` with the slope of the activation before the pooling taken at the
        windows' maxima: the rows are scaled there, before they are spread (the
        selection times a diagonal is the diagonal's selected entries times the
        selection), a quarter of the work for windows of 2 x 2."""
        where, _ = kept
        return where, slope.reshape(*where.shape[:2], -1).gather(2, where)

    def adjoint(self, stage, kept, g, shape, out_shape):
        where, slope = kept
        rows, channels = g.shape[0], shape[0]
        g = g.reshape(rows, channels, -1)
        out = g.new_zeros((rows, channels, math.prod(shape[1:])))
        out.scatter_add_(2, where.expand(rows, -1, -1), g if slope is None else g * slope)
        return out.reshape(rows, *shape)


class _ByPyTorch(_Rule):
    """A linear layer without parameters or buffers: PyTorch's module forward, and its
    vector-Jacobian product on the rows (at zeros: the map is linear)."""

    def forward(self, stage, t, shape, out_shape):
        m = stage.module
        if m is None or any(True for _ in m.parameters()) or any(True for _ in m.buffers()):
            raise _Declined
        return m(t), None

    def adjoint(self, stage, kept, g, shape, out_shape):
        torch = _torch()
        with torch.enable_grad():
            z = g.new_zeros((g.shape[0], *shape), requires_grad=True)
            (out,) = torch.autograd.grad(stage.module(z), z, g)
        return out


#: the rule of each layer kind (by :attr:`Kind.name <convmat.networks._kinds.Kind.name>`);
#: a kind not listed leaves the chain to the general path
ADJOINTS: dict[str, _Rule] = {
    "conv": _Conv(), "conv_transpose": _ConvTranspose(), "linear": _Linear(),
    "batchnorm": _BatchNorm(), "flatten": _Reshape(), "unflatten": _Reshape(),
    "identity": _Reshape(), "activation": _Activation(), "maxpool": _MaxPool(False),
    "adaptive_maxpool": _MaxPool(True), "avgpool": _ByPyTorch(),
    "adaptive_avgpool": _ByPyTorch(), "pad": _ByPyTorch(), "upsample": _ByPyTorch(),
    "pixel_shuffle": _ByPyTorch(), "pixel_unshuffle": _ByPyTorch(),
}


def narrow_jacobian(stages: list[Stage], shapes: list[tuple],
                    x: np.ndarray) -> tuple[sp.csr_array, np.ndarray] | None:
    """(Jacobian, f(x) - J x) of the chain at ``x`` from the output end with PyTorch's
    kernels, or ``None`` when the chain's output is not narrow, its dense blocks would be
    large or a layer has no rule here (then :func:`convmat.networks._chain.linearise`)."""
    sizes = [math.prod(s) for s in shapes]
    n_out = sizes[-1]
    limit = int(cast(int, options.get("memory_limit"))) // BLOCKS
    if NARROW * n_out > min(sizes[:-1]) or 8 * n_out * max(sizes) > limit:
        return None
    rules = [ADJOINTS.get(stage.kind.name) for stage in stages]
    if any(rule is None for rule in rules):
        return None
    # (no tensor here requires a gradient: PyTorch records nothing, no_grad is not needed)
    t = _tensor(np.array(x.reshape(1, *shapes[0]), dtype=np.float64))  # a copy of its own
    kept = []
    step: Callable[..., Any]
    try:
        for stage, rule, shape, out in zip(stages, rules, shapes, shapes[1:]):
            step = cast(_Rule, rule).forward
            t, keep = step(stage, t, shape, out)
            kept.append(keep)
    except (_Declined, RuntimeError):  # a layer PyTorch's functions refuse: the general
        return None                     # path (which reads it as convmat does)
    for i in range(len(rules) - 1):  # an activation, then max pooling: one step back
        if isinstance(rules[i], _Activation) and isinstance(rules[i + 1], _MaxPool):
            kept[i + 1], kept[i] = _MaxPool.take_slope(kept[i + 1], kept[i]), None
    value = t.reshape(-1).numpy()
    g = _tensor(np.eye(n_out).reshape(n_out, *shapes[-1]))
    for i in range(len(stages) - 1, -1, -1):
        g = cast(_Rule, rules[i]).adjoint(stages[i], kept[i], g, shapes[i], shapes[i + 1])
    dense = g.reshape(n_out, sizes[0]).numpy()
    with np.errstate(invalid="ignore"):  # inf - inf at a non-finite point is NaN
        # the block is this call's own: its values become the CSR's without a copy
        return _dense_csr(dense, copy=False), value - dense @ x.reshape(-1)
