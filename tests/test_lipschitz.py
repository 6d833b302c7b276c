"""Whole networks: every layer's Lipschitz constant, the layer-wise and segment-wise
products, and ||J(x)|| at a point, against dense SVDs, PyTorch's autograd and brute force."""

from __future__ import annotations

import io
import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import convmat
from convmat import ConvmatError, lipschitz_bound, summary

from .conftest import torch
from .test_networks import _randomise

if torch is not None:
    import torch.nn as nn


def _dense_norm(module, shape):
    """The oracle: the layer's matrix made column by column from PyTorch itself (f(e_j) -
    f(0)), its largest singular value by LAPACK."""
    n = math.prod(shape)
    with torch.no_grad():
        zero = module(torch.zeros((1, *shape), dtype=torch.float64))
        eye = torch.eye(n, dtype=torch.float64).reshape(n, *shape)
        cols = (module(eye) - zero).reshape(n, -1).T.numpy()
    return np.linalg.norm(cols, 2)


def _avg_pool_dense(size, k, s, p):
    """1-D average pooling (count_include_pad) written out: row t averages its window."""
    o = (size + 2 * p - k) // s + 1
    a = np.zeros((o, size))
    for t in range(o):
        for j in range(k):
            i = t * s - p + j
            if 0 <= i < size:
                a[t, i] = 1 / k
    return a


# ---------------------------------------------------------------- linear layers alone


@given(size=st.integers(2, 12), k=st.integers(1, 4), s=st.integers(1, 3),
       p=st.integers(0, 2), channels=st.integers(1, 3))
@settings(max_examples=40)
def test_avg_pool_norm_against_a_dense_oracle(size, k, s, p, channels):
    """No PyTorch needed: a described average pooling's norm is that of the matrix written
    out in the test (channels: a block diagonal of equal blocks)."""
    if 2 * p > k or size + 2 * p < k:
        return
    one = _avg_pool_dense(size, k, s, p)
    (row,) = lipschitz_bound(f"avgpool {k} stride {s} pad {p}", (size,),
                             in_channels=channels).rows
    expected = np.linalg.norm(one, 2)
    assert row.value == pytest.approx(expected, rel=1e-10, abs=1e-14)
    assert row.upper is not None and row.upper >= expected * (1 - 1e-12)
    assert row.upper <= expected * (1 + 1e-9)  # certified to the tolerance


