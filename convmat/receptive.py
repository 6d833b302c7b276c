r"""Receptive field of a stack of convolution / pooling layers: size, jump and start.

Output position :math:`t` of the last layer depends on input positions
``start + t * jump`` up to ``start + t * jump + size - 1`` (per dim). With layers
:math:`l = 1..L` of kernel :math:`k_l`, stride :math:`s_l`, dilation :math:`d_l` and padding
:math:`b_l` before,

.. math::

    J_0 = 1,\quad J_l = J_{l-1} s_l, \qquad
    \text{size} = 1 + \sum_l d_l (k_l - 1) J_{l-1}, \qquad
    \text{start} = -\sum_l b_l J_{l-1}.

The size is the *span*: with dilation, positions inside it can be skipped (the "gridding"
of stacked dilated layers). In matrix terms, the support of row ``t`` of the product
:math:`A_L \cdots A_1` of the layers' matrices lies inside the window, and reaches both of
its ends when the window lies inside the input.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import geometry
from ._deprecation import MISSING, _Missing, renamed, warn_renamed
from ._validate import as_per_dim, as_shape
from .errors import ConvmatError, brief, error_context

__all__ = ["Layer", "receptive_field"]

_Ints = tuple[int, ...]


@dataclass(frozen=True, init=False)
class Layer:
    """Geometry of one layer of a stack (convolution or pooling): ints or one per dim;
    ``padding`` in any form :func:`convmat.conv_matrix` accepts (strings need the
    ``input_shape`` of :func:`receptive_field`). ``kernel=`` (and the attribute
    ``.kernel``) is the deprecated spelling of ``kernel_shape`` (warns)."""

    kernel_shape: int | Sequence[int]
    stride: int | Sequence[int] = 1
    padding: geometry.Padding = 0
    dilation: int | Sequence[int] = 1

    def __init__(self, kernel_shape: int | Sequence[int] | _Missing = MISSING,
                 stride: int | Sequence[int] = 1, padding: geometry.Padding = 0,
                 dilation: int | Sequence[int] = 1, *,
                 kernel: int | Sequence[int] | _Missing = MISSING) -> None:
        chosen = renamed("Layer", "kernel", kernel, "kernel_shape", kernel_shape)
        if chosen is MISSING:
            raise TypeError("Layer() missing 1 required argument: 'kernel_shape'")
        for name, value in (("kernel_shape", chosen), ("stride", stride),
                            ("padding", padding), ("dilation", dilation)):
            object.__setattr__(self, name, value)

    @property
    def kernel(self) -> int | Sequence[int]:
        """Deprecated name of :attr:`kernel_shape` (warns)."""
        warn_renamed("Layer", "kernel", "kernel_shape", stacklevel=2)
        return self.kernel_shape


@dataclass(frozen=True)
class ReceptiveField:
    """Per spatial dim: ``size`` (span of input positions), ``jump`` (input distance between
    neighbouring outputs) and ``start`` (first input position read by output 0; negative
    means inside the padding)."""

    size: tuple[int, ...]
    jump: tuple[int, ...]
    start: tuple[int, ...]

    @property
    def center(self) -> tuple[float, ...]:
        """Centre of output 0's window, in input coordinates."""
        return tuple(b + (n - 1) / 2 for b, n in zip(self.start, self.size))

    def window(self, position: int | Sequence[int]) -> tuple[range, ...]:
        """The input positions spanned by output ``position`` (per dim; may leave the input)."""
        pos = as_per_dim(position, len(self.size), "position", minimum=0)
        return tuple(range(b + t * j, b + t * j + n)
                     for b, j, n, t in zip(self.start, self.jump, self.size, pos))


def _as_layer(layer: object, number: int) -> Layer:
    if isinstance(layer, Layer):
        return layer
    if isinstance(layer, Mapping):
        try:
            return Layer(**layer)
        except TypeError:
            raise ConvmatError(
                f"layers[{number}]={brief(dict(layer))} must have the keys kernel_shape, and "
                f"optionally stride, padding, dilation") from None
    raise ConvmatError(f"layers[{number}]={brief(layer)} must be a convmat.receptive.Layer or a dict "
                       f"with the keys kernel_shape, stride, padding, dilation")


