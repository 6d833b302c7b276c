"""Function calls read as the modules they compute: ``F.conv2d(x, w, b, stride=2)`` is a
``Conv2d`` holding ``w`` and ``b``, ``F.relu(x)`` a ``ReLU``, ``F.pad(x, (1, 1))`` a
``ConstantPad1d``, ``F.interpolate`` an ``Upsample``, ... so that a traced call is read by
the layer kind of its module (one table, :func:`equivalent_module`). PyTorch is imported
inside."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..errors import ConvmatError

__all__ = ["equivalent_module"]

#: F.<name> -> nn.<class> for the element-wise activations and soft-max (their arguments
#: after the input are the module's constructor arguments, in the same order)
_SAME_ARGUMENTS = {
    "relu": "ReLU", "relu6": "ReLU6", "leaky_relu": "LeakyReLU", "elu": "ELU", "celu": "CELU",
    "selu": "SELU", "gelu": "GELU", "silu": "SiLU", "mish": "Mish", "sigmoid": "Sigmoid",
    "tanh": "Tanh", "hardtanh": "Hardtanh", "hardsigmoid": "Hardsigmoid",
    "hardswish": "Hardswish", "softplus": "Softplus", "softsign": "Softsign",
    "softshrink": "Softshrink", "hardshrink": "Hardshrink", "tanhshrink": "Tanhshrink",
    "logsigmoid": "LogSigmoid", "threshold": "Threshold",
    "max_pool1d": "MaxPool1d", "max_pool2d": "MaxPool2d", "max_pool3d": "MaxPool3d",
    "avg_pool1d": "AvgPool1d", "avg_pool2d": "AvgPool2d", "avg_pool3d": "AvgPool3d",
    "adaptive_avg_pool1d": "AdaptiveAvgPool1d", "adaptive_avg_pool2d": "AdaptiveAvgPool2d",
    "adaptive_avg_pool3d": "AdaptiveAvgPool3d", "adaptive_max_pool1d": "AdaptiveMaxPool1d",
    "adaptive_max_pool2d": "AdaptiveMaxPool2d", "adaptive_max_pool3d": "AdaptiveMaxPool3d",
}
_SOFTMAX = {"softmax": "Softmax", "log_softmax": "LogSoftmax"}


def _with_tensors(module: Any, **tensors: Any) -> Any:
    """``module`` with its parameters or buffers replaced by the given tensors."""
    import torch

    for name, value in tensors.items():
        if value is None:
            continue
        old = getattr(module, name)
        if isinstance(old, torch.nn.Parameter):
            setattr(module, name, torch.nn.Parameter(value.detach(), requires_grad=False))
        else:
            setattr(module, name, value.detach())
    return module


def _bind(names: tuple[str, ...], args: tuple, kwargs: dict, defaults: dict) -> dict:
    """The call's arguments by name (after the input)."""
    bound = dict(defaults)
    if len(args) > len(names):
        raise TypeError("too many arguments")
    bound.update(zip(names, args))
    for key, value in kwargs.items():
        if key not in names and key not in defaults:
            raise TypeError(f"unexpected argument {key}")
        bound[key] = value
    return bound


def _conv(ndim: int, transposed: bool, args: tuple, kwargs: dict) -> Any:
    import torch.nn as nn

    names = ("weight", "bias", "stride", "padding") + (
        ("output_padding", "groups", "dilation") if transposed else ("dilation", "groups"))
    a = _bind(names, args, kwargs, dict(bias=None, stride=1, padding=0, output_padding=0,
                                        groups=1, dilation=1))
    w, groups = a["weight"], int(a["groups"])
    if transposed:
        cls = getattr(nn, f"ConvTranspose{ndim}d")
        module = cls(w.shape[0], w.shape[1] * groups, tuple(w.shape[2:]), stride=a["stride"],
                     padding=a["padding"], output_padding=a["output_padding"], groups=groups,
                     bias=a["bias"] is not None, dilation=a["dilation"])
    else:
        cls = getattr(nn, f"Conv{ndim}d")
        module = cls(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]), stride=a["stride"],
                     padding=a["padding"], dilation=a["dilation"], groups=groups,
                     bias=a["bias"] is not None)
    return _with_tensors(module, weight=w, bias=a["bias"])


