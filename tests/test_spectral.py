"""Singular values and spectral norm, against numpy.linalg.svd of the dense matrix.

Oracles: LAPACK's SVD of ``conv_matrix(...).toarray()`` (the matrix itself is checked
against PyTorch and the tap-by-tap definition elsewhere; here also against
``oracle.direct_matrix``), and, for which layers the FFT method must accept, the shift
equivariance of that dense matrix (shifting the input by the stride shifts the output by one).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convmat
import convmat.spectral as spectral
from convmat import ConvmatError, conv_matrix, singular_values, spectral_norm

from .oracle import direct_matrix, same_pads
from .strategies import geometries

RTOL = 1e-9
GEOMETRIES_CHECKED = {"dense": 0, "sparse": 0, "fft": 0}


def dense_svd(weight, input_shape, **kw):
    return np.linalg.svd(conv_matrix(weight, input_shape, **kw).toarray(), compute_uv=False)


def assert_same(got, want):
    """Equal to ``RTOL`` relative to the largest singular value (LAPACK's own accuracy)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape
    assert got.dtype == np.float64
    assert np.all(np.diff(got) <= 0), "not descending"
    scale = max(float(want[0]), 1e-300) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=RTOL * scale)


def weight_for(geo, data, *, complex_=False):
    shape = (geo.c_out, geo.c_in // geo.groups, *geo.kernel)
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape)
    if complex_:
        w = w + 1j * rng.standard_normal(shape)
    return w


def kwargs(geo):
    return dict(stride=geo.stride, padding=geo.padding, dilation=geo.dilation,
                groups=geo.groups, padding_mode=geo.mode)


