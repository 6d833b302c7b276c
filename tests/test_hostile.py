"""Every public function driven with hostile arguments by hypothesis.

Arguments are drawn from a mix of valid small values and hostile ones: zero, negative,
astronomically large (``2**63``, ``10**30``, a 5,000-digit number), floats, NaN, strings,
``None``, bools, arrays, wrong lengths, nesting. The only acceptable outcomes are a
:class:`~convmat.ConvmatError` or a result equal to an independent oracle: the test resolves
the arguments with its own rules (``tests/oracle.py``'s tap-by-tap definition, ``numpy.pad``,
the output-size formula) and, when it finds them valid and small, also demands that the call
is not refused.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convmat
from convmat import (
    arithmetic,
    display,
    geometry,
    latex,
    layout,
    options,
    receptive,
    symbolic,
    text,
    transposed,
)

from .oracle import crop_then_pad, direct_conv, direct_conv_transpose, direct_matrix, same_pads

HUGE = [2**62 + 1, 2**63, 10**30, 10**5000, -(10**5000)]
JUNK = [None, 1.5, float("nan"), float("inf"), "x", "3", "", b"3", True, False, np.bool_(True),
        [], (), [[1, 2]], {"a": 1}, object(), np.array([1, 2]), np.float64(2.0)]
MODES = ("zeros", "reflect", "replicate", "circular", "symmetric")


def hostile(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly valid values, else a hostile one."""
    return st.one_of(valid, valid, valid, st.sampled_from(HUGE + JUNK), st.integers(-3, 0))


def per_dim(n: int, lo: int, hi: int) -> st.SearchStrategy:
    one = st.integers(lo, hi)
    return st.one_of(one, st.tuples(*[one] * n), st.lists(one, min_size=0, max_size=n + 1),
                     one.map(np.int64), st.tuples(*[one] * n).map(np.array))


def _ints(value, n: int, least: int):
    """The test's own reading of an int-or-per-dim argument (None: invalid)."""
    if isinstance(value, np.ndarray):
        value = value.tolist() if value.ndim == 1 else value
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, np.integer)):
        value = (int(value),) * n
    if not isinstance(value, (tuple, list)) or len(value) != n:
        return None
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
               for v in value):
        return None
    value = tuple(int(v) for v in value)
    return value if all(least <= v <= 2**62 for v in value) else None


def _pads(padding, ishape, kshape, strides, dilations):
    n = len(ishape)
    if isinstance(padding, str):
        word = padding.lower()
        if word == "valid":
            return ((0, 0),) * n
        if word == "full":
            return tuple((d * (k - 1),) * 2 for k, d in zip(kshape, dilations))
        if word == "same":
            return tuple(same_pads(i, k, s, d)
                         for i, k, s, d in zip(ishape, kshape, strides, dilations))
        return None
    if isinstance(padding, (tuple, list)) and len(padding) == n and any(
            isinstance(p, (tuple, list)) for p in padding):
        pairs = []
        for p in padding:
            if isinstance(p, (tuple, list)):  # a negative side is a crop
                pair = _ints(tuple(p), 2, -(2**62)) if len(p) == 2 else None
            else:
                one = _ints(p, 1, -(2**62))
                pair = None if one is None else one * 2
            if pair is None:
                return None
            pairs.append(pair)
        return tuple(pairs)
    flat = _ints(padding, n, -(2**62))
    return None if flat is None else tuple((p, p) for p in flat)


