"""PyTorch modules read into stages (:class:`convmat.networks._kinds.Stage`): the leaves of
a model, chains traced with ``torch.fx``, each leaf read by its kind from the registry; the
input shape and every layer's shape. PyTorch is imported only inside these functions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validate import as_shape
from ..errors import ConvmatError, brief
from ._kinds import AS_GIVEN, Stage, nd_name
from ._registry import kind_of_module, kinds_of

# ------------------------------------------------------------------------- from PyTorch


class NotAChain(ConvmatError):
    """A module's forward is not a chain of layers: :func:`convmat.from_torch` reads it as
    a graph (:mod:`convmat.networks._graph_read`)."""


def _import_torch():
    try:
        import torch
    except ImportError:
        raise ConvmatError("PyTorch is not installed; from_torch needs it (pip install "
                           "torch), summary also accepts a list of layer descriptions "
                           "without it") from None
    return torch


def _count(module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def _leaves(module, prefix: str = ""):
    """(dotted name, module) of every leaf, descending into nn.Sequential and into custom
    modules whose forward is a chain of layers (traced with torch.fx); a module type with a
    registered converter is a leaf."""
    import torch.nn as nn

    users, kind = kinds_of(module)
    if users is None and isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            yield from _leaves(child, f"{prefix}{name}.")
    elif users is None and (next(module.children(), None) is not None or (
            kind is None and not type(module).__module__.startswith("torch.nn"))):
        yield from _traced(module, prefix)  # a custom module: its forward
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
        raise NotAChain(f"layer {here} ({kind}) is not a supported module type and its "
                        f"forward could not be traced ({type(exc).__name__}: {exc})") from None
    nodes = list(graph.nodes)
    inputs = [n for n in nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise ConvmatError(f"layer {here} ({kind}) takes {len(inputs)} inputs; one is needed")
    previous, sizes = inputs[0], set()

    def fail(node, why):
        target = getattr(node.target, "__name__", node.target)
        return NotAChain(f"layer {prefix}{node.name} ({kind}.forward: {node.op} "
                         f"{target}) {why}; summary follows chains of layers")

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


def _torch_stage(name: str, m, count: bool = False) -> Stage:
    """The :class:`Stage` of one PyTorch leaf module, read by its kind (or a ConvmatError
    naming it); its parameters counted when ``count``."""
    t = type(m).__name__
    kind = kind_of_module(m)
    if kind is None:
        raise ConvmatError(
            "is not a supported module type; from_torch follows nn.Sequential containers of "
            "convolutions, transposed convolutions, pooling, batch normalisation, Linear, "
            "Flatten, padding, upsampling, pixel shuffles, dropout and element-wise "
            "activations (give its type a converter with convmat.networks.register)")
    stage = Stage(name, t, kind, module=m, parameters=_count(m) if count else None)
    nd = nd_name(t)
    kind.read_module(stage, m, nd[1] if nd else None)
    return stage


def _torch_stages(module, count: bool = False) -> list[Stage]:
    torch = _import_torch()
    if not isinstance(module, torch.nn.Module):
        raise ConvmatError(f"module={type(module).__name__} is not a torch.nn.Module")
    stages = []
    leaves = list(_leaves(module))
    if not leaves:
        raise ConvmatError("the model has no layers")
    for name, m in leaves:
        try:
            stages.append(_torch_stage(name, m, count))
        except ConvmatError as exc:
            raise ConvmatError(f"layer {name} ({type(m).__name__}) {exc.message}") from None
    return stages


def _first_geometry(stages: Sequence[Stage]):
    """(spatial dims, channels) the first layers fix (either may be None), or AS_GIVEN."""
    ndim = channels = None
    for number, stage in enumerate(stages):
        fixed = stage.kind.first_geometry(stage)
        if fixed is AS_GIVEN:
            return AS_GIVEN if number == 0 else (ndim, channels)
        if fixed is None:
            break
        n, c, final = fixed
        ndim = n if ndim is None else ndim
        if final:
            return ndim, c
    return ndim, channels


def _resolved(shape: tuple, first, in_channels) -> tuple:
    """The full input shape from the given ``shape`` and what the first layers fix."""
    if first is AS_GIVEN:
        return shape
    ndim, channels = first
    channels = in_channels if in_channels is not None else channels
    if ndim is not None and len(shape) == ndim:
        if channels is None:
            raise ConvmatError(
                f"input_shape={brief(shape)} is spatial but the first layers do not fix the "
                f"number of channels; give the full shape (C, *spatial)")
        return (channels, *shape)
    if ndim is None and channels is not None and len(shape) == 1 and shape != (channels,):
        return (channels, *shape)  # BatchNorm1d on (C, L)
    return shape


def _input_shape(stages, input_shape, at=None, in_channels=None) -> tuple:
    """The full shape of one sample, ``(C, *spatial)`` (or ``(features,)``)."""
    first = _first_geometry(stages)
    given = as_shape(input_shape, "input_shape")
    if at is None:
        return _resolved(given, first, in_channels)
    shape = tuple(np.shape(at))
    try:  # the shape the layers make of input_shape, when x has it (or a batch of one)
        expected = _resolved(given, first, in_channels)
    except ConvmatError:
        expected = None
    if expected is not None and shape in (expected, (1, *expected)):
        return expected
    full = None if first is AS_GIVEN or first[0] is None else first[0] + 1
    while len(shape) > 1 and shape[0] == 1 and (
            (full is not None and len(shape) > full) or shape[1:] == given
            and full is None):
        shape = shape[1:]  # a batch of one
    if shape != given and shape[1:] != given:
        raise ConvmatError(f"at.shape={tuple(np.shape(at))!r} does not match "
                           f"input_shape={brief(given)} (give x of shape (C, *input_shape))")
    return shape


def _shapes(stages, shape) -> list[tuple]:
    """Input shape of every layer, then the output shape (errors name the layer)."""
    shapes = [shape]
    for stage in stages:
        try:
            shapes.append(stage.kind.out_shape(stage, shapes[-1]))
        except ConvmatError as exc:
            raise ConvmatError(f"{stage.label}: {exc.message}") from None
    return shapes