def shift_equivariant(dense, geo, output_shape) -> bool:
    """Independent test of block-circulant structure on the dense matrix: ``n % s == 0``,
    ``o == n / s`` and rolling the input by ``s`` along any axis rolls the output by 1."""
    s = geo.per_dim(geo.stride)
    n = geo.input_shape
    if any(i % ss for i, ss in zip(n, s)) or tuple(output_shape) != tuple(
            i // ss for i, ss in zip(n, s)):
        return False
    c_in, c_out = geo.c_in, geo.c_out
    rng = np.random.default_rng(0)
    x = rng.standard_normal((c_in, *n))
    y = (dense @ x.ravel()).reshape(c_out, *output_shape)
    for axis in range(len(n)):
        shifted = (dense @ np.roll(x, s[axis], axis=axis + 1).ravel()).reshape(y.shape)
        if not np.allclose(shifted, np.roll(y, 1, axis=axis + 1), rtol=1e-12, atol=1e-12):
            return False
    return True


# --- every method against the dense SVD over random geometries -----------------------------

@given(geo=geometries(max_input=6), data=st.data())
def test_every_applicable_method_equals_dense_svd(geo, data):
    kw = kwargs(geo)
    w = weight_for(geo, data)
    A = conv_matrix(w, geo.input_shape, **kw).toarray()
    want = np.linalg.svd(A, compute_uv=False)
    count = want.size
    assert_same(singular_values(w, geo.input_shape, method="dense", **kw), want)
    GEOMETRIES_CHECKED["dense"] += 1
    assert_same(singular_values(w, geo.input_shape, **kw), want)  # auto
    if count >= 2:
        k = data.draw(st.integers(1, count - 1), label="k")
        assert_same(singular_values(w, geo.input_shape, k=k, method="sparse", **kw),
                    want[:k])
        GEOMETRIES_CHECKED["sparse"] += 1
    output_shape = convmat.conv_output_shape(geo.input_shape, geo.kernel, stride=geo.stride,
                                             padding=geo.padding, dilation=geo.dilation)
    if shift_equivariant(A, geo, output_shape):
        assert_same(singular_values(w, geo.input_shape, method="fft", **kw), want)
        GEOMETRIES_CHECKED["fft"] += 1
    else:
        with pytest.raises(ConvmatError, match="method='fft' does not apply"):
            singular_values(w, geo.input_shape, method="fft", **kw)


@st.composite
def circulant_geometries(draw, ndims=(1, 2, 3)):
    """Circular layers with output size input/stride: input = q * s, total padding in
    ``[k_eff - s, k_eff - 1]``, each side at most the input size."""
    n = draw(st.sampled_from(ndims))
    dims = []
    for _ in range(n):
        s = draw(st.integers(1, 3))
        q = draw(st.integers(1, 4 if n < 3 else 2))
        k = draw(st.integers(1, 4))
        d = draw(st.integers(1, 3))
        i = q * s
        k_eff = d * (k - 1) + 1
        if draw(st.booleans()):
            pads = same_pads(i, k, s, d)
            form = "same"
        else:
            total = draw(st.integers(max(k_eff - s, 0), k_eff - 1))
            before = draw(st.integers(0, total))
            pads = (before, total - before)
            form = "pairs"
        assume(max(pads) <= i and i + sum(pads) >= k_eff)
        dims.append((i, k, s, d, pads, form))
    groups = draw(st.integers(1, 3))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    padding = ("same" if all(f == "same" for *_, f in dims)
               else tuple(p for *_, p, _ in dims))
    return dict(
        input_shape=tuple(i for i, *_ in dims), kernel=tuple(k for _, k, *_ in dims),
        stride=tuple(s for _, _, s, *_ in dims), dilation=tuple(d for _, _, _, d, *_ in dims),
        padding=padding, groups=groups, c_in=c_in, c_out=c_out,
    )


@given(geo=circulant_geometries(), data=st.data(), complex_=st.booleans())
def test_fft_equals_dense_svd_on_circular_layers(geo, data, complex_):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    shape = (geo["c_out"], geo["c_in"] // geo["groups"], *geo["kernel"])
    w = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if complex_ else 0)
    kw = dict(stride=geo["stride"], padding=geo["padding"], dilation=geo["dilation"],
              groups=geo["groups"], padding_mode="circular")
    want = dense_svd(w, geo["input_shape"], **kw)
    assert spectral.choose_method(w, geo["input_shape"], **kw) == "fft"
    assert_same(singular_values(w, geo["input_shape"], method="fft", **kw), want)
    k = data.draw(st.integers(1, want.size), label="k")
    assert_same(singular_values(w, geo["input_shape"], k=k, **kw), want[:k])
    assert spectral_norm(w, geo["input_shape"], **kw) == pytest.approx(want[0], rel=RTOL)
    GEOMETRIES_CHECKED["fft"] += 1


@settings(max_examples=30)
@given(geo=geometries(max_input=6), data=st.data())
def test_sparse_matrix_free_path_equals_dense_svd(geo, data):
    """The matrix-free conv_operator used for large layers, forced on small ones."""
    kw = kwargs(geo)
    complex_ = data.draw(st.booleans(), label="complex")
    w = weight_for(geo, data, complex_=complex_)
    want = dense_svd(w, geo.input_shape, **kw)
    assume(want.size >= 2)
    k = data.draw(st.integers(1, min(want.size - 1, 6)), label="k")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(spectral, "CSR_ENTRIES", -1)
        got = singular_values(w, geo.input_shape, k=k, method="sparse", **kw)
    assert_same(got, want[:k])


def test_against_the_tap_by_tap_definition():
    """Independent of convmat's engine: the dense matrix of the direct definition."""
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 2, 3, 3))
    for kw, pads in [
        (dict(stride=2, padding="same", padding_mode="circular"), ((0, 1), (0, 1))),
        (dict(stride=1, padding=1, padding_mode="zeros"), ((1, 1), (1, 1))),
        (dict(stride=(2, 1), padding=2, dilation=2, padding_mode="reflect"), ((2, 2), (2, 2))),
    ]:
        dense = direct_matrix((8, 6), w, stride=kw["stride"], pads=pads,
                              dilation=kw.get("dilation", 1), mode=kw["padding_mode"])
        want = np.linalg.svd(dense, compute_uv=False)
        assert_same(singular_values(w, (8, 6), **kw), want)
        assert_same(singular_values(w, (8, 6), k=3, method="sparse", **kw), want[:3])


# --- which layers are block-circulant --------------------------------------------------------