def test_large_avg_pool_is_certified_by_lanczos_and_collatz_wielandt():
    """A pooling matrix too large for the dense SVD: Lanczos below, Collatz-Wielandt
    above, both at the 2x2 pooling's 1/2 (A A^T = I/4)."""
    (row,) = lipschitz_bound("avgpool 2", (64, 64), in_channels=3).rows
    assert "Collatz" in row.how
    assert row.value <= 0.5 * (1 + 1e-12) and row.upper >= 0.5 * (1 - 1e-12)
    assert row.upper - row.value <= 1e-9
    (row,) = lipschitz_bound("avgpool 3 stride 2 pad 1", (40, 40)).rows
    one = np.linalg.norm(_avg_pool_dense(40, 3, 2, 1), 2)
    assert row.value == pytest.approx(one * one, rel=1e-9)  # separable: a Kronecker product
    assert row.upper >= one * one * (1 - 1e-12)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("make, shape", [
    (lambda: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), (2, 9, 9)),
    (lambda: nn.AvgPool2d(2, count_include_pad=False, padding=1), (2, 7, 6)),
    (lambda: nn.AvgPool2d((1, 4), stride=(1, 3), divisor_override=3), (3, 2, 11)),
    (lambda: nn.AdaptiveAvgPool2d((3, 5)), (2, 7, 9)),
    (lambda: nn.Upsample(scale_factor=2, mode="nearest"), (2, 5, 4)),
    (lambda: nn.Upsample(scale_factor=1.7, mode="bilinear"), (1, 6, 5)),
    (lambda: nn.Upsample(size=9, mode="linear", align_corners=True), (2, 5)),
    (lambda: nn.ReflectionPad2d((2, 1, 0, 2)), (2, 5, 6)),
    (lambda: nn.ReplicationPad1d(3), (2, 5)),
    (lambda: nn.CircularPad2d(2), (1, 4, 5)),
    (lambda: nn.ZeroPad2d(1), (2, 3, 3)),
    (lambda: nn.BatchNorm2d(3), (3, 4, 4)),
    (lambda: nn.Linear(7, 5), (7,)),
    (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1, padding_mode="reflect"), (2, 7, 7)),
    (lambda: nn.ConvTranspose1d(2, 3, 3, stride=2), (2, 6)),
    (lambda: nn.PixelShuffle(2), (8, 3, 3)),
])
def test_every_linear_layer_norm_against_dense_svd(make, shape):
    module = _randomise(make())
    table = summary(module, shape, spectral=True)
    (row,) = table.rows
    expected = _dense_norm(module, shape)
    assert row.spectral_norm == pytest.approx(expected, rel=1e-9, abs=1e-14)
    assert row.lipschitz == row.spectral_norm
    (lip,) = lipschitz_bound(module, shape).rows
    assert lip.upper is None or lip.upper >= expected * (1 - 1e-12)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_bound_mode_gives_proven_upper_bounds():
    conv = _randomise(nn.Conv2d(3, 4, 3, padding=1))
    exact = _dense_norm(conv, (3, 8, 8))
    (row,) = lipschitz_bound(conv, (3, 8, 8), mode="bound").rows
    assert row.value >= exact * (1 - 1e-12) and row.value <= 2 * exact
    assert row.how.startswith("bound: ")
    (row,) = summary(conv, (3, 8, 8), spectral="bound").rows
    assert row.spectral_norm >= exact * (1 - 1e-12)


# --------------------------------------------------------------- non-linear layers


