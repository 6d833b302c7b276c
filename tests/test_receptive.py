"""Receptive fields, checked on the product of the layers' matrices: the support of one
output row of A_L ... A_1 (all-ones kernels, so nothing cancels)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convmat
from convmat.receptive import Layer, ReceptiveField, receptive_field


@st.composite
def stacks(draw):
    n = draw(st.integers(1, 2))
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        layers.append(Layer(kernel_shape=tuple(draw(st.integers(1, 3)) for _ in range(n)),
                            stride=tuple(draw(st.integers(1, 2)) for _ in range(n)),
                            padding=tuple(draw(st.integers(0, 2)) for _ in range(n)),
                            dilation=tuple(draw(st.integers(1, 2)) for _ in range(n))))
    return n, layers


def _product(layers, input_shape):
    """A_L ... A_1 with all-ones kernels, and the output shape."""
    shape, product = tuple(input_shape), None
    for layer in layers:
        a = convmat.conv_matrix(np.ones(layer.kernel_shape), shape, stride=layer.stride,
                                padding=layer.padding, dilation=layer.dilation)
        product = a if product is None else a @ product
        shape = convmat.conv_output_shape(shape, layer.kernel_shape, stride=layer.stride,
                                          padding=layer.padding, dilation=layer.dilation)
    return product.tocsr(), shape


@given(stacks(), st.integers(6, 14))
def test_support_of_each_output_row_lies_in_its_window(stack, size):
    n, layers = stack
    input_shape = (size,) * n
    try:
        product, out_shape = _product(layers, input_shape)
    except convmat.ConvmatError:  # a layer no longer fits: nothing to check
        return
    rf = receptive_field(layers)
    for row, t in enumerate(np.ndindex(*out_shape)):
        cols = product.indices[product.indptr[row]:product.indptr[row + 1]]
        window = rf.window(t)
        support = np.unravel_index(cols, input_shape)
        for axis in range(n):
            lo, hi = window[axis].start, window[axis].stop
            if support[axis].size:
                assert lo <= support[axis].min() and support[axis].max() < hi
            if 0 <= lo and hi <= size and support[axis].size:  # window inside the input:
                assert support[axis].min() == lo and support[axis].max() == hi - 1
    # neighbouring outputs' windows are one jump apart
    assert all(rf.window((1,) * n)[a].start - rf.window((0,) * n)[a].start == rf.jump[a]
               for a in range(n))


def test_formula_by_hand():
    rf = receptive_field([Layer(3), Layer(3)])
    assert rf == ReceptiveField((5,), (1,), (0,))
    rf = receptive_field([Layer(3, padding=1), Layer(2, stride=2), Layer(3, padding=1)])
    assert rf == ReceptiveField((8,), (2,), (-3,)) and rf.center == (0.5,)
    # kernel 2 with dilation 1, 2, 4 stacked (WaveNet-style): 1 + 1 + 2 + 4 = 8, no holes
    rf = receptive_field([{"kernel_shape": 2, "dilation": d} for d in (1, 2, 4)])
    assert rf.size == (8,)
    product, _ = _product([Layer(2, dilation=d) for d in (1, 2, 4)], (16,))
    assert sorted(product[[0]].indices.tolist()) == list(range(8))


def test_gridding_of_stacked_dilations():
    """Two dilation-2 layers: span 9 but only every other input position is read."""
    layers = [Layer(3, dilation=2), Layer(3, dilation=2)]
    assert receptive_field(layers).size == (9,)
    product, _ = _product(layers, (12,))
    assert sorted(product[[0]].indices.tolist()) == [0, 2, 4, 6, 8]


def test_lenet5():
    layers = [Layer(5, padding=2), Layer(2, stride=2), Layer(5), Layer(2, stride=2)]
    rf = receptive_field(layers, input_shape=(28, 28))
    assert rf == ReceptiveField((16, 16), (4, 4), (-2, -2))


def test_same_padding_needs_the_input_shape():
    with pytest.raises(convmat.ConvmatError, match=r"padding='same'.*input_shape"):
        receptive_field([Layer(3, padding="same")])
    rf = receptive_field([Layer(3, padding="same", stride=2)], input_shape=(8,))
    assert rf.start == (0,)  # total padding 1 goes after
    assert receptive_field([Layer(3, padding="full")]).start == (-2,)


def test_errors():
    with pytest.raises(convmat.ConvmatError, match="empty"):
        receptive_field([])
    with pytest.raises(convmat.ConvmatError, match=r"layers\[0\]"):
        receptive_field([3])
    with pytest.raises(convmat.ConvmatError, match=r"layers\[1\]"):
        receptive_field([{"kernel_shape": 3}, {"size": 3}])
    with pytest.raises(convmat.ConvmatError, match=r"stride=0"):
        receptive_field([Layer(3, stride=0)])
    # which layer is at fault (the message once named only the parameter)
    with pytest.raises(convmat.ConvmatError, match=r"layers\[1\]: stride=0"):
        receptive_field([Layer(3), Layer(3, stride=0)])
    with pytest.raises(convmat.ConvmatError, match=r"layers\[2\]: kernel_shape=\(5,\)"):
        receptive_field([Layer(3), Layer(3), Layer(5)], input_shape=(8,))


def test_layer_kernel_is_a_deprecated_kernel_shape():
    """``Layer(kernel=...)``, ``layer.kernel`` and the dict key ``"kernel"`` still work and
    warn; the receptive field is the same (and is the dilated span, by hand)."""
    new = receptive_field([Layer(kernel_shape=3, dilation=2), {"kernel_shape": 2}])
    with pytest.warns(DeprecationWarning, match=r"Layer\(kernel=\.\.\.\) is deprecated; use "
                                                r"Layer\(kernel_shape=\.\.\.\)") as record:
        layer = Layer(kernel=3, dilation=2)
    assert record[0].filename == __file__
    with pytest.warns(DeprecationWarning, match=r"Layer\(kernel="):
        old = receptive_field([layer, {"kernel": 2}])
    assert old == new and new.size == (2 * (3 - 1) + 1 + 1,)
    assert layer == Layer(3, dilation=2)
    with pytest.warns(DeprecationWarning, match=r"Layer\(kernel="):
        assert layer.kernel == 3
    with pytest.raises(TypeError, match="missing 1 required argument: 'kernel_shape'"):
        Layer()
