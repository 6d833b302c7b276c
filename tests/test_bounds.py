"""spectral_bounds: every row against a small dense implementation written here, every row
marked "upper bound" above the dense SVD's largest singular value over random geometries.

Oracles: ``numpy.linalg.norm(conv_matrix(...).toarray(), 2)`` (the matrix is checked against
PyTorch elsewhere); circulant matrices built entry by entry here; the Gram iteration run as
its paper writes it (rescaled repeated Gram products); the trigonometric polynomial evaluated
sample by sample; PyTorch's own ``spectral_norm`` parametrization.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convmat
from convmat import ConvmatError, conv_matrix, spectral_bounds
from convmat.bounds import ARAUJO_SAMPLES, GRAM_ITERATIONS

from .strategies import MODES, geometries

NAMES = {
    "sedghi": "Sedghi et al. (FFT, input grid)",
    "padded": "circular layer, padded grid",
    "sf": "Singla & Feizi",
    "araujo": "Araujo et al.",
    "gram": f"Gram iteration 2023 ({GRAM_ITERATIONS} it.)",
    "gram_padded": f"Gram iteration 2024, padded grid ({GRAM_ITERATIONS} it.)",
    "torch": "torch spectral_norm (reshaped kernel)",
}


def row(table, key):
    name = NAMES.get(key, key)
    return next(r for r in table.rows if r.method == name)


def dense_norm(w, shape, **kw):
    return np.linalg.norm(conv_matrix(w, shape, **kw).toarray(), 2)


def dense_circulant(w, grid, dilation):
    """The stride-1 circular convolution of ``w`` on ``grid``, entry by entry."""
    c_out, c_in, *k = w.shape
    cells = list(itertools.product(*[range(m) for m in grid]))
    index = {cell: i for i, cell in enumerate(cells)}
    size = len(cells)
    matrix = np.zeros((c_out * size, c_in * size), dtype=w.dtype)
    for t in cells:
        for j in itertools.product(*[range(kk) for kk in k]):
            src = tuple((tt + jj * d) % m for tt, jj, d, m in zip(t, j, dilation, grid))
            for o in range(c_out):
                for c in range(c_in):
                    matrix[o * size + index[t], c * size + index[src]] += w[(o, c, *j)]
    return matrix


def block_diag_groups(w, groups):
    c_out = w.shape[0] // groups
    return [w[g * c_out:(g + 1) * c_out] for g in range(groups)]


def frequency_matrices(w, grid, dilation):
    """Every frequency's C_out x C_in matrix, by the definition sum_j w_j e^{-2 pi i f.jd/M}."""
    c_out, c_in, *k = w.shape
    out = []
    for f in itertools.product(*[range(m) for m in grid]):
        m = np.zeros((c_out, c_in), dtype=complex)
        for j in itertools.product(*[range(kk) for kk in k]):
            phase = sum(ff * jj * d / mm for ff, jj, d, mm in zip(f, j, dilation, grid))
            m += w[(slice(None), slice(None), *j)] * np.exp(-2j * np.pi * phase)
        out.append(m)
    return out


def gram_iteration(matrix, iterations):
    """The paper's loop: rescale by the Frobenius norm, G <- G^H G, track the scales."""
    g = matrix.astype(complex)
    log_scale = 0.0
    for _ in range(iterations):
        norm = np.linalg.norm(g)
        if norm == 0:
            return 0.0
        g = g / norm
        log_scale = 2 * (log_scale + math.log(norm))
        g = g.conj().T @ g
    return float(np.linalg.norm(g) ** (1 / 2 ** iterations) * math.exp(log_scale / 2 ** iterations))


def padding_norm(shape, padding, mode):
    return np.linalg.norm(convmat.padding_matrix(shape, padding, padding_mode=mode).toarray(), 2)


LAYERS = [
    dict(shape=(6, 5), k=(3, 3), stride=1, padding=1, dilation=1, groups=1, mode="zeros"),
    dict(shape=(6, 6), k=(3, 2), stride=2, padding="same", dilation=(1, 2), groups=2,
         mode="circular"),
    dict(shape=(7,), k=(3,), stride=1, padding=2, dilation=2, groups=1, mode="reflect"),
    dict(shape=(4, 4), k=(3, 3), stride=1, padding=1, dilation=1, groups=1, mode="circular"),
]


