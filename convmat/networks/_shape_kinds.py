"""Layer kinds that move or copy values: reshapes (``Flatten``, ``Unflatten``), the
identity (``Identity``, dropout in eval mode), padding (``ZeroPadNd``, ``ConstantPadNd``,
``ReflectionPadNd``, ``ReplicationPadNd``, ``CircularPadNd``) and pixel shuffles."""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from .. import geometry
from .._validate import as_int
from ..errors import ConvmatError, brief
from ..padding import padding_matrix
from ..receptive import Layer
from ._kinds import FieldStep, LinearKind, nd_name, registered, spatial_split

__all__ = ["Flatten", "Identity", "Pad", "PixelShuffle", "PixelUnshuffle", "Unflatten"]


class _Reshape(LinearKind):
    """A reshape: the identity on the flat values (its factor is ``None``)."""

    positional = ()

    def first_geometry(self, stage):
        return None

    def stored(self, stage, shape, out_shape):
        return math.prod(shape), True

    def matrix(self, stage, shape, out_shape):
        return None, np.zeros(math.prod(out_shape))

    def field_step(self, stage, shape):
        return FieldStep.ENDS

    def spectral(self, stage, shape, norm):
        return 1.0


@registered
class Flatten(_Reshape):
    name = "flatten"
    words = ("flatten",)
    modules = ("Flatten",)

    def read_module(self, stage, m, ndim):
        stage.cfg = dict(start_dim=m.start_dim, end_dim=m.end_dim)

    def read_description(self, stage, take, word, shape):
        stage.cfg = dict(start_dim=1, end_dim=-1)
        stage.type = "Flatten"

    def out_shape(self, stage, shape):
        batched = (1, *shape)
        nd = len(batched)
        start, end = stage.cfg["start_dim"] % nd, stage.cfg["end_dim"] % nd
        if start == 0:
            raise ConvmatError("start_dim=0 would merge the batch axis; use start_dim=1")
        if end < start:
            return shape
        out = (*batched[:start], math.prod(batched[start:end + 1]), *batched[end + 1:])
        return out[1:]


@registered
class Unflatten(_Reshape):
    name = "unflatten"
    words = ()
    modules = ("Unflatten",)

    def read_module(self, stage, m, ndim):
        if not isinstance(m.dim, int):
            raise ConvmatError("a named dim cannot be unflattened here")
        stage.cfg = dict(dim=m.dim, sizes=tuple(m.unflattened_size))

    def read_description(self, stage, take, word, shape):
        raise ConvmatError("unflatten has no text description")  # words == (): unreachable

    def out_shape(self, stage, shape):
        batched = (1, *shape)
        dim = stage.cfg["dim"] % len(batched)
        sizes = tuple(stage.cfg["sizes"])
        if dim == 0 or math.prod(sizes) != batched[dim]:
            raise ConvmatError(f"cannot unflatten dim {stage.cfg['dim']} of {brief(batched)} "
                               f"into {brief(sizes)}")
        return (*batched[1:dim], *sizes, *batched[dim + 1:])


@registered
class Identity(_Reshape):
    name = "identity"
    words = ("identity", "dropout")
    modules = ("Identity", "modules.dropout._DropoutNd")

    def read_module(self, stage, m, ndim):
        if getattr(m, "training", False) and getattr(m, "p", 0) > 0:
            raise ConvmatError("is in training mode (random); call model.eval() first")

    def read_description(self, stage, take, word, shape):
        stage.type = "Dropout" if word == "dropout" else "Identity"

    def first_geometry(self, stage):
        return None, None, False  # looks through

    def out_shape(self, stage, shape):
        return shape

    def field_step(self, stage, shape):
        return FieldStep.KEEPS


#: PyTorch's padding classes (their name before ``Nd``) and the padding mode of each
_PAD_MODES = {"ZeroPad": "zeros", "ConstantPad": "zeros", "ReflectionPad": "reflect",
              "ReplicationPad": "replicate", "CircularPad": "circular"}
_PAD_TYPES = {"zeros": "ZeroPad", "reflect": "ReflectionPad", "replicate": "ReplicationPad",
              "circular": "CircularPad"}


def _stem(module: object) -> str | None:
    """The name of a module's class before ``Nd`` (``ZeroPad2d``: ``ZeroPad``), if any."""
    nd = nd_name(type(module).__name__)
    return nd[0] if nd else None


