r"""Convolution arithmetic: Dumoulin & Visin's 15 relationships, shape explanations, and the
convolution → transposed-convolution parameter mapping.

Dumoulin and Visin, "A guide to convolution arithmetic for deep learning" (arXiv 1603.07285),
state the output size of every common convolution, pooling and transposed convolution as one
of 15 relationships. :data:`RELATIONSHIPS` holds them, each with the paper's formula and the
same size computed by :mod:`convmat.geometry`; :func:`relationship_table` prints them side by
side. Per dimension, with input :math:`i`, kernel :math:`k`, stride :math:`s`, dilation
:math:`d` and padding :math:`(b, a)`,

.. math::

    o = \left\lfloor \frac{i + b + a - d(k-1) - 1}{s} \right\rfloor + 1,
    \qquad
    o_T = (i-1)s - (b+a) + d(k-1) + q + 1,

and every relationship of the paper is a special case of one of these two.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from . import geometry
from ._validate import as_flag, as_int, as_per_dim, as_shape
from .errors import ConvmatError, error_context

__all__ = [
    "RELATIONSHIPS",
    "explain_shape",
    "relationship",
    "relationship_for",
    "relationship_table",
    "transpose_parameters",
]


def _conv(i, k, s=1, p=0, d=1):
    return geometry.conv_output_shape((i,), (k,), stride=s, padding=p, dilation=d)[0]


def _conv_t(i, k, s=1, p=0, a=0):
    return geometry.conv_transpose_output_shape((i,), (k,), stride=s, padding=p,
                                                output_padding=a)[0]


@dataclass(frozen=True)
class Relationship:
    """One relationship of Dumoulin & Visin: its case, conditions and formula.

    ``paper(**values)`` evaluates the formula as printed in the paper; ``convmat(**values)``
    computes the same size with :func:`convmat.conv_output_shape` or
    :func:`convmat.conv_transpose_output_shape`. The variables are ``i, k, s, p, d`` for a
    convolution or pooling (``i`` its input size); for the transposed relationships (8–14)
    ``i`` is the transposed layer's input size :math:`i'` (the output size of the convolution
    it transposes) and ``a`` is the number of zeros added at the end of each dim.
    """

    number: int
    case: str
    conditions: str
    formula: str
    example: Mapping[str, int]
    _paper: Callable[..., int] = field(repr=False, compare=False)
    _convmat: Callable[..., int] = field(repr=False, compare=False)

    @property
    def transposed(self) -> bool:
        return "a" in self.example

    def paper(self, **values: int) -> int:
        """The paper's formula evaluated at ``values``."""
        with error_context(f"relationship({self.number}).paper"):
            return self._paper(**self._variables(values, "paper"))

    def convmat(self, **values: int) -> int:
        """The same output size computed by :mod:`convmat.geometry`."""
        variables = self._variables(values, "convmat")
        with error_context(f"relationship({self.number}).convmat", **variables):
            return self._convmat(**variables)

    def _variables(self, values: Mapping[str, int], method: str) -> Mapping[str, int]:
        if set(values) != set(self.example):
            raise ConvmatError(
                f"relationship {self.number} ({self.case}) takes the variables "
                f"{', '.join(self.example)}; {method}() got "
                f"{', '.join(f'{k}={v!r}' for k, v in values.items()) or 'none'}")
        variables = {name: as_int(value, name) for name, value in values.items()}
        for name, value in variables.items():  # the paper's formulas divide by s
            least = _LEAST[name]
            if value < least:
                raise ConvmatError(f"{name}={value} must be >= {least} (relationship "
                                   f"{self.number}: {self.case})")
        return variables


#: the smallest value of each variable: sizes, kernels, strides and dilations are positive
_LEAST = {"i": 1, "k": 1, "s": 1, "d": 1, "p": 0, "a": 0}


_T = "transposed: "
RELATIONSHIPS: tuple[Relationship, ...] = (
    Relationship(1, "no zero padding, unit strides", "s = 1, p = 0", "o = (i - k) + 1",
                 {"i": 4, "k": 3},
                 lambda i, k: (i - k) + 1, lambda i, k: _conv(i, k)),
    Relationship(2, "zero padding, unit strides", "s = 1", "o = (i - k) + 2p + 1",
                 {"i": 5, "k": 4, "p": 2},
                 lambda i, k, p: (i - k) + 2 * p + 1, lambda i, k, p: _conv(i, k, p=p)),
    Relationship(3, "half (same) padding", "s = 1, k = 2n + 1, p = n", "o = i",
                 {"i": 5, "k": 3, "p": 1},
                 lambda i, k, p: i, lambda i, k, p: _conv(i, k, p=p)),
    Relationship(4, "full padding", "s = 1, p = k - 1", "o = i + (k - 1)",
                 {"i": 5, "k": 3, "p": 2},
                 lambda i, k, p: i + (k - 1), lambda i, k, p: _conv(i, k, p=p)),
    Relationship(5, "no zero padding, non-unit strides", "p = 0",
                 "o = floor((i - k) / s) + 1", {"i": 5, "k": 3, "s": 2},
                 lambda i, k, s: (i - k) // s + 1, lambda i, k, s: _conv(i, k, s)),
    Relationship(6, "zero padding, non-unit strides", "any i, k, s, p",
                 "o = floor((i + 2p - k) / s) + 1", {"i": 6, "k": 3, "s": 2, "p": 1},
                 lambda i, k, s, p: (i + 2 * p - k) // s + 1,
                 lambda i, k, s, p: _conv(i, k, s, p)),
    Relationship(7, "pooling", "window k, stride s, p = 0", "o = floor((i - k) / s) + 1",
                 {"i": 5, "k": 3, "s": 1},
                 lambda i, k, s: (i - k) // s + 1, lambda i, k, s: _conv(i, k, s)),
    Relationship(8, _T + "no zero padding, unit strides", "s = 1, p = 0; k' = k, s' = 1, "
                 "p' = k - 1", "o' = i' + (k - 1)", {"i": 2, "k": 3, "s": 1, "p": 0, "a": 0},
                 lambda i, k, s, p, a: i + (k - 1), _conv_t),
    Relationship(9, _T + "zero padding, unit strides", "s = 1; k' = k, s' = 1, p' = k - p - 1",
                 "o' = i' + (k - 1) - 2p", {"i": 6, "k": 4, "s": 1, "p": 2, "a": 0},
                 lambda i, k, s, p, a: i + (k - 1) - 2 * p, _conv_t),
    Relationship(10, _T + "half (same) padding", "s = 1, k = 2n + 1, p = n; k' = k, s' = 1, "
                 "p' = p", "o' = i'", {"i": 5, "k": 3, "s": 1, "p": 1, "a": 0},
                 lambda i, k, s, p, a: i, _conv_t),
    Relationship(11, _T + "full padding", "s = 1, p = k - 1; k' = k, s' = 1, p' = 0",
                 "o' = i' - (k - 1)", {"i": 7, "k": 3, "s": 1, "p": 2, "a": 0},
                 lambda i, k, s, p, a: i - (k - 1), _conv_t),
    Relationship(12, _T + "no zero padding, non-unit strides",
                 "p = 0, s divides i - k; stretched input, k' = k, s' = 1, p' = k - 1",
                 "o' = s(i' - 1) + k", {"i": 2, "k": 3, "s": 2, "p": 0, "a": 0},
                 lambda i, k, s, p, a: s * (i - 1) + k, _conv_t),
    Relationship(13, _T + "zero padding, non-unit strides",
                 "s divides i + 2p - k; stretched input, k' = k, s' = 1, p' = k - p - 1",
                 "o' = s(i' - 1) + k - 2p", {"i": 3, "k": 3, "s": 2, "p": 1, "a": 0},
                 lambda i, k, s, p, a: s * (i - 1) + k - 2 * p, _conv_t),
    Relationship(14, _T + "zero padding, non-unit strides, any size",
                 "a = (i + 2p - k) mod s; stretched input plus a zeros at the end, k' = k, "
                 "s' = 1, p' = k - p - 1", "o' = s(i' - 1) + a + k - 2p",
                 {"i": 3, "k": 3, "s": 2, "p": 1, "a": 1},
                 lambda i, k, s, p, a: s * (i - 1) + a + k - 2 * p, _conv_t),
    Relationship(15, "dilated convolution", "any i, k, s, p, d",
                 "o = floor((i + 2p - k - (k - 1)(d - 1)) / s) + 1",
                 {"i": 7, "k": 3, "s": 1, "p": 0, "d": 2},
                 lambda i, k, s, p, d: (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1,
                 lambda i, k, s, p, d: _conv(i, k, s, p, d)),
)


def relationship(number: int) -> Relationship:
    """Relationship ``number`` (1 to 15) of Dumoulin & Visin.

    Examples
    --------
    >>> r = relationship(14)
    >>> r.formula
    "o' = s(i' - 1) + a + k - 2p"
    >>> r.paper(i=3, k=3, s=2, p=1, a=1), r.convmat(i=3, k=3, s=2, p=1, a=1)
    (6, 6)
    """
    with error_context("relationship", number=number):
        n = as_int(number, "number")
        if not 1 <= n <= len(RELATIONSHIPS):
            raise ConvmatError(
                f"number={number!r} is not a relationship number; they run from 1 to "
                f"{len(RELATIONSHIPS)}")
        return RELATIONSHIPS[n - 1]


def relationship_for(i: int, k: int, *, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> Relationship:
    """The most specific convolution relationship (1–6 or 15) that covers a 1-D case.

    Examples
    --------
    >>> relationship_for(5, 3, padding=1).case
    'half (same) padding'
    >>> relationship_for(6, 3, stride=2).number
    5
    """
    with error_context("relationship_for", i=i, k=k):
        i = as_int(i, "i")
        k = as_int(k, "k")
        s, p, d = (as_int(v, name) for v, name in
                   ((stride, "stride"), (padding, "padding"), (dilation, "dilation")))
        # names the offending value; refuses a kernel larger than the padded input
        geometry.conv_output_shape((i,), (k,), stride=s, padding=p, dilation=d)
    if d > 1:
        number = 15
    elif s == 1:
        if p == 0:
            number = 1
        elif k % 2 == 1 and p == k // 2:
            number = 3
        elif p == k - 1:
            number = 4
        else:
            number = 2
    else:
        number = 5 if p == 0 else 6
    return RELATIONSHIPS[number - 1]


def _example_text(rel: Relationship) -> str:
    names = {"i": "i'"} if rel.transposed else {}
    return ", ".join(f"{names.get(key, key)}={value}" for key, value in rel.example.items())


def relationship_table() -> str:
    """The 15 relationships as a Markdown table, each evaluated on its example twice: by the
    paper's formula and by :mod:`convmat.geometry`.

    Examples
    --------
    >>> print(relationship_table().splitlines()[2])
    | 1 | no zero padding, unit strides | s = 1, p = 0 | o = (i - k) + 1 | i=4, k=3 | 2 | 2 |
    """
    lines = ["| # | case | conditions | formula | example | paper | convmat |",
             "|---|---|---|---|---|---|---|"]
    for rel in RELATIONSHIPS:
        cells = (rel.number, rel.case, rel.conditions, rel.formula,
                 _example_text(rel), rel.paper(**rel.example), rel.convmat(**rel.example))
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def _padding_words(padding, i, k, s, d, b, a, transposed=False) -> str:
    if isinstance(padding, str) and padding.lower() == "same":
        # a transposed convolution's "same" is that of the forward input i*s
        i = i * s if transposed else i
        where = f" (of the forward convolution, input i*s = {i})" if transposed else ""
        out = -(-i // s)
        return (f'padding "same"{where}: total = max((ceil(i/s)-1)s + d(k-1) + 1 - i, 0) = '
                f"max(({out}-1)*{s} + {d}*({k}-1) + 1 - {i}, 0) = {b + a}, "
                f"before {b}, after {a}")
    if isinstance(padding, str) and padding.lower() == "full":
        return f'padding "full": d(k-1) = {d}*({k}-1) = {b} on both sides'
    return f"padding {b} before, {a} after"


def explain_shape(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    transposed: bool = False,
    output_padding: int | Sequence[int] = 0,
) -> str:
    r"""Explain, in words and numbers, how a (transposed) convolution's output shape arises.

    Parameters
    ----------
    input_shape, kernel_shape : sequence of int
        Spatial shapes.
    stride, padding, dilation
        As in :func:`convmat.conv_matrix`.
    transposed : bool
        Explain the transposed convolution instead (``padding`` is the forward one's).
    output_padding : int or sequence of int
        With ``transposed``: extra positions at the end of each dim.

    Returns
    -------
    str
        One paragraph per dimension, then the line ``output shape: ...``.

    Notes
    -----
    Per dim, :math:`o = \lfloor (i + b + a - d(k-1) - 1)/s \rfloor + 1`; the remainder
    :math:`r = (i + b + a - d(k-1) - 1) \bmod s` counts the padded positions no window
    reaches. Transposed, :math:`o_T = (i-1)s - (b+a) + d(k-1) + q + 1`, which is also the
    size of a unit-stride convolution of the stretched input (``s - 1`` zeros between
    entries, ``d(k-1) - b`` zeros before, ``d(k-1) - a + q`` after) with the flipped kernel.

    Examples
    --------
    >>> print(explain_shape((5, 5), (3, 3)))
    dim 0: input i=5, kernel k=3, stride s=1, dilation d=1, padding 0 before, 0 after
      the kernel spans d(k-1)+1 = 3 positions of the padded input of size i+b+a = 5
      o = floor((i + b + a - d(k-1) - 1) / s) + 1 = floor((5 + 0 + 0 - 1*(3-1) - 1) / 1) + 1 = 3
      (Dumoulin & Visin relationship 1: no zero padding, unit strides)
    dim 1: input i=5, kernel k=3, stride s=1, dilation d=1, padding 0 before, 0 after
      the kernel spans d(k-1)+1 = 3 positions of the padded input of size i+b+a = 5
      o = floor((i + b + a - d(k-1) - 1) / s) + 1 = floor((5 + 0 + 0 - 1*(3-1) - 1) / 1) + 1 = 3
      (Dumoulin & Visin relationship 1: no zero padding, unit strides)
    output shape: 3x3
    """
    with error_context("explain_shape", input_shape=input_shape, kernel_shape=kernel_shape):
        ishape = as_shape(input_shape, "input_shape")
        kshape = as_shape(kernel_shape, "kernel_shape")
        kw = {"stride": stride, "padding": padding, "dilation": dilation}
        transposed = as_flag(transposed, "transposed")
        if not transposed and any(as_per_dim(output_padding, len(ishape),
                                                      "output_padding", minimum=0)):
            raise ConvmatError(f"output_padding={output_padding!r} applies to a transposed "
                               f"convolution only; pass transposed=True")
        if transposed:  # validates with the user's names first, then resolves
            shape = geometry.conv_transpose_output_shape(ishape, kshape,
                                                         output_padding=output_padding, **kw)
            geom = geometry.transposed_geometry(ishape, kshape, **kw,
                                                output_padding=output_padding)
            out_pads = [geometry.output_padding_for(o, i, k, s, d, b, a) for i, k, s, d, (b, a), o
                        in zip(ishape, kshape, geom.stride, geom.dilation, geom.padding, shape)]
        else:
            shape = geometry.conv_output_shape(ishape, kshape, **kw)
            geom = geometry.convolution_geometry(ishape, kshape, **kw)
            out_pads = [0] * len(ishape)
        lines = []
        for axis, (i, k, s, d, (b, a), q, o) in enumerate(
            zip(ishape, kshape, geom.stride, geom.dilation, geom.padding, out_pads, shape)
        ):
            words = _padding_words(padding, i, k, s, d, b, a, transposed)
            lines.append(f"dim {axis}: input i={i}, kernel k={k}, stride s={s}, "
                         f"dilation d={d}, {words}")
            lines.extend(_transposed_lines(i, k, s, d, b, a, q, o) if transposed
                         else _conv_lines(i, k, s, d, b, a, o))
        lines.append("output shape: " + "x".join(map(str, shape)))
        return "\n".join(lines)


def _conv_lines(i, k, s, d, b, a, o) -> list[str]:
    span = geometry.effective_size(k, d)
    lines = [
        f"  the kernel spans d(k-1)+1 = {span} positions of the padded input of size "
        f"i+b+a = {i + b + a}",
        f"  o = floor((i + b + a - d(k-1) - 1) / s) + 1 = "
        f"floor(({i} + {b} + {a} - {d}*({k}-1) - 1) / {s}) + 1 = {o}",
    ]
    rest = (i + b + a - span) % s
    if rest:
        lines.extend([f"  (i + b + a - d(k-1) - 1) mod s = {rest}: the last {rest} padded "
                      f"position(s) are never read,",
                      f"  so the transposed convolution needs output_padding={rest} to give "
                      f"back i={i}"])
    if b == a:
        rel = relationship_for(i, k, stride=s, padding=b, dilation=d)
        lines.append(f"  (Dumoulin & Visin relationship {rel.number}: {rel.case})")
    return lines


def _transposed_lines(i, k, s, d, b, a, q, o) -> list[str]:
    stretched = geometry.stretched_size(i, s)
    before, after = geometry.stretched_padding(k, d, b, a, q)
    natural = geometry.output_size(o, k, s, d, b, a)  # outputs of the forward convolution
    return [
        f"  output_padding q={q}",
        f"  o = (i-1)s - (b+a) + d(k-1) + q + 1 = ({i}-1)*{s} - ({b}+{a}) + {d}*({k}-1) "
        f"+ {q} + 1 = {o}",
        f"  as a direct convolution: stretch the input to (i-1)s+1 = {stretched} "
        f"({s - 1} zero(s) between entries), pad d(k-1)-b = {before} before and "
        f"d(k-1)-a+q = {after} after{' (negative: crop)' if min(before, after) < 0 else ''}"
        f", then a stride-1 convolution with the flipped kernel: "
        f"{stretched} + {before} + {after} - {d}*({k}-1) = {o}",
        f"  it is the transpose of the convolution of size {o} -> {i} with the same kernel, "
        f"stride, padding and dilation" + (
            f" (restricted to the first {i} of its {natural} outputs: q >= s)"
            if natural > i else ""),
    ]


@dataclass(frozen=True)
class TransposeParameters:
    """Parameters of the transposed convolution that undoes a convolution's shape change.

    ``stride``, ``padding`` (``(before, after)`` pairs), ``output_padding`` and ``dilation``
    go to :func:`convmat.conv_transpose_matrix` (see :meth:`kwargs`); it maps
    ``input_shape`` (the convolution's output shape) back to ``output_shape`` (the
    convolution's input shape). PyTorch pads symmetrically, so :attr:`torch_padding` and
    :attr:`torch_output_padding` are its arguments and :attr:`crop` the slice (per dim) of its
    output to keep; the crop removes nothing when the padding is symmetric.
    """

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    torch_padding: tuple[int, ...]
    torch_output_padding: tuple[int, ...]
    crop: tuple[slice, ...]

    def kwargs(self) -> dict:
        """Keyword arguments for :func:`convmat.conv_transpose_matrix`."""
        return {"stride": self.stride, "padding": self.padding,
                "output_padding": self.output_padding, "dilation": self.dilation}

    def torch_kwargs(self) -> dict:
        """Keyword arguments for ``torch.nn.functional.conv_transposeNd`` (then apply
        :attr:`crop`)."""
        return {"stride": self.stride, "padding": self.torch_padding,
                "output_padding": self.torch_output_padding, "dilation": self.dilation}


def transpose_parameters(
    input_shape: Sequence[int],
    kernel_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
) -> TransposeParameters:
    r"""The transposed convolution that maps a convolution's output shape back to its input
    shape.

    Parameters
    ----------
    input_shape, kernel_shape : sequence of int
        The forward convolution's spatial input (the size to restore) and kernel shapes.
    stride, padding, dilation
        The forward convolution's, as in :func:`convmat.conv_matrix` (``"same"`` with even
        kernels gives an asymmetric pair).

    Returns
    -------
    TransposeParameters

    Notes
    -----
    The convolution reads :math:`(o-1)s + d(k-1) + 1` of its :math:`i + b + a` padded
    positions; the transposed convolution has to add back the unread rest,

    .. math::

        q = (i + b + a - d(k-1) - 1) \bmod s, \qquad 0 \le q < s,

    so that :math:`(o-1)s - (b+a) + d(k-1) + q + 1 = i`. This is relationship 14 of
    Dumoulin & Visin (their ``a``). For PyTorch, whose padding is one int per dim, use
    :math:`m = \min(b, a)`, output padding :math:`\max(0, q - (a - m))`, and keep
    positions :math:`b - m` to :math:`b - m + i` of its output.

    Examples
    --------
    >>> t = transpose_parameters((7,), (3,), stride=2, padding=1)
    >>> t.input_shape, t.output_padding, t.output_shape
    ((4,), (0,), (7,))
    >>> t = transpose_parameters((8,), (3,), stride=2, padding=1)
    >>> t.input_shape, t.output_padding, t.output_shape
    ((4,), (1,), (8,))
    >>> t = transpose_parameters((8, 8), (4, 4), padding="same")   # even kernel
    >>> t.padding, t.torch_padding, t.torch_output_padding, t.crop
    (((1, 2), (1, 2)), (1, 1), (0, 0), (slice(0, 8, None), slice(0, 8, None)))
    """
    with error_context("transpose_parameters", input_shape=input_shape,
                       kernel_shape=kernel_shape):
        ishape = as_shape(input_shape, "input_shape")
        kshape = as_shape(kernel_shape, "kernel_shape")
        kw = {"stride": stride, "padding": padding, "dilation": dilation}
        geometry.conv_output_shape(ishape, kshape, **kw)  # validates, naming kernel_shape
        geom = geometry.convolution_geometry(ishape, kshape, **kw)
        out_pads, t_pads, t_out_pads, crop = [], [], [], []
        for i, k, s, d, (b, a) in zip(ishape, kshape, geom.stride, geom.dilation,
                                      geom.padding):
            q = (i + b + a - geometry.effective_size(k, d)) % s
            m = min(b, a)
            out_pads.append(q)
            t_pads.append(m)
            t_out_pads.append(max(0, q - (a - m)))
            crop.append(slice(b - m, b - m + i))
        return TransposeParameters(geom.output_shape, ishape, geom.stride, geom.padding,
                                   tuple(out_pads), geom.dilation, tuple(t_pads),
                                   tuple(t_out_pads), tuple(crop))