def _grid_slope(module, lo=-40.0, hi=40.0, n=800_001):
    t = torch.linspace(lo, hi, n, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(module(t).sum(), t)
    return float(g.abs().max())


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("make", [
    nn.ReLU, nn.ReLU6, nn.Hardtanh, nn.Tanh, nn.Softsign, nn.Tanhshrink, nn.LogSigmoid,
    nn.Softshrink, nn.CELU, nn.Softplus, nn.Sigmoid, nn.Hardsigmoid, nn.Hardswish,
    nn.SELU, nn.SiLU, nn.Mish, nn.GELU, lambda: nn.GELU(approximate="tanh"),
    lambda: nn.LeakyReLU(0.2), lambda: nn.LeakyReLU(-3.0), lambda: nn.ELU(2.5),
    lambda: nn.CELU(0.5), lambda: nn.Softplus(beta=3.0), lambda: nn.Threshold(0.5, 0.5),
    lambda: nn.RReLU().eval(),
] if torch is not None else [])
def test_activation_constants_against_autograd(make):
    """The table's sup |σ'| against PyTorch's own derivative on a fine grid: never below it
    (an upper bound), and tight (no more than 1e-6 above: the sup is attained or
    approached on the grid)."""
    module = make().double()
    (row,) = lipschitz_bound(nn.Sequential(module), (1, 4)).rows
    observed = _grid_slope(module)
    assert row.value >= observed * (1 - 1e-7)  # PyTorch's backward of hardsigmoid: 1/6 in
    assert row.value <= observed + 1e-6, (row.value, observed)  # single precision


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_prelu_and_discontinuous_activations():
    prelu = nn.PReLU(3).double()
    with torch.no_grad():
        prelu.weight.copy_(torch.tensor([0.1, -2.5, 0.3]))
    (row,) = lipschitz_bound(nn.Sequential(prelu), (3, 4)).rows
    assert row.value == pytest.approx(2.5)
    for jumpy in (nn.Hardshrink(), nn.Threshold(0.1, 20.0)):
        table = lipschitz_bound(nn.Sequential(jumpy), (1, 4))
        assert table.rows[0].value is None and "not Lipschitz" in table.rows[0].how
        assert table.layerwise is None and "unknown" in table.text()


def _windows_per_input(size, k, s, p, d, o):
    """Brute force: for each input position, the windows (output positions) reading it."""
    count = np.zeros(size, dtype=int)
    for t in range(o):
        for j in range(k):
            i = t * s - p + j * d
            if 0 <= i < size:
                count[i] += 1
    return count


@given(size=st.tuples(st.integers(3, 10), st.integers(3, 10)), k=st.integers(1, 4),
       s=st.integers(1, 3), d=st.integers(1, 2), p=st.integers(0, 2), ceil=st.booleans())
@settings(max_examples=50)
def test_max_pool_constant_is_the_root_of_the_largest_overlap(size, k, s, d, p, ceil):
    """sqrt(max windows per input), counted by brute force in the test; and attained: the
    input in the most windows, made the largest, moves all their maxima."""
    if 2 * p > k:  # PyTorch's limit (convmat's is the dilated window)
        return
    desc = f"maxpool {k} stride {s} pad {p} dilation {d}" + (" ceil" if ceil else "")
    try:
        stages = summary(desc, size)
    except ConvmatError:
        return
    out = stages.rows[0].output_shape[1:]
    counts = [_windows_per_input(n, k, s, p, d, o) for n, o in zip(size, out)]
    c = int(counts[0].max() * counts[1].max())
    (row,) = lipschitz_bound(desc, size).rows
    assert row.value == pytest.approx(math.sqrt(c), rel=1e-15)
    if torch is None:
        return
    pool = nn.MaxPool2d(k, stride=s, padding=p, dilation=d, ceil_mode=ceil)
    at = tuple(int(np.argmax(cnt)) for cnt in counts)
    x = -torch.ones((1, 1, *size), dtype=torch.float64)
    x[(0, 0, *at)] = 1.0
    y = x.clone()
    y[(0, 0, *at)] = 2.0
    ratio = float(torch.linalg.norm(pool(y) - pool(x)) / torch.linalg.norm(y - x))
    assert ratio == pytest.approx(math.sqrt(c), rel=1e-12)


# ----------------------------------------------------------------- whole networks


def _lenet(pool=True):
    layers = [nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5), nn.Tanh(),
              nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Tanh(),
              nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10)]
    return _randomise(nn.Sequential(*layers), seed=3)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_lenet5_tanh_avgpool_bound_holds_and_pooling_counts():
    """The issue's example: the average pools' 1/2 each are in the product (without them the
    product overstates 4x); the bound holds against autograd's Jacobians at random points
    and against random pairs; segments never exceed the layers' products."""
    net = _lenet()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 32, 32))
    table = summary(net, (32, 32), spectral=True, at=x)
    bound = lipschitz_bound(net, (32, 32), at=x)
    pools = [r for r in table.rows if r.type == "AvgPool2d"]
    assert [r.spectral_norm for r in pools] == pytest.approx([0.5, 0.5], rel=1e-10)
    others = math.prod(r.lipschitz for r in table.rows if r.type != "AvgPool2d")
    assert table.bound.layerwise == pytest.approx(others / 4, rel=1e-12)
    assert bound.layerwise == pytest.approx(table.bound.layerwise, rel=1e-9)
    assert bound.segmentwise <= bound.layerwise * (1 + 1e-12)
    for seg in bound.segments:
        assert seg.value <= seg.product * (1 + 1e-12)
    # the local value: LAPACK on PyTorch's own Jacobian
    jac = torch.autograd.functional.jacobian(net, torch.tensor(x[None]))
    local = np.linalg.norm(jac.reshape(10, -1).numpy(), 2)
    assert bound.local == pytest.approx(local, rel=1e-9)
    assert table.bound.local == pytest.approx(local, rel=1e-9)
    assert "at x: " in table.text()
    A, _ = convmat.from_torch(net, (32, 32), at=x)
    assert np.linalg.norm(A.toarray(), 2) == pytest.approx(local, rel=1e-9)
    # the bound holds: Jacobians at random points and random pairs
    for _ in range(5):
        point = torch.tensor(rng.standard_normal((1, 1, 32, 32)) * 3)
        jac = torch.autograd.functional.jacobian(net, point).reshape(10, -1).numpy()
        assert np.linalg.norm(jac, 2) <= bound.segmentwise
    with torch.no_grad():
        a = torch.tensor(rng.standard_normal((200, 1, 32, 32)))
        b = a + 1e-3 * torch.tensor(rng.standard_normal((200, 1, 32, 32)))
        ratios = (net(a) - net(b)).norm(dim=1) / (a - b).flatten(1).norm(dim=1)
    assert float(ratios.max()) <= bound.segmentwise
    assert bound.certified is None or bound.certified >= bound.segmentwise * (1 - 1e-9)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_conv_batchnorm_avgpool_segment_is_one_map():
    """conv -> BatchNorm (eval) -> average pooling is one linear map: its exact norm (a
    dense SVD of the composed matrix from PyTorch) is what the segment reports, at most
    the product of the three norms (strictly below for random weights)."""
    net = _randomise(nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3),
                                   nn.AvgPool2d(2), nn.ReLU(), nn.Conv2d(3, 2, 3)), seed=5)
    shape = (2, 12, 12)
    bound = lipschitz_bound(net, shape)
    first = bound.segments[0]
    assert first.layers == ("0", "1", "2")
    expected = _dense_norm(net[:3], shape)
    assert first.value == pytest.approx(expected, rel=1e-9)
    assert first.value < first.product * (1 - 1e-3)
    assert bound.segmentwise < bound.layerwise
    big = _randomise(nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4),
                                   nn.AvgPool2d(2)), seed=6)
    seg = lipschitz_bound(big, (4, 24, 24)).segments[0]  # 2,304 inputs: Lanczos
    assert seg.how.startswith("Lanczos")
    assert seg.value == pytest.approx(_dense_norm(big, (4, 24, 24)), rel=1e-9)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_overlapping_max_pool_and_sigmoid_in_a_network():
    net = _randomise(nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sigmoid(), nn.MaxPool2d(3, 1),
                                   nn.Flatten(), nn.Linear(2 * 4 * 4, 3)), seed=2)
    bound = lipschitz_bound(net, (1, 8, 8))
    assert bound.rows[1].value == 0.25 and bound.rows[2].value == pytest.approx(3.0)
    rng = np.random.default_rng(1)
    with torch.no_grad():
        a = torch.tensor(rng.standard_normal((500, 1, 8, 8)))
        b = a + 1e-2 * torch.tensor(rng.standard_normal((500, 1, 8, 8)))
        ratios = (net(a) - net(b)).norm(dim=1) / (a - b).flatten(1).norm(dim=1)
    assert float(ratios.max()) <= bound.layerwise


