"""Kong & Lucey: strided convolution = unit-stride blocks over the phases (convmat.striding).

The oracles here are independent of the code under test: phase kernels are read off the
weight tap by tap from the definition ``d*j = s*q + r``; Toeplitz-ness is checked as shift
invariance of the dense block; the layer identity is checked against PyTorch (and, without
it, against ``conv_matrix`` of the unit-stride weight on the space-to-depth input).
"""

from __future__ import annotations

import itertools
import math

import re
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convmat
from convmat import symbolic
from convmat.cli import main
from convmat.striding import kong_lucey, polyphase, strided_weight
from convmat.symbolic import kong_lucey as symbolic_kong_lucey

from .conftest import requires_pdflatex, requires_torch, torch
from .oracle import crop_then_pad, direct_conv

MODES = ("zeros", "reflect", "replicate", "circular")
#: reported by conftest's terminal summary: random geometries that passed each check
GEOMETRIES_CHECKED = {"kong_lucey_matrix": 0, "kong_lucey_layer": 0, "kong_lucey_torch": 0,
                      "polyphase": 0, "kong_lucey_symbolic": 0}
TORCH_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate",
              "circular": "circular"}


# ------------------------------------------------------------------------------ strategies


class Case:
    """One drawn geometry: weight (channel layout or bare), input shape and arguments."""

    def __init__(self, weight, input_shape, stride, dilation, pads, mode, groups):
        self.weight, self.input_shape = weight, input_shape
        self.stride, self.dilation, self.pads = stride, dilation, pads
        self.mode, self.groups = mode, groups

    @property
    def ndim(self):
        return len(self.input_shape)

    @property
    def w4(self):
        w = self.weight
        return w.reshape((1, 1) + w.shape) if w.ndim == self.ndim else w

    @property
    def padded(self):
        return tuple(i + b + a for i, (b, a) in zip(self.input_shape, self.pads))

    def kwargs(self):
        return dict(stride=self.stride, padding=self.pads, dilation=self.dilation,
                    groups=self.groups, padding_mode=self.mode)

    def __repr__(self):
        return (f"Case(weight.shape={self.weight.shape}, input_shape={self.input_shape}, "
                f"{self.kwargs()})")


@st.composite
def cases(draw, ndims=(1, 2, 3), modes=MODES, crop=False):
    """Strides 1-4 and dilations 1-3 per dim, kernels smaller and larger than the stride,
    padded sizes that are and are not multiples of the stride, channels and groups;
    ``crop``: negative paddings (crops) too."""
    n = draw(st.sampled_from(ndims))
    small = n == 3  # keep 3-D matrices small
    stride, dilation, kernel, pads, ishape = [], [], [], [], []
    for _ in range(n):
        s = draw(st.integers(1, 3 if small else 4))
        d = draw(st.integers(1, 2 if small else 3))
        k = draw(st.integers(1, 2 if small else 4))
        low = -(2 if small else 3) if crop else 0
        b, a = (draw(st.integers(low, 1 if small else 2)),
                draw(st.integers(low, 1 if small else 2)))
        extra = draw(st.integers(0, s + 1 if small else 2 * s))  # residue of padded size
        stride.append(s), dilation.append(d), kernel.append(k), pads.append((b, a))
        ishape.append(max(1, d * (k - 1) + 1 + extra - b - a))
    mode = draw(st.sampled_from(modes))
    for i, (b, a) in zip(ishape, pads):
        kept = i + min(b, 0) + min(a, 0)  # the input left after the crops
        assume(kept >= 1)
        assume(mode != "reflect" or max(b, a) < kept)
        assume(mode not in ("circular", "symmetric") or max(b, a) <= kept)
    groups = draw(st.integers(1, 2))
    c_in_g, c_out_g = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    bare = groups == c_in_g == c_out_g == 1 and draw(st.booleans())
    shape = tuple(kernel) if bare else (groups * c_out_g, c_in_g, *kernel)
    seed = draw(st.integers(0, 2**32 - 1))
    weight = np.random.default_rng(seed).integers(1, 10, shape)  # no zero taps: visible
    per = draw(st.booleans())
    return Case(weight, tuple(ishape), tuple(stride) if per or n > 1 else stride[0],
                tuple(dilation), tuple(pads), mode, groups)


# ---------------------------------------------------------------------------------- oracles


