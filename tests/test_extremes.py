"""singular_values(which="smallest"), return_vectors=True, v0=, and the time guard: against
the dense SVD of conv_matrix(...).toarray() (numpy.linalg.svd), for every padding mode."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convmat
from convmat import ConvmatError, conv_matrix, singular_values

from .strategies import MODES, geometries


@settings(max_examples=50, deadline=None)
@given(geo=geometries(max_input=6, modes=MODES), data=st.data(),
       method=st.sampled_from(["auto", "dense", "sparse"]),
       which=st.sampled_from(["largest", "smallest"]))
def test_extreme_values_and_vectors_equal_dense_svd(geo, data, method, which):
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    w = np.random.default_rng(seed).standard_normal(
        (geo.c_out, geo.c_in // geo.groups, *geo.kernel))
    kw = dict(stride=geo.stride, padding=geo.padding, dilation=geo.dilation,
              groups=geo.groups, padding_mode=geo.mode)
    A = conv_matrix(w, geo.input_shape, **kw).toarray()
    side = min(A.shape) // geo.groups
    assume(side >= 3)
    k = data.draw(st.integers(1, side - 1), label="k")
    s = np.linalg.svd(A, compute_uv=False)
    want = s[:k] if which == "largest" else np.sort(s)[:k]
    scale = max(s[0], 1e-300)
    values = singular_values(w, geo.input_shape, k=k, which=which, method=method, **kw)
    np.testing.assert_allclose(values, want, rtol=0, atol=1e-8 * scale)
    vals, U, V = singular_values(w, geo.input_shape, k=k, which=which, method=method,
                                 return_vectors=True, **kw)
    np.testing.assert_allclose(vals, want, rtol=0, atol=1e-8 * scale)
    assert U.shape == (A.shape[0], k) and V.shape == (A.shape[1], k)
    np.testing.assert_allclose(A @ V, U * vals, rtol=0, atol=1e-7 * scale)
    np.testing.assert_allclose(A.T @ U, V * vals, rtol=0, atol=1e-7 * scale)
    nonzero = vals > 1e-6 * scale
    np.testing.assert_allclose(np.linalg.norm(V[:, nonzero], axis=0), 1, atol=1e-7)


def test_warm_start_from_the_top_vector():
    w = np.random.default_rng(0).standard_normal((4, 4, 3, 3))
    A = conv_matrix(w, (9, 9), padding=1).toarray()
    _, s, vh = np.linalg.svd(A)
    for v0 in (vh[0], A @ vh[0]):  # input side or output side
        values = singular_values(w, (9, 9), padding=1, k=2, method="sparse", v0=v0)
        np.testing.assert_allclose(values, s[:2], rtol=1e-10)
    with pytest.raises(ConvmatError, match="v0 has 7 values"):
        singular_values(w, (9, 9), padding=1, k=2, method="sparse", v0=np.ones(7))


def test_a_dense_svd_that_would_run_for_minutes_is_refused_with_the_estimate():
    w = np.ones((64, 64, 3, 3))
    with pytest.raises(ConvmatError, match=r"would take about [\d,]+ s .* max_seconds=60") as e:
        singular_values(w, (16, 16), padding=1)
    assert "method='sparse'" in str(e.value) and "max_seconds=None" in str(e.value)
    # with k, auto turns to Lanczos instead of the slow dense SVD
    assert convmat.spectral.choose_method(w[:8, :8], (16, 16), padding=1, k=1) == "sparse"
    with pytest.raises(ConvmatError, match="max_seconds=0.001"):
        singular_values(np.ones((8, 8, 3, 3)), (8, 8), padding=1, max_seconds=0.001)


def test_bad_which():
    with pytest.raises(ConvmatError, match="which='middle' is not one of"):
        singular_values([1.0, 2.0], (5,), which="middle")


def test_progress_bars_on_stderr(capsys):
    w = np.random.default_rng(3).standard_normal((2, 3, 3, 3))
    want = np.linalg.svd(conv_matrix(w, (6, 6), padding=1, groups=1).toarray(),
                         compute_uv=False)
    # the dense SVD, group by group, with its time estimate
    got = singular_values(w, (6, 6), padding=1, method="dense", progress=True)
    assert np.allclose(got, want, rtol=0, atol=1e-12 * want[0])
    err = capsys.readouterr().err
    assert "dense SVD (about" in err and "s estimated)" in err and "1/1 groups" in err
    assert err.endswith("\n")
    # Lanczos (ARPACK), product by product; and the certified norm's Lanczos steps
    singular_values(w, (6, 6), padding=1, method="sparse", k=2, progress=True)
    err = capsys.readouterr().err
    assert "Lanczos (ARPACK)" in err and "products" in err
    big = np.random.default_rng(3).standard_normal((4, 4, 3, 3))
    box = convmat.spectral_norm(big, (12, 12), padding=1, method="sparse", certified=True,
                                progress=True)
    err = capsys.readouterr().err
    assert f"{box.steps}/" in err and "steps" in err and "[" in err
    # vectors and the smallest values too
    singular_values(w, (6, 6), padding=1, k=1, which="smallest", method="sparse",
                    progress=True)
    assert "Lanczos (ARPACK, smallest)" in capsys.readouterr().err
    # off by default: nothing on stderr
    singular_values(w, (6, 6), padding=1, method="dense")
    convmat.spectral_norm(big, (12, 12), padding=1, method="sparse")
    assert capsys.readouterr().err == ""


def test_bad_progress():
    with pytest.raises(ConvmatError, match="progress='yes'"):
        singular_values([1.0, 2.0], (5,), progress="yes")
    with pytest.raises(ConvmatError, match="progress=2"):
        convmat.spectral_norm([1.0, 2.0], (5,), progress=2)


def test_smallest_values_over_the_memory_guard_are_refused_with_alternatives():
    # shift-invert factorises the normal matrix: for a large layer that is refused before
    # anything is built, and the message names what works instead
    import time

    w = np.random.default_rng(0).standard_normal((64, 64, 3, 3))
    start = time.perf_counter()
    with pytest.raises(ConvmatError, match=r"factorisation behind the smallest .* would need "
                                           r"about [\d.]+ TiB") as e:
        singular_values(w, (32, 32), padding=1, k=1, which="smallest")
    assert time.perf_counter() - start < 5
    message = str(e.value)
    assert "method='dense'" in message and "65,536 x 65,536" in message
    assert "method='fft'" in message and "memory_limit" in message
    # a small layer under a tight limit: refused the same way, never a crash
    small = np.random.default_rng(1).standard_normal((4, 4, 3, 3))
    with convmat.options.override(memory_limit="1M"):
        with pytest.raises(ConvmatError, match="smallest"):
            singular_values(small, (12, 12), padding=1, k=2, which="smallest",
                            method="sparse")