def resolve(weight_shape, input_shape, stride, padding, dilation, groups, mode, flip,
            fits=True):
    """The convolution the arguments describe, by the test's rules; None when invalid."""
    ndim_w = len(weight_shape)
    if isinstance(input_shape, (int, np.integer)) and not isinstance(input_shape, bool):
        input_shape = (input_shape,)
    if isinstance(input_shape, np.ndarray) and input_shape.ndim == 1:
        input_shape = input_shape.tolist()  # a 1-D array is a shape like a list
    n = len(input_shape) if isinstance(input_shape, (tuple, list)) else 0
    ishape = _ints(input_shape, n, 1) if n else None
    if ishape is None or not isinstance(flip, (bool, np.bool_)):
        return None
    g = _ints(groups, 1, 1)
    if g is None:
        return None
    g = g[0]
    if ndim_w == n:
        if g != 1:
            return None
        c_out, c_in, kshape = 1, 1, tuple(weight_shape)
    elif ndim_w == n + 2:
        c_out, c_in, kshape = weight_shape[0], weight_shape[1] * g, tuple(weight_shape[2:])
        if c_out % g:
            return None
    else:
        return None
    strides, dilations = _ints(stride, n, 1), _ints(dilation, n, 1)
    if strides is None or dilations is None:
        return None
    pads = _pads(padding, ishape, kshape, strides, dilations)
    if pads is None or not isinstance(mode, str) or mode not in MODES:
        return None
    for i, k, d, (b, a) in zip(ishape, kshape, dilations, pads):
        cropped = i + min(b, 0) + min(a, 0)  # negative sides crop the input first
        if cropped < 1 or fits and i + b + a < d * (k - 1) + 1:
            return None
        side = max(b, a, 0)
        if mode == "reflect" and side >= cropped or \
                mode in ("circular", "symmetric") and side > cropped:
            return None
    if any(v > 2**62 for v in (*ishape, *strides, *dilations, *(p for ab in pads for p in ab))):
        return None
    return dict(ishape=ishape, kshape=kshape, stride=strides, dilation=dilations, pads=pads,
                groups=g, mode=mode, flip=bool(flip), c_in=c_in, c_out=c_out)


def small(geo) -> bool:
    return (math.prod(v + sum(p) for v, p in zip(geo["ishape"], geo["pads"])) <= 200
            and math.prod(geo["kshape"]) <= 27 and geo["c_in"] * geo["c_out"] <= 16)


@st.composite
def conv_arguments(draw):
    n = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(n))
    layout = draw(st.sampled_from(["bare", "channels"]))
    groups = draw(hostile(st.integers(1, 2)))
    g = groups if isinstance(groups, int) and not isinstance(groups, bool) and 1 <= groups <= 2 \
        else 1
    weight_shape = kernel if layout == "bare" else (g * draw(st.integers(1, 2)),
                                                    draw(st.integers(1, 2)), *kernel)
    input_shape = draw(hostile(st.tuples(*[st.integers(1, 6)] * n)))
    stride = draw(hostile(per_dim(n, 1, 3)))
    dilation = draw(hostile(per_dim(n, 1, 2)))
    padding = draw(st.one_of(
        hostile(per_dim(n, 0, 2)),
        st.sampled_from(["valid", "same", "full", "SAME", "half"]),
        st.tuples(*[st.tuples(st.integers(-1, 2), st.integers(0, 2))] * n),
        st.tuples(*[st.sampled_from([0, 1, (1, 0), (0, 2, 1), 10**30, "1"])] * n)))
    mode = draw(st.one_of(st.sampled_from(MODES), st.sampled_from(JUNK + HUGE)))
    flip = draw(st.one_of(st.booleans(), st.sampled_from(["False", 0, 1, None,
                                                          np.array([True, False])])))
    dtype = draw(st.sampled_from([np.float64, np.int8, np.int16, np.uint8, np.bool_,
                                  np.float16, np.complex128, np.int64]))
    return weight_shape, input_shape, stride, padding, dilation, groups, mode, flip, dtype


def _weight(shape, dtype):
    w = (np.arange(math.prod(shape)) % 7 + 1).reshape(shape)
    return (w % 2 == 0) if dtype == np.bool_ else w.astype(dtype)


def _exact(w):
    """The weight as Python numbers (object array): sums of duplicates never wrap."""
    return np.array(w.tolist(), dtype=object).reshape(w.shape) if w.dtype.kind in "biu" \
        else w.astype(np.float64 if w.dtype.kind == "f" else np.complex128)


