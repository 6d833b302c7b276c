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

from .. import geometry
from ._chain import compose, linearise
from ._from_torch import _input_shape, _shapes, _torch_ops
from ._layers import (
    _ACTIVATION_NAMES,
    _field_step,
    _matrix,
    _Op,
    _out_shape,
    _spectral,
    _stored,
)
from .._validate import as_int, as_per_dim, as_shape
from ..errors import ConvmatError, brief, error_context
from ..receptive import receptive_field
from ..spectral import spectral_norm

__all__ = ["LAYER_GRAMMAR", "MODELS", "from_torch", "parse_layers", "summary"]

MODELS = {
    # LeCun et al., "Gradient-based learning applied to document recognition": 32x32, no
    # padding (28, 14, 10, 5, 400 -> 120 -> 84 -> 10; 61,706 parameters)
    "lenet5": ("conv1: conv 6 5x5; tanh; pool1: avgpool 2; conv2: conv 16 5x5; tanh; "
               "pool2: avgpool 2; flatten; fc1: linear 120; tanh; fc2: linear 84; tanh; "
               "fc3: linear 10"),
    # the same network on 28x28 (MNIST) with conv1 padded by 2: the same shapes inside
    "lenet5-padded": ("conv1: conv 6 5x5 pad 2; tanh; pool1: avgpool 2; conv2: conv 16 5x5; "
                      "tanh; pool2: avgpool 2; flatten; fc1: linear 120; tanh; "
                      "fc2: linear 84; tanh; fc3: linear 10"),
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
replicate, circular). Example (LeNet-5 on 32x32):
  "conv 6 5x5; tanh; avgpool 2; conv 16 5x5; tanh; avgpool 2; linear 120; tanh;
   linear 84; tanh; linear 10"
"""



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
    cheapest adjacent pair first (multiplications counted exactly from the factors). With
    ``at=x`` a non-linear layer contributes its Jacobian at its own input :math:`x_l`: an
    activation :math:`\operatorname{diag}(\sigma'(x_l))`, max pooling the 0/1 selection of
    every window's maximum (the first in C order, as PyTorch picks it); then ``A`` is the
    network's Jacobian at ``x`` and :math:`b = f(x) - A x`. Those factors hold one entry per
    row: they are applied by gathering and scaling rows (a convolution's rows that a
    selection keeps are the only ones built) or by renaming columns, not by products.
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
            for op, shape, out_shape in zip(ops, shapes, shapes[1:]):
                try:
                    pairs.append(_matrix(op, shape, out_shape))
                except ConvmatError as exc:
                    raise ConvmatError(f"{op.label}: {exc.message}") from None
            return compose(pairs, n_in, n_out)
        return linearise(ops, shapes, np.asarray(at, dtype=np.float64))


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
        raise ConvmatError(f"{what} {brief(token)} is not an int or per-dim ints like 5x5")
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
                                       f"{brief(word)} is not a number") from None
            else:
                layer[key] = _size(word, key)
            k += 1
        else:
            raise ConvmatError(f"layer {number} {text.strip()!r}: {brief(word)} is not understood "
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
        raise ConvmatError(f"spec={brief(spec)} must be a string")
    parts = [p for p in spec.replace("\n", " ").split(";") if p.strip()]
    if not parts:
        raise ConvmatError(f"spec={brief(spec)} has no layers")
    return [_parse_one(p, n) for n, p in enumerate(parts)]


def _description_op(layer, number: int, ndim: int, channels: int) -> _Op:
    if isinstance(layer, str):
        layer = _parse_one(layer, number)
    if not isinstance(layer, Mapping) or "type" not in layer:
        raise ConvmatError(f"layers[{number}]={brief(layer)} must be a dict with a 'type' (or a "
                           f"string like 'conv 6 5x5')")
    d = dict(layer)
    raw = str(d.pop("type")).lower()
    name = str(d.pop("name", number))
    kind = _KIND_ALIASES.get(raw)
    if kind is None and raw.replace("_", "") in _ACTIVATION_NAMES:
        kind = "activation"
    if kind is None:
        raise ConvmatError(f"layers[{number}] type={brief(raw)} is not a known layer type; use "
                           f"one of {sorted(set(_KIND_ALIASES))} or an activation "
                           f"({', '.join(sorted(_ACTIVATION_NAMES))})")
    if "kernel" in d:
        d["kernel_size"] = d.pop("kernel")

    def take(key, default):
        return d.pop(key, default)

    def per(value, what, minimum):
        return as_per_dim(value, ndim, what, minimum=minimum)

    suffix = f"{ndim}d" if 1 <= ndim <= 3 else f"{ndim}-D"
    cfg: dict = {}
    parameters = 0
    if kind in ("conv", "conv_transpose"):
        out = as_int(take("out_channels", None), "out_channels")
        kernel = per(take("kernel_size", None), "kernel_size", 1)
        groups = as_int(take("groups", 1), "groups")
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
        out = as_int(take("out_features", None), "out_features")
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
        cfg = dict(factor=as_int(take("factor", None), "factor"))
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
        raise ConvmatError(f"layers={brief(layers)} must be a non-empty list of layer descriptions")
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

    def text(self) -> str:
        """A plain-text table (numbers right-aligned): :func:`convmat.text.summary_text`."""
        from ..text import summary_text

        return summary_text(self)

    def markdown(self) -> str:
        """A Markdown (GitHub) table: :func:`convmat.text.summary_markdown`."""
        from ..text import summary_markdown

        return summary_markdown(self)

    def latex(self, *, standalone: bool = False) -> str:
        r"""A LaTeX ``tabular``: :func:`convmat.text.summary_latex`."""
        from ..text import summary_latex

        return summary_latex(self, standalone=standalone)

    def __str__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:
        return self.markdown()


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
            ops = _torch_ops(model, count=True)
            shapes = _shapes(ops, _input_shape(ops, input_shape, in_channels=in_channels))
        else:
            shape = as_shape(input_shape, "input_shape")
            channels = 1 if in_channels is None else as_int(in_channels,
                                                                     "in_channels")
            ops, shapes = _description_ops(model, (channels, *shape))
        rows, stack, field_open = [], [], True
        spatial = shapes[0][1:]
        for op, shape, out in zip(ops, shapes, shapes[1:]):
            try:
                stored, exact = _stored(op, shape)
                step = _field_step(op, shape) if field_open else False
                value = None
                if op.linear:
                    try:
                        value = _spectral(op, shape, spectral_norm)
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
        # the column is shown when a layer with weights has a value (a description has none)
        return Summary(tuple(shapes[0]), rows,
                       spectral=any(r.spectral_norm is not None and r.parameters for r in rows))
