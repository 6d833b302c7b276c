"""Layer kind: element-wise activations (``ReLU``, ``Tanh``, ``GELU``, ...), whose
Jacobian at ``x`` is the diagonal of their derivative."""

from __future__ import annotations

import math

import numpy as np

from ._factors import Rows
from ._kinds import Field, NonLinearKind, registered
from ..errors import ConvmatError

__all__ = ["ACTIVATIONS", "Activation"]

#: element-wise activations (PyTorch class names): Jacobian at x is diagonal
ACTIVATIONS = (
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "SELU", "GELU", "SiLU",
    "Mish", "Sigmoid", "Tanh", "Hardtanh", "Hardsigmoid", "Hardswish", "Softplus", "Softsign",
    "Softshrink", "Hardshrink", "Tanhshrink", "LogSigmoid", "Threshold",
)
_NAMES = {name.lower(): name for name in ACTIVATIONS}


def _call(stage, xt):
    """The PyTorch module of ``stage`` applied in float64 (its parameters converted)."""
    import torch

    module = stage.module
    tensors = [*module.named_parameters(), *module.named_buffers()]
    if all(v.dtype == torch.float64 or not v.is_floating_point() for _, v in tensors):
        return module(xt)  # already float64 (or nothing to convert)
    state = {k: (v.detach().to(torch.float64) if v.is_floating_point() else v)
             for k, v in tensors}
    return torch.func.functional_call(module, state, (xt,))


def _by_autograd(stage, x: np.ndarray, shape: tuple):
    import torch

    xt = torch.tensor(x.reshape(1, *shape), dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        y = _call(stage, xt.clone())
        (slope,) = torch.autograd.grad(y.sum(), xt)
    return slope.numpy().reshape(-1), y.detach().numpy().reshape(-1)


def _slope_and_value(stage, x: np.ndarray, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Derivative and value of an element-wise activation at ``x``.

    The common ones by PyTorch's own formulas (the derivative at a kink as its backward
    takes it: ReLU's is 0 at 0); any other by PyTorch, one backward pass (the layer acts
    entry by entry, so the gradient of the sum is the diagonal).
    """
    m, name = stage.module, stage.type
    with np.errstate(over="ignore"):
        if name == "ReLU":
            return (~(x <= 0)).astype(np.float64), np.where(x <= 0, 0.0, x)
        if name == "LeakyReLU":
            slope = np.where(x > 0, 1.0, m.negative_slope)
            return slope, np.where(x > 0, x, x * m.negative_slope)
        if name in ("Hardtanh", "ReLU6"):
            inside = (x > m.min_val) & (x < m.max_val)
            return inside.astype(np.float64), np.clip(x, m.min_val, m.max_val)
        if name == "Tanh":
            y = np.tanh(x)
            return 1 - y * y, y
        if name == "Sigmoid":
            y = 1 / (1 + np.exp(-x))
            return (1 - y) * y, y
    return _by_autograd(stage, x, shape)


@registered
class Activation(NonLinearKind):
    name = "activation"
    words = tuple(_NAMES)  # "relu", "leakyrelu" (also written "leaky_relu"), ...
    positional = ()
    modules = ()  # by name: ACTIVATIONS

    def matches(self, module):
        return type(module).__name__ in ACTIVATIONS

    def read_module(self, stage, m, ndim):
        if type(m).__name__ == "RReLU" and m.training:
            raise ConvmatError("is in training mode (random slopes); call model.eval() first")

    def read_description(self, stage, take, word, shape):
        stage.type = _NAMES[word.replace("_", "")]

    def first_geometry(self, stage):
        return None, None, False  # looks through

    def out_shape(self, stage, shape):
        return shape

    def stored(self, stage, shape, out_shape):
        return math.prod(shape), False  # a diagonal: at most one entry per row

    def jacobian(self, stage, x, shape, out_shape):
        slope, value = _slope_and_value(stage, x, shape)
        return Rows.diag(slope), None, value

    def field_step(self, stage, shape):
        return Field.KEEPS

    def spectral(self, stage, shape, norm):
        return None  # a Jacobian at a point only