@pytest.mark.parametrize("spec", LAYERS)
def test_rows_against_dense_implementations(spec):
    rng = np.random.default_rng(3)
    g = spec["groups"]
    w = rng.standard_normal((2 * g, 2, *spec["k"]))
    kw = dict(stride=spec["stride"], padding=spec["padding"], dilation=spec["dilation"],
              groups=g, padding_mode=spec["mode"])
    table = spectral_bounds(w, spec["shape"], **kw)
    geom = convmat.geometry.convolution_geometry(spec["shape"], w.shape, **kw)
    n = len(spec["shape"])
    dil = geom.dilation
    exact = dense_norm(w, spec["shape"], **kw)
    assert table.rows[0].method == "exact"
    assert table.exact == pytest.approx(exact, rel=1e-10)
    pnorm = padding_norm(spec["shape"], geom.padding, spec["mode"])
    parts = block_diag_groups(w, g)
    # Sedghi et al.: the circulant on the input grid
    sedghi = max(np.linalg.norm(dense_circulant(p, spec["shape"], dil), 2) for p in parts)
    assert row(table, "sedghi").value == pytest.approx(sedghi, rel=1e-10)
    # the circulant on the padded grid, times ||P||
    padded = max(np.linalg.norm(dense_circulant(p, geom.padded_shape, dil), 2) for p in parts)
    assert row(table, "padded").value == pytest.approx(padded * pnorm, rel=1e-10)
    # Gram iteration as written in the paper, per frequency, max
    for key, grid, factor in (("gram", spec["shape"], 1.0),
                              ("gram_padded", geom.padded_shape, pnorm)):
        want = max(gram_iteration(m, GRAM_ITERATIONS)
                   for p in parts for m in frequency_matrices(p, grid, dil))
        assert row(table, key).value == pytest.approx(want * factor, rel=1e-9)
    # Singla & Feizi: the reshapes, each subset of axes on the output side
    circular_rows = spec["mode"] == "circular" and all(
        (o - 1) * s < i for o, s, i in zip(geom.output_shape, geom.stride, spec["shape"]))
    factor = 1.0 if spec["mode"] == "zeros" or circular_rows else pnorm
    sf = 0.0
    for p in parts:
        co, ci = p.shape[:2]
        norms = []
        for out_axes in itertools.chain.from_iterable(
                itertools.combinations(range(n), r) for r in range(n + 1)):
            rest = [a for a in range(n) if a not in out_axes]
            m = np.transpose(p, [0, *[2 + a for a in out_axes], 1, *[2 + a for a in rest]])
            norms.append(np.linalg.norm(m.reshape(co * math.prod(
                spec["k"][a] for a in out_axes), -1), 2))
        sf = max(sf, min(norms))
    assert row(table, "sf").value == pytest.approx(
        math.sqrt(math.prod(spec["k"])) * sf * factor, rel=1e-10)
    # Araujo et al.: the trigonometric polynomial sample by sample
    extent = max(d * (k - 1) + 1 for k, d in zip(spec["k"], dil))
    best = 0.0
    for omega in itertools.product(*[2 * np.pi * np.arange(ARAUJO_SAMPLES) / ARAUJO_SAMPLES]
                                   * n):
        for p in parts:
            f = sum(p[(slice(None), slice(None), *j)]
                    * np.exp(1j * sum(o * jj * d for o, jj, d in zip(omega, j, dil)))
                    for j in itertools.product(*[range(k) for k in spec["k"]]))
            best = max(best, np.linalg.norm(f))
    want = best / (1 - (extent - 1) / ARAUJO_SAMPLES) * factor
    assert row(table, "araujo").value == pytest.approx(want, rel=1e-10)
    # power iteration: lower bounds, increasing
    powers = [r for r in table.rows if r.method.startswith("power iteration")]
    assert [r.method for r in powers] == ["power iteration, 1 step", "power iteration, 10 steps",
                                          "power iteration, 100 steps"]
    values = [r.value for r in powers]
    assert all(b >= a * (1 - 1e-12) for a, b in zip(values, values[1:]))
    assert values[-1] <= exact * (1 + 1e-12)
    for r in table.rows:
        assert r.seconds >= 0
        if r.upper_bound:
            assert r.value >= exact * (1 - 1e-12)


def test_reshaped_kernel_is_what_pytorch_normalises():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    w = rng.standard_normal((6, 4, 3, 3))
    conv = torch.nn.Conv2d(4, 6, 3, bias=False).double()
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
    torch.manual_seed(0)
    param = torch.nn.utils.parametrizations.spectral_norm(conv, n_power_iterations=500)
    param.train()
    normalised = param.weight.detach().numpy()  # W / sigma
    sigma = np.linalg.norm(w) / np.linalg.norm(normalised)
    table = spectral_bounds(w, (8, 8), exact=False)
    assert row(table, "torch").value == pytest.approx(sigma, rel=1e-8)
    assert row(table, "torch").upper_bound is False