def _linear(args: tuple, kwargs: dict) -> Any:
    import torch.nn as nn

    a = _bind(("weight", "bias"), args, kwargs, dict(bias=None))
    w = a["weight"]
    return _with_tensors(nn.Linear(w.shape[1], w.shape[0], bias=a["bias"] is not None),
                         weight=w, bias=a["bias"])


def _pad(args: tuple, kwargs: dict) -> Any:
    import torch.nn as nn

    a = _bind(("pad", "mode", "value"), args, kwargs, dict(mode="constant", value=None))
    pad = tuple(int(p) for p in a["pad"])
    if len(pad) % 2 or not 2 <= len(pad) <= 6:
        raise ConvmatError(f"pad={pad!r} must hold 2, 4 or 6 values")
    ndim = len(pad) // 2
    if a["mode"] == "constant":
        return getattr(nn, f"ConstantPad{ndim}d")(pad, float(a["value"] or 0.0))
    names = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}
    if a["mode"] not in names:
        raise ConvmatError(f"mode={a['mode']!r} is not one of constant, reflect, replicate, "
                           f"circular")
    return getattr(nn, f"{names[a['mode']]}{ndim}d")(pad)


def _interpolate(args: tuple, kwargs: dict) -> Any:
    import torch.nn as nn

    a = _bind(("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor",
               "antialias"), args, kwargs,
              dict(size=None, scale_factor=None, mode="nearest", align_corners=None,
                   recompute_scale_factor=None, antialias=False))
    if a["antialias"]:
        raise ConvmatError("antialias=True is not supported")
    return nn.Upsample(a["size"], a["scale_factor"], a["mode"], a["align_corners"],
                       a["recompute_scale_factor"])


def _norm(name: str, args: tuple, kwargs: dict, shape: tuple) -> Any:
    """layer_norm, group_norm, instance_norm and batch_norm as their modules."""
    import torch.nn as nn

    if name == "layer_norm":
        a = _bind(("normalized_shape", "weight", "bias", "eps"), args, kwargs,
                  dict(weight=None, bias=None, eps=1e-5))
        m = nn.LayerNorm(tuple(a["normalized_shape"]), eps=a["eps"],
                         elementwise_affine=a["weight"] is not None, bias=a["bias"] is not None)
        return _with_tensors(m, weight=a["weight"], bias=a["bias"])
    if name == "group_norm":
        a = _bind(("num_groups", "weight", "bias", "eps"), args, kwargs,
                  dict(weight=None, bias=None, eps=1e-5))
        return _with_tensors(nn.GroupNorm(int(a["num_groups"]), shape[0], eps=a["eps"],
                                          affine=a["weight"] is not None),
                             weight=a["weight"], bias=a["bias"])
    ndim = max(len(shape) - 1, 1)
    if name == "instance_norm":
        a = _bind(("running_mean", "running_var", "weight", "bias", "use_input_stats",
                   "momentum", "eps"), args, kwargs,
                  dict(running_mean=None, running_var=None, weight=None, bias=None,
                       use_input_stats=True, momentum=0.1, eps=1e-5))
        tracked = not a["use_input_stats"]
        m = getattr(nn, f"InstanceNorm{ndim}d")(shape[0], eps=a["eps"],
                                                affine=a["weight"] is not None,
                                                track_running_stats=tracked)
        m.eval()
        return _with_tensors(m, weight=a["weight"], bias=a["bias"],
                             running_mean=a["running_mean"] if tracked else None,
                             running_var=a["running_var"] if tracked else None)
    a = _bind(("running_mean", "running_var", "weight", "bias", "training", "momentum", "eps"),
              args, kwargs, dict(weight=None, bias=None, training=False, momentum=0.1,
                                 eps=1e-5))
    m = getattr(nn, f"BatchNorm{min(ndim, 3)}d")(shape[0], eps=a["eps"],
                                                  affine=a["weight"] is not None)
    m.train(bool(a["training"]))
    return _with_tensors(m, weight=a["weight"], bias=a["bias"], running_mean=a["running_mean"],
                         running_var=a["running_var"])