@pytest.mark.parametrize("case", [
    dict(input_shape=(8,), kernel=2, stride=2, padding=0, mode="zeros"),       # patchify
    dict(input_shape=(9,), kernel=3, stride=3, padding=0, mode="replicate"),   # patchify
    dict(input_shape=(8,), kernel=3, stride=2, padding="same", mode="circular"),
    dict(input_shape=(8,), kernel=3, stride=1, padding=((2, 0),), mode="circular"),
    dict(input_shape=(8,), kernel=3, stride=1, padding=((0, 2),), mode="circular", dilation=1),
    dict(input_shape=(6,), kernel=4, stride=1, padding=((6, 0),), mode="circular", dilation=2),
    dict(input_shape=(2,), kernel=3, stride=2, padding=1, mode="zeros"),       # one output
])
def test_fft_accepts(case):
    w = np.random.default_rng(0).standard_normal((3, 2, case["kernel"]))
    kw = dict(stride=case["stride"], padding=case["padding"], padding_mode=case["mode"],
              dilation=case.get("dilation", 1))
    assert_same(singular_values(w, case["input_shape"], method="fft", **kw),
                dense_svd(w, case["input_shape"], **kw))


@pytest.mark.parametrize("case, reason", [
    (dict(input_shape=(9,), stride=2, padding="same", mode="circular"),
     "input size 9 is not a multiple of the stride 2"),
    (dict(input_shape=(8,), stride=1, padding=1, mode="zeros"), "reads 'zeros' padding"),
    (dict(input_shape=(8,), stride=1, padding=1, mode="reflect"), "reads 'reflect' padding"),
    (dict(input_shape=(8,), stride=1, padding=0, mode="circular"), "output size is 6"),
    (dict(input_shape=(8,), stride=1, padding=2, mode="circular"), "output size is 10"),
])
def test_fft_refuses_with_the_reason(case, reason):
    w = np.ones((2, 2, 3))
    with pytest.raises(ConvmatError, match=reason) as info:
        singular_values(w, case["input_shape"], stride=case["stride"], padding=case["padding"],
                        padding_mode=case["mode"], method="fft")
    assert "singular_values(" in str(info.value)


def test_circulant_symbol_is_one_matrix_per_frequency():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((6, 2, 3, 3))
    kw = dict(stride=2, padding="same", padding_mode="circular", groups=2)
    symbol = spectral.circulant_symbol(w, (8, 4), **kw)
    assert symbol.shape == (2, 4, 2, 3, 2 * 4)  # (G, *q, C_out/G, C_in/G * prod(s))
    values = np.sort(np.linalg.svd(symbol, compute_uv=False).ravel())[::-1]
    assert_same(values, dense_svd(w, (8, 4), **kw))
    with pytest.raises(ConvmatError, match="not block-circulant"):
        spectral.circulant_symbol(w, (8, 4), stride=2, padding="same", groups=2)


# --- groups, multiplicities, dtypes ---------------------------------------------------------

def test_groups_with_equal_filters_give_repeated_values():
    """Depthwise with one filter for every channel: each value repeated C times; the sparse
    method must find every copy."""
    kernel = np.random.default_rng(1).standard_normal((3, 3))
    w = np.broadcast_to(kernel, (4, 1, 3, 3)).copy()
    kw = dict(padding=1, groups=4)
    want = dense_svd(w, (7, 7), **kw)
    got = singular_values(w, (7, 7), k=10, method="sparse", **kw)
    assert_same(got, want[:10])
    assert np.allclose(got[:4], got[0])
    # k past one group's 49 values: each group's full spectrum
    assert_same(singular_values(w, (7, 7), k=60, method="sparse", **kw), want[:60])


@pytest.mark.parametrize("method", ["sparse", "dense"])
def test_highly_repeated_values(method):
    """A 1x1 identity-like kernel: every singular value equal (multiplicity 25)."""
    got = singular_values(np.full((1, 1, 1, 1), 2.5), (5, 5), k=7, method=method)
    np.testing.assert_allclose(got, np.full(7, 2.5), rtol=1e-12)


def test_circular_pairs_found_by_lanczos():
    """Real circular layers pair frequencies f and -f: double singular values."""
    w = np.random.default_rng(7).standard_normal((3, 2, 3, 3))
    kw = dict(padding=1, padding_mode="circular")
    want = dense_svd(w, (8, 8), **kw)
    assert_same(singular_values(w, (8, 8), k=12, method="sparse", **kw), want[:12])