@settings(max_examples=60, deadline=None)
@given(geo=geometries(max_input=6, modes=MODES, crop=True), data=st.data())
def test_upper_bounds_hold_over_random_geometries(geo, data):
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    w = np.random.default_rng(seed).standard_normal(
        (geo.c_out, geo.c_in // geo.groups, *geo.kernel))
    kw = dict(stride=geo.stride, padding=geo.padding, dilation=geo.dilation,
              groups=geo.groups, padding_mode=geo.mode)
    exact = dense_norm(w, geo.input_shape, **kw)
    table = spectral_bounds(w, geo.input_shape, **kw)
    assert table.exact == pytest.approx(exact, rel=1e-9, abs=1e-12)
    for r in table.rows:
        if r.value is None:
            assert r.reason and not r.upper_bound
            continue
        if r.upper_bound:
            assert r.value >= exact * (1 - 1e-9) - 1e-12, (r.method, r.value, exact)
        if r.method.startswith("power"):
            assert r.value <= exact * (1 + 1e-9) + 1e-12


def test_sedghi_is_exact_for_circular_stride_one_and_rows_when_strided():
    w = np.random.default_rng(2).standard_normal((3, 3, 3, 3))
    table = spectral_bounds(w, (8, 8), padding=1, padding_mode="circular")
    assert row(table, "sedghi").value == pytest.approx(table.exact, rel=1e-12)
    assert row(table, "sedghi").upper_bound
    zero = spectral_bounds(w, (8, 8), padding=1)
    assert not row(zero, "sedghi").upper_bound and "not a bound" in row(zero, "sedghi").note


def test_renderings():
    w = np.random.default_rng(0).standard_normal((2, 2, 3))
    table = spectral_bounds(w, (9,), padding=1)
    text, md, tex = table.text(), table.markdown(), table.latex()
    assert str(table) == text
    assert len(text.splitlines()) == len(table.rows) + 2
    assert sum(line.startswith("| ") for line in md.splitlines()) == len(table.rows) + 1
    assert tex.startswith(r"\begin{tabular}") and tex.count(r"\\") == len(table.rows) + 1
    assert r"Singla \& Feizi" in tex
    first = table.rows[1]
    assert table.ratio(first) == pytest.approx(first.value / table.exact)


def test_a_pytorch_layer_is_read():
    torch = pytest.importorskip("torch")
    conv = torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=1, groups=2,
                           padding_mode="reflect", bias=False)
    w = conv.weight.detach().numpy().astype(np.float64)
    a = spectral_bounds(conv, (8, 8))
    b = spectral_bounds(w, (8, 8), stride=2, padding=1, groups=2, padding_mode="reflect")
    for x, y in zip(a.rows, b.rows):
        assert x.method == y.method
        assert x.value == pytest.approx(y.value, rel=1e-6)
    with pytest.raises(ConvmatError, match="stride"):
        spectral_bounds(conv, (8, 8), stride=3)


@pytest.mark.parametrize("bad, match", [
    (dict(weight=np.full((1, 1, 3), np.nan)), "NaN"),
    (dict(padding_mode="mirror"), "padding_mode"),
    (dict(groups=2), "groups"),
    (dict(weight=np.array([["a"]])), "dtype"),
])
def test_refused_like_singular_values(bad, match):
    args = dict(weight=np.ones((1, 1, 3)), padding_mode="zeros", groups=1)
    args.update(bad)
    weight = args.pop("weight")
    with pytest.raises(ConvmatError, match=match):
        convmat.singular_values(weight, (5,), **args)
    with pytest.raises(ConvmatError, match=match) as info:
        spectral_bounds(weight, (5,), **args)
    assert "spectral_bounds" in str(info.value)


def test_a_bound_over_the_memory_guard_is_skipped_with_its_reason():
    w = np.random.default_rng(0).standard_normal((8, 8, 3, 3))
    with convmat.options.override(memory_limit=300_000):
        table = spectral_bounds(w, (24, 24), padding=1, exact=False)
    skipped = [r for r in table.rows if r.value is None]
    assert skipped, table.text()
    for r in skipped:
        assert "memory limit" in r.reason and not r.upper_bound
    assert row(table, "sf").value is not None


def test_cli_spectrum_bounds(capsys):
    from convmat.cli import main

    assert main(["spectrum", "--input", "8x8", "--kernel", "3x3", "--channels", "2:2",
                 "--padding", "1", "--bounds"]) == 0
    out = capsys.readouterr().out
    w = np.random.default_rng(0).standard_normal((2, 2, 3, 3)) / math.sqrt(18)
    want = spectral_bounds(w, (8, 8), padding=1)
    lines = out.splitlines()
    assert lines[0] == want.layer
    for r in want.rows:
        line = next(x for x in lines if x.startswith(r.method + " "))
        assert (f"{r.value:.10g}" if r.value is not None else "-") in line


@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_a_layer_too_large_for_memory_gives_skipped_rows_not_a_crash(mode):
    """Every row that would not fit is skipped with the guard's reason (the products'
    vectors and the padding maps were allocated unguarded: a bare MemoryError); the
    bounds that need only the kernel still have values."""
    with convmat.options.override(memory_limit="1G"):
        table = spectral_bounds(np.ones((64, 64, 3, 3)), (10**5, 10**5), padding=1,
                                padding_mode=mode)
    rows = {r.method: r for r in table.rows}
    assert rows["exact"].value is None and "memory limit" in rows["exact"].reason
    assert any(r.value is not None and r.upper_bound for r in table.rows)
    skipped = [r for r in table.rows if r.value is None]
    assert skipped and all("skipped" in r.reason or r.reason for r in skipped)