def test_summary_default_is_fast_and_has_no_norm_columns():
    table = summary(convmat.networks.MODELS["lenet5"], (32, 32))
    assert not table.spectral and table.bound is None
    assert all(r.spectral_norm is None and r.lipschitz is None for r in table.rows)
    assert "Lipschitz" not in table.text() and "Lipschitz" not in table.latex()


def test_outputs_show_the_columns_and_products():
    table = summary("avgpool 2; sigmoid; maxpool 3 stride 1; flatten", (8, 8), spectral=True)
    text, md, tex = table.text(), table.markdown(), table.latex()
    for out in (text, md, tex):
        assert "spectral norm" in out and "Lipschitz" in out
    assert table.bound.layerwise == pytest.approx(0.5 * 0.25 * 2.0)  # 4x4: sqrt(2 * 2)
    assert text.splitlines()[-1].endswith("0.25")
    bound = lipschitz_bound("avgpool 2; sigmoid; maxpool 3 stride 1; flatten", (8, 8))
    assert "layer-wise product" in bound.text() and "segment norm" in bound.markdown()
    assert bound.latex().startswith(r"\begin{tabular}") and "√9" not in bound.latex()


def test_latex_of_the_record_compiles(tmp_path):
    import shutil
    import subprocess

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    bound = lipschitz_bound("avgpool 2; sigmoid; maxpool 3 stride 1; hardshrink; flatten",
                            (8, 8))
    doc = ("\\documentclass{article}\\begin{document}\n" + bound.latex() +
           "\n" + summary("avgpool 2; gelu", (6, 6), spectral=True).latex() +
           "\n\\end{document}\n")
    (tmp_path / "t.tex").write_text(doc)
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]