@settings(max_examples=150)
@given(conv_arguments())
def test_conv_matrix_hostile(args):
    weight_shape, input_shape, stride, padding, dilation, groups, mode, flip, dtype = args
    w = _weight(weight_shape, dtype)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
              padding_mode=mode, flip=flip)
    geo = resolve(weight_shape, input_shape, stride, padding, dilation, groups, mode, flip)
    try:
        A = convmat.conv_matrix(w, input_shape, **kw)
    except convmat.ConvmatError:
        assert geo is None or not small(geo), "a valid small convolution was refused"
        return
    assert geo is not None, "invalid arguments were accepted"
    w4 = _exact(w).reshape(geo["c_out"], geo["c_in"] // geo["groups"], *geo["kshape"])
    expected = direct_matrix(geo["ishape"], w4, stride=geo["stride"], pads=geo["pads"],
                             dilation=geo["dilation"], groups=geo["groups"], mode=geo["mode"],
                             flip=geo["flip"])
    dense = A.toarray()
    if w.dtype.kind in "biu":
        assert dense.tolist() == expected.tolist()  # exact, whatever the dtype
    else:
        np.testing.assert_allclose(dense, expected.astype(dense.dtype), rtol=1e-3)


@settings(max_examples=100)
@given(conv_arguments(), hostile(per_dim(2, 0, 2)))
def test_conv_transpose_matrix_hostile(args, output_padding):
    """Zero padding given as numbers: the oracle scatters every tap (tests/oracle.py)."""
    weight_shape, input_shape, stride, padding, dilation, groups, _, flip, dtype = args
    w = _weight(weight_shape, dtype)
    try:
        B = convmat.conv_transpose_matrix(w, input_shape, stride=stride, padding=padding,
                                          output_padding=output_padding, dilation=dilation,
                                          groups=groups, flip=flip)
    except convmat.ConvmatError:
        return
    geo = resolve(weight_shape, input_shape, stride, 0, dilation, groups, "zeros", flip,
                  fits=False)
    assert geo is not None
    if isinstance(padding, str):
        return  # resolved on the forward input; the numeric paddings are checked below
    n = len(geo["ishape"])
    pads, q = _pads(padding, geo["ishape"], geo["kshape"], geo["stride"], geo["dilation"]), \
        _ints(output_padding, n, 0)
    assert pads is not None and q is not None
    assert all(qq < max(ss, dd) for qq, ss, dd in zip(q, geo["stride"], geo["dilation"]))
    # the transposed layout: (C_in, C_out / groups, *kernel)
    c_in = weight_shape[0] if len(weight_shape) == n + 2 else 1
    c_out_g = weight_shape[1] if len(weight_shape) == n + 2 else 1
    w4 = _exact(w).reshape(c_in, c_out_g, *geo["kshape"])
    columns = []
    for col in range(c_in * math.prod(geo["ishape"])):
        e = np.zeros(c_in * math.prod(geo["ishape"]), dtype=object)
        e[col] = 1
        columns.append(direct_conv_transpose(
            e.reshape(c_in, *geo["ishape"]), w4, stride=geo["stride"], pads=pads,
            dilation=geo["dilation"], output_padding=q, groups=geo["groups"],
            flip=geo["flip"]).ravel())
    expected = np.stack(columns, axis=1)
    dense = B.toarray()
    if w.dtype.kind in "biu":
        assert dense.tolist() == expected.tolist()
    else:
        np.testing.assert_allclose(dense, expected.astype(dense.dtype), rtol=1e-3)


@settings(max_examples=100)
@given(conv_arguments())
def test_conv_operator_and_output_shape_hostile(args):
    weight_shape, input_shape, stride, padding, dilation, groups, mode, flip, _ = args
    w = _weight(weight_shape, np.float64)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
              padding_mode=mode, flip=flip)
    geo = resolve(weight_shape, input_shape, stride, padding, dilation, groups, mode, flip)
    try:
        op = convmat.conv_operator(w, input_shape, **kw)
    except convmat.ConvmatError:
        assert geo is None or not small(geo)
    else:
        assert geo is not None
        x = np.arange(geo["c_in"] * math.prod(geo["ishape"]), dtype=float) % 5
        w4 = w.reshape(geo["c_out"], geo["c_in"] // geo["groups"], *geo["kshape"])
        y = direct_conv(x.reshape(geo["c_in"], *geo["ishape"]), w4, stride=geo["stride"],
                        pads=geo["pads"], dilation=geo["dilation"], groups=geo["groups"],
                        mode=geo["mode"], flip=geo["flip"])
        np.testing.assert_allclose(op @ x, y.ravel())
    try:
        shape = convmat.conv_output_shape(input_shape, weight_shape[-len(geo["ishape"]):]
                                          if geo else weight_shape, stride=stride,
                                          padding=padding, dilation=dilation)
    except convmat.ConvmatError:
        return
    if geo is not None:
        assert shape == tuple((i + b + a - d * (k - 1) - 1) // s + 1 for i, k, s, d, (b, a)
                              in zip(geo["ishape"], geo["kshape"], geo["stride"],
                                     geo["dilation"], geo["pads"]))


@settings(max_examples=100)
@given(hostile(st.tuples(st.integers(1, 5), st.integers(1, 5))),
       st.one_of(hostile(per_dim(2, 0, 2)), st.sampled_from(["valid", "same", "nope"])),
       st.one_of(st.sampled_from(MODES), st.sampled_from(JUNK)),
       hostile(st.integers(1, 2)),
       st.one_of(st.sampled_from([np.float64, np.int8, "float16", bool]),
                 st.sampled_from(["foo", str, object, None, 3])))
def test_padding_matrix_hostile(input_shape, padding, mode, channels, dtype):
    try:
        P = convmat.padding_matrix(input_shape, padding, padding_mode=mode, channels=channels,
                                   dtype=dtype)
    except convmat.ConvmatError:
        return
    ishape = _ints(input_shape, 2, 1)
    pads = _pads(padding, ishape, (1, 1), (1, 1), (1, 1)) if ishape else None
    assert ishape is not None and pads is not None and mode in MODES
    x = np.arange(channels * math.prod(ishape)).reshape(channels, *ishape) + 1
    expected = crop_then_pad(x, pads, mode)  # a negative side crops (numpy.pad after)
    np.testing.assert_array_equal(P @ x.ravel(), expected.ravel())


@settings(max_examples=100)
@given(hostile(st.tuples(st.integers(1, 6))), hostile(st.integers(1, 3)),
       hostile(st.one_of(st.none(), st.integers(1, 3))), hostile(st.integers(0, 1)),
       st.one_of(st.booleans(), st.sampled_from(["no", 0, None])),
       hostile(st.one_of(st.none(), st.integers(1, 4))))
def test_avg_pool_hostile(input_shape, kernel, stride, padding, count_include_pad, divisor):
    try:
        P = convmat.avg_pool_matrix(input_shape, kernel, stride=stride, padding=padding,
                                    count_include_pad=count_include_pad,
                                    divisor_override=divisor)
    except convmat.ConvmatError:
        return
    ishape = _ints(input_shape, len(np.atleast_1d(input_shape)), 1)
    n = len(ishape)
    ks, ps = _ints(kernel, n, 1), _ints(padding, n, 0)
    ss = ks if stride is None else _ints(stride, n, 1)
    assert isinstance(count_include_pad, bool)
    # per axis: the window sums (a 0/1 matrix) and the input positions in each window; the
    # N-D layer is their Kronecker product (the window is a box)
    sums, counts = np.ones((1, 1)), np.ones(1)
    for i, k, s, p in zip(ishape, ks, ss, ps):
        rows = []
        for t in range((i + 2 * p - k) // s + 1):
            row = np.zeros(i)
            for j in range(k):
                if 0 <= t * s + j - p < i:
                    row[t * s + j - p] = 1
            assert row.sum() > 0
            rows.append(row)
        axis = np.array(rows)
        sums, counts = np.kron(sums, axis), np.kron(counts, axis.sum(axis=1))
    divisor = divisor or (math.prod(ks) if count_include_pad else counts)
    expected = sums / np.reshape(divisor, (-1, 1))
    np.testing.assert_allclose(P.toarray(), expected)


# ------------------------------------------------------------------ every other public name

ANY = st.one_of(st.sampled_from(HUGE + JUNK), st.integers(-3, 6), st.text(max_size=4),
                st.tuples(st.integers(-2, 6), st.integers(-2, 6)))
W = np.arange(1.0, 4.0)
KL = convmat.kong_lucey(W, (7,), stride=2)
PP = convmat.polyphase(W, (7,), stride=2)
SYM = symbolic.conv_matrix((2,), (3,))
EQ = transposed.equivalent_convolution(W, (4,), stride=2)

#: function -> valid keyword arguments; each call replaces some of them by hostile values
def _torch_module():
    """A small PyTorch layer when PyTorch is installed (else a stand-in: the call is then a
    ConvmatError saying PyTorch is needed, which this test accepts)."""
    try:
        import torch
    except ImportError:
        return "Conv1d"
    return torch.nn.Conv1d(1, 2, 3)


def _beamer_latex(matrix, beamer, title, overlay, max_rows, max_cols, grid):
    """``to_latex``'s beamer options (frames, titles, the column overlay, the legibility
    elision) on their own entry."""
    return convmat.to_latex(matrix, beamer=beamer, title=title, overlay=overlay,
                            max_rows=max_rows, max_cols=max_cols, grid=grid, x="x", y="y")


def _beamer_kong_lucey(kl, part, title, overlay, max_cols, lang, labels):
    """A Kong & Lucey result as beamer frames (one per display), subtitles in ``lang``."""
    return convmat.to_latex(kl, part=part, beamer=True, title=title, overlay=overlay,
                            max_cols=max_cols, lang=lang, labels=labels)


CALLS = {
    _beamer_latex: dict(matrix=convmat.conv_matrix(np.ones((3, 3)), (5, 5)), beamer=True,
                        title="T", overlay="cols", max_rows=8, max_cols=30, grid=True),
    _beamer_kong_lucey: dict(kl=KL, part="all", title="T", overlay="rows", max_cols=8,
                             lang="es", labels={"sum_display": "suma: {equation}"}),
    convmat.conv_transpose_matrix: dict(weight=W, input_shape=(4,), stride=2, padding=1,
                                        output_padding=1, dilation=1, groups=1, flip=False,
                                        format="csr"),
    convmat.conv_transpose_output_shape: dict(input_shape=(4,), kernel_shape=(3,), stride=2,
                                              padding=1, output_padding=1, dilation=1),
    convmat.explain_shape: dict(input_shape=(4,), kernel_shape=(3,), stride=1, padding=0,
                                dilation=1, transposed=False, output_padding=0),
    convmat.transpose_parameters: dict(input_shape=(7,), kernel_shape=(3,), stride=2,
                                       padding=1, dilation=1),
    convmat.kernel_matrix: dict(x=np.arange(5.0), weight_shape=(3,), stride=1, padding=0,
                                dilation=1, groups=1, padding_mode="zeros", flip=False,
                                format="csr"),
    convmat.kong_lucey: dict(weight=W, input_shape=(7,), stride=2, padding=0, dilation=1,
                             groups=1, padding_mode="zeros"),
    convmat.polyphase: dict(weight=W, input_shape=(7,), stride=2, padding=0, dilation=1,
                            groups=1),
    convmat.strided_weight: dict(unit_weight=KL.unit_weight, kernel_shape=(3,), stride=2,
                                 dilation=1),
    convmat.max_pool_matrix: dict(x=np.arange(6.0)[None], kernel_shape=2, stride=None,
                                  padding=0, dilation=1, format="csr"),
    convmat.receptive_field: dict(layers=[{"kernel_shape": 3}], input_shape=None),
    geometry.resolve_padding: dict(padding=1, input_shape=(5,), kernel_shape=(3,), stride=1,
                                   dilation=1, allow_negative=False),
    transposed.stretch_matrix: dict(input_shape=(3,), stride=2, padding=0, channels=1,
                                    dtype=np.float64, format="csr"),
    transposed.equivalent_convolution: dict(weight=W, input_shape=(4,), stride=2, padding=0,
                                            output_padding=0, dilation=1, groups=1),
    symbolic.conv_matrix: dict(weight=(2,), input_shape=(3,), stride=1, padding=0, dilation=1,
                               groups=1, padding_mode="zeros", flip=False, name="w", base=0),
    symbolic.conv_transpose_matrix: dict(weight=(2,), input_shape=(3,), stride=1, padding=0,
                                         output_padding=0, dilation=1, name="w", base=0),
    symbolic.kernel: dict(shape=(2,), name="w", base=0),
    symbolic.kong_lucey: dict(weight=(3,), input_shape=(7,), stride=2, padding=0, name="h"),
    symbolic.inputs: dict(matrix=SYM, name="x", base=0),
    symbolic.outputs: dict(matrix=SYM, name="y", base=0),
    symbolic.product: dict(matrix=SYM, x="x", y="y", base=0),
    arithmetic.relationship: dict(number=6),
    arithmetic.relationship_for: dict(i=7, k=3, stride=1, padding=0),
    arithmetic.relationship(14).paper: dict(i=3, k=3, s=2, p=1, a=1),
    arithmetic.relationship(14).convmat: dict(i=3, k=3, s=2, p=1, a=1),
    text.to_text: dict(matrix=np.eye(3), zero=".", max_rows=4, max_cols=4),
    text.spy: dict(matrix=np.eye(3), width=4, height=4),
    text.kong_lucey_text: dict(kl=KL, max_size=10),
    KL.phase_weight: dict(phase=0),
    KL.strided_matrix: dict(padded=True, format="csr"),
    KL.space_to_depth: dict(x=np.arange(7.0)),
    KL.depth_to_space: dict(z=np.ones((2, 4)), padded=False),
    KL.text: dict(max_size=10),
    PP.block_weight: dict(rho=0, r=1),
    PP.matrix: dict(format="csr"),
    EQ.matrix: dict(format="csr"),
    options.get: dict(name="memory_limit"),
    convmat.singular_values: dict(weight=W, input_shape=(6,), stride=1, padding=1, dilation=1,
                                  groups=1, padding_mode="circular", k=None, method="auto",
                                  which="largest", return_vectors=False, v0=None,
                                  max_seconds=60.0),
    convmat.spectral_norm: dict(weight=W, input_shape=(6,), stride=2, padding=0, dilation=1,
                                groups=1, padding_mode="zeros", method="auto",
                                certified=False, v0=None),
    convmat.spectral_bounds: dict(weight=W, input_shape=(6,), stride=1, padding=1, dilation=1,
                                  groups=1, padding_mode="zeros", exact=True),
    convmat.summary: dict(model="conv 2 3 pad 1; relu; avgpool 2", input_shape=(8,),
                          in_channels=1, spectral=True, at=None, progress=False),
    convmat.lipschitz_bound: dict(model="avgpool 2; sigmoid; maxpool 3 stride 1; linear 2",
                                  input_shape=(8,), in_channels=1, at=None, mode="exact",
                                  progress=False),
    convmat.show: dict(matrix=SYM, max_rows=5, max_cols=5),
    convmat.from_torch: dict(module=_torch_module(), input_shape=(6,), at=None),
    convmat.to_torch_sparse: dict(A=convmat.conv_matrix(W, (6,))),
    convmat.spectral_bounds: dict(weight=W, input_shape=(6,), stride=2, padding=1, dilation=1,
                                  groups=1, padding_mode="circular", exact=True),
    convmat.networks.register: dict(module_type=type("Unused", (), {}),
                                    converter=lambda module, shape, at: None),
    convmat.to_latex: dict(matrix=SYM, environment="bmatrix", blocks="auto", zero="0",
                           precision=4, max_rows=5, max_cols=5, highlight_row=None,
                           highlight="boxed", base=0, standalone=False, x="x", y="y"),
    text.describe: dict(matrix=np.eye(3)),
    text.markdown_cell: dict(text="a|b"),
    display.describe: dict(obj=SYM),
    layout.matrix_layout: dict(matrix=np.eye(3), blocks="auto", geometry=None, transposed=None,
                               max_rows=4, max_cols=4, highlight_row=1, overlay=False),
    layout.kong_lucey_layout: dict(kl=KL, blocks="auto", max_rows=4, max_cols=4,
                                   highlight_row=None, overlay=False),
    layout.padded_sources: dict(kl=KL),
    layout.labels: dict(lang="es", labels={"kernel": "filtro"}, call="plot_matrix"),
    layout.fill: dict(text="stamp {xw}", xw="$w$"),
    layout.summary_cells: dict(s=convmat.summary("conv 2 3", (6,)), times="x", le="<="),
    latex.summary_latex: dict(s=convmat.summary("conv 2 3", (6,)), standalone=False),
    latex.tikz: dict(picture=layout.Picture(
        "sliding", 2, 1, {"input": "CFE7F5", "edge": "0072B2", "text": "1A1A1A"},
        {"input": layout.CellStyle("input", "edge", label="input")},
        cells=(layout.Cells("input", ((0, 0), (1, 0)), ("3", "x_1$")),),
        frames=(layout.Frame(), layout.Frame())), standalone=True, beamer=False),
}


@pytest.mark.parametrize("function", list(CALLS), ids=lambda f: f.__qualname__)
@settings(max_examples=40)
@given(data=st.data())
def test_no_stray_exception_anywhere(function, data):
    """Replace some arguments by hostile values: a ConvmatError or a result, nothing else;
    the valid call itself gives the same result as before."""
    kwargs = dict(CALLS[function])
    for name in data.draw(st.lists(st.sampled_from(sorted(kwargs)), max_size=3, unique=True)):
        kwargs[name] = data.draw(ANY)
    with options.override(memory_limit="256M"):
        try:
            function(**kwargs)
        except convmat.ConvmatError as exc:
            assert len(str(exc)) < 2000  # a short message, never a 5,000-digit number


def test_every_public_function_is_driven():
    """The hostile tests above reach every function of the public API."""
    driven = set(CALLS) | {convmat.conv_matrix, convmat.conv_operator, convmat.padding_matrix,
                           convmat.avg_pool_matrix, convmat.conv_output_shape}
    public = {getattr(convmat, name) for name in convmat.__all__
              if callable(getattr(convmat, name)) and not isinstance(getattr(convmat, name),
                                                                     type(convmat))}
    assert public - driven <= {convmat.ConvmatError}, public - driven
    assert receptive.receptive_field in driven


def test_huge_integers_refused_by_name():
    """Integers Python cannot write or turn into a float are refused by name (found by
    the random hostile calls): a label field and ``max_seconds``."""
    from convmat.layout import fill

    with pytest.raises(convmat.ConvmatError, match="xw="):
        fill("stamp {xw}", xw=10**5000)
    with pytest.raises(convmat.ConvmatError, match="max_seconds="):
        convmat.singular_values(np.ones((3, 3)), (5, 5), max_seconds=10**400)
