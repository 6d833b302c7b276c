r"""Geometry of a convolution: shapes, padding resolution and output-size arithmetic.

Nothing here touches values. Every function validates its arguments and raises
:class:`~convmat.errors.ConvmatError` naming the parameter and its value.

One vocabulary: ``input_shape`` and ``kernel_shape`` are spatial shapes and come in that
order (``conv_output_shape(input_shape, kernel_shape)``, ``convolution_geometry(input_shape,
weight_shape)``); ``weight_shape`` is the shape of a whole weight array, a bare kernel or
PyTorch's ``(C_out, C_in/groups, *kernel_shape)``; ``padding_mode`` names a padding mode.

Per spatial dimension, with input size :math:`i`, kernel size :math:`k`, stride :math:`s`,
dilation :math:`d` and padding :math:`(b, a)` (before, after):

.. math::

    o = \left\lfloor \frac{i + b + a - d(k-1) - 1}{s} \right\rfloor + 1

and for the transposed convolution, with output padding :math:`q`:

.. math::

    o_T = (i-1)s - (b+a) + d(k-1) + q + 1, \qquad 0 \le q < \max(s, d).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union, cast

import numpy as np

from ._choices import PADDING_MODES, PADDING_STRINGS
from ._deprecation import deprecated
from ._padmap import MODES
from ._validate import (
    MAX_SIZE,
    as_flag,
    as_int,
    as_per_dim,
    as_shape,
    check_choice,
    check_size,
    listed,
    positive_int,
    remembered,
)
from .errors import ConvmatError, brief, error_context

__all__ = [
    "ConvGeometry",
    "conv_geometry",
    "conv_output_shape",
    "conv_transpose_geometry",
    "conv_transpose_output_shape",
    "convolution_geometry",
    "resolve_padding",
    "transposed_geometry",
    "vector_shapes",
]

#: the padding modes as a type, derived from the table of padding modes
#: (:data:`convmat._padmap.MODES`): ``typing.get_args(PaddingMode) == PADDING_MODES``
PaddingMode = Literal[PADDING_MODES]  # type: ignore[valid-type]
Padding = Union[int, str, Sequence[Union[int, Sequence[int]]]]
#: resolved padding: one ``(before, after)`` pair per spatial dimension
_Pads = tuple[tuple[int, int], ...]


# -- the formulas (every module takes its output sizes and paddings from here) ---------------

def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for integers, exactly (no floats)."""
    return -(-a // b)


def effective_size(k: int, d: int) -> int:
    """Span of a kernel of ``k`` taps at dilation ``d``: ``k_eff = d(k-1) + 1``."""
    return d * (k - 1) + 1


def output_size(i: int, k: int, s: int, d: int, before: int, after: int) -> int:
    """``o = floor((i + b + a - d(k-1) - 1) / s) + 1``."""
    return (i + before + after - d * (k - 1) - 1) // s + 1


def transpose_output_size(i: int, k: int, s: int, d: int, before: int, after: int,
                          output_padding: int = 0) -> int:
    """``o_T = (i-1)s - (b+a) + d(k-1) + q + 1``."""
    return (i - 1) * s - (before + after) + d * (k - 1) + output_padding + 1


def output_padding_for(o: int, i: int, k: int, s: int, d: int, before: int,
                       after: int) -> int:
    """The output padding ``q`` that makes the transposed output of input ``i`` size ``o``."""
    return o - transpose_output_size(i, k, s, d, before, after)


def stretched_size(i: int, s: int) -> int:
    """Length of an input of size ``i`` stretched by stride ``s`` (``s - 1`` zeros between
    entries), the input of a transposed convolution's equivalent direct one: ``(i-1)s + 1``."""
    return (i - 1) * s + 1


def stretched_padding(k: int, d: int, before: int, after: int,
                      output_padding: int = 0) -> tuple[int, int]:
    """Padding of the unit-stride convolution equivalent to a transposed one:
    ``(d(k-1) - b, d(k-1) - a + q)`` (negative: a crop)."""
    return d * (k - 1) - before, d * (k - 1) - after + output_padding


def same_padding(i: int, k: int, s: int, d: int) -> tuple[int, int]:
    """``"same"``: output ``ceil(i/s)``, total ``max((ceil(i/s)-1)s + d(k-1) + 1 - i, 0)``,
    ``before = total // 2``, the extra unit after."""
    total = max((ceil_div(i, s) - 1) * s + d * (k - 1) + 1 - i, 0)
    return total // 2, total - total // 2


@remembered
def resolve_padding(
    padding: Padding,
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    stride: int | Sequence[int] = 1,
    dilation: int | Sequence[int] = 1,
    *,
    allow_negative: bool = False,
) -> tuple[tuple[int, int], ...]:
    """Resolve any padding form into one ``(before, after)`` pair per spatial dimension.

    Parameters
    ----------
    padding : int, str or sequence
        ``int`` (both sides of every dim); one int per dim; one ``(before, after)`` pair per
        dim; ``"valid"`` (none); ``"full"`` (``d(k-1)`` both sides); ``"same"`` (output
        ``ceil(i/s)``; total ``max((ceil(i/s)-1)s + d(k-1) + 1 - i, 0)``, ``before =
        total // 2``, the extra unit after).
    input_shape, kernel_shape : sequence of int
        Spatial shapes (same length N).
    stride, dilation : int or sequence of int
    allow_negative : bool
        Accept negative numbers: a negative side is a crop of the input on that side (as
        XLA's ``lax.conv_general_dilated``). The convolution builders accept them.

    Returns
    -------
    tuple of (int, int)

    Examples
    --------
    >>> resolve_padding("same", (5, 6), (3, 4))
    ((1, 1), (1, 2))
    >>> resolve_padding("same", (7,), (3,), stride=2)
    ((1, 1),)
    >>> resolve_padding([(0, 1), 2], (4, 4), (2, 2))
    ((0, 1), (2, 2))
    """
    ishape = as_shape(input_shape, "input_shape")
    kshape = as_shape(kernel_shape, "kernel_shape")
    n = len(ishape)
    if len(kshape) != n:
        raise ConvmatError(
            f"kernel_shape={kshape!r} has {len(kshape)} dimensions but "
            f"input_shape={ishape!r} has {n}"
        )
    strides = as_per_dim(stride, n, "stride", minimum=1)
    dilations = as_per_dim(dilation, n, "dilation", minimum=1)
    allow_negative = as_flag(allow_negative, "allow_negative")
    padding = cast(Padding, listed(padding))  # a numpy array as a list
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return ((0, 0),) * n
        if mode == "full":
            return tuple((d * (k - 1), d * (k - 1)) for k, d in zip(kshape, dilations))
        if mode == "same":
            return tuple(
                same_padding(i, k, s, d)
                for i, k, s, d in zip(ishape, kshape, strides, dilations)
            )
        raise ConvmatError(
            f"padding={brief(padding)} is not a padding; use an int, per-dim ints or "
            f"(before, after) pairs, or one of {PADDING_STRINGS}"
        )
    if isinstance(padding, Sequence) and not isinstance(padding, bytes):
        if len(padding) != n:
            raise ConvmatError(
                f"padding={_show(padding)} has {len(padding)} entries but there are {n} "
                f"spatial dimensions; give one int, {n} ints or {n} (before, after) pairs"
            )
        pairs = []
        for entry in padding:
            if isinstance(entry, Sequence) and not isinstance(entry, (str, bytes)):
                if len(entry) != 2:
                    raise ConvmatError(
                        f"padding={_show(padding)}: entry {_show(entry)} must be an int or "
                        f"a (before, after) pair"
                    )
                pairs.append((as_int(entry[0], "padding"), as_int(entry[1], "padding")))
            else:
                p = as_int(entry, "padding")
                pairs.append((p, p))
    else:
        p = as_int(padding, "padding")
        pairs = [(p, p)] * n
    if not allow_negative and any(b < 0 or a < 0 for b, a in pairs):
        raise ConvmatError(f"padding={_show(padding)} must not be negative")
    return tuple(pairs)


def _show(value: object) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return brief(tuple(_show_plain(v) for v in value))
    return brief(value)


def _show_plain(value: object) -> object:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return tuple(value)
    return value


def _check_fits(ishape: Sequence[int], kshape: Sequence[int], dilations: Sequence[int],
                pads: _Pads) -> None:
    for axis, (i, k, d, (b, a)) in enumerate(zip(ishape, kshape, dilations, pads)):
        if i + b + a < d * (k - 1) + 1:
            raise ConvmatError(
                f"kernel_shape={kshape!r} with dilation={dilations!r} spans {d * (k - 1) + 1} "
                f"positions in dim {axis}, larger than the padded input size {i + b + a} "
                f"(input {i} + padding {b}+{a})"
            )


@remembered
def conv_output_shape(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation: int | Sequence[int] = 1,
) -> tuple[int, ...]:
    r"""Spatial output shape of a convolution.

    Notes
    -----
    Per dimension, :math:`o = \lfloor (i + b + a - d(k-1) - 1) / s \rfloor + 1`.

    Examples
    --------
    >>> conv_output_shape((5, 5), (3, 3))
    (3, 3)
    >>> conv_output_shape((4, 4), (2, 2), stride=3, padding=1)
    (2, 2)
    >>> conv_output_shape((28, 28), (5, 5), padding="same")
    (28, 28)
    """
    with error_context("conv_output_shape", input_shape=input_shape, kernel_shape=kernel_shape):
        ishape = as_shape(input_shape, "input_shape")
        kshape = as_shape(kernel_shape, "kernel_shape")
        pads = resolve_padding(padding, ishape, kshape, stride, dilation, allow_negative=True)
        strides = as_per_dim(stride, len(ishape), "stride", minimum=1)
        dilations = as_per_dim(dilation, len(ishape), "dilation", minimum=1)
        _check_fits(ishape, kshape, dilations, pads)
        return tuple(
            output_size(i, k, s, d, b, a)
            for i, k, s, d, (b, a) in zip(ishape, kshape, strides, dilations, pads)
        )


def _transpose_padding(padding: Padding, ishape: Sequence[int], kshape: Sequence[int],
                       strides: Sequence[int], dilations: Sequence[int]) -> _Pads:
    """Padding of the forward convolution whose transpose is being taken.

    String paddings are resolved against the forward input of size ``i * s`` (the
    TensorFlow/Keras convention for ``"same"``).
    """
    if isinstance(padding, str):
        forward = tuple(i * s for i, s in zip(ishape, strides))
        return resolve_padding(padding, forward, kshape, strides, dilations)
    return resolve_padding(padding, ishape, kshape, strides, dilations, allow_negative=True)


@remembered
def conv_transpose_output_shape(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
) -> tuple[int, ...]:
    r"""Spatial output shape of a transposed convolution.

    Notes
    -----
    Per dimension, :math:`o_T = (i-1)s - (b+a) + d(k-1) + q + 1` with output padding
    :math:`0 \le q < \max(s, d)`. String paddings are those of the forward convolution with
    input size ``i * s`` (so ``"same"`` gives ``i * s`` whenever ``d(k-1) + 1 >= s``).

    Examples
    --------
    >>> conv_transpose_output_shape((3, 3), (3, 3))
    (5, 5)
    >>> conv_transpose_output_shape((2, 2), (3, 3), stride=2, padding=1, output_padding=1)
    (4, 4)
    >>> conv_transpose_output_shape((4,), (4,), stride=2, padding="same")
    (8,)
    """
    with error_context(
        "conv_transpose_output_shape", input_shape=input_shape, kernel_shape=kernel_shape
    ):
        ishape = as_shape(input_shape, "input_shape")
        kshape = as_shape(kernel_shape, "kernel_shape")
        n = len(ishape)
        strides = as_per_dim(stride, n, "stride", minimum=1)
        dilations = as_per_dim(dilation, n, "dilation", minimum=1)
        if len(kshape) != n:
            raise ConvmatError(
                f"kernel_shape={kshape!r} has {len(kshape)} dimensions but "
                f"input_shape={ishape!r} has {n}"
            )
        pads = _transpose_padding(padding, ishape, kshape, strides, dilations)
        out_pads = as_per_dim(output_padding, n, "output_padding", minimum=0)
        for q, s, d in zip(out_pads, strides, dilations):
            if q >= max(s, d):
                raise ConvmatError(
                    f"output_padding={_show(output_padding)} must be smaller than "
                    f"max(stride, dilation) = {max(s, d)} in every dim "
                    f"(stride={strides!r}, dilation={dilations!r})"
                )
        shape = tuple(
            transpose_output_size(i, k, s, d, b, a, q)
            for i, k, s, d, (b, a), q in zip(ishape, kshape, strides, dilations, pads, out_pads)
        )
        if any(o < 1 for o in shape):
            raise ConvmatError(
                f"padding={_show(padding)} is too large: the transposed output shape would be "
                f"{shape!r}"
            )
        return shape


@dataclass(frozen=True)
class ConvGeometry:
    """Everything about a convolution except its values.

    The matrix maps the flattened input ``(in_channels, *input_shape)`` to the flattened
    output ``(out_channels, *output_shape)``. ``output_shape`` may be a restriction (the
    first positions per dim) of the natural output, as used by transposed convolution.
    """

    input_shape: tuple[int, ...]
    kernel_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    in_channels: int = 1
    out_channels: int = 1
    groups: int = 1
    padding_mode: str = "zeros"
    flip: bool = False

    @property
    def ndim(self) -> int:
        return len(self.input_shape)

    @property
    def padded_shape(self) -> tuple[int, ...]:
        return tuple(i + b + a for i, (b, a) in zip(self.input_shape, self.padding))

    @property
    def shape(self) -> tuple[int, int]:
        """Matrix shape ``(rows, cols)``."""
        return (
            self.out_channels * math.prod(self.output_shape),
            self.in_channels * math.prod(self.input_shape),
        )

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.out_channels, self.in_channels // self.groups, *self.kernel_shape)

    def axis_entries(self) -> tuple[int, ...]:
        """Per axis, the (output position, tap) pairs the engine emits: ``sum_t count[t]``.

        Closed form (:func:`axis_entries`), O(log) arithmetic per axis: nothing of the
        output's length is allocated, so the memory guard can refuse any geometry at once.
        """
        return tuple(
            axis_entries(i, k, s, d, b, o) if self.padding_mode == "zeros" else o * k
            for o, k, s, d, (b, _), i in zip(
                self.output_shape, self.kernel_shape, self.stride, self.dilation,
                self.padding, self.input_shape)
        )

    def nnz_upper_bound(self) -> int:
        """Number of (row, col, tap) triplets the engine emits (exact for zeros padding)."""
        return (self.out_channels * (self.in_channels // self.groups)
                * math.prod(self.axis_entries()))


def floor_sum(n: int, m: int, a: int, b: int) -> int:
    """``sum(floor((a*t + b) / m) for t in range(n))`` exactly, in O(log) steps.

    ``n >= 0``, ``m >= 1``; ``a`` and ``b`` any integers (Python ints: no overflow).
    """
    if n <= 0:
        return 0
    total = 0
    q, a = divmod(a, m)
    total += q * (n * (n - 1) // 2)
    q, b = divmod(b, m)
    total += q * n
    while True:  # a, b in [0, m): the Euclid-like reduction of the lattice-point count
        if a >= m:
            total += (n * (n - 1) // 2) * (a // m)
            a %= m
        if b >= m:
            total += n * (b // m)
            b %= m
        y_max = a * n + b
        if y_max < m:
            return total
        n, b = divmod(y_max, m)
        m, a = a, m


def _clipped_ceil_sum(c: int, k: int, s: int, d: int, o: int) -> int:
    """``sum(clip(ceil((c - t*s) / d), 0, k) for t in range(o))`` in closed form."""
    # t < full: the value is >= k (clipped to k); t >= zero: the value is <= 0
    full = min(max((c - d * (k - 1) - 1) // s + 1, 0), o)
    zero = min(max(ceil_div(c, s), 0), o)
    n = zero - full  # the values in between are ceil((c - t s)/d), summed backwards
    return k * full + floor_sum(n, d, s, c - s * (zero - 1) + d - 1)


def axis_entries(i: int, k: int, s: int, d: int, b: int, o: int) -> int:
    r"""``sum(hi - lo)`` of :func:`tap_range`: the taps of ``o`` output positions that land in
    an input of size ``i`` (zero padding ``b`` before), computed in closed form.

    Notes
    -----
    With :math:`\mathrm{lo}(t) = \operatorname{clip}(\lceil (b - ts)/d \rceil, 0, k)` and
    :math:`\mathrm{hi}(t) = \operatorname{clip}(\lceil (b + i - ts)/d \rceil, 0, k)`, each
    sum splits at the two positions where the clip starts and stops acting; the middle is a
    sum of floors of an arithmetic progression (:func:`floor_sum`).

    Examples
    --------
    >>> axis_entries(5, 3, 1, 1, 1, 5)   # "same": 2 + 3 + 3 + 3 + 2
    13
    >>> axis_entries(10**18, 3, 1, 1, 0, 10**18 - 2)
    2999999999999999994
    """
    return _clipped_ceil_sum(b + i, k, s, d, o) - _clipped_ceil_sum(b, k, s, d, o)


def tap_range(i: int, k: int, s: int, d: int, b: int, o: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output position ``t < o``, the taps ``lo[t] <= j < hi[t]`` that land in the input.

    Tap ``j`` of output ``t`` reads padded position ``t*s + j*d``, i.e. input position
    ``t*s + j*d - b``; the valid taps form one contiguous range (empty: ``lo == hi``).
    """
    start = np.arange(o, dtype=np.int64) * s - b
    lo = np.minimum(np.maximum(-(start // d), 0), k)  # ceil(-start / d), in [0, k]
    hi = np.minimum(np.maximum(-((start - i) // d), lo), k)  # ceil((i - start) / d)
    return lo, hi


def _weight_layout(weight_shape: Sequence[int], ndim: int, groups: int,
                   transposed: bool) -> tuple[int, int, tuple[int, ...]]:
    """(out_channels, in_channels, kernel_shape) of the forward convolution."""
    wshape = tuple(as_int(v, "weight.shape") for v in weight_shape)
    if len(wshape) == ndim:
        if groups != 1:
            raise ConvmatError(
                f"groups={groups} needs a weight in the layout (C_out, C_in/groups, *kernel); "
                f"a bare kernel of shape {wshape!r} has one channel"
            )
        return 1, 1, wshape
    if len(wshape) != ndim + 2:
        layout = "(C_in, C_out/groups, *kernel)" if transposed else "(C_out, C_in/groups, *kernel)"
        hint = ("; input_shape is the spatial shape only (no channel axis)"
                if len(wshape) == ndim + 1 else "")
        raise ConvmatError(
            f"weight.shape={wshape!r} has {len(wshape)} dimensions; for {ndim} spatial "
            f"dimensions (the length of input_shape) use the bare kernel ({ndim} dims) or the layout {layout} "
            f"({ndim + 2} dims){hint}"
        )
    if any(v < 1 for v in wshape):
        raise ConvmatError(f"weight.shape={wshape!r} must not have empty dimensions")
    first, second = wshape[0], wshape[1]
    if first % groups:
        name = "C_in" if transposed else "C_out"
        raise ConvmatError(
            f"groups={groups} does not divide {name}={first} (weight.shape={wshape!r})"
        )
    return first, second * groups, wshape[2:]


def check_mode(mode: object, pads: _Pads, ishape: Sequence[int],
               name: str = "padding_mode") -> str:
    """Validate a padding mode against the (resolved) padding and the input shape.

    A negative side is a crop: the input is first cropped by it, and the positive sides are
    then filled by the mode from the cropped input (of size ``i + min(b, 0) + min(a, 0)``,
    which must stay positive). Limits per side, on the cropped size ``n``, come from the
    table of padding modes (:data:`convmat._padmap.MODES`): ``reflect`` needs ``< n`` (as
    PyTorch), ``circular`` and ``symmetric`` need ``<= n`` (as TensorFlow's ``MirrorPad``);
    ``zeros`` and ``replicate`` have none.
    """
    mode = check_choice(mode, name, tuple(MODES))  # the table itself: a new entry is a mode
    limit, limit_text = MODES[mode].limit, MODES[mode].limit_text
    for axis, (i, (b, a)) in enumerate(zip(ishape, pads)):
        n = i + min(b, 0) + min(a, 0)
        if n < 1:
            raise ConvmatError(
                f"padding {(b, a)!r} in dim {axis} crops the whole input of size {i} away "
                f"(a negative padding removes that many positions; at least one must stay)"
            )
        if limit is not None and max(b, a) > limit(n):
            cropped = f"the cropped input size {n}" if n < i else f"the input size {i}"
            raise ConvmatError(
                f"padding {(b, a)!r} in dim {axis} is too large for {name}={mode!r}: each "
                f"side must be {limit_text} {cropped}"
            )
    return mode


@remembered
def convolution_geometry(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
    flip: bool = False,
) -> ConvGeometry:
    """Validate the arguments of :func:`convmat.conv_matrix` into a :class:`ConvGeometry`.

    The order is the package's one order, ``(input_shape, kernel_shape)`` as in
    :func:`conv_output_shape`; the second argument is the whole weight's shape (a bare
    kernel, or ``(C_out, C_in/groups, *kernel)``), from which the channels are read.
    It replaces ``conv_geometry(weight_shape, input_shape)``, whose order disagreed:
    both arguments are tuples, and a bare kernel has as many entries as the input shape,
    so the old order cannot be told from the new one and the function got a new name.

    Examples
    --------
    >>> g = convolution_geometry((5, 5), (2, 3, 3, 3), stride=2, padding=1)
    >>> g.output_shape, g.in_channels, g.out_channels, g.kernel_shape
    ((3, 3), 3, 2, (3, 3))
    """
    ishape = as_shape(input_shape, "input_shape")
    n = len(ishape)
    groups = positive_int(groups, "groups")
    c_out, c_in, kshape = _weight_layout(weight_shape, n, groups, transposed=False)
    strides = as_per_dim(stride, n, "stride", minimum=1)
    dilations = as_per_dim(dilation, n, "dilation", minimum=1)
    pads = resolve_padding(padding, ishape, kshape, strides, dilations, allow_negative=True)
    mode = check_mode(padding_mode, pads, ishape)
    _check_fits(ishape, kshape, dilations, pads)
    oshape = tuple(
        output_size(i, k, s, d, b, a)
        for i, k, s, d, (b, a) in zip(ishape, kshape, strides, dilations, pads)
    )
    return check_indexable(ConvGeometry(ishape, kshape, oshape, strides, dilations, pads,
                                        c_in, c_out, groups, mode, as_flag(flip, "flip")))


@remembered
def transposed_geometry(
    input_shape: Sequence[int],
    weight_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: Padding = 0,
    output_padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: PaddingMode = "zeros",
    flip: bool = False,
) -> ConvGeometry:
    """Geometry of the *forward* convolution whose transpose is the transposed convolution.

    Its input shape is the transposed output shape and its output shape is ``input_shape``
    (the first ``input_shape`` positions of the forward output, which has more only when
    ``output_padding >= stride``). ``weight_shape`` is PyTorch's ``(C_in, C_out/groups,
    *kernel)`` or a bare kernel; the order is ``(input_shape, kernel_shape)`` as everywhere
    (it replaces ``conv_transpose_geometry(weight_shape, input_shape)``).
    """
    ishape = as_shape(input_shape, "input_shape")
    n = len(ishape)
    groups = positive_int(groups, "groups")
    c_in_t, c_out_t, kshape = _weight_layout(weight_shape, n, groups, transposed=True)
    strides = as_per_dim(stride, n, "stride", minimum=1)
    dilations = as_per_dim(dilation, n, "dilation", minimum=1)
    tshape = conv_transpose_output_shape(
        ishape, kshape, stride=strides, padding=padding, output_padding=output_padding,
        dilation=dilations,
    )
    pads = _transpose_padding(padding, ishape, kshape, strides, dilations)
    mode = check_mode(padding_mode, pads, tshape)
    return check_indexable(ConvGeometry(tshape, kshape, ishape, strides, dilations, pads,
                                        c_out_t, c_in_t, groups, mode, as_flag(flip, "flip")))


def conv_geometry(weight_shape: Sequence[int], input_shape: Sequence[int],
                  **options: Any) -> ConvGeometry:
    """Deprecated (warns): :func:`convolution_geometry` with the arguments swapped, the one
    order being ``(input_shape, weight_shape)``."""
    deprecated("geometry.conv_geometry(weight_shape, input_shape, ...) is deprecated; use "
               "geometry.convolution_geometry(input_shape, weight_shape, ...)")
    return convolution_geometry(input_shape, weight_shape, **options)


def conv_transpose_geometry(weight_shape: Sequence[int], input_shape: Sequence[int],
                            **options: Any) -> ConvGeometry:
    """Deprecated (warns): :func:`transposed_geometry` with the arguments swapped, the one
    order being ``(input_shape, weight_shape)``."""
    deprecated("geometry.conv_transpose_geometry(weight_shape, input_shape, ...) is "
               "deprecated; use geometry.transposed_geometry(input_shape, weight_shape, ...)")
    return transposed_geometry(input_shape, weight_shape, **options)


def check_indexable(geom: ConvGeometry) -> ConvGeometry:
    """``geom`` when every size, step, padding and matrix dimension is at most ``2**62``, so
    that all index arithmetic of a build stays inside int64 (larger layers could never be
    stored anyway); a :class:`ConvmatError` naming the quantity otherwise."""
    for name, values in (("input_shape", geom.input_shape), ("kernel_shape", geom.kernel_shape),
                         ("stride", geom.stride), ("dilation", geom.dilation),
                         ("padding", tuple(v for pair in geom.padding for v in pair)),
                         ("padded input size", geom.padded_shape),
                         ("channels", (geom.in_channels, geom.out_channels))):
        for value in values:
            check_size(value, name)
    rows, cols = geom.shape
    if max(rows, cols, math.prod(geom.weight_shape)) > MAX_SIZE:
        raise ConvmatError(
            f"the matrix would have shape ({rows}, {cols}) for a weight of "
            f"{math.prod(geom.weight_shape)} entries: larger than 2**62 = {MAX_SIZE}, more "
            f"than any index can address")
    return geom


def vector_shapes(geom: ConvGeometry,
                  transposed: bool = False) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Index shapes ``(x_shape, y_shape)`` of the vectors a convolution's matrix maps.

    ``x`` is the matrix's input (its columns), ``y`` its output (its rows); each is
    ``(channels, *spatial)``, the channel axis left out when there is one channel.

    Examples
    --------
    >>> vector_shapes(convolution_geometry((4, 4), (2, 3, 2, 2)))
    ((3, 4, 4), (2, 3, 3))
    >>> vector_shapes(convolution_geometry((4, 4), (2, 2)), transposed=True)
    ((3, 3), (4, 4))
    """
    def shape(channels: int, spatial: tuple[int, ...]) -> tuple[int, ...]:
        return spatial if channels == 1 else (channels, *spatial)

    x = shape(geom.in_channels, geom.input_shape)
    y = shape(geom.out_channels, geom.output_shape)
    return (y, x) if transposed else (x, y)