def test_progress_bar_on_stderr_only_when_asked(capsys):
    lipschitz_bound("avgpool 2; relu; avgpool 2", (8, 8))
    assert capsys.readouterr().err == ""
    lipschitz_bound("avgpool 2; relu; avgpool 2", (8, 8), progress=True)
    captured = capsys.readouterr()
    assert captured.out == "" and "[####################] 5/5" in captured.err
    summary("avgpool 2; relu", (8, 8), spectral=True, progress=True)
    assert "lipschitz [" in capsys.readouterr().err
    from convmat.networks._lipschitz import Progress

    stream = io.StringIO()
    bar = Progress(2, True, stream)
    bar.step("a")
    bar.step("b")
    bar.close()
    assert stream.getvalue().count("\r") == 3 and stream.getvalue().endswith("s\n")


@pytest.mark.parametrize("kwargs, message", [
    (dict(mode="fast"), "mode='fast' must be True or one of"),
    (dict(mode=False), "mode=False must be True or one of"),
    (dict(progress="yes"), "progress="),
    (dict(at=np.ones((1, 8, 8))), "at=x needs a PyTorch model"),
    (dict(at="text"), "at='text' must be an array of numbers"),
    (dict(at=np.full((1, 8, 8), np.nan)), "must be finite"),
    (dict(in_channels=0), "in_channels=0 must be positive"),
])
def test_bad_input_names_the_parameter(kwargs, message):
    with pytest.raises(ConvmatError, match=message):
        lipschitz_bound("avgpool 2", (8, 8), **kwargs)


def test_summary_bad_spectral_and_at():
    with pytest.raises(ConvmatError, match="spectral='fast' must be True, False or one of"):
        summary("avgpool 2", (8, 8), spectral="fast")
    with pytest.raises(ConvmatError, match="pass spectral=True too"):
        summary("avgpool 2", (8, 8), at=np.ones((1, 8, 8)))


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_at_with_the_wrong_shape_is_refused():
    net = _randomise(nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU()))
    with pytest.raises(ConvmatError, match="at.shape"):
        lipschitz_bound(net, (8, 8), at=np.ones((1, 7, 8)))


def test_segments_of_weightless_layers_and_reshapes():
    """Consecutive linear layers with no weights to read: a described convolution leaves
    its segment unknown; reshapes are norm 1 and never start a computation."""
    bound = lipschitz_bound("conv 2 3; avgpool 2; relu; flatten; linear 4", (8,))
    assert bound.segments[0].value is None and bound.layerwise is None
    assert bound.rows[3].value == 1.0
    assert [len(s.layers) for s in bound.segments] == [2, 2]
    pairs = list(itertools.pairwise(r.segment for r in bound.rows))
    assert (0, 0) in pairs and (1, 1) in pairs


