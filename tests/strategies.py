"""Hypothesis strategies for convolution geometries, with paddings resolved independently."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import assume
from hypothesis import strategies as st

from .oracle import same_pads

TORCH_MODES = ("zeros", "reflect", "replicate", "circular")
MODES = TORCH_MODES + ("symmetric",)


@dataclass
class Geo:
    input_shape: tuple
    kernel: tuple
    stride: object
    dilation: object
    padding: object  # as given to convmat
    pads: tuple  # resolved by the test's own rule
    mode: str
    groups: int
    c_in: int
    c_out: int
    flip: bool

    @property
    def ndim(self):
        return len(self.input_shape)

    def per_dim(self, value):
        return (value,) * self.ndim if isinstance(value, int) else tuple(value)

    def kwargs(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups, padding_mode=self.mode, flip=self.flip)


def _per_dim(draw, n, lo, hi):
    if draw(st.booleans()):
        return draw(st.integers(lo, hi))
    return tuple(draw(st.integers(lo, hi)) for _ in range(n))


@st.composite
def geometries(draw, ndims=(1, 2, 3), max_input=7, max_kernel=3, max_stride=3,
               max_dilation=3, modes=TORCH_MODES, channels=True, max_pad=3, crop=False):
    """Random geometries; ``crop`` lets (before, after) pairs be negative (crops)."""
    n = draw(st.sampled_from(ndims))
    ishape = tuple(draw(st.integers(1, max_input)) for _ in range(n))
    kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(n))
    stride = _per_dim(draw, n, 1, max_stride)
    dilation = _per_dim(draw, n, 1, max_dilation)
    s = (stride,) * n if isinstance(stride, int) else stride
    d = (dilation,) * n if isinstance(dilation, int) else dilation
    form = draw(st.sampled_from(["int", "ints", "pairs", "valid", "same", "full"]))
    if form == "int":
        p = draw(st.integers(0, max_pad))
        padding, pads = p, ((p, p),) * n
    elif form == "ints":
        padding = tuple(draw(st.integers(0, max_pad)) for _ in range(n))
        pads = tuple((p, p) for p in padding)
    elif form == "pairs":
        low = -max_pad if crop else 0
        padding = tuple((draw(st.integers(low, max_pad)), draw(st.integers(low, max_pad)))
                        for _ in range(n))
        pads = padding
    elif form == "valid":
        padding, pads = "valid", ((0, 0),) * n
    elif form == "full":
        padding = "full"
        pads = tuple((dd * (k - 1), dd * (k - 1)) for k, dd in zip(kernel, d))
    else:
        padding = "same"
        pads = tuple(same_pads(i, k, ss, dd) for i, k, ss, dd in zip(ishape, kernel, s, d))
    mode = draw(st.sampled_from(modes))
    for i, (b, a) in zip(ishape, pads):
        kept = i + min(b, 0) + min(a, 0)  # the input left after the crops
        assume(kept >= 1)
        if mode == "reflect":
            assume(max(b, a) < kept)
        if mode in ("circular", "symmetric"):
            assume(max(b, a) <= kept)
    for i, (b, a), k, dd in zip(ishape, pads, kernel, d):
        assume(i + b + a >= dd * (k - 1) + 1)
    if channels:
        groups = draw(st.integers(1, 3))
        c_in = groups * draw(st.integers(1, 2))
        c_out = groups * draw(st.integers(1, 2))
    else:
        groups, c_in, c_out = 1, 1, 1
    return Geo(ishape, kernel, stride, dilation, padding, pads, mode, groups, c_in, c_out,
               draw(st.booleans()))