def phase_kernels(w4, stride, dilation, offset=None, size=None):
    """``out[o, c, r][q] = w[o, c, j]`` where ``offset + d*j = s*q + r``: tap by tap.

    ``size`` defaults to ``ceil(k_eff / s)`` per dim."""
    n = len(stride)
    offset = offset or (0,) * n
    kernel = w4.shape[2:]
    size = size or tuple(-(-(d * (k - 1) + 1) // s) for k, s, d in zip(kernel, stride, dilation))
    out = np.zeros(w4.shape[:2] + (math.prod(stride),) + size, dtype=w4.dtype)
    for j in itertools.product(*map(range, kernel)):
        qr = [divmod(o + d * jj, s) for jj, s, d, o in zip(j, stride, dilation, offset)]
        r = np.ravel_multi_index(tuple(v[1] for v in qr), stride)
        out[(slice(None), slice(None), r) + tuple(v[0] for v in qr)] = w4[(..., *j)]
    return out


def sub_grid(channels, full, keep):
    """Flat indices of ``(channels, *keep)`` (leading corner) inside ``(channels, *full)``."""
    grids = np.meshgrid(np.arange(channels), *[np.arange(k) for k in keep], indexing="ij")
    return np.ravel_multi_index(tuple(g.ravel() for g in grids), (channels, *full))


def toeplitz_of(kernel4, out_shape, in_shape, groups):
    """Unit-stride matrix of ``kernel4`` from input ``in_shape`` to output ``out_shape``:
    conv_matrix on an input zero-filled far enough, rows and columns restricted."""
    k = kernel4.shape[2:]
    full_in = tuple(max(i, o + kk - 1) for i, o, kk in zip(in_shape, out_shape, k))
    full_out = tuple(i - kk + 1 for i, kk in zip(full_in, k))
    c_out, c_in = kernel4.shape[0], kernel4.shape[1] * groups
    if 0 in in_shape or 0 in out_shape:
        return sp.csr_array((c_out * math.prod(out_shape), c_in * math.prod(in_shape)))
    big = convmat.conv_matrix(kernel4, full_in, groups=groups)
    return big[sub_grid(c_out, full_out, out_shape)][:, sub_grid(c_in, full_in, in_shape)]


def assert_shift_invariant(block, c_out, out_shape, c_in, in_shape):
    """Multi-level Toeplitz: ``B[(o, t), (c, m)] == B[(o, t + e_a), (c, m + e_a)]``."""
    n = len(out_shape)
    dense = block.toarray().reshape(c_out, *out_shape, c_in, *in_shape)
    for a in range(n):
        head = [slice(None)] * dense.ndim
        tail = [slice(None)] * dense.ndim
        head[1 + a], head[2 + n + a] = slice(1, None), slice(1, None)
        tail[1 + a], tail[2 + n + a] = slice(None, -1), slice(None, -1)
        np.testing.assert_array_equal(dense[tuple(head)], dense[tuple(tail)])


def delayed(kernel4, delay, shape):
    """``kernel4`` moved ``delay`` positions later per dim inside a kernel of ``shape``
    (nothing non-zero may fall off the end)."""
    out = np.zeros(kernel4.shape[:2] + tuple(shape), dtype=kernel4.dtype)
    ends = [min(t + k, size) for t, k, size in zip(delay, kernel4.shape[2:], shape)]
    lead = (slice(None), slice(None))
    out[lead + tuple(slice(t, e) for t, e in zip(delay, ends))] = kernel4[
        lead + tuple(slice(e - t) for t, e in zip(delay, ends))]
    assert np.count_nonzero(out) == np.count_nonzero(kernel4)
    return out


def assert_same(a, b):
    assert a.shape == b.shape
    assert (sp.csr_array(a) != sp.csr_array(b)).nnz == 0


def phase_lengths(shape, stride, phase):
    return tuple(len(range(r, n, s)) for n, s, r in zip(shape, stride, phase))


# ---------------------------------------------------------------------------- matrix view


@given(cases())
@settings(max_examples=200)
def test_matrix_identity_and_toeplitz_blocks(case):
    kl = kong_lucey(case.weight, case.input_shape, **case.kwargs())
    s, d, g = kl.stride, case.dilation, case.groups
    strided = convmat.conv_matrix(case.weight, case.padded, stride=s, dilation=d, groups=g)
    # the contract: columns permuted by phase are [T_0 | T_1 | ...]
    pi = kl.permutation
    assert pi.shape == (strided.shape[1],) * 2
    assert (pi.sum(axis=0) == 1).all() and (pi.sum(axis=1) == 1).all() and pi.nnz == pi.shape[0]
    assert_same(strided @ pi, sp.hstack(kl.blocks))
    assert_same(kl.strided_matrix(), strided)
    assert_same(kl.strided_matrix(padded=False),
                convmat.conv_matrix(case.weight, case.input_shape, **case.kwargs()))

    w4 = case.w4
    c_out, c_in = w4.shape[0], w4.shape[1] * g
    expected = phase_kernels(w4, s, d)
    n_phases = math.prod(s)
    assert len(kl.blocks) == n_phases == len(kl.phases)
    assert kl.unit_weight.shape == (c_out, w4.shape[1] * n_phases, *expected.shape[3:])
    np.testing.assert_array_equal(kl.unit_weight, expected.reshape(kl.unit_weight.shape))
    for r, (phase, block) in enumerate(zip(kl.phases, kl.blocks)):
        n_r = phase_lengths(case.padded, s, phase)
        assert kl.phase_shapes[r] == n_r
        assert block.shape == (c_out * math.prod(kl.output_shape), c_in * math.prod(n_r))
        # T_r is the unit-stride convolution of the phase kernel on the phase input
        assert_same(block, toeplitz_of(expected[:, :, r], kl.output_shape, n_r, g))
        assert_shift_invariant(block, c_out, kl.output_shape, c_in, n_r)
    # the reverse direction: the unit weight maps back to the strided one
    np.testing.assert_array_equal(
        strided_weight(kl.unit_weight, w4.shape[2:], stride=s, dilation=d), w4)
    assert kl.parameter_counts() == (case.weight.size, kl.unit_weight.size)
    assert kl.tap_mask.sum() == w4.size
    GEOMETRIES_CHECKED["kong_lucey_matrix"] += 1


@given(cases(), st.data())
@settings(max_examples=100)
def test_layer_identity_as_matrices(case, data):
    """Without PyTorch: the unit-stride matrix on space_to_depth(x), cropped, is the layer."""
    kl = kong_lucey(case.weight, case.input_shape, **case.kwargs())
    c_in = case.w4.shape[1] * case.groups
    x = np.random.default_rng(data.draw(st.integers(0, 99))).integers(-9, 9,
                                                                      (c_in, *case.input_shape))
    z = kl.space_to_depth(x)
    assert z.shape == (c_in * math.prod(kl.stride), *kl.phase_shape)
    unit = convmat.conv_matrix(kl.unit_weight, kl.phase_shape, groups=case.groups)
    full = convmat.conv_output_shape(kl.phase_shape, kl.kernel_shape)
    rows = sub_grid(unit.shape[0] // math.prod(full), full, kl.output_shape)
    layer = convmat.conv_matrix(case.weight, case.input_shape, **case.kwargs())
    np.testing.assert_array_equal(unit[rows] @ z.ravel(), layer @ x.ravel())
    np.testing.assert_array_equal(kl.depth_to_space(z), x)
    GEOMETRIES_CHECKED["kong_lucey_layer"] += 1


# ----------------------------------------------------------------------------- layer view


def _torch_pad(case):
    return [v for b, a in reversed(case.pads) for v in (b, a)]


@requires_torch
@given(cases(), st.data())
@settings(max_examples=100)
def test_layer_identity_against_torch(case, data):
    """conv(x, w, stride) == conv(space_to_depth(x), unit_weight, stride=1) cropped."""
    F = torch.nn.functional
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[case.ndim]
    kl = kong_lucey(case.weight, case.input_shape, **case.kwargs())
    w4 = torch.tensor(case.w4, dtype=torch.float64)
    c_in = w4.shape[1] * case.groups
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    x = rng.standard_normal((2, c_in, *case.input_shape))
    padded = F.pad(torch.tensor(x), _torch_pad(case), mode=TORCH_MODE[case.mode])
    expected = conv(padded, w4, stride=kl.stride, dilation=case.dilation, groups=case.groups)
    if case.mode == "zeros" and all(b == a for b, a in case.pads):  # torch pads it itself
        direct = conv(torch.tensor(x), w4, stride=kl.stride, padding=[b for b, _ in case.pads],
                      dilation=case.dilation, groups=case.groups)
        torch.testing.assert_close(direct, expected)
    z = kl.space_to_depth(x)
    got = conv(torch.tensor(z), torch.tensor(kl.unit_weight, dtype=torch.float64),
               groups=case.groups)
    crop = (slice(None), slice(None)) + tuple(slice(o) for o in kl.output_shape)
    assert tuple(expected.shape[2:]) == kl.output_shape
    torch.testing.assert_close(got[crop], expected, rtol=1e-12, atol=1e-12)
    # the inverse map: back to the input, or to the padded input
    np.testing.assert_array_equal(kl.depth_to_space(z), x)
    np.testing.assert_array_equal(kl.depth_to_space(z, padded=True), padded.numpy())
    GEOMETRIES_CHECKED["kong_lucey_torch"] += 1


@requires_torch
@pytest.mark.parametrize("s", [1, 2, 3])
@pytest.mark.parametrize("mode", MODES)
def test_space_to_depth_is_pixel_unshuffle(s, mode):
    x = np.random.default_rng(s).standard_normal((2, 3, 3 * s - 1, 2 * s))
    pads = ((1, 0), (0, 0))  # padded shape (3s, 2s): a multiple of the stride
    kl = kong_lucey(np.ones((4, 3, 2, 2)), x.shape[2:], stride=s, padding=pads,
                    padding_mode=mode)
    padded = torch.nn.functional.pad(torch.tensor(x), (0, 0, 1, 0), mode=TORCH_MODE[mode])
    expected = torch.nn.functional.pixel_unshuffle(padded, s)
    np.testing.assert_array_equal(kl.space_to_depth(x), expected.numpy())


@requires_torch
@pytest.mark.parametrize("padding", [1, "same", "full", "valid", (2, 0), ((0, 2), (1, 1))])
def test_layer_identity_every_padding_form(padding):
    F = torch.nn.functional
    w = np.random.default_rng(1).standard_normal((4, 1, 3, 2))
    x = np.random.default_rng(2).standard_normal((1, 2, 7, 6))
    kl = kong_lucey(w, (7, 6), stride=(2, 3), padding=padding, groups=2)
    pads = convmat.geometry.resolve_padding(padding, (7, 6), (3, 2), (2, 3))
    flat = [v for b, a in reversed(pads) for v in (b, a)]
    expected = F.conv2d(F.pad(torch.tensor(x), flat), torch.tensor(w), stride=(2, 3), groups=2)
    got = F.conv2d(torch.tensor(kl.space_to_depth(x)), torch.tensor(kl.unit_weight), groups=2)
    o0, o1 = kl.output_shape
    torch.testing.assert_close(got[..., :o0, :o1], expected, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------ polyphase


@given(cases(modes=("zeros",)))
@settings(max_examples=100)
def test_polyphase_blocks_are_tied_phase_shifted_filters(case):
    s, d, g = case.stride, case.dilation, case.groups
    pp = polyphase(case.weight, case.input_shape, stride=s, padding=case.pads, dilation=d,
                   groups=g)
    s = pp.stride
    n_phases = math.prod(s)
    unit = convmat.conv_matrix(case.weight, case.padded, dilation=d, groups=g)
    assert_same(pp.row_permutation.T @ unit @ pp.column_permutation, pp.matrix())
    w4 = case.w4
    c_out, c_in = w4.shape[0], w4.shape[1] * g
    kl = kong_lucey(case.weight, case.padded, stride=s, dilation=d, groups=g)
    size = tuple((f - 1 + dd * (k - 1)) // f + 1 for f, dd, k in zip(s, d, w4.shape[2:]))
    assert pp.kernel_shape == size
    for rho, out_phase in enumerate(pp.phases):
        shifted = phase_kernels(w4, s, d, out_phase, size)
        rows = phase_lengths(pp.output_shape, s, out_phase)
        for r, in_phase in enumerate(pp.phases):
            kernel = pp.block_weight(rho, r)
            np.testing.assert_array_equal(kernel, shifted[:, :, r])
            # pseudo-circulant tying: phase (r - rho) mod s of the filter, delayed where r < rho
            m = tuple((b - a) % f for a, b, f in zip(out_phase, in_phase, s))
            delay = tuple(int(b < a) for a, b in zip(out_phase, in_phase))
            base = phase_kernels(w4, s, d)[:, :, np.ravel_multi_index(m, s)]
            np.testing.assert_array_equal(kernel, delayed(base, delay, kernel.shape[2:]))
            block = pp.blocks[rho][r]
            cols = phase_lengths(case.padded, s, in_phase)
            assert_same(block, toeplitz_of(kernel, rows, cols, g))
            assert_shift_invariant(block, c_out, rows, c_in, cols)
        if rho == 0:  # the first block row is Kong & Lucey's [T_0 | T_1 | ...]
            for block, t in zip(pp.blocks[0], kl.blocks):
                assert_same(block, t)
    assert pp.unit_weight.shape[:2] == (c_out * n_phases, w4.shape[1] * n_phases)
    GEOMETRIES_CHECKED["polyphase"] += 1


# -------------------------------------------------------------------------------- symbolic


def numeric_entries(matrix):
    coo = sp.coo_array(sp.csr_array(matrix))
    return {(int(r), int(c)): v for r, c, v in zip(coo.row, coo.col, coo.data.tolist()) if v}


def substituted_entries(matrix, values):
    return {k: int(v.xreplace(values)) for k, v in matrix.todok().items()}


@given(cases(ndims=(1, 2)))
@settings(max_examples=40)
def test_symbolic_equals_numeric_after_substitution(case):
    sym = symbolic_kong_lucey(case.weight.shape, case.input_shape, **case.kwargs())
    num = kong_lucey(case.weight, case.input_shape, **case.kwargs())
    values = dict(zip(sym.weight.ravel(), case.weight.ravel().tolist()))
    assert substituted_entries(sym.matrix, values) == numeric_entries(
        convmat.conv_matrix(case.weight, case.padded, stride=case.stride,
                            dilation=case.dilation, groups=case.groups))
    assert substituted_entries(sym.permutation, values) == numeric_entries(num.permutation)
    assert len(sym.blocks) == len(num.blocks)
    for s_block, n_block in zip(sym.blocks, num.blocks):
        assert s_block.shape == n_block.shape
        assert substituted_entries(s_block, values) == numeric_entries(n_block)
    unit = np.frompyfunc(lambda v: int(v.xreplace(values)), 1, 1)(sym.unit_weight)
    np.testing.assert_array_equal(unit.astype(num.unit_weight.dtype), num.unit_weight)
    np.testing.assert_array_equal(sym.column_order, num.column_order)
    assert sym.matrix * sym.permutation == sym.permuted
    GEOMETRIES_CHECKED["kong_lucey_symbolic"] += 1


def test_symbolic_rebuilds_the_padded_layer():
    kl = symbolic.kong_lucey((1, 2, 2, 3), (4, 5), stride=(2, 3), padding=((1, 0), (2, 2)),
                             groups=1, padding_mode="reflect")
    expected = symbolic.conv_matrix(kl.weight, (4, 5), stride=(2, 3),
                                    padding=((1, 0), (2, 2)), padding_mode="reflect")
    assert kl.strided_matrix(padded=False) == expected
    assert kl.strided_matrix() == kl.matrix
    assert repr(kl).startswith("SymbolicKongLucey(stride=(2, 3)")
    x = symbolic.symbols((2, 4, 5), "x")  # space_to_depth works on symbols too
    z = kl.space_to_depth(x)
    # channel 1 = channel 0, phase (0, 1): padded (0, 1) reflects input (1, 1)
    assert z.shape == (12, 3, 3) and z[1, 0, 0] == sympy.Symbol("x_{0,1,1}")
    np.testing.assert_array_equal(kl.depth_to_space(z), np.array(x.tolist(), dtype=object))


def _bare(tex):
    """A display without its row-spacing line, ``&=`` (its alignment in "all") as ``=``."""
    return re.sub(r"\\def\\arraystretch\{[\d.]+\}\n", "", tex).replace("&=", "=")


def test_latex_parts():
    kl = symbolic.kong_lucey((3,), (7,), stride=2, name="h")
    whole = kl.latex()
    assert whole.count("&=") == 3  # the three displays aligned on their equals signs
    for part in ("strided", "permuted", "sum"):
        assert _bare(kl.latex(part)) in _bare(whole)
    assert r"\begin{array}{cccc|ccc}" in kl.latex("permuted")
    assert kl.latex("sum").count("+") == 1
    # numbers, channels: symbols carry the channel index when there are several
    numeric = kong_lucey(np.ones((2, 1, 2)), (4,), stride=2)
    assert "y_{1,1}" in numeric.latex("strided") and "x_{3}" in numeric.latex("sum")
    with pytest.raises(convmat.ConvmatError, match="part='rows'"):
        kl.latex("rows")
    with pytest.raises(convmat.ConvmatError, match="zero='-'"):
        kl.latex(zero="-")


KL_CASES = [
    dict(weight=np.arange(1, 10).reshape(3, 3), input_shape=(5, 6), stride=(2, 3), padding=1),
    dict(weight=np.arange(1, 13).reshape(2, 2, 3), input_shape=(7,), stride=2, dilation=2),
    dict(weight=np.arange(1, 4), input_shape=(6,), stride=3, padding=[(1, 2)],
         padding_mode="reflect"),
]


@pytest.mark.parametrize("case", KL_CASES)
@pytest.mark.parametrize("kind", ["numeric", "symbolic"])
def test_to_latex_renders_every_part_of_a_kong_lucey_result(case, kind):
    """``to_latex`` takes numeric and symbolic results and every part; the written cells are
    the matrices' entries (parsed back from the LaTeX and compared with the matrices)."""
    case = dict(case)
    weight, shape = case.pop("weight"), case.pop("input_shape")
    if kind == "numeric":
        kl = kong_lucey(weight, shape, **case)
        cell = str
    else:
        kl = symbolic.kong_lucey(sympy.Array(weight.tolist()), shape, **case)
        cell = sympy.latex
    whole = convmat.to_latex(kl)
    assert whole == kl.latex() and r"\begin{aligned}" in whole.split("\n")[:2]
    for part in ("strided", "permuted", "sum"):
        tex = convmat.to_latex(kl, part=part, max_rows=None, max_cols=None)
        assert tex == kl.latex(part, max_rows=None, max_cols=None)
        assert _bare(convmat.to_latex(kl, part=part)) in _bare(whole)
        if part == "sum":
            continue
        matrix = kl.strided_matrix() if part == "strided" else kl.permuted
        dense = (np.array(matrix.tolist(), dtype=object) if kind == "symbolic"
                 else matrix.toarray())
        y, written, x = _matrices(tex)[:3]
        assert [[c for c in row] for row in written[1]] == [
            [cell(v) if v != 0 else "0" for v in row] for row in dense]
        assert len(x[1]) == dense.shape[1] and len(y[1]) == dense.shape[0]
    standalone = convmat.to_latex(kl, part="permuted", standalone=True)
    assert standalone.startswith(r"\documentclass")


def test_kong_lucey_latex_options_are_checked_like_to_latex():
    """Once: unknown options raised a bare TypeError, ``geometry=`` clashed with the one the
    result sets, and ``highlight_row`` was silently ignored by the permuted display."""
    kl = kong_lucey([1, 2, 3], (7,), stride=2)
    with pytest.raises(convmat.ConvmatError, match=r"unknown option \['foo'\]"):
        kl.latex("all", foo=1)
    with pytest.raises(convmat.ConvmatError, match=r"unknown option"):
        convmat.to_latex(kl.strided_matrix(), foo=1)
    with pytest.raises(convmat.ConvmatError, match=r"geometry=.*knows its own"):
        convmat.to_latex(kl, part="strided", geometry=kl.geometry)
    with pytest.raises(convmat.ConvmatError, match=r"part='sum' applies to Kong & Lucey"):
        convmat.to_latex(kl.strided_matrix(), part="sum")
    with pytest.raises(convmat.ConvmatError, match=r"x=\[1, 2\] must be a non-empty name"):
        kl.latex("permuted", x=[1, 2])
    assert kl.latex("strided", geometry=None) == kl.latex("strided")
    tex = kl.latex("permuted", highlight_row=1)
    row = kl.permuted[[1]].tocsr()
    assert tex.count(r"\boxed") == 2 * row.nnz + 1  # its entries, the x they touch, y_1
    for column in row.indices:
        assert rf"\smash{{\boxed{{\smash[b]{{x_{{{kl.column_order[column]}}}}}}}}}" in tex


def _matrices(tex):
    """(environment, rows as lists of cells, indices of rows followed by a rule) of every
    environment in ``tex``, outermost first."""
    import re

    out = []
    for _env, spec, body in re.findall(r"\\begin\{(\w+)\}(?:\{([^\n]*)\})?\n(.*?)\n"
                                      r"\\end\{\1\}", tex, re.DOTALL):
        rows, rules = [], []
        for line in body.split("\n"):
            if line.startswith(r"\hline"):
                rules.append(len(rows) - 1)
            else:
                rows.append(line.removesuffix(r" \\").split(" & "))
        out.append((spec, rows, rules))
    return out


def test_latex_of_a_large_case_is_elided_consistently():
    """Once: "permuted" ignored max_rows/max_cols (and refused a 32x32 input outright), and
    "sum" wrote all 49 outputs on the left of 40-row elided blocks."""
    kl = kong_lucey(np.arange(1, 10).reshape(3, 3), (16, 16), stride=2)  # 49 x (4 x 64)
    y, matrix, x = _matrices(kl.latex("permuted", max_rows=6, max_cols=12))
    assert len(y[1]) == len(matrix[1]) == 6 and y[1][3] == [r"\vdots"]
    assert all(len(row) == 12 for row in matrix[1])  # 3 columns of each of the 4 phases
    assert matrix[0] == "ccc|ccc|ccc|ccc" and x[2] == [2, 5, 8]
    assert [row[0] for row in x[1]] == ["x_{0,0}", r"\vdots", "x_{14,14}", "x_{0,1}", r"\vdots",
                                        "x_{14,15}", "x_{1,0}", r"\vdots", "x_{15,14}",
                                        "x_{1,1}", r"\vdots", "x_{15,15}"]
    # first and last output: T_r[t, m] = w_r[m - t] at the corners of each phase
    dots = r"\cdots"
    assert matrix[1][0] == ["1", dots, "0", "2", dots, "0", "4", dots, "0", "5", dots, "0"]
    assert matrix[1][-1] == ["0", dots, "9", "0", dots, "0", "0", dots, "0", "0", dots, "0"]
    parts = _matrices(kl.latex("sum", max_rows=5))
    assert len(parts) == 1 + 2 * 4  # y, then T_r and x_r per phase
    assert {len(rows) for _, rows, _ in [parts[0], *parts[1::2]]} == {5}
    big = kong_lucey(np.ones((3, 3)), (32, 32), stride=2)  # 225 x 1024, max 40 by default
    for part in ("strided", "permuted", "sum"):
        written = _matrices(big.latex(part))
        assert max(len(rows) for _, rows, _ in written) <= 40
        assert max(len(rows[0]) for _, rows, _ in written) <= 40
    with pytest.raises(convmat.ConvmatError, match="max_cols=1 must be at least 2"):
        kl.latex("permuted", max_cols=1)


def test_latex_names_only_the_written_entries(monkeypatch):
    """Once every padded input and every output got a sympy symbol, written or not: 34 s
    for ``kl.latex()`` of a 3 x 224 x 224 input."""
    kl = kong_lucey(np.ones((4, 3, 3, 3)), (96, 96), stride=2, padding=1)
    named = []
    from convmat import _symbols
    from convmat.latex import _writer

    subscript = _writer.subscript
    monkeypatch.setattr(_writer, "subscript", lambda *a: named.append(a) or subscript(*a))
    monkeypatch.setattr(_symbols, "symbols", lambda *a, **k: pytest.fail("a whole vector"))
    for part in ("strided", "permuted", "sum", "all"):
        kl.latex(part)
    named.clear()
    tex = kl.latex("permuted", max_rows=9, max_cols=16)
    # the written outputs and the written inputs that are not padding zeros, no ellipsis
    zeros = _matrices(tex)[2][1].count(["0"])
    assert len(named) == 9 - 1 + 16 - 4 - zeros and zeros > 0


def test_latex_of_an_all_zero_symbolic_kernel_is_zero():
    assert symbolic.kong_lucey([0, 0], (4,), stride=2).latex("sum").endswith("=\n0")


@requires_pdflatex
@pytest.mark.parametrize("kernel, shape", [((3,), (7,)), ((3, 3), (5, 5))])
def test_latex_compiles(kernel, shape, tmp_path):
    kl = symbolic.kong_lucey(kernel, shape, stride=2)
    (tmp_path / "kl.tex").write_text(kl.latex(standalone=True))
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "kl.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


# ------------------------------------------------------------------------------------- CLI


def test_cli_text_and_latex(capsys):
    assert main(["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2"]) == 0
    out = capsys.readouterr().out
    assert "T_0: phase (0,), input x[0::2], columns 0 2 4 6" in out
    assert "parameters: strided 3, unit-stride 4" in out
    assert main(["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "2", "--symbolic",
                 "--name", "h", "--format", "latex", "--standalone"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(r"\documentclass") and "h_{2}" in out
    assert main(["kong-lucey", "--input", "6x6", "--kernel", "3x3", "--stride", "2",
                 "--padding", "1", "--in-channels", "2", "--out-channels", "4", "--groups", "2",
                 "--weights", " ".join(map(str, range(36))), "--mode", "replicate"]) == 0
    assert "unit_weight (4, 4, 2, 2)" in capsys.readouterr().out


@requires_pdflatex
def test_cli_latex_of_a_large_input_compiles(tmp_path, capsys):
    """Once refused: 'the permuted matrix is 225 x 1024, more than 100,000 cells'."""
    assert main(["kong-lucey", "--input", "32x32", "--kernel", "3x3", "--stride", "2",
                 "--format", "latex", "--standalone"]) == 0
    (tmp_path / "kl.tex").write_text(capsys.readouterr().out)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "kl.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


@pytest.mark.parametrize("argv, message", [
    (["--input", "7", "--kernel", "3"], "--stride"),
    (["--input", "7", "--kernel", "3", "--stride", "2", "--standalone"], "--standalone"),
    (["--input", "7", "--kernel", "3", "--stride", "2", "--name", "h"], "--name"),
    (["--input", "7", "--kernel", "3", "--stride", "2", "--in-channels", "3", "--groups", "2"],
     "--groups 2"),
    (["--input", "2", "--kernel", "3", "--stride", "2"], "larger than the padded input"),
    (["--input", "7", "--kernel", "3", "--stride", "0"], "--stride 0"),
])
def test_cli_errors(argv, message, capsys):
    # usage errors exit 2, values that describe no convolution 1
    assert main(["kong-lucey", *argv]) == (1 if "padded" in message or "0" in message else 2)
    assert message in capsys.readouterr().err


# ------------------------------------------------------------------------- reverse direction


def test_strided_weight_round_trip_and_generality():
    w = np.arange(1, 1 + 3 * 2 * 3 * 3).reshape(3, 2, 3, 3)
    kl = kong_lucey(w, (8, 8), stride=2, groups=3)
    np.testing.assert_array_equal(strided_weight(kl.unit_weight, (3, 3), stride=2), w)
    # default kernel_shape: the largest kernel with these phase kernels (4 = 2 * 2), zero-padded
    np.testing.assert_array_equal(strided_weight(kl.unit_weight, stride=2)[..., :3, :3], w)
    assert kl.parameter_counts() == (54, 3 * (2 * 4) * 2 * 2)
    general = kl.unit_weight.copy()
    general[~kl.tap_mask] = 1  # a unit-stride layer no strided layer equals
    with pytest.raises(convmat.ConvmatError, match="no strided equivalent"):
        strided_weight(general, (3, 3), stride=2)
    # with s | k and d = 1 the two forms have the same parameters: every unit layer is strided
    even = kong_lucey(np.ones((1, 1, 4)), (8,), stride=2)
    assert even.parameter_counts() == (4, 4) and even.tap_mask.all()


# -------------------------------------------------------------------- cases that once failed


def test_toy_of_the_slides():
    """The 1-D toy of the teaching material: stride 2, kernel (h0, h1, h2), input length 7."""
    kl = kong_lucey([1, 10, 100], (7,), stride=2)
    strided = convmat.conv_matrix([1, 10, 100], (7,), stride=2)
    order = kl.permutation.T @ np.arange(7)
    np.testing.assert_array_equal(order, [0, 2, 4, 6, 1, 3, 5])
    t_even, t_odd = kl.blocks
    np.testing.assert_array_equal(t_even.toarray(), convmat.conv_matrix([1, 100], (4,)).toarray())
    np.testing.assert_array_equal(t_odd.toarray(), convmat.conv_matrix([10], (3,)).toarray())
    assert_same(strided @ kl.permutation, sp.hstack([t_even, t_odd]))


def test_stride_larger_than_padded_input_gives_empty_phases():
    kl = kong_lucey([5], (3,), stride=4)
    assert kl.phase_shapes == ((1,), (1,), (1,), (0,))
    assert [b.shape for b in kl.blocks] == [(1, 1), (1, 1), (1, 1), (1, 0)]
    assert [b.nnz for b in kl.blocks] == [1, 0, 0, 0]
    np.testing.assert_array_equal(kl.space_to_depth(np.array([7, 8, 9])), [[7], [8], [9], [0]])


def test_stride_one_is_one_block_with_the_dilated_kernel():
    kl = kong_lucey([1, 2], (5,), stride=1, dilation=3)
    np.testing.assert_array_equal(kl.unit_weight, [[[1, 0, 0, 2]]])
    assert_same(kl.permutation, sp.eye_array(5, dtype=int))


def test_bare_kernel_views():
    kl = kong_lucey(np.arange(1, 10).reshape(3, 3), (5, 5), stride=2)
    np.testing.assert_array_equal(kl.phase_weight((0, 0)), [[1, 3], [7, 9]])
    np.testing.assert_array_equal(kl.phase_weight(3), [[5, 0], [0, 0]])
    assert kl.space_to_depth(np.ones((5, 5))).shape == (4, 3, 3)
    assert "T_3: phase (1, 1)" in repr(kl)


def test_dtypes_follow_the_weight():
    for w in (np.array([1.5, 2.0]), np.array([1 + 2j, 3]), np.array([1, 2], dtype=np.int8)):
        kl = kong_lucey(w, (5,), stride=2)
        assert kl.unit_weight.dtype == w.dtype
        assert kl.blocks[0].dtype == convmat.conv_matrix(w, (5,)).dtype


# ---------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("kwargs, match", [
    (dict(stride=None), "stride=None"),
    (dict(stride=0), "stride=0"),
    (dict(stride=(2, 2)), "stride=\\(2, 2\\)"),
    (dict(stride=2, padding=-4), "padding \\(-4, -4\\) in dim 0 crops the whole input"),
    (dict(stride=2, padding="half"), "padding='half'"),
    (dict(stride=2, dilation=9), "dilation"),
    (dict(stride=2, groups=2), "groups=2"),
    (dict(stride=2, padding=7, padding_mode="reflect"), "reflect"),
])
def test_bad_arguments_name_the_parameter(kwargs, match):
    with pytest.raises(convmat.ConvmatError, match=match) as info:
        kong_lucey([1, 2, 3], (7,), **kwargs)
    assert "kong_lucey(" in str(info.value)


def test_bad_inputs_to_the_maps():
    kl = kong_lucey(np.ones((2, 3, 2)), (5,), stride=2)
    with pytest.raises(convmat.ConvmatError, match=r"x.shape=\(2, 5\) must end in \(3, 5\)"):
        kl.space_to_depth(np.ones((2, 5)))
    with pytest.raises(convmat.ConvmatError, match=r"z.shape"):
        kl.depth_to_space(np.ones((6, 2)))
    with pytest.raises(convmat.ConvmatError, match="phase=2"):
        kl.phase_weight(2)
    with pytest.raises(convmat.ConvmatError, match=r"phase=\(3,\)"):
        kl.phase_weight((3,))
    with pytest.raises(convmat.ConvmatError, match="stride=None"):
        polyphase([1, 2], (5,), stride=None)
    # once scipy's bare ValueError "Format bogus is unknown."
    with pytest.raises(convmat.ConvmatError, match="format='bogus'"):
        kl.strided_matrix(format="bogus")
    with pytest.raises(convmat.ConvmatError, match="format='bogus'"):
        polyphase([1, 2], (5,), stride=2).matrix("bogus")
    assert kl.strided_matrix(format="csc").format == "csc"


@pytest.mark.parametrize("args, kwargs, match", [
    (([[[1, 2]]],), dict(stride=None), "stride=None"),
    (([[[1, 2], [3, 4], [5, 6]]], (3,)), dict(stride=2), "not a multiple of prod"),
    (([[[1, 2], [3, 4]]], (5,)), dict(stride=2), r"kernel_shape=\(5,\) does not match"),
    (([[[1, 2], [3, 4]]], (3, 3)), dict(stride=2), "must have 1 dims"),
    (([1, 2],), dict(stride=2), "at least one spatial dim"),
])
def test_strided_weight_errors(args, kwargs, match):
    with pytest.raises(convmat.ConvmatError, match=match) as info:
        strided_weight(*args, **kwargs)
    assert "strided_weight(" in str(info.value)


def test_ragged_input_to_space_to_depth_is_a_convmat_error():
    kl = convmat.kong_lucey([1.0, 2.0], (5,), stride=2)
    with pytest.raises(convmat.ConvmatError, match=r"x could not be read.*space_to_depth"):
        kl.space_to_depth([[1, 2], [3]])


# ------------------------------------------------------------- one vocabulary: stride


@pytest.mark.parametrize("call", [
    lambda: kong_lucey([1, 2, 3], (7,)),
    lambda: symbolic.kong_lucey((3,), (7,)),
    lambda: strided_weight([[[1, 2]]]),
    lambda: polyphase([1, 2, 3], (6,)),
])
def test_stride_is_a_required_keyword(call):
    """A missing stride is Python's own TypeError for a missing keyword-only argument."""
    with pytest.raises(TypeError, match=r"missing 1 required keyword-only argument: 'stride'"):
        call()


def test_polyphase_factor_is_a_deprecated_stride():
    new = polyphase([1, 2, 3], (6,), stride=2, padding=1)
    with pytest.warns(DeprecationWarning, match=r"polyphase\(factor=\.\.\.\) is deprecated; "
                                                r"use polyphase\(stride=\.\.\.\)"
                      ) as record:
        old = polyphase([1, 2, 3], (6,), factor=2, padding=1)
    assert record[0].filename == __file__
    assert (old.matrix() != new.matrix()).nnz == 0 and old.stride == new.stride == (2,)
    with pytest.warns(DeprecationWarning, match=r"Polyphase\(factor=\.\.\.\)") as record:
        assert new.factor == (2,)
    assert record[0].filename == __file__
    with pytest.raises(convmat.ConvmatError, match="give only stride="):
        polyphase([1, 2, 3], (6,), stride=2, factor=2)


# ------------------------------------------------------------- crops (negative paddings)


def space_to_depth_oracle(x, pads, mode, stride):
    """numpy.pad of the cropped input, zero-filled to a multiple of the stride, then
    pixel_unshuffle by reshape: channel ``c * S + flat(r)`` at ``m`` holds ``s*m + r``."""
    xp = crop_then_pad(x, pads, mode)
    n = len(stride)
    xp = np.pad(xp, [(0, 0)] + [(0, -p % s) for p, s in zip(xp.shape[1:], stride)])
    n0 = [p // s for p, s in zip(xp.shape[1:], stride)]
    y = xp.reshape([xp.shape[0]] + [v for m, s in zip(n0, stride) for v in (m, s)])
    y = y.transpose([0] + [2 + 2 * a for a in range(n)] + [1 + 2 * a for a in range(n)])
    return y.reshape(xp.shape[0] * math.prod(stride), *n0)


def depth_to_space_oracle(z, channels, stride, pads, input_shape):
    """pixel_shuffle by reshape, cut to the padded shape; then input position ``p`` is
    padded position ``p + before`` per dim, zero where a crop removed it."""
    n = len(stride)
    n0 = z.shape[1:]
    y = z.reshape(channels, *stride, *n0)
    y = y.transpose([0] + [v for a in range(n) for v in (1 + n + a, 1 + a)])
    y = y.reshape(channels, *(m * s for m, s in zip(n0, stride)))
    padded_shape = tuple(i + b + a for i, (b, a) in zip(input_shape, pads))
    padded = y[(slice(None),) + tuple(slice(p) for p in padded_shape)]
    out = np.zeros((channels, *input_shape), dtype=z.dtype)
    for p in itertools.product(*map(range, input_shape)):
        q = tuple(pp + b for pp, (b, _) in zip(p, pads))
        if all(0 <= qq < size for qq, size in zip(q, padded_shape)):
            out[(slice(None), *p)] = padded[(slice(None), *q)]
    return padded, out


def test_depth_to_space_with_a_crop_the_issue_example():
    """A crop before the input once wrapped around (``[13, 11, 12, 13]``); a crop after it
    gave the zero fill; a larger crop a bare IndexError."""
    x = np.array([10, 11, 12, 13])
    for pads, expected in [([(-1, 0)], [0, 11, 12, 13]), ([(0, -1)], [10, 11, 12, 0]),
                           ([(-3, 1)], [0, 0, 0, 13]), ([(-2, 0)], [0, 0, 12, 13]),
                           ([(1, -2)], [10, 11, 0, 0])]:
        kl = convmat.kong_lucey([1, 1], (4,), stride=2, padding=pads)
        assert kl.depth_to_space(kl.space_to_depth(x)).ravel().tolist() == expected, pads


@given(cases(crop=True, modes=MODES + ("symmetric",)), st.integers(0, 2**16))
@settings(max_examples=150)
def test_every_view_with_crops_against_numpy(case, seed):
    """Crops, paddings, strides, dilations, modes, channels: space_to_depth and
    depth_to_space against the reshape definitions; depth_to_space inverts space_to_depth on
    the kept input positions and gives zero on the cropped ones; the permutation, the blocks
    and the strided matrix against the direct convolution."""
    kl = kong_lucey(case.weight, case.input_shape, **case.kwargs())
    s, c_in = kl.stride, case.w4.shape[1] * case.groups
    rng = np.random.default_rng(seed)
    x = rng.integers(-9, 10, (c_in, *case.input_shape))
    z = kl.space_to_depth(x)
    np.testing.assert_array_equal(z, space_to_depth_oracle(x, case.pads, case.mode, s))
    # depth_to_space of any z, and its inverse property on space_to_depth's output
    other = rng.integers(-9, 10, z.shape)
    padded, unpadded = depth_to_space_oracle(other, c_in, s, case.pads, case.input_shape)
    np.testing.assert_array_equal(kl.depth_to_space(other, padded=True), padded)
    np.testing.assert_array_equal(kl.depth_to_space(other), unpadded)
    kept = np.zeros(case.input_shape, dtype=bool)
    kept[tuple(slice(max(-b, 0), i - max(-a, 0))
               for i, (b, a) in zip(case.input_shape, case.pads))] = True
    np.testing.assert_array_equal(kl.depth_to_space(z), np.where(kept, x, 0))
    np.testing.assert_array_equal(kl.depth_to_space(z, padded=True),
                                  crop_then_pad(x, case.pads, case.mode))
    # the matrix view on the padded input, and the strided layer on the input
    strided = convmat.conv_matrix(case.weight, kl.padded_shape, stride=s,
                                  dilation=case.dilation, groups=case.groups)
    assert_same(strided @ kl.permutation, sp.hstack(kl.blocks))
    expected = direct_conv(x, case.w4, stride=s, pads=case.pads, dilation=case.dilation,
                           groups=case.groups, mode=case.mode)
    np.testing.assert_array_equal(kl.strided_matrix(padded=False) @ x.ravel(),
                                  expected.ravel())
    np.testing.assert_array_equal(sp.hstack(kl.blocks) @ (kl.permutation.T @ np.ravel(
        crop_then_pad(x, case.pads, case.mode))), expected.ravel())
