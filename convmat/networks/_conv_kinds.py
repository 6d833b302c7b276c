"""Layer kinds: convolution and transposed convolution (``ConvNd``, ``ConvTransposeNd``)."""

from __future__ import annotations

import math

import numpy as np

from .. import geometry
from .._padmap import MODES
from .._validate import as_int, as_per_dim
from ..errors import ConvmatError, brief
from ..receptive import Layer
from ..sparse import conv_transpose_matrix
from ._factors import LazyConv
from ._kinds import FieldStep, LinearKind, bias_vector, channels_first, registered, tensor_values

__all__ = ["Conv", "ConvTranspose", "axis_reads"]

#: output positions of a border enumerated at once (bounds the temporaries)
_CHUNK = 1 << 16


def axis_reads(i: int, k: int, s: int, d: int, b: int, mode: str, o: int) -> int:
    """The distinct input positions the ``o`` output positions of one axis read, summed.

    Zero padding: :func:`convmat.geometry.axis_entries` (closed form). Other modes: the
    outputs whose window lies inside the input read ``k`` each (closed form); the border
    outputs, whose taps the padding may map onto one input position, are enumerated in
    chunks (their number grows with the padding, not with the input)."""
    if mode == "zeros":
        return geometry.axis_entries(i, k, s, d, b, o)
    first = min(max(geometry.ceil_div(b, s), 0), o)  # first window inside the input
    last = min(max((i - 1 + b - (k - 1) * d) // s + 1, first), o)  # past the last one
    total = (last - first) * k
    taps = np.arange(k, dtype=np.int64) * d - b
    source = MODES[mode].index_map  # the input position a padded position copies
    assert source is not None
    for lo, hi in ((0, first), (last, o)):
        for start in range(lo, hi, _CHUNK):
            t = np.arange(start, min(start + _CHUNK, hi), dtype=np.int64)
            read = np.sort(source(t[:, None] * s + taps, i), axis=1)
            total += int(t.size + np.count_nonzero(read[:, 1:] != read[:, :-1]))
    return total


def _padding(cfg, spatial):
    padding = cfg["padding"]
    if isinstance(padding, str):
        if padding == "same" and any(s != 1 for s in np.atleast_1d(cfg["stride"])):
            raise ConvmatError("padding='same' needs stride 1 (as in PyTorch)")
        return geometry.resolve_padding(padding, spatial, cfg["kernel_size"], cfg["stride"],
                                        cfg["dilation"])
    return geometry.resolve_padding(padding, spatial, cfg["kernel_size"])


def _check_channels(stage, shape):
    cfg = stage.cfg
    c, spatial = channels_first(shape, cfg["ndim"])
    if cfg["in_channels"] is not None and c != cfg["in_channels"]:
        raise ConvmatError(f"in_channels={cfg['in_channels']} but the input has {c} channels "
                           f"(shape {brief(shape)})")
    if c % cfg["groups"]:
        raise ConvmatError(f"groups={cfg['groups']} does not divide the {c} input channels")
    return c, spatial


class _Convolutions(LinearKind):
    """What a convolution and a transposed one share: reading, stored entries."""

    transposed: bool

    def first_geometry(self, stage):
        return stage.cfg["ndim"], stage.cfg["in_channels"], True

    def read_description(self, stage, take, word, shape):
        ndim, channels = max(len(shape) - 1, 1), shape[0]
        out = as_int(take("out_channels", None), "out_channels")
        kernel = as_per_dim(take("kernel_size", None), ndim, "kernel_size", minimum=1)
        groups = as_int(take("groups", 1), "groups")
        bias = bool(take("bias", True))
        stage.cfg = dict(ndim=ndim, in_channels=None, out_channels=out, kernel_size=kernel,
                         stride=as_per_dim(take("stride", 1), ndim, "stride", minimum=1),
                         padding=take("padding", 0),
                         dilation=as_per_dim(take("dilation", 1), ndim, "dilation", minimum=1),
                         groups=groups, bias=bias)
        if groups < 1:
            raise ConvmatError(f"groups={groups} must be positive")
        c_in, c_out = (out, channels) if self.transposed else (channels, out)
        stage.parameters = c_out * (c_in // groups) * math.prod(kernel) + (out if bias else 0)
        suffix = f"{ndim}d" if 1 <= ndim <= 3 else f"{ndim}-D"
        stage.type = f"{'ConvTranspose' if self.transposed else 'Conv'}{suffix}"

    def stored(self, stage, shape, out_shape):
        cfg = stage.cfg
        n = cfg["ndim"]
        kernel = as_per_dim(cfg["kernel_size"], n, "kernel_size", minimum=1)
        stride = as_per_dim(cfg["stride"], n, "stride", minimum=1)
        dilation = as_per_dim(cfg["dilation"], n, "dilation", minimum=1)
        if self.transposed:  # the forward convolution on the transposed output, first rows
            pads = geometry.resolve_padding(cfg["padding"], shape[1:], kernel)
            fwd_in, fwd_out, mode = out_shape[1:], shape[1:], "zeros"
        else:
            pads = _padding(cfg, shape[1:])
            fwd_in, fwd_out, mode = shape[1:], out_shape[1:], cfg["padding_mode"]
        per_dim = 1
        for i, k, s, d, (b, _), o in zip(fwd_in, kernel, stride, dilation, pads, fwd_out):
            per_dim *= axis_reads(i, k, s, d, b, mode, o)
        return out_shape[0] * (shape[0] // cfg["groups"]) * per_dim, True


@registered
class Conv(_Convolutions):
    name = "conv"
    words = ("conv", "conv1d", "conv2d", "conv3d")
    positional = ("out_channels", "kernel_size")
    modules = ("Conv1d", "Conv2d", "Conv3d")
    transposed = False

    def read_module(self, stage, m, ndim):
        padding = m.padding if isinstance(m.padding, str) else tuple(m.padding)
        stage.cfg = dict(ndim=ndim, in_channels=m.in_channels, out_channels=m.out_channels,
                         kernel_size=tuple(m.kernel_size), stride=tuple(m.stride),
                         padding=padding, dilation=tuple(m.dilation), groups=m.groups,
                         padding_mode=m.padding_mode)
        stage.weight, stage.bias = tensor_values(m.weight), tensor_values(m.bias)

    def read_description(self, stage, take, word, shape):
        super().read_description(stage, take, word, shape)
        stage.cfg["padding_mode"] = take("padding_mode", take("mode", "zeros"))

    def out_shape(self, stage, shape):
        cfg = stage.cfg
        _, spatial = _check_channels(stage, shape)
        out = geometry.conv_output_shape(spatial, cfg["kernel_size"], stride=cfg["stride"],
                                         padding=_padding(cfg, spatial),
                                         dilation=cfg["dilation"])
        return (cfg["out_channels"], *out)

    def matrix(self, stage, shape, out_shape):
        cfg, spatial = stage.cfg, shape[1:]
        a = LazyConv(stage.weight, spatial, stride=cfg["stride"],
                     padding=_padding(cfg, spatial), dilation=cfg["dilation"],
                     groups=cfg["groups"], padding_mode=cfg["padding_mode"])
        return a, bias_vector(stage, out_shape)

    def field_step(self, stage, shape):
        cfg = stage.cfg
        return Layer(cfg["kernel_size"], stride=cfg["stride"],
                     padding=_padding(cfg, shape[1:]), dilation=cfg["dilation"])

    def spectral(self, stage, shape, norm):
        if stage.weight is None:
            return None
        cfg = stage.cfg
        return norm(stage.weight, shape[1:], stride=cfg["stride"],
                    padding=_padding(cfg, shape[1:]), dilation=cfg["dilation"],
                    groups=cfg["groups"], padding_mode=cfg["padding_mode"])


@registered
class ConvTranspose(_Convolutions):
    name = "conv_transpose"
    words = ("deconv", "convt", "convtranspose", "conv_transpose")
    positional = ("out_channels", "kernel_size")
    modules = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
    transposed = True

    def read_module(self, stage, m, ndim):
        if m.padding_mode != "zeros":
            raise ConvmatError(f"padding_mode={brief(m.padding_mode)}: PyTorch's transposed "
                               f"convolutions support zeros only")
        stage.cfg = dict(ndim=ndim, in_channels=m.in_channels, out_channels=m.out_channels,
                         kernel_size=tuple(m.kernel_size), stride=tuple(m.stride),
                         padding=tuple(m.padding), output_padding=tuple(m.output_padding),
                         dilation=tuple(m.dilation), groups=m.groups)
        stage.weight, stage.bias = tensor_values(m.weight), tensor_values(m.bias)

    def read_description(self, stage, take, word, shape):
        super().read_description(stage, take, word, shape)
        stage.cfg["output_padding"] = take("output_padding", 0)
        if isinstance(stage.cfg["padding"], str):
            raise ConvmatError("a transposed convolution's padding must be numbers")

    def out_shape(self, stage, shape):
        cfg = stage.cfg
        _, spatial = _check_channels(stage, shape)
        out = geometry.conv_transpose_output_shape(
            spatial, cfg["kernel_size"], stride=cfg["stride"], padding=cfg["padding"],
            output_padding=cfg["output_padding"], dilation=cfg["dilation"])
        return (cfg["out_channels"], *out)

    def matrix(self, stage, shape, out_shape):
        cfg = stage.cfg
        a = conv_transpose_matrix(stage.weight, shape[1:], stride=cfg["stride"],
                                  padding=cfg["padding"], output_padding=cfg["output_padding"],
                                  dilation=cfg["dilation"], groups=cfg["groups"])
        return a, bias_vector(stage, out_shape)

    def field_step(self, stage, shape):
        return FieldStep.ENDS  # no integer window

    def spectral(self, stage, shape, norm):
        if stage.weight is None:
            return None
        cfg = stage.cfg
        out = self.out_shape(stage, shape)[1:]
        opad = as_per_dim(cfg["output_padding"], len(out), "output_padding", minimum=0)
        stride = as_per_dim(cfg["stride"], len(out), "stride", minimum=1)
        if any(q >= s for q, s in zip(opad, stride)):
            return None  # a restriction of the forward matrix: not its norm
        return norm(stage.weight, out, stride=cfg["stride"], padding=cfg["padding"],
                    dilation=cfg["dilation"], groups=cfg["groups"], padding_mode="zeros")