@registered
class Pad(LinearKind):
    name = "pad"
    words = ("pad",)
    modules = ()  # by name: ZeroPad2d, ReflectionPad1d, ...
    positional = ("padding",)

    def matches(self, module):
        return _stem(module) in _PAD_MODES

    def read_module(self, stage, m, ndim):
        pad = tuple(m.padding)
        stage.cfg = dict(ndim=ndim, pairs=tuple((pad[2 * (ndim - 1 - d)],
                                                 pad[2 * (ndim - 1 - d) + 1])
                                                for d in range(ndim)),
                         mode=_PAD_MODES[_stem(m)],
                         value=float(getattr(m, "value", 0.0)))

    def read_description(self, stage, take, word, shape):
        ndim = max(len(shape) - 1, 1)
        pairs = geometry.resolve_padding(take("padding", None), (1,) * ndim, (1,) * ndim,
                                         allow_negative=True)
        mode = take("mode", "zeros")
        mode = "zeros" if mode == "constant" else mode
        stage.cfg = dict(ndim=ndim, pairs=pairs, mode=mode, value=float(take("value", 0.0)))
        suffix = f"{ndim}d" if 1 <= ndim <= 3 else f"{ndim}-D"
        stage.type = _PAD_TYPES.get(mode, "Pad") + suffix

    def first_geometry(self, stage):
        return stage.cfg["ndim"], None, False

    def out_shape(self, stage, shape):
        cfg = stage.cfg
        n = cfg["ndim"]
        spatial_split(shape, n)
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

    def stored(self, stage, shape, out_shape):
        cfg = stage.cfg
        if cfg["mode"] != "zeros":  # every output copies one input
            return math.prod(out_shape), True
        lead, spatial = spatial_split(shape, cfg["ndim"])
        inside = 1
        for i, (b, a) in zip(spatial, cfg["pairs"]):
            # the input sits at [pb, pb + i) of the padded axis; the crop keeps [cb, L - ca)
            pb, pa, cb, ca = max(b, 0), max(a, 0), max(-b, 0), max(-a, 0)
            inside *= max(0, min(pb + i, i + pb + pa - ca) - max(pb, cb))
        return lead * inside, True

    def matrix(self, stage, shape, out_shape):
        cfg = stage.cfg
        lead, spatial = spatial_split(shape, cfg["ndim"])
        positive = [(max(b, 0), max(a, 0)) for b, a in cfg["pairs"]]
        p = padding_matrix(spatial, positive, padding_mode=cfg["mode"], channels=lead)
        if any(min(pair) < 0 for pair in cfg["pairs"]):  # a crop: keep the inner rows
            rows = np.arange(lead)
            for i, (b, a), (pb, pa) in zip(spatial, cfg["pairs"], positive):
                rows = rows[:, None] * (i + pb + pa) + np.arange(max(-b, 0),
                                                                 i + pb + pa - max(-a, 0))
                rows = rows.ravel()
            p = p[rows]
        zeros = np.zeros(math.prod(out_shape))
        b = cfg["value"] * (np.diff(p.indptr) == 0) if cfg["value"] else zeros
        return sp.csr_array(p), b

    def field_step(self, stage, shape):
        return Layer(1, padding=[(max(b, 0), max(a, 0)) for b, a in stage.cfg["pairs"]])

    def spectral(self, stage, shape, norm):
        return None  # not computed for padding


class _Shuffle(LinearKind):
    """Pixel shuffles: a permutation of the values."""

    positional = ("factor",)
    up: bool

    def read_module(self, stage, m, ndim):
        stage.cfg = dict(factor=int(m.upscale_factor if self.up else m.downscale_factor))

    def read_description(self, stage, take, word, shape):
        stage.cfg = dict(factor=as_int(take("factor", None), "factor"))
        stage.type = "PixelShuffle" if self.up else "PixelUnshuffle"

    def first_geometry(self, stage):
        return None

    def out_shape(self, stage, shape):
        r = stage.cfg["factor"]
        if len(shape) < 3:
            raise ConvmatError(f"expects an input (channels, height, width), got {brief(shape)}")
        *lead, c, h, w = shape
        if self.up:
            if c % (r * r):
                raise ConvmatError(f"the {c} input channels are not divisible by "
                                   f"upscale_factor**2 = {r * r}")
            return (*lead, c // (r * r), h * r, w * r)
        if h % r or w % r:
            raise ConvmatError(f"height {h} and width {w} must be divisible by "
                               f"downscale_factor={r}")
        return (*lead, c * r * r, h // r, w // r)

    def stored(self, stage, shape, out_shape):
        return math.prod(shape), True

    def matrix(self, stage, shape, out_shape):
        r = stage.cfg["factor"]
        *lead, c, h, w = shape
        n_in = math.prod(shape)
        idx = np.arange(n_in, dtype=np.int64)
        m = len(lead)
        if self.up:  # out[c, y*r+i, x*r+j] = in[c*r*r + i*r + j, y, x]
            order = idx.reshape(*lead, c // (r * r), r, r, h, w).transpose(
                *range(m), m, m + 3, m + 1, m + 4, m + 2)
        else:  # out[c*r*r + i*r + j, y, x] = in[c, y*r+i, x*r+j]
            order = idx.reshape(*lead, c, h // r, r, w // r, r).transpose(
                *range(m), m, m + 2, m + 4, m + 1, m + 3)
        a = sp.csr_array((np.ones(n_in), order.reshape(-1), np.arange(n_in + 1)),
                         shape=(n_in, n_in))
        return a, np.zeros(n_in)

    def spectral(self, stage, shape, norm):
        return 1.0


@registered
class PixelShuffle(_Shuffle):
    name = "pixel_shuffle"
    words = ("pixelshuffle", "pixel_shuffle")
    modules = ("PixelShuffle",)
    up = True

    def field_step(self, stage, shape):
        return FieldStep.ENDS


@registered
class PixelUnshuffle(_Shuffle):
    name = "pixel_unshuffle"
    words = ("pixelunshuffle", "pixel_unshuffle")
    modules = ("PixelUnshuffle",)
    up = False

    def field_step(self, stage, shape):
        r = stage.cfg["factor"]
        return Layer(r, stride=r)
