"""Shapes and padding resolution against the formulas (and PyTorch where it has them)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import convmat
from convmat.errors import ConvmatError
from convmat.geometry import resolve_padding

from .conftest import requires_torch, torch
from .oracle import same_pads


@given(i=st.integers(1, 40), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3),
       b=st.integers(0, 4), a=st.integers(0, 4))
def test_output_size_formula(i, k, s, d, b, a):
    if i + b + a < d * (k - 1) + 1:
        with pytest.raises(convmat.ConvmatError):
            convmat.conv_output_shape((i,), (k,), stride=s, padding=[(b, a)], dilation=d)
        return
    o = convmat.conv_output_shape((i,), (k,), stride=s, padding=[(b, a)], dilation=d)
    # count window positions directly: start t*s, last tap at t*s + d(k-1) inside i+b+a
    count = sum(1 for t in range(i + b + a) if t * s + d * (k - 1) < i + b + a)
    assert o == (count,)


@given(i=st.integers(1, 30), k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3))
def test_same_gives_ceil(i, k, s, d):
    assert convmat.conv_output_shape((i,), (k,), stride=s, dilation=d, padding="same") == (
        math.ceil(i / s),)
    assert resolve_padding("same", (i,), (k,), s, d) == (same_pads(i, k, s, d),)


@given(i=st.integers(1, 30), k=st.integers(1, 6), d=st.integers(1, 3))
def test_full_and_valid(i, k, d):
    span = d * (k - 1) + 1
    assert convmat.conv_output_shape((i,), (k,), dilation=d, padding="full") == (i + span - 1,)
    if i >= span:
        assert convmat.conv_output_shape((i,), (k,), dilation=d, padding="valid") == (
            i - span + 1,)


@given(i=st.integers(1, 20), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 3),
       p=st.integers(0, 3), data=st.data())
def test_transpose_output_size_formula(i, k, s, d, p, data):
    q = data.draw(st.integers(0, max(s, d) - 1))
    expected = (i - 1) * s - 2 * p + d * (k - 1) + q + 1
    if expected < 1:
        with pytest.raises(convmat.ConvmatError, match="too large"):
            convmat.conv_transpose_output_shape((i,), (k,), stride=s, padding=p,
                                                output_padding=q, dilation=d)
        return
    assert convmat.conv_transpose_output_shape((i,), (k,), stride=s, padding=p,
                                               output_padding=q, dilation=d) == (expected,)
    # the forward convolution of that size maps back to i positions (plus floor(q/s))
    assert convmat.conv_output_shape((expected,), (k,), stride=s, padding=p, dilation=d) == (
        i + q // s,)


@given(i=st.integers(1, 20), k=st.integers(1, 5), s=st.integers(1, 4))
def test_transpose_same_is_i_times_s(i, k, s):
    """TensorFlow/Keras: "same" transposed output is i*s when the kernel covers a stride."""
    out = convmat.conv_transpose_output_shape((i,), (k,), stride=s, padding="same")
    if k >= s:
        assert out == (i * s,)
    else:
        assert out == ((i - 1) * s + k,)  # output_padding s - k would complete it
        assert convmat.conv_transpose_output_shape(
            (i,), (k,), stride=s, padding="same", output_padding=s - k) == (i * s,)


def test_padding_forms():
    assert resolve_padding(1, (4, 4), (3, 3)) == ((1, 1), (1, 1))
    assert resolve_padding((1, 2), (4, 4), (3, 3)) == ((1, 1), (2, 2))
    assert resolve_padding(((0, 1), (2, 3)), (4, 4), (3, 3)) == ((0, 1), (2, 3))
    assert resolve_padding([[0, 1], 3], (4, 4), (3, 3)) == ((0, 1), (3, 3))
    assert resolve_padding("VALID", (4, 4), (3, 3)) == ((0, 0), (0, 0))
    assert resolve_padding("full", (4, 4), (3, 2), dilation=(1, 2)) == ((2, 2), (2, 2))
    assert resolve_padding(np.int64(2), (4,), (3,)) == ((2, 2),)


def test_lenet_shapes():
    """Worked example 7 (docs/tutorial.md): the LeNet-5 shape table."""
    s = convmat.conv_output_shape((28, 28), (5, 5), padding=2)
    assert s == (28, 28)
    s = convmat.conv_output_shape(s, (2, 2), stride=2)
    assert s == (14, 14)
    s = convmat.conv_output_shape(s, (5, 5))
    assert s == (10, 10)
    assert convmat.conv_output_shape(s, (2, 2), stride=2) == (5, 5)


@requires_torch
@given(i=st.integers(1, 12), k=st.integers(1, 4), s=st.integers(1, 3), d=st.integers(1, 3),
       p=st.integers(0, 3))
def test_output_shape_equals_torch(i, k, s, d, p):
    if i + 2 * p < d * (k - 1) + 1:
        return
    x = torch.zeros(1, 1, i, i + 1, dtype=torch.float64)
    w = torch.zeros(1, 1, k, k, dtype=torch.float64)
    y = torch.nn.functional.conv2d(x, w, stride=s, padding=p, dilation=d)
    assert convmat.conv_output_shape((i, i + 1), (k, k), stride=s, padding=p, dilation=d) == (
        tuple(y.shape[2:]))


def test_numpy_arrays_as_per_dim_values():
    """A numpy array is accepted wherever a tuple of ints is (shapes, stride, padding)."""
    assert convmat.conv_output_shape(np.array([5, 5]), np.array([3, 3]), stride=np.array([2, 2]),
                                     padding=np.array([1, 0])) == (3, 2)
    assert resolve_padding(np.array([[0, 1], [2, 3]]), (4, 4), (3, 3)) == ((0, 1), (2, 3))
    with pytest.raises(convmat.ConvmatError, match=r"stride=\(1, 0\)"):
        convmat.conv_output_shape((5, 5), (3, 3), stride=np.array([1, 0]))


def test_negative_padding_only_when_allowed():
    assert resolve_padding([(-1, 2)], (4,), (1,), allow_negative=True) == ((-1, 2),)
    with pytest.raises(convmat.ConvmatError, match="negative"):
        resolve_padding([(-1, 2)], (4,), (1,))


def test_remembered_geometries_tell_apart_what_validation_does():
    """Validated geometries are remembered for plain arguments; a remembered one never
    stands in for an argument that validation treats differently (True is not 1)."""
    from convmat.geometry import convolution_geometry

    first = convolution_geometry((8, 8), (3, 3), stride=1, padding="same")
    assert convolution_geometry((8, 8), (3, 3), stride=1, padding="same") is first
    with pytest.raises(ConvmatError, match="stride"):
        convolution_geometry((8, 8), (3, 3), stride=True, padding="same")
    with pytest.raises(ConvmatError, match="stride"):
        convolution_geometry((8, 8), (3, 3), stride=[True], padding="same")
    with pytest.raises(ConvmatError, match="stride"):  # ints with a bool: not keyed as ints
        convolution_geometry((8, 8), (3, 3), stride=(1, True), padding="same")
    assert convolution_geometry((8, 8), (3, 3), stride=(1, 1), padding="same") == first
    for _ in range(2):  # the output-shape arithmetic is remembered the same way
        assert convmat.conv_output_shape((8, 8), (3, 3), stride=(1, 1), padding="same") == (8, 8)
        with pytest.raises(ConvmatError, match="stride"):
            convmat.conv_output_shape((8, 8), (3, 3), stride=(True, 1))
    assert convolution_geometry([8, 8], (3, 3), stride=1, padding="same") == first
    assert convolution_geometry(np.array([8, 8]), (3, 3), stride=1, padding="same") == first
    # a refusal is not remembered: the same bad call is refused again
    for _ in range(2):
        with pytest.raises(ConvmatError, match="padding"):
            convolution_geometry((8, 8), (3, 3), padding="sideways")


# ------------------------------------------------- one order: (input_shape, kernel_shape)


@pytest.mark.parametrize("weight_shape, input_shape, kwargs", [
    ((3,), (7,), dict(stride=2, padding=1)),
    ((2, 3, 3, 3), (5, 6), dict(padding="same", dilation=(1, 2))),
    ((4, 1, 2, 2), (4, 4), dict(groups=2, stride=2, padding_mode="reflect", padding=1)),
])
def test_conv_geometry_is_a_deprecated_swapped_convolution_geometry(weight_shape, input_shape,
                                                                    kwargs):
    """The old order (weight_shape, input_shape) still works, warns, and gives the same
    geometry; the new functions take (input_shape, weight_shape) like conv_output_shape."""
    from convmat import geometry

    new = geometry.convolution_geometry(input_shape, weight_shape, **kwargs)
    assert new.output_shape == convmat.conv_output_shape(
        input_shape, weight_shape[-len(input_shape):], stride=kwargs.get("stride", 1),
        padding=kwargs.get("padding", 0), dilation=kwargs.get("dilation", 1))
    with pytest.warns(DeprecationWarning, match=r"conv_geometry\(weight_shape, input_shape"):
        old = geometry.conv_geometry(weight_shape, input_shape, **kwargs)
    assert old == new
    t_kwargs = {k: v for k, v in kwargs.items() if k != "padding_mode"}
    new_t = geometry.transposed_geometry(input_shape, weight_shape, **t_kwargs)
    with pytest.warns(DeprecationWarning, match=r"conv_transpose_geometry\(weight_shape"):
        old_t = geometry.conv_transpose_geometry(weight_shape, input_shape, **t_kwargs)
    assert old_t == new_t
    assert new_t.output_shape == tuple(input_shape)


@given(i=st.integers(1, 9), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 3),
       b=st.integers(0, 4), a=st.integers(0, 4), q=st.integers(0, 3))
def test_the_transposed_formulas_are_the_scatter(i, k, s, d, b, a, q):
    """effective_size, stretched_size, stretched_padding and output_padding_for against a
    direct numpy scatter: input t adds w[j] at output t*s + j*d - b of the transposed
    convolution, whose length is (i-1)s - (b+a) + d(k-1) + q + 1; the direct convolution of
    the stretched input, padded by stretched_padding, with the flipped kernel gives it."""
    from convmat import geometry

    assume(q < max(s, d))
    o = geometry.transpose_output_size(i, k, s, d, b, a, q)
    assume(o >= 1)
    rng = np.random.default_rng(i * 1000 + k * 100 + s * 10 + d)
    x, w = rng.integers(-5, 6, i), rng.integers(-5, 6, k)
    scatter = np.zeros(o + b + a + d * k + s * i, dtype=np.int64)  # room for every write
    for t in range(i):
        for j in range(k):
            scatter[b + t * s + j * d] += x[t] * w[j]
    expected = scatter[2 * b:2 * b + o]  # index shifted by b so that -b lands at 0
    assert geometry.effective_size(k, d) == len(range(0, d * (k - 1) + 1))
    stretched = np.zeros(geometry.stretched_size(i, s), dtype=np.int64)
    stretched[::s] = x
    before, after = geometry.stretched_padding(k, d, b, a, q)
    assert geometry.output_padding_for(o, i, k, s, d, b, a) == q
    assume(stretched.size + min(before, 0) + min(after, 0) >= 1)  # some input stays
    y = convmat.conv_matrix(w[::-1], stretched.shape, padding=[(before, after)],
                            dilation=d) @ stretched
    np.testing.assert_array_equal(y, expected)
