"""PyTorch modules read into layer records (:class:`convmat._layers._Op`): the leaves of a
model, chains traced with ``torch.fx``, every supported module's configuration. PyTorch is
imported only inside these functions."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from ._layers import _PAD_MODES, _UPSAMPLE_DIMS, ACTIVATIONS, _Op, _out_shape
from .._validate import as_per_dim, as_shape
from ..errors import ConvmatError, brief

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
    """A tensor's values as float64 NumPy (a view when it is float64 on the CPU already)."""
    import torch

    if tensor is None:
        return None
    tensor = tensor.detach()
    if tensor.device.type != "cpu" or tensor.dtype != torch.float64:
        tensor = tensor.cpu().double()
    return tensor.numpy()


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


def _torch_op(name: str, m, count: bool = False) -> _Op:
    """The :class:`_Op` of one PyTorch leaf module (or a ConvmatError naming it); its
    parameters counted when ``count``."""
    import torch.nn as nn

    t = type(m).__name__
    op = _Op(name, t, "", {}, module=m, parameters=_count(m) if count else None)
    match = re.fullmatch(r"(\D+?)(\d)d", t)
    base, n = (match.group(1), int(match.group(2))) if match else (t, None)

    def per(value):
        return as_per_dim(value, n, "kernel_size", minimum=0)

    if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        padding = m.padding if isinstance(m.padding, str) else tuple(m.padding)
        op.kind = "conv"
        op.cfg = dict(ndim=n, in_channels=m.in_channels, out_channels=m.out_channels,
                      kernel_size=tuple(m.kernel_size), stride=tuple(m.stride),
                      padding=padding, dilation=tuple(m.dilation), groups=m.groups,
                      padding_mode=m.padding_mode)
    elif isinstance(m, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        if m.padding_mode != "zeros":
            raise ConvmatError(f"padding_mode={brief(m.padding_mode)}: PyTorch's transposed "
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
            raise ConvmatError(f"mode={brief(m.mode)} is not supported (nearest, nearest-exact, "
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
            "is not a supported module type; from_torch follows nn.Sequential containers of "
            "convolutions, transposed convolutions, pooling, batch normalisation, Linear, "
            "Flatten, padding, upsampling, pixel shuffles, dropout and element-wise "
            "activations (a custom module can be rewritten as an nn.Sequential)")
    op.weight = _numpy(getattr(m, "weight", None))
    op.bias = _numpy(getattr(m, "bias", None))
    if op.kind == "linear" and op.weight is None:
        raise ConvmatError("has no weight (an uninitialised lazy module?)")
    return op


def _torch_ops(module, count: bool = False) -> list[_Op]:
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise ConvmatError(f"module={type(module).__name__} is not a torch.nn.Module")
    ops = []
    leaves = list(_leaves(module))
    if not leaves:
        raise ConvmatError("the model has no layers")
    for name, m in leaves:
        try:
            ops.append(_torch_op(name, m, count))
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
        given = as_shape(input_shape, "input_shape")
        shape = tuple(np.shape(at))
        full = None if ndim is None else ndim + 1
        while len(shape) > 1 and shape[0] == 1 and (
                (full is not None and len(shape) > full) or shape[1:] == given
                and full is None):
            shape = shape[1:]  # a batch of one
        if shape != given and shape[1:] != given:
            raise ConvmatError(f"at.shape={tuple(np.shape(at))!r} does not match "
                               f"input_shape={brief(given)} (give x of shape (C, *input_shape))")
        return shape
    shape = as_shape(input_shape, "input_shape")
    channels = in_channels if in_channels is not None else channels
    if ops[0].kind == "linear" and not ops[0].cfg["flatten"]:
        return shape
    if ndim is not None and len(shape) == ndim:
        if channels is None:
            raise ConvmatError(
                f"input_shape={brief(shape)} is spatial but the first layers do not fix the number "
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


