"""Symmetric padding and negative padding (crops) against NumPy, SciPy and JAX.

Oracles: ``numpy.pad(..., "symmetric")``, ``scipy.signal.convolve2d/correlate2d(boundary=
"symm")``, JAX's ``lax.conv_general_dilated`` (which takes negative padding as a crop,
also for the lhs-dilated form of a transposed convolution), and the explicit
crop-then-pad-then-convolve loops of ``tests/oracle.py``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

import convmat
from convmat import symbolic
from convmat.cli import main
from convmat.padding import index_map

from .oracle import crop_then_pad, direct_conv
from .strategies import MODES, geometries

RNG = np.random.default_rng(2024)


def _jax():
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


jax = _jax()
requires_jax = pytest.mark.skipif(jax is None, reason="JAX is not installed")


# -- the per-axis maps ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_index_map_is_numpy_pad_with_crops(mode):
    """Every size, every admissible (before, after) including crops: the map picks what
    numpy.pad picks from the cropped input."""
    for n in range(1, 7):
        x = np.arange(10, 10 + n)
        for b, a in itertools.product(range(-n, n + 2), repeat=2):
            kept = n + min(b, 0) + min(a, 0)
            side = max(b, a, 0)
            if kept < 1 or mode == "reflect" and side >= kept or (
                    mode in ("circular", "symmetric") and side > kept):
                with pytest.raises(convmat.ConvmatError):
                    convmat.padding_matrix((n,), [(b, a)], padding_mode=mode)
                continue
            expected = crop_then_pad(x[None], [(b, a)], mode)[0]
            m = index_map(n, b, a, mode)
            np.testing.assert_array_equal(np.where(m >= 0, x[np.maximum(m, 0)], 0), expected)
            p = convmat.padding_matrix((n,), [(b, a)], padding_mode=mode, dtype=int)
            np.testing.assert_array_equal(p @ x, expected)


def test_symmetric_repeats_the_edge():
    assert index_map(3, 3, 3, "symmetric").tolist() == [2, 1, 0, 0, 1, 2, 2, 1, 0]
    # numpy.pad with more than n is periodic; convmat stops at n (as TensorFlow's MirrorPad)
    with pytest.raises(convmat.ConvmatError, match=r"at most the input size 3"):
        convmat.conv_matrix([1, 2], (3,), padding=4, padding_mode="symmetric")


def test_negative_padding_matrix_is_the_crop():
    x = RNG.standard_normal((2, 5, 6))
    p = convmat.padding_matrix((5, 6), [(-1, -2), (0, -3)], channels=2)
    np.testing.assert_array_equal(p @ x.ravel(), x[:, 1:3, 0:3].ravel())
    assert p.shape == (2 * 2 * 3, 2 * 30) and p.nnz == 12


# -- symmetric: SciPy's boundary="symm" ----------------------------------------------------


@settings(max_examples=40)
@given(n=st.integers(1, 9), m=st.integers(1, 9), kh=st.sampled_from([1, 3, 5]),
       kw=st.sampled_from([1, 3, 5]), flip=st.booleans())
def test_symmetric_equals_scipy_symm(n, m, kh, kw, flip):
    """'same' with symmetric padding is SciPy's convolve2d/correlate2d(boundary='symm')."""
    from hypothesis import assume

    assume(kh // 2 <= n and kw // 2 <= m)
    w = RNG.standard_normal((kh, kw))
    x = RNG.standard_normal((n, m))
    a = convmat.conv_matrix(w, (n, m), padding="same", padding_mode="symmetric", flip=flip)
    oracle = scipy.signal.convolve2d if flip else scipy.signal.correlate2d
    expected = oracle(x, w, mode="same", boundary="symm")
    np.testing.assert_allclose(a @ x.ravel(), expected.ravel(), rtol=1e-12, atol=1e-12)
    assert a.has_canonical_format


def test_symmetric_in_every_builder():
    w = np.arange(1.0, 10.0).reshape(3, 3)
    kw = dict(padding=2, padding_mode="symmetric")
    a = convmat.conv_matrix(w, (4, 5), **kw)
    x = RNG.standard_normal((4, 5))
    xp = np.pad(x, 2, mode="symmetric")
    expected = scipy.signal.correlate2d(xp, w, mode="valid")
    np.testing.assert_allclose(a @ x.ravel(), expected.ravel(), atol=1e-12)
    # the adjoint
    t = convmat.conv_transpose_matrix(w, expected.shape, **kw)
    out = convmat.conv_transpose_output_shape(expected.shape, (3, 3), padding=2)
    assert out == (4, 5)
    assert abs(t - a.T).max() < 1e-12
    # matrix-free operator, both directions
    op = convmat.conv_operator(w, (4, 5), **kw)
    np.testing.assert_allclose(op @ x.ravel(), a @ x.ravel(), atol=1e-12)
    y = RNG.standard_normal(a.shape[0])
    np.testing.assert_allclose(op.rmatvec(y), a.T @ y, atol=1e-12)
    # Kong & Lucey on the padded input, padding matrix back to the input
    kl = convmat.kong_lucey(w, (4, 5), stride=2, **kw)
    direct = convmat.conv_matrix(w, (4, 5), stride=2, **kw)
    assert abs(kl.strided_matrix(padded=False) - direct).max() < 1e-12
    # symbolic: the entries are sums of symbols where the edge is read twice
    s = symbolic.conv_matrix((3,), (3,), padding=1, padding_mode="symmetric")
    assert str(s[0, 0]) == "w_{0} + w_{1}" and str(s[2, 2]) == "w_{1} + w_{2}"
    numeric = symbolic.conv_matrix([2, 3, 5], (3,), padding=1, padding_mode="symmetric")
    np.testing.assert_array_equal(
        np.array(numeric.tolist(), dtype=float),
        convmat.conv_matrix([2, 3, 5], (3,), padding=1, padding_mode="symmetric").toarray())
    assert "w_{0} + w_{1}" in convmat.to_latex(s)


def test_symmetric_on_the_command_line(capsys):
    assert main(["matrix", "--input", "3", "--kernel", "3", "--padding", "1",
                 "--mode", "symmetric"]) == 0
    rows = [r.split() for r in capsys.readouterr().out.splitlines()]
    assert rows == [["3", "3", "."], ["1", "2", "3"], [".", "1", "5"]]
    assert main(["matrix", "--input", "5", "--kernel", "2", "--padding=-1:1",
                 "--mode", "symmetric"]) == 0
    rows = [r.split() for r in capsys.readouterr().out.splitlines()]
    assert rows[-1] == [".", ".", ".", ".", "3"]  # the cropped edge read twice


# -- crops: the explicit definition and JAX ------------------------------------------------


@settings(max_examples=80)
@given(geo=geometries(modes=MODES, crop=True))
def test_crop_then_convolve(geo):
    """Any mode with negative sides: crop, pad the rest by the mode, convolve (loops)."""
    w = RNG.standard_normal((geo.c_out, geo.c_in // geo.groups, *geo.kernel))
    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    expected = direct_conv(x, w, stride=geo.per_dim(geo.stride), pads=geo.pads,
                           dilation=geo.per_dim(geo.dilation), groups=geo.groups,
                           mode=geo.mode, flip=geo.flip)
    np.testing.assert_allclose(a @ x.ravel(), expected.ravel(), atol=1e-10)
    assert a.has_canonical_format


def _jax_conv(x, w, *, stride, pads, dilation, groups, lhs_dilation=None):
    out = jax.lax.conv_general_dilated(
        x[None], w, window_strides=stride, padding=[tuple(p) for p in pads],
        lhs_dilation=lhs_dilation, rhs_dilation=dilation, feature_group_count=groups,
        precision=jax.lax.Precision.HIGHEST)
    return np.asarray(out[0])


@requires_jax
@settings(max_examples=40)
@given(geo=geometries(modes=("zeros",), crop=True))
def test_negative_padding_equals_jax(geo):
    w = RNG.standard_normal((geo.c_out, geo.c_in // geo.groups, *geo.kernel))
    if geo.flip:
        w_jax = np.flip(w, axis=tuple(range(2, w.ndim)))
    else:
        w_jax = w
    x = RNG.standard_normal((geo.c_in, *geo.input_shape))
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    expected = _jax_conv(x, w_jax, stride=geo.per_dim(geo.stride), pads=geo.pads,
                         dilation=geo.per_dim(geo.dilation), groups=geo.groups)
    assert a.shape == (expected.size, x.size)
    np.testing.assert_allclose(a @ x.ravel(), expected.ravel(), rtol=1e-10, atol=1e-10)


@st.composite
def transposed_cases(draw):
    """Transposed convolutions whose padding reaches or passes the kernel (p >= d(k-1)+1,
    so the equivalent direct convolution needs negative padding), and negative ones."""
    n = draw(st.sampled_from([1, 2]))
    ks = tuple(draw(st.integers(1, 3)) for _ in range(n))
    ss = tuple(draw(st.integers(1, 3)) for _ in range(n))
    ds = tuple(draw(st.integers(1, 2)) for _ in range(n))
    ishape = tuple(draw(st.integers(1, 5)) for _ in range(n))
    pads, qs = [], []
    for k, s, d, i in zip(ks, ss, ds, ishape):
        span = d * (k - 1)
        b = draw(st.integers(-2, span + 3))
        a = draw(st.integers(-2, span + 3))
        q = draw(st.integers(0, max(s, d) - 1))
        from hypothesis import assume

        assume((i - 1) * s - (b + a) + span + q + 1 >= 1)
        pads.append((b, a)), qs.append(q)
    c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    return ishape, ks, ss, ds, tuple(pads), tuple(qs), c_in, c_out


@requires_jax
@settings(max_examples=40)
@given(case=transposed_cases())
def test_transposed_as_lhs_dilated_convolution_in_jax(case):
    """conv_transpose_matrix == JAX's direct convolution of the stride-dilated input with
    the flipped kernel and padding ``d(k-1) - p`` — negative once ``p > d(k-1)``."""
    ishape, ks, ss, ds, pads, qs, c_in, c_out = case
    w = RNG.standard_normal((c_in, c_out, *ks))
    try:
        t = convmat.conv_transpose_matrix(w, ishape, stride=ss, padding=pads,
                                          output_padding=qs, dilation=ds)
    except convmat.ConvmatError as exc:  # only a crop of the whole forward input
        assert "crops the whole" in str(exc)
        return
    x = RNG.standard_normal((c_in, *ishape))
    flipped = np.flip(w, axis=tuple(range(2, w.ndim))).swapaxes(0, 1)
    jpads = [(d * (k - 1) - b, d * (k - 1) - a + q) for k, d, (b, a), q in zip(ks, ds, pads, qs)]
    expected = _jax_conv(x, flipped, stride=(1,) * len(ks), pads=jpads, dilation=ds, groups=1,
                         lhs_dilation=ss)
    assert t.shape == (expected.size, x.size)
    np.testing.assert_allclose(t @ x.ravel(), expected.ravel(), rtol=1e-10, atol=1e-10)


def test_transposed_with_large_padding_is_the_adjoint_of_the_crop():
    """p = k: the transposed output is shorter than the stretched input; B = A^T."""
    w = np.array([1.0, 2.0, 3.0])
    t = convmat.conv_transpose_matrix(w, (6,), stride=2, padding=3)
    a = convmat.conv_matrix(w, (7,), stride=2, padding=3)
    assert t.shape == (7, 6)
    assert abs(t - a.T).max() == 0


# -- the table of padding modes ------------------------------------------------------------


def test_the_enumeration_and_the_type_are_the_table():
    """PADDING_MODES (both homes), the PaddingMode type and the table list the same modes,
    and every mode has an index map (None only for zeros) and a limit rule."""
    import typing

    from convmat import _choices, _padmap, geometry

    assert tuple(_padmap.MODES) == _padmap.PADDING_MODES == _choices.PADDING_MODES
    assert typing.get_args(geometry.PaddingMode) == _choices.PADDING_MODES
    assert geometry.PADDING_MODES == _choices.PADDING_MODES
    assert set(MODES) == set(_padmap.MODES)  # the tests' own list covers every mode
    for name, spec in _padmap.MODES.items():
        assert (spec.index_map is None) == (name == "zeros"), name
        assert spec.limit is None or (callable(spec.limit) and spec.limit_text), name
        assert spec.description, name


def _swap_edges(q, n):
    """A throwaway mode: positions before the input copy its last sample, after it its first."""
    return np.where(q < 0, n - 1, np.where(q >= n, 0, q))


def _swap_pad(x, pads):
    """Direct numpy definition of that mode on the spatial axes of ``x`` (crops first)."""
    for axis, (b, a) in enumerate(pads, start=1):
        x = np.moveaxis(x, axis, 0)
        x = x[max(-b, 0):x.shape[0] - max(-a, 0)]
        x = np.concatenate([np.repeat(x[-1:], max(b, 0), 0), x, np.repeat(x[:1], max(a, 0), 0)])
        x = np.moveaxis(x, 0, axis)
    return x


@given(n=st.tuples(st.integers(1, 6), st.integers(1, 6)), k=st.tuples(st.integers(1, 3),
       st.integers(1, 3)), s=st.integers(1, 3), d=st.integers(1, 2),
       pads=st.tuples(st.tuples(st.integers(-2, 4), st.integers(-2, 4)),
                      st.tuples(st.integers(-2, 4), st.integers(-2, 4))),
       seed=st.integers(0, 2**16))
@settings(max_examples=60, deadline=None)
def test_a_new_mode_is_one_table_entry(n, k, s, d, pads, seed):
    """Registering a mode in the table (here a monkeypatched entry) is all it takes: the
    builders, the padding matrix and the matrix-free operator take it, checked against a
    direct numpy definition; its limit rule is enforced."""
    from convmat import _padmap

    spec = _padmap.PaddingModeSpec(_swap_edges, lambda size: size, "at most",
                                   "swap the edges (a test mode)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(_padmap.MODES, "swap_edges", spec)
        kept = [i + min(b, 0) + min(a, 0) for i, (b, a) in zip(n, pads)]
        too_large = any(m >= 1 and max(b, a) > m for m, (b, a) in zip(kept, pads))
        fits = all(m >= 1 and m + max(b, 0) + max(a, 0) >= dd * (kk - 1) + 1
                   for m, (b, a), kk, dd in zip(kept, pads, k, (d, d)))
        if min(kept) < 1 or too_large:
            with pytest.raises(convmat.ConvmatError, match="swap_edges|crops the whole"):
                convmat.padding_matrix(n, pads, padding_mode="swap_edges")
            return
        rng = np.random.default_rng(seed)
        x = rng.integers(-5, 6, n)
        padded = _swap_pad(x[None], pads)[0]
        P = convmat.padding_matrix(n, pads, padding_mode="swap_edges", dtype=int)
        np.testing.assert_array_equal(P @ x.ravel(), padded.ravel())
        if not fits:
            return
        w = rng.integers(-3, 4, k)
        windows = np.lib.stride_tricks.sliding_window_view(
            padded, tuple(d * (kk - 1) + 1 for kk in k))[::s, ::s, ::d, ::d]
        expected = np.einsum("abij,ij->ab", windows, w)
        A = convmat.conv_matrix(w, n, stride=s, padding=pads, dilation=d,
                                padding_mode="swap_edges")
        np.testing.assert_array_equal(A @ x.ravel(), expected.ravel())
        op = convmat.conv_operator(w.astype(float), n, stride=s, padding=pads, dilation=d,
                                   padding_mode="swap_edges")
        np.testing.assert_allclose(op @ x.ravel().astype(float), expected.ravel())
    with pytest.raises(convmat.ConvmatError, match="swap_edges"):
        convmat.padding_matrix(n, 0, padding_mode="swap_edges")  # gone with the entry


def test_padding_matrix_mode_is_a_deprecated_padding_mode():
    new = convmat.padding_matrix((4, 3), [(1, 2), (-1, 1)], padding_mode="symmetric")
    with pytest.warns(DeprecationWarning, match=r"padding_matrix\(mode=\.\.\.\) is deprecated; "
                                                r"use padding_matrix\(padding_mode=\.\.\.\)"
                      ) as record:
        old = convmat.padding_matrix((4, 3), [(1, 2), (-1, 1)], mode="symmetric")
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert (old != new).nnz == 0
    with pytest.raises(convmat.ConvmatError, match="give only padding_mode="):
        convmat.padding_matrix((4,), 1, mode="reflect", padding_mode="circular")