def test_cli_summary_spectral_and_lipschitz(capsys):
    from convmat.cli import main

    assert main(["summary", "--model", "lenet5", "--input", "32x32"]) == 0
    assert "Lipschitz" not in capsys.readouterr().out  # the default: no norms
    assert main(["summary", "--layers", "conv 4 3x3 pad 1; relu; avgpool 2", "--input",
                 "8x8", "--spectral", "--seed", "1", "--lipschitz", "--progress"]) == 0
    captured = capsys.readouterr()
    assert "spectral norm" in captured.out and "segment-wise product" in captured.out
    assert "lipschitz [" in captured.err
    expected = lipschitz_bound("conv 4 3x3 pad 1; relu; avgpool 2", (8, 8), seed=1)
    assert f"{expected.layerwise:.4g}" in captured.out
    # the seeded weights: PyTorch's initial distribution, seeded by NumPy
    conv = expected.rows[0].value
    assert 0 < conv < 3 * 3
    assert main(["summary", "--layers", "avgpool 2", "--input", "8x8", "--spectral",
                 "bound", "--format", "markdown", "--lipschitz"]) == 0
    assert "| segment |" in capsys.readouterr().out.replace("segment norm", "")


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_local_norm_of_a_dead_relu_network_is_zero():
    """Every unit dead at x: the Jacobian is zero (a 1,152 x 1,024 map, past the Gram
    matrix's side), and so is its norm, as autograd says."""
    net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(1),
                        nn.Conv2d(2, 2, 3, padding=1)).double()
    with torch.no_grad():
        net[0].bias.fill_(-1e6)
    x = np.random.default_rng(0).standard_normal((1, 24, 24))
    bound = lipschitz_bound(net, (24, 24), at=x)
    jac = torch.autograd.functional.jacobian(net, torch.tensor(x[None]))
    assert float(jac.abs().max()) == 0 and bound.local == 0.0


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_batchnorm_alike_channels_needs_no_merge_but_unlike_ones_do():
    """A batch normalisation scaling every channel alike is a scalar: the segment's norm
    is the product, exactly, without a computation; one whose largest scale is 1 but not
    all alike is merged (and the merged norm is the dense oracle's)."""
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)).double().eval()
    (seg,) = lipschitz_bound(net, (2, 6, 6)).segments
    assert seg.how == "one layer" and seg.value == seg.product
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([1.0, 0.2, -0.5]))
        net[1].running_var.fill_(1 - net[1].eps)  # scales exactly 1, 0.2, -0.5
    (seg,) = lipschitz_bound(net, (2, 6, 6)).segments
    assert seg.how != "one layer"
    assert seg.value == pytest.approx(_dense_norm(net, (2, 6, 6)), rel=1e-9)


def test_seed_draws_weights_as_pytorch_initialises_them():
    """seed=N: uniform in ±1/sqrt(fan_in) from NumPy's generator, layer by layer in order
    (drawn again here), and the norms are those of the matrices built from them."""
    bound = lipschitz_bound("conv 4 3x3 pad 1; bn; linear 5", (6, 6), in_channels=2, seed=7)
    rng = np.random.default_rng(7)
    w = rng.uniform(-1 / math.sqrt(18), 1 / math.sqrt(18), (4, 2, 3, 3))
    fc = rng.uniform(-1 / 12, 1 / 12, (5, 144))
    conv = np.linalg.norm(convmat.conv_matrix(w, (6, 6), padding=1).toarray(), 2)
    assert bound.rows[0].value == pytest.approx(conv, rel=1e-10)
    assert bound.rows[1].value == pytest.approx(1 / math.sqrt(1 + 1e-5), rel=1e-15)
    assert bound.rows[2].value == pytest.approx(np.linalg.norm(fc, 2), rel=1e-10)
    with pytest.raises(ConvmatError, match="seed='x'"):
        lipschitz_bound("conv 4 3x3", (6, 6), seed="x")