def test_dtypes_and_zero_weight():
    assert_same(singular_values(np.arange(1, 10).reshape(3, 3), (5, 5), padding=1),
                dense_svd(np.arange(1.0, 10).reshape(3, 3), (5, 5), padding=1))
    w32 = np.random.default_rng(2).standard_normal((2, 2, 3)).astype(np.float32)
    got = singular_values(w32, (7,), padding=1)
    assert got.dtype == np.float64
    assert_same(got, dense_svd(w32.astype(np.float64), (7,), padding=1))
    zero = np.zeros((2, 2, 3, 3))
    for method in ("sparse", "dense"):
        np.testing.assert_array_equal(singular_values(zero, (6, 6), k=3, method=method),
                                      np.zeros(3))
    assert spectral_norm(zero, (6, 6), padding="same", padding_mode="circular") == 0.0


def test_spectral_norm_is_the_matrix_two_norm():
    rng = np.random.default_rng(11)
    for w, shape, kw in [
        (rng.standard_normal((5, 3, 3, 3)), (10, 9), dict(stride=2, padding=1)),
        (rng.standard_normal((4, 4, 3)), (12,), dict(padding="same", padding_mode="circular")),
        (rng.standard_normal((2, 1, 2, 2)), (3, 3), dict(padding="valid")),
        (rng.standard_normal((1,)), (1,), {}),  # a 1 x 1 matrix
    ]:
        want = np.linalg.norm(conv_matrix(w, shape, **kw).toarray(), 2)
        for method in ("auto", "dense", "sparse", "fft"):
            try:
                got = spectral_norm(w, shape, method=method, **kw)
            except ConvmatError as exc:
                assert method in ("sparse", "fft"), exc
                continue
            assert isinstance(got, float)
            assert got == pytest.approx(want, rel=RTOL)


def test_large_layer_uses_the_matrix_free_lanczos():
    """64 -> 4 channels on 16x16: nnz above the CSR threshold; checked against LAPACK."""
    w = np.random.default_rng(4).standard_normal((4, 64, 3, 3))
    kw = dict(padding=1)
    assert spectral.choose_method(w, (16, 16), k=2, **kw) == "sparse"
    assert conv_matrix(w, (16, 16), **kw).nnz > spectral.CSR_ENTRIES
    A = conv_matrix(w, (16, 16), **kw).toarray()  # 1024 x 16384
    want = np.sqrt(np.linalg.eigvalsh(A @ A.T)[::-1][:2])  # LAPACK on the Gram matrix
    assert_same(singular_values(w, (16, 16), k=2, **kw), want)


def test_results_are_reproducible():
    w = np.random.default_rng(9).standard_normal((4, 4, 3, 3))
    first = singular_values(w, (20, 20), padding=1, k=4, method="sparse")
    second = singular_values(w, (20, 20), padding=1, k=4, method="sparse")
    np.testing.assert_array_equal(first, second)


# --- the auto rule and the memory guard ------------------------------------------------------

def test_auto_rule():
    w = np.ones((4, 4, 3, 3))
    choose = spectral.choose_method
    assert choose(w, (16, 16), padding="same", padding_mode="circular") == "fft"
    assert choose(w, (16, 16), padding="same", padding_mode="circular", k=1) == "fft"
    assert choose(w, (16, 16), padding=1) == "dense"  # every value
    assert choose(w, (16, 16), padding=1, k=2) == "sparse"  # side 1024, k small
    assert choose(w, (16, 16), padding=1, k=200) == "dense"  # k > side / 10
    assert choose(w, (6, 6), padding=1, k=1) == "dense"  # side 144 < 256


