"""Dumoulin & Visin's 15 relationships, shape explanations and the conv → transposed mapping.

Oracles: the paper's formulas written out here (not read from convmat), and PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convmat
from convmat.arithmetic import (
    RELATIONSHIPS,
    explain_shape,
    relationship,
    relationship_for,
    relationship_table,
    transpose_parameters,
)
from convmat.cli import main

from .conftest import requires_torch, torch
from .oracle import same_pads

sizes = st.integers(1, 12)
kernels = st.integers(1, 5)
strides = st.integers(2, 4)


@st.composite
def _conv_case(draw, number):
    """A forward convolution (i, k, s, p, d) meeting relationship ``number``'s conditions."""
    k = draw(kernels)
    s, p, d = 1, 0, 1
    if number in (2, 9):
        p = draw(st.integers(0, 4))
    elif number in (3, 10):
        k = 2 * draw(st.integers(0, 2)) + 1
        p = k // 2
    elif number in (4, 11):
        p = k - 1
    elif number in (5, 7, 12):
        s = draw(strides)
    elif number in (6, 13, 14):
        s, p = draw(strides), draw(st.integers(0, 3))
    elif number == 15:
        s, p, d = draw(st.integers(1, 3)), draw(st.integers(0, 3)), draw(st.integers(2, 3))
    i = draw(sizes) + max(d * (k - 1) + 1 - 2 * p, 0)  # the kernel fits
    if number in (12, 13):  # s divides i + 2p - k: shrink i to the last multiple
        i -= (i + 2 * p - k) % s
        if i < 1 or i + 2 * p < k:
            i += s
    return i, k, s, p, d


# the paper's formulas, written here independently of convmat
def _paper(number, i, k, s, p, d):
    """(value to compare, variables for Relationship.paper/.convmat)."""
    if number in (1, 2, 3, 4, 5, 6, 7, 15):
        o = (i + 2 * p - k - (k - 1) * (d - 1)) // s + 1
        names = {1: "ik", 2: "ikp", 3: "ikp", 4: "ikp", 5: "iks", 6: "iksp", 7: "iks",
                 15: "ikspd"}[number]
        values = dict(i=i, k=k, s=s, p=p, d=d)
        return o, {name: values[name] for name in names}
    o = (i + 2 * p - k) // s + 1  # the forward output is the transposed input i'
    a = (i + 2 * p - k) % s
    expected = {8: o + (k - 1), 9: o + (k - 1) - 2 * p, 10: o, 11: o - (k - 1),
                12: s * (o - 1) + k, 13: s * (o - 1) + k - 2 * p,
                14: s * (o - 1) + a + k - 2 * p}[number]
    return expected, dict(i=o, k=k, s=s, p=p, a=a)


@pytest.mark.parametrize("number", range(1, 16))
@given(data=st.data())
def test_relationship_matches_formula(number, data):
    i, k, s, p, d = data.draw(_conv_case(number))
    expected, variables = _paper(number, i, k, s, p, d)
    rel = relationship(number)
    assert rel.number == number
    assert rel.convmat(**variables) == expected
    assert rel.paper(**variables) == expected
    if rel.transposed:  # the transposed convolution restores the forward input size ...
        assert expected == i
        # ... and is a unit-stride convolution of the stretched input, p' = k - p - 1
        stretched = (variables["i"] - 1) * s + 1
        pp = k - p - 1
        if pp >= 0:  # (p > k - 1 would need a crop instead)
            direct = convmat.conv_output_shape((stretched,), (k,),
                                               padding=[(pp, pp + variables["a"])])
            assert direct == (expected,)


def test_table_lists_all_fifteen_with_agreeing_columns():
    rows = relationship_table().splitlines()[2:]
    assert len(rows) == len(RELATIONSHIPS) == 15
    for row, rel in zip(rows, RELATIONSHIPS):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0] == str(rel.number) and cells[-1] == cells[-2]
    cases = " ".join(rel.case for rel in RELATIONSHIPS)
    for word in ("no zero padding", "half", "full", "pooling", "transposed", "dilated"):
        assert word in cases


@pytest.mark.parametrize("i, k, s, p, d, number", [
    (5, 3, 1, 0, 1, 1), (5, 4, 1, 2, 1, 2), (5, 3, 1, 1, 1, 3), (5, 3, 1, 2, 1, 4),
    (5, 3, 2, 0, 1, 5), (5, 3, 2, 1, 1, 6), (7, 3, 1, 0, 2, 15), (5, 1, 1, 0, 1, 1),
])
def test_relationship_for(i, k, s, p, d, number):
    assert relationship_for(i, k, stride=s, padding=p, dilation=d).number == number


def test_relationship_number_checked():
    with pytest.raises(convmat.ConvmatError, match="number=16"):
        relationship(16)


def test_relationship_variables_checked():
    """Wrong or missing variables were a bare TypeError from a lambda; a kernel larger than
    the input went unnoticed by relationship_for."""
    with pytest.raises(convmat.ConvmatError, match=r"relationship 1 .*takes the variables i, k"):
        relationship(1).paper(i=4)
    with pytest.raises(convmat.ConvmatError, match=r"takes the variables i, k, s"):
        relationship(5).convmat(i=5, k=3, p=1)
    with pytest.raises(convmat.ConvmatError, match=r"k=2.5 must be an integer"):
        relationship(1).paper(i=4, k=2.5)
    with pytest.raises(convmat.ConvmatError, match=r"kernel_shape=\(5,\).*relationship_for"):
        relationship_for(2, 5)
    with pytest.raises(convmat.ConvmatError, match=r"stride=0 must be >= 1"):
        relationship_for(5, 3, stride=0)