def _ndim(layers: Sequence[Layer], input_shape: Sequence[int] | None) -> int:
    if input_shape is not None:
        return len(as_shape(input_shape, "input_shape"))
    lengths = {len(v) for layer in layers
               for v in (layer.kernel_shape, layer.stride, layer.padding, layer.dilation)
               if isinstance(v, Sequence) and not isinstance(v, str)}
    return max(lengths, default=1)


def _layer_geometry(layer: Layer, ndim: int, shape: _Ints | None) -> tuple[
        _Ints, _Ints, _Ints, tuple[tuple[int, int], ...], _Ints | None]:
    """(kernel, stride, dilation, pads, output shape or None) of one layer, validated."""
    kernel = as_per_dim(layer.kernel_shape, ndim, "kernel_shape", minimum=1)
    stride = as_per_dim(layer.stride, ndim, "stride", minimum=1)
    dilation = as_per_dim(layer.dilation, ndim, "dilation", minimum=1)
    if shape is None:
        if isinstance(layer.padding, str) and layer.padding.lower() == "same":
            raise ConvmatError(
                f"padding={layer.padding!r} depends on the input size; pass "
                f"input_shape=... or give the padding as numbers")
        pads = geometry.resolve_padding(layer.padding, (1,) * ndim, kernel, stride, dilation)
        return kernel, stride, dilation, pads, None
    pads = geometry.resolve_padding(layer.padding, shape, kernel, stride, dilation)
    shape = geometry.conv_output_shape(shape, kernel, stride=stride, padding=pads,
                                       dilation=dilation)
    return kernel, stride, dilation, pads, shape


def receptive_field(layers: Sequence[Layer | Mapping], *,
                    input_shape: Sequence[int] | None = None) -> ReceptiveField:
    r"""Receptive field of the last layer of a stack, in input coordinates.

    Parameters
    ----------
    layers : sequence of :class:`Layer` or dict
        First layer first; each with ``kernel_shape`` and optionally ``stride``,
        ``padding``, ``dilation`` (a :class:`Layer` or a dict with those keys; the key
        ``kernel`` is deprecated). Pooling layers are given the same way (window as kernel).
    input_shape : sequence of int, optional
        Spatial input shape; needed only for string paddings such as ``"same"`` (it also
        checks that every layer fits).

    Returns
    -------
    ReceptiveField

    Notes
    -----
    With :math:`J_{l} = \prod_{m \le l} s_m`: size :math:`1 + \sum_l d_l(k_l-1)J_{l-1}`,
    jump :math:`J_L`, start :math:`-\sum_l b_l J_{l-1}`.

    Examples
    --------
    >>> rf = receptive_field([Layer(3), Layer(2, stride=2), Layer(3)])
    >>> rf
    ReceptiveField(size=(8,), jump=(2,), start=(0,))
    >>> rf.window(1)
    (range(2, 10),)
    >>> receptive_field([{"kernel_shape": 3, "dilation": 2}, {"kernel_shape": 3, "dilation": 4}])
    ReceptiveField(size=(13,), jump=(1,), start=(0,))
    """
    with error_context("receptive_field", input_shape=input_shape):
        if (not isinstance(layers, Iterable) or isinstance(layers, (str, bytes, Mapping))
                or isinstance(layers, Layer)
                or isinstance(layers, np.ndarray) and layers.ndim == 0):
            raise ConvmatError(f"layers={brief(layers)} must be a sequence of "
                               f"convmat.receptive.Layer or dicts (first layer first)")
        stack = [_as_layer(layer, n) for n, layer in enumerate(layers)]
        if not stack:
            raise ConvmatError("layers=[] is empty; give at least one layer")
        ndim = _ndim(stack, input_shape)
        shape = None if input_shape is None else as_shape(input_shape, "input_shape")
        size, jump, start = [1] * ndim, [1] * ndim, [0] * ndim
        for number, layer in enumerate(stack):
            try:
                kernel, stride, dilation, pads, shape = _layer_geometry(layer, ndim, shape)
            except ConvmatError as exc:  # say which layer
                raise ConvmatError(f"layers[{number}]: {exc.message}") from None
            for axis in range(ndim):
                size[axis] += dilation[axis] * (kernel[axis] - 1) * jump[axis]
                start[axis] -= pads[axis][0] * jump[axis]
                jump[axis] *= stride[axis]
        return ReceptiveField(tuple(size), tuple(jump), tuple(start))