def _dropout(args: tuple, kwargs: dict, shape: tuple) -> Any:
    """F.dropout(x, p, training): the identity when not training (or p == 0)."""
    import torch.nn as nn

    a = _bind(("p", "training", "inplace"), args, kwargs, dict(p=0.5, training=True,
                                                               inplace=False))
    if a["training"] and a["p"] > 0:
        raise ConvmatError("is in training mode (random; training=True is its default): "
                           "pass training=self.training and call model.eval() first")
    return nn.Identity()


def _prelu(args: tuple, kwargs: dict) -> Any:
    import torch.nn as nn

    w = _bind(("weight",), args, kwargs, {})["weight"]
    return _with_tensors(nn.PReLU(w.numel()), weight=w)


@functools.lru_cache(maxsize=1)
def _table() -> dict[Any, Callable[..., Any]]:
    """fx target (a function, or a method's name) -> builder(args, kwargs, shape)."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    table: dict[Any, Callable[..., Any]] = {}

    def same(cls_name):
        def build(args, kwargs, shape):
            kwargs = {k: v for k, v in kwargs.items() if k != "inplace"}
            if cls_name.startswith("MaxPool") and (kwargs.get("return_indices") or
                                                   len(args) >= 6 and args[5]):
                raise ConvmatError("return_indices=True returns a tuple, not a tensor")
            return getattr(nn, cls_name)(*args, **kwargs)
        return build

    for fname, cls_name in _SAME_ARGUMENTS.items():
        table[getattr(F, fname)] = same(cls_name)
        if hasattr(torch, fname):
            table[getattr(torch, fname)] = same(cls_name)
    for fname in ("relu", "sigmoid", "tanh"):  # x.relu(), x.sigmoid(), x.tanh(), x.relu_()
        table[fname] = table[f"{fname}_"] = same(_SAME_ARGUMENTS[fname])
        table[getattr(torch, f"{fname}_")] = same(_SAME_ARGUMENTS[fname])
    for fname in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"):
        table[getattr(F, fname)] = _dropout
    for fname, cls_name in _SOFTMAX.items():
        def softmax(args, kwargs, shape, cls_name=cls_name):
            dim = kwargs.get("dim", args[0] if args else None)
            if dim is None:
                raise ConvmatError("soft-max needs dim")
            return getattr(nn, cls_name)(dim)
        for target in (getattr(F, fname), getattr(torch, fname), fname):
            table[target] = softmax
    for ndim in (1, 2, 3):
        for transposed in (False, True):
            name = f"conv_transpose{ndim}d" if transposed else f"conv{ndim}d"
            table[getattr(F, name)] = table[getattr(torch, name)] = functools.partial(
                lambda args, kwargs, shape, n, t: _conv(n, t, args, kwargs), n=ndim,
                t=transposed)
    table[F.linear] = lambda args, kwargs, shape: _linear(args, kwargs)
    table[F.pad] = lambda args, kwargs, shape: _pad(args, kwargs)
    table[F.interpolate] = lambda args, kwargs, shape: _interpolate(args, kwargs)
    table[F.prelu] = table[torch.prelu] = lambda args, kwargs, shape: _prelu(args, kwargs)
    for name in ("layer_norm", "group_norm", "instance_norm", "batch_norm"):
        table[getattr(F, name)] = functools.partial(
            lambda args, kwargs, shape, n: _norm(n, args, kwargs, shape), n=name)
    return table


def equivalent_module(target: Any, args: tuple, kwargs: dict, shape: tuple) -> Any:
    """The module a call of ``target`` (a function, or a method's name) on an input of
    ``shape`` (one sample) with the other arguments ``args``/``kwargs`` (tensors as
    values) computes, or ``None`` when the target is not in the table; a
    :class:`ConvmatError` when its arguments do not make a module."""
    try:
        build = _table().get(target)
    except TypeError:  # an unhashable target
        return None
    if build is None:
        return None
    try:
        return build(tuple(args), dict(kwargs), tuple(shape))
    except (TypeError, ValueError, AttributeError, IndexError) as exc:
        if isinstance(exc, ConvmatError):
            raise
        raise ConvmatError(f"its arguments do not make a module ({type(exc).__name__}: "
                           f"{exc})") from None