def test_explain_shape_words_and_numbers():
    text = explain_shape((7, 8), (3, 4), stride=2, padding="same")
    assert text.splitlines()[-1] == "output shape: 4x4"
    assert "padding \"same\": total = max((ceil(i/s)-1)s + d(k-1) + 1 - i, 0)" in text
    assert "max((4-1)*2 + 1*(4-1) + 1 - 8, 0) = 2, before 1, after 1" in text
    assert "relationship 6" in text
    rest = explain_shape((8,), (3,), stride=2, padding=1)
    assert "mod s = 1" in rest and "output_padding=1" in rest and "i=8" in rest
    dilated = explain_shape((7,), (3,), dilation=2)
    assert "d(k-1)+1 = 5" in dilated and "relationship 15" in dilated


def test_explain_transposed():
    text = explain_shape((3,), (3,), stride=2, padding=1, transposed=True, output_padding=1)
    assert "(3-1)*2 - (1+1) + 1*(3-1) + 1 + 1 = 6" in text
    assert "stretch the input to (i-1)s+1 = 5" in text
    assert text.endswith("output shape: 6")
    crop = explain_shape((4,), (2,), padding=2, transposed=True)
    assert "negative: crop" in crop and crop.endswith("output shape: 1")


def test_explain_errors_carry_context():
    with pytest.raises(convmat.ConvmatError, match=r"stride=0.*explain_shape"):
        explain_shape((5,), (3,), stride=0)
    # output_padding without transposed was silently ignored (so was `convmat shape
    # --output-padding 1` without --transposed)
    with pytest.raises(convmat.ConvmatError, match=r"output_padding=1 .*transposed"):
        explain_shape((5,), (3,), output_padding=1)
    assert main(["shape", "--input", "5", "--kernel", "3", "--output-padding", "1"]) == 2


def test_explain_transposed_restriction():
    """d > s allows output_padding >= s: the forward convolution of the output size then has
    more outputs than the transposed input, and only the first i are kept."""
    text = explain_shape((3,), (3,), dilation=2, transposed=True, output_padding=1)
    assert text.endswith("output shape: 8")
    natural = (8 - 2 * (3 - 1) - 1) // 1 + 1  # the forward convolution of 8: 4 outputs
    assert f"restricted to the first 3 of its {natural} outputs" in text
    assert "restricted" not in explain_shape((3,), (3,), stride=2, transposed=True,
                                             output_padding=1)


@st.composite
def _forward(draw):
    n = draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 4)) for _ in range(n))
    s = tuple(draw(st.integers(1, 3)) for _ in range(n))
    d = tuple(draw(st.integers(1, 2)) for _ in range(n))
    i = tuple(draw(st.integers(1, 8)) + dd * (kk - 1) for kk, dd in zip(k, d))
    form = draw(st.sampled_from(["same", "int", "pairs"]))
    if form == "same":
        padding = "same"
        pads = tuple(same_pads(*args) for args in zip(i, k, s, d))
    elif form == "int":
        padding = draw(st.integers(0, 2))
        pads = ((padding, padding),) * n
    else:
        padding = tuple((draw(st.integers(0, 2)), draw(st.integers(0, 2))) for _ in range(n))
        pads = padding
    return i, k, s, d, padding, pads


@given(_forward())
def test_transpose_parameters_restore_the_input_shape(case):
    i, k, s, d, padding, pads = case
    t = transpose_parameters(i, k, stride=s, padding=padding, dilation=d)
    o = tuple((ii + b + a - dd * (kk - 1) - 1) // ss + 1
              for ii, kk, ss, dd, (b, a) in zip(i, k, s, d, pads))
    assert t.input_shape == o and t.output_shape == i and t.padding == pads
    assert all(0 <= q < ss for q, ss in zip(t.output_padding, s))
    assert convmat.conv_transpose_output_shape(o, k, **t.kwargs()) == i


@requires_torch
@given(_forward(), st.integers(0, 2**32 - 1))
def test_transpose_parameters_against_torch(case, seed):
    i, k, s, d, padding, pads = case
    t = transpose_parameters(i, k, stride=s, padding=padding, dilation=d)
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((1, 1, *k))
    y = rng.standard_normal((1, *t.input_shape))
    ours = convmat.conv_transpose_matrix(w, t.input_shape, **t.kwargs()) @ y.ravel()
    f = {1: torch.nn.functional.conv_transpose1d, 2: torch.nn.functional.conv_transpose2d}
    theirs = f[len(i)](torch.from_numpy(y)[None], torch.from_numpy(w), **t.torch_kwargs())
    theirs = theirs[0, 0][t.crop].numpy()
    np.testing.assert_allclose(ours, theirs.ravel(), atol=1e-12)


def test_even_kernel_same_padding_mapping():
    t = transpose_parameters((8,), (4,), padding="same")
    assert t.padding == ((1, 2),) and t.output_padding == (0,)
    assert t.torch_padding == (1,) and t.torch_output_padding == (0,)
    assert t.crop == (slice(0, 8),)
    t = transpose_parameters((7,), (4,), stride=2, padding="same")
    assert t.input_shape == (4,) and t.padding == ((1, 2),) and t.output_shape == (7,)