def test_memory_guard_says_what_works():
    w = np.ones((8, 8, 3, 3))
    kw = dict(padding=1)
    with convmat.options.override(memory_limit=20_000_000):
        with pytest.raises(ConvmatError) as info:
            singular_values(w, (32, 32), **kw)
        message = str(info.value)
        assert "method='sparse'" in message and "k <=" in message
        assert "method='fft' does not apply" in message
        assert "singular_values(" in message
        # the advice is right: the largest k it names works, and k=1 works
        best = int(message.split("k <= ")[1].split(" ")[0].replace(",", ""))
        assert best >= 1
        assert spectral_norm(w, (32, 32), **kw) > 0
        with pytest.raises(ConvmatError, match="dense"):
            singular_values(w, (32, 32), method="dense", **kw)
        # a circular layer: fft serves every value within the same limit
        with pytest.raises(ConvmatError, match="method='fft' computes every"):
            singular_values(w, (32, 32), padding="same", padding_mode="circular",
                            method="dense")


# --- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("weight, match", [
    (np.array(["a", "b"]), "not a number type"),
    ([[1, 2], [3]], "could not be read"),
    (np.array([1.0, np.nan]), "NaN or infinite"),
    (np.array([1.0, np.inf]), "NaN or infinite"),
    ([], "empty"),
])
def test_bad_weight(weight, match):
    with pytest.raises(ConvmatError, match=match):
        singular_values(weight, (5,))
    with pytest.raises(ConvmatError, match=match):
        spectral_norm(weight, (5,))


@pytest.mark.parametrize("k, match", [
    (0, "k=0 must be >= 1"), (-2, "k=-2 must be >= 1"), (1.5, "k=1.5 must be an integer"),
    (True, "k=True must be an integer"), ("3", "must be an integer"),
    (4, "k=4 exceeds the number of singular values of the layer, 3"),
])
def test_bad_k(k, match):
    with pytest.raises(ConvmatError, match=match):
        singular_values([1.0, 2.0, 3.0], (5,), k=k)


def test_sparse_needs_k_below_the_smaller_side():
    with pytest.raises(ConvmatError, match=r"k=3 must be smaller .* method='dense'"):
        singular_values([1.0, 2.0, 3.0], (5,), k=3, method="sparse")
    with pytest.raises(ConvmatError, match="give k"):
        singular_values([1.0, 2.0, 3.0], (5,), method="sparse")
    with pytest.raises(ConvmatError, match="method='sparse'"):
        spectral_norm([1.0, 2.0], (2,), method="sparse")  # a 1 x 2 matrix


@pytest.mark.parametrize("method", ["svd", "FFT", None, 3])
def test_bad_method(method):
    with pytest.raises(ConvmatError, match="method=.* is not one of"):
        singular_values([1.0, 2.0], (5,), method=method)


def test_bad_geometry_is_reported_with_context():
    with pytest.raises(ConvmatError, match=r"stride.*>= 1.*\[in singular_values\("):
        singular_values(np.ones((3, 3)), (5, 5), stride=0)
    with pytest.raises(ConvmatError, match=r"groups=2 does not divide"):
        spectral_norm(np.ones((3, 2, 3)), (5,), groups=2)


def test_exported_from_the_package():
    assert convmat.singular_values is singular_values
    assert convmat.spectral_norm is spectral_norm
    assert {"singular_values", "spectral_norm"} <= set(convmat.__all__)
    assert math.isclose(convmat.spectral_norm([3.0], (4,)), 3.0)


# --- command line ----------------------------------------------------------------------------

