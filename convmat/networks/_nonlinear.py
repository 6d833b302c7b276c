r"""The Lipschitz constants of the non-linear layers in the Euclidean norm: the element-wise
activations' :math:`\sup_t |\sigma'(t)|` (one table, by PyTorch class name) and max
pooling's :math:`\sqrt{c}`, :math:`c` the largest number of windows that contain one
input."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._kinds import Stage
from ._pool_kinds import AdaptiveMaxPool, MaxPool, _adaptive_windows

__all__ = ["ACTIVATION_LIPSCHITZ", "nonlinear_constant"]


def _grid_sup(derivative: Callable[[np.ndarray], np.ndarray]) -> float:
    """:math:`\\sup |\\sigma'|` of a smooth activation by a fine grid on ``[-20, 20]``
    refined around the best point, plus a margin of ``1e-9`` (the grid's error is far
    below)."""
    t = np.linspace(-20.0, 20.0, 400_001)
    i = int(np.argmax(np.abs(derivative(t))))
    fine = np.linspace(t[max(i - 1, 0)], t[min(i + 1, t.size - 1)], 200_001)
    return float(np.abs(derivative(fine)).max()) + 1e-9


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(t / 2))


def _silu_slope(t: np.ndarray) -> np.ndarray:
    s = _sigmoid(t)
    return s * (1 + t * (1 - s))


def _mish_slope(t: np.ndarray) -> np.ndarray:
    th = np.tanh(np.logaddexp(0.0, t))
    return th + t * (1 - th * th) * _sigmoid(t)


def _gelu_tanh_slope(t: np.ndarray) -> np.ndarray:
    c = math.sqrt(2 / math.pi)
    u = np.tanh(c * (t + 0.044715 * t ** 3))
    return 0.5 * (1 + u) + 0.5 * t * (1 - u * u) * c * (1 + 3 * 0.044715 * t * t)


#: SELU's constants (Klambauer et al., "Self-Normalizing Neural Networks")
_SELU = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717


def _attr(module: Any, name: str, default: float) -> float:
    return float(getattr(module, name, default)) if module is not None else default


def _prelu(module: Any) -> tuple[float | None, str]:
    if module is None:
        return 1.0, "max(1, |a|), a = 0.25 (PyTorch's initial slope)"
    a = np.abs(module.weight.detach().cpu().double().numpy())
    return max(1.0, float(a.max())), "max(1, max |a|)"


def _gelu(module: Any) -> tuple[float | None, str]:
    if module is not None and getattr(module, "approximate", "none") == "tanh":
        return _grid_sup(_gelu_tanh_slope), "sup |σ'| (tanh form), on a fine grid + 1e-9"
    value = 0.5 * (1 + math.erf(1.0)) + math.exp(-1.0) / math.sqrt(math.pi)
    return value, "Φ(√2) + √2 φ(√2), the maximum of Φ(t) + t φ(t)"


def _threshold(module: Any) -> tuple[float | None, str]:
    if module is not None and float(module.value) != float(module.threshold):
        return None, "not Lipschitz: it jumps at the threshold"
    return 1.0, "1 (continuous: value = threshold)"


def _hardshrink(module: Any) -> tuple[float | None, str]:
    if _attr(module, "lambd", 0.5) != 0:
        return None, "not Lipschitz: it jumps at ±λ"
    return 1.0, "the identity (λ = 0)"


def _const(value: float, why: str) -> Callable[[Any], tuple[float | None, str]]:
    return lambda module: (value, why)


_SLOPE_ONE = "sup |σ'| = 1"

#: the Lipschitz constant in the Euclidean norm, :math:`\sup_t |\sigma'(t)|`, of every
#: element-wise activation (by PyTorch class name), from its module (``None``: a described
#: layer, PyTorch's defaults): ``(constant or None when not Lipschitz, why)``
ACTIVATION_LIPSCHITZ: dict[str, Callable[[Any], tuple[float | None, str]]] = {
    "ReLU": _const(1.0, _SLOPE_ONE), "ReLU6": _const(1.0, _SLOPE_ONE),
    "Hardtanh": _const(1.0, _SLOPE_ONE), "Tanh": _const(1.0, "sup |σ'| = 1 (at 0)"),
    "Softsign": _const(1.0, "sup |σ'| = 1 (at 0)"), "Tanhshrink": _const(1.0, "sup tanh² < 1"),
    "LogSigmoid": _const(1.0, "sup σ(-t) < 1"), "Softshrink": _const(1.0, _SLOPE_ONE),
    "CELU": _const(1.0, "sup |σ'| = 1"),
    "Softplus": _const(1.0, "sup σ(βt) < 1 (PyTorch's switch to t above the threshold "
                            "leaves a jump of log(1 + e^-threshold)/β)"),
    "Sigmoid": _const(0.25, "sup σ(1 - σ) = 1/4 (at 0)"),
    "Hardsigmoid": _const(1 / 6, "slope 1/6"),
    "Hardswish": _const(1.5, "slope (2t + 3)/6 < 3/2 on (-3, 3)"),
    "SELU": _const(_SELU, "scale · alpha (as t -> 0-)"),
    "SiLU": lambda m: (_grid_sup(_silu_slope), "sup |σ'| on a fine grid + 1e-9"),
    "Mish": lambda m: (_grid_sup(_mish_slope), "sup |σ'| on a fine grid + 1e-9"),
    "GELU": _gelu,
    "LeakyReLU": lambda m: (max(1.0, abs(_attr(m, "negative_slope", 0.01))),
                            "max(1, |negative slope|)"),
    "ELU": lambda m: (max(1.0, abs(_attr(m, "alpha", 1.0))), "max(1, alpha)"),
    "RReLU": lambda m: (max(1.0, abs(_attr(m, "lower", 1 / 8) + _attr(m, "upper", 1 / 3)) / 2),
                        "max(1, (lower + upper)/2), eval mode"),
    "PReLU": _prelu, "Threshold": _threshold, "Hardshrink": _hardshrink,
}


def _overlaps(windows: Sequence[np.ndarray], sizes: Sequence[int]) -> int:
    """The largest number of windows containing one input: per dim the positions every
    window reads (negative or beyond the input: padding), multiplied over the dims
    (windows are products of per-dim ranges)."""
    total = 1
    for reads, size in zip(windows, sizes):
        inside = reads[(reads >= 0) & (reads < size)]
        total *= int(np.bincount(inside, minlength=1).max()) if inside.size else 0
    return total


def _root(count: int) -> tuple[float, str]:
    return math.sqrt(count), (f"√{count}: an input lies in up to {count} windows"
                              if count > 1 else "windows do not overlap")


def _max_pool(stage: Stage, shape: tuple) -> tuple[float, str]:
    kind: Any = stage.kind  # MaxPool
    cfg, n = stage.cfg, stage.cfg["ndim"]
    pairs, out = kind.pairs(stage, shape[-n:])
    windows = [(np.arange(o)[:, None] * s - b + np.arange(k)[None, :] * d).ravel()
               for o, k, s, d, (b, _) in zip(out, cfg["kernel_size"], cfg["stride"],
                                             cfg["dilation"], pairs)]
    return _root(_overlaps(windows, shape[-n:]))


def _adaptive_max_pool(stage: Stage, shape: tuple) -> tuple[float, str]:
    n = stage.cfg["ndim"]
    windows = []
    for i, o in zip(shape[-n:], stage.kind.out_shape(stage, shape)[-n:]):
        start, end = _adaptive_windows(i, o)
        windows.append(np.concatenate([np.arange(a, b) for a, b in zip(start, end)]))
    return _root(_overlaps(windows, shape[-n:]))


#: the non-linear layer kinds with a Lipschitz constant other than the activations'
_POOLING: dict[type, Callable[[Stage, tuple], tuple[float, str]]] = {
    MaxPool: _max_pool, AdaptiveMaxPool: _adaptive_max_pool}


def nonlinear_constant(stage: Stage, shape: tuple) -> tuple[float | None, str]:
    """A non-linear layer's Lipschitz constant in the Euclidean norm and why."""
    pooling = _POOLING.get(type(stage.kind))
    if pooling is not None:
        return pooling(stage, shape)
    rule = ACTIVATION_LIPSCHITZ.get(stage.type)
    if rule is None:
        return None, "no Lipschitz constant known"
    return rule(stage.module)