def test_cli_spectrum_random_weights(capsys):
    from convmat.cli import main

    args = ["spectrum", "--input", "8x8", "--kernel", "3x3", "--channels", "4:4",
            "--stride", "2", "--padding", "same", "--mode", "circular", "--k", "5"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "method:   fft (auto)" in out and "seed 0" in out and "random normal" in out
    shape = (4, 4, 3, 3)
    w = np.random.default_rng(0).standard_normal(shape) / 6.0  # fan_in 36
    want = dense_svd(w, (8, 8), stride=2, padding="same", padding_mode="circular")
    printed = [float(line) for line in out.splitlines() if line.startswith("  ")]
    np.testing.assert_allclose(printed, want[:5], rtol=1e-10)
    assert f"spectral norm: {want[0]:.12g}"[:20] in out


def test_cli_spectrum_weights_file_and_output(tmp_path, capsys):
    from convmat.cli import main

    w = np.random.default_rng(1).standard_normal((3, 2, 3))
    np.save(tmp_path / "w.npy", w)
    out_file = tmp_path / "s.npy"
    assert main(["spectrum", "--input", "10", "--padding", "1", "--weights-file",
                 str(tmp_path / "w.npy"), "--show", "all", "-o", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "from " in out and "method:   dense (auto)" in out
    assert_same(np.load(out_file), dense_svd(w, (10,), padding=1))
    assert main(["spectrum", "--input", "10", "--padding", "1", "--weights-file",
                 str(tmp_path / "w.npy"), "--method", "sparse", "--k", "2"]) == 0
    assert "method:   sparse," in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--input", "8", "--kernel", "3", "--method", "fft", "--padding", "1"],
     "method='fft' does not apply"),
    (["--input", "8", "--kernel", "3", "--channels", "4"], "--channels '4' is not C_IN:C_OUT"),
    (["--input", "8"], "give --kernel"),
    (["--input", "8", "--kernel", "3", "--show", "many"], "--show 'many'"),
    (["--input", "8", "--kernel", "3", "--k", "9"], "k=9 exceeds"),
    (["--input", "8", "--kernel", "3", "--channels", "3:4", "--groups", "2"],
     "--groups 2 must divide"),
    (["--input", "8", "--weights-file", "/nonexistent/w.npy"], "cannot read"),
])
def test_cli_spectrum_errors(args, message, capsys):
    from convmat.cli import main

    refused = message in ("method='fft' does not apply", "k=9 exceeds")  # ConvmatError: 1
    assert main(["spectrum", *args]) == (1 if refused else 2)
    assert message in capsys.readouterr().err


def test_strided_blocks_are_the_dft_of_kong_lucey_unit_weight():
    """With no padding before, Kong & Lucey's unit-stride weight (phases as channels
    ``c * prod(s) + r``) wrapped onto the reduced grid has the FFT blocks as its DFT."""
    rng = np.random.default_rng(8)
    w = rng.standard_normal((3, 2, 3, 4))
    n, s, d = (8, 12), (2, 3), (1, 2)
    pads = ((0, 1), (0, 4))  # output (4, 4) = n / s, circular
    kw = dict(stride=s, dilation=d, padding=pads, padding_mode="circular")
    blocks = spectral.circulant_symbol(w, n, **kw)[0]  # (4, 4, 3, 2 * 6)
    unit = convmat.kong_lucey(w, n, stride=s, dilation=d, padding=pads).unit_weight
    q = (n[0] // s[0], n[1] // s[1])
    wrapped = np.zeros((*unit.shape[:2], *q))
    for a in range(unit.shape[2]):
        for b in range(unit.shape[3]):
            wrapped[:, :, a % q[0], b % q[1]] += unit[:, :, a, b]
    dft = np.moveaxis(np.fft.fftn(wrapped, axes=(2, 3)), (2, 3), (0, 1))
    np.testing.assert_allclose(blocks, dft, atol=1e-12)
    assert_same(singular_values(w, n, **kw), dense_svd(w, n, **kw))


@pytest.mark.parametrize("method", ["sparse", "dense", "auto", "fft"])
def test_a_layer_that_reads_only_padding_has_zero_singular_values(method):
    """Every tap of this layer lands in the zero padding (a one-position axis, a dilated
    kernel): its matrix is zero. Lanczos would break down on it (ARPACK's "starting vector
    is zero"); every method returns zeros instead. A zero matrix is block-circulant, so
    the FFT applies too, although the other axes' windows read padding unevenly."""
    rng = np.random.default_rng(0)
    for w, n, kw in [(rng.standard_normal((1, 1, 2, 1, 1)), (1, 4, 6),
                      dict(padding="same", dilation=(2, 1, 1))),
                     (rng.standard_normal((1, 1, 2, 2)), (1, 2),
                      dict(padding="same", dilation=2))]:  # dim 1 alone is not circulant
        assert convmat.conv_matrix(w, n, **kw).nnz == 0
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(spectral, "CSR_ENTRIES", -1)  # the matrix-free path
            got = singular_values(w, n, k=1 if method == "sparse" else None, method=method,
                                  **kw)
        assert got.size and np.all(got == 0)
