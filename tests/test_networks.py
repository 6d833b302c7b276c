"""convmat.networks: PyTorch layers and models as affine maps, Jacobians, summaries.

Oracles: the PyTorch module itself (``A @ x + b == module(x)``) and
``torch.autograd.functional.jacobian`` for the linearisation at a point; the layer-list
summaries are checked against shapes, parameter counts and stored entries computed here
independently (arithmetic, and the nnz of matrices convmat's builders return).
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convmat
from convmat import ConvmatError
from convmat.cli import main
from convmat.networks import MODELS, parse_layers, summary

from .conftest import requires_pdflatex, requires_torch, torch
from .strategies import MODES, geometries

if torch is not None:
    import torch.nn as nn

GEOMETRIES_CHECKED: dict[str, int] = {}
RNG = np.random.default_rng(11)
FEW = settings(max_examples=25, deadline=None)


def _count(key: str) -> None:
    GEOMETRIES_CHECKED[key] = GEOMETRIES_CHECKED.get(key, 0) + 1


def _randomise(module, seed: int = 0):
    """Float64, eval mode, every parameter and buffer random (running variances > 0)."""
    gen = torch.Generator().manual_seed(seed)
    module = module.double().eval()
    with torch.no_grad():
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if not tensor.is_floating_point():
                continue
            values = torch.randn(tensor.shape, generator=gen, dtype=torch.float64)
            if name.endswith("weight") and tensor.ndim >= 2:  # outputs of order 1
                values /= math.sqrt(tensor[0].numel())
            tensor.copy_(values.abs() + 0.5 if name.endswith("running_var") else values)
    return module


def _check_affine(module, input_shape, full_shape, seed=0, key=None):
    """A @ x + b equals module(x) to 1e-12 (and b is the module at zero)."""
    from convmat import from_torch

    x = np.random.default_rng(seed).standard_normal(full_shape)
    a, b = from_torch(module, input_shape)
    with torch.no_grad():
        y = module(torch.tensor(x[None])).numpy().ravel()
    assert a.shape == (y.size, x.size)
    np.testing.assert_allclose(a @ x.ravel() + b, y, rtol=0, atol=1e-12)
    if key:
        _count(key)
    return a, b


def _check_jacobian(module, x, input_shape=None, key=None, atol=1e-12):
    """At x: A equals torch.autograd.functional.jacobian; A x + b equals module(x)."""
    from convmat import from_torch

    xt = torch.tensor(x[None])
    a, b = from_torch(module, input_shape or x.shape[1:], at=x)
    jac = torch.autograd.functional.jacobian(lambda t: module(t).reshape(-1), xt)
    jac = jac.reshape(-1, x.size).numpy()
    np.testing.assert_allclose(a.toarray(), jac, rtol=0, atol=atol)
    with torch.no_grad():
        y = module(xt).numpy().ravel()
    np.testing.assert_allclose(a @ x.ravel() + b, y, rtol=0, atol=1e-12)
    if key:
        _count(key)
    return a, b


# ------------------------------------------------------------------ linear layers, exact

CONV = {1: "Conv1d", 2: "Conv2d", 3: "Conv3d"}


@st.composite
def conv_layers(draw, transposed=False):
    n = draw(st.sampled_from([1, 2, 3] if not transposed else [1, 2]))
    size = tuple(draw(st.integers(1, 6 if n < 3 else 4)) for _ in range(n))
    k = tuple(draw(st.integers(1, 3)) for _ in range(n))
    s = tuple(draw(st.integers(1, 3)) for _ in range(n))
    d = tuple(draw(st.integers(1, 2)) for _ in range(n))
    groups = draw(st.sampled_from([1, 2]))
    c_in = groups * draw(st.integers(1, 2))
    c_out = groups * draw(st.integers(1, 2))
    bias = draw(st.booleans())
    if transposed:
        p = tuple(draw(st.integers(0, 2)) for _ in range(n))
        q = tuple(draw(st.integers(0, max(a, b) - 1)) for a, b in zip(s, d))
        out = [(i - 1) * ss - 2 * pp + dd * (kk - 1) + qq + 1
               for i, ss, pp, dd, kk, qq in zip(size, s, p, d, k, q)]
        assume(min(out) >= 1)
        cls = getattr(nn, f"ConvTranspose{n}d")
        module = cls(c_in, c_out, k, stride=s, padding=p, output_padding=q, dilation=d,
                     groups=groups, bias=bias)
        return module, size, (c_in, *size)
    mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    form = draw(st.sampled_from(["ints", "same", "valid"]))
    if form == "same":
        s = (1,) * n
        padding = "same"
        pads = [(dd * (kk - 1) // 2, dd * (kk - 1) - dd * (kk - 1) // 2) for dd, kk in zip(d, k)]
    elif form == "valid":
        padding, pads = "valid", [(0, 0)] * n
    else:
        padding = tuple(draw(st.integers(0, 2)) for _ in range(n))
        pads = [(p, p) for p in padding]
    for i, kk, dd, (b, a) in zip(size, k, d, pads):
        assume(i + b + a >= dd * (kk - 1) + 1)
        if mode == "reflect":
            assume(max(b, a) < i)
        if mode == "circular":
            assume(max(b, a) <= i)
    module = getattr(nn, CONV[n])(c_in, c_out, k, stride=s, padding=padding, dilation=d,
                                  groups=groups, bias=bias, padding_mode=mode)
    return module, size, (c_in, *size)


@requires_torch
@FEW
@given(conv_layers(), st.integers(0, 2**16))
def test_conv_layers_exact(layer, seed):
    module, size, full = layer
    _check_affine(_randomise(module, seed), size, full, seed, key="conv")


@requires_torch
@FEW
@given(conv_layers(transposed=True), st.integers(0, 2**16))
def test_conv_transpose_layers_exact(layer, seed):
    module, size, full = layer
    _check_affine(_randomise(module, seed), size, full, seed, key="conv_transpose")


@requires_torch
@FEW
@given(st.data())
def test_avg_pool_exact(data):
    n = data.draw(st.sampled_from([1, 2, 3]))
    size = tuple(data.draw(st.integers(1, 7 if n < 3 else 4)) for _ in range(n))
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(n))
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(n))
    p = tuple(data.draw(st.integers(0, kk // 2)) for kk in k)
    ceil = data.draw(st.booleans())
    for i, kk, pp in zip(size, k, p):
        assume(i + 2 * pp >= kk)
        assume(n < 3 or i >= kk)  # PyTorch's 3-D pooling also wants the bare input to fit
    override = data.draw(st.sampled_from([None, None, 3]))
    kw = dict(stride=s, padding=p, ceil_mode=ceil,
              count_include_pad=data.draw(st.booleans()))
    if override is not None:
        kw["divisor_override"] = override
    if n == 1:
        kw.pop("divisor_override", None)
    module = getattr(nn, f"AvgPool{n}d")(k, **kw)
    channels = data.draw(st.integers(1, 3))
    _check_affine(module, (channels, *size), (channels, *size), key="avg_pool")


@requires_torch
@FEW
@given(st.data())
def test_adaptive_avg_pool_exact(data):
    n = data.draw(st.sampled_from([1, 2, 3]))
    size = tuple(data.draw(st.integers(1, 7 if n < 3 else 4)) for _ in range(n))
    out = tuple(data.draw(st.one_of(st.none(), st.integers(1, 8))) for _ in range(n))
    if n == 1:
        out = out[0] or 3
    module = getattr(nn, f"AdaptiveAvgPool{n}d")(out)
    _check_affine(module, (2, *size), (2, *size), key="adaptive_avg_pool")


@requires_torch
@pytest.mark.parametrize("n,affine", [(1, True), (2, True), (2, False), (3, True)])
def test_batchnorm_eval_exact(n, affine):
    module = _randomise(getattr(nn, f"BatchNorm{n}d")(3, affine=affine))
    size = (4,) * n
    a, b = _check_affine(module, size, (3, *size), key="batchnorm")
    assert a.nnz == a.shape[0]  # diagonal


@requires_torch
def test_batchnorm1d_on_features():
    module = _randomise(nn.Sequential(nn.Linear(5, 4), nn.BatchNorm1d(4)))
    _check_affine(module, (5,), (5,), key="batchnorm")


@requires_torch
@pytest.mark.parametrize("full", [(7,), (3, 7), (2, 3, 7)])
def test_linear_acts_on_the_last_axis(full):
    module = _randomise(nn.Linear(7, 4))
    _check_affine(module, full, full, key="linear")


@requires_torch
def test_flatten_unflatten_identity_dropout():
    module = _randomise(nn.Sequential(
        nn.Conv2d(2, 3, 3), nn.Dropout(0.5), nn.Identity(), nn.Flatten(),
        nn.Unflatten(1, (3, 9)), nn.Flatten(1, 2), nn.Linear(27, 5), nn.Dropout1d()))
    a, b = _check_affine(module, (5, 5), (2, 5, 5), key="reshape")
    assert a.shape == (5, 50)


@requires_torch
@pytest.mark.parametrize("cls,r,full", [("PixelShuffle", 2, (8, 3, 2)),
                                        ("PixelShuffle", 3, (9, 2, 2)),
                                        ("PixelUnshuffle", 2, (3, 4, 6)),
                                        ("PixelUnshuffle", 3, (1, 6, 3))])
def test_pixel_shuffles_are_permutations(cls, r, full):
    a, b = _check_affine(getattr(nn, cls)(r), full, full, key="pixel_shuffle")
    assert a.nnz == a.shape[0] == a.shape[1]
    assert (a.sum(axis=0) == 1).all() and (a.sum(axis=1) == 1).all()
    assert not b.any()


@requires_torch
def test_pixel_unshuffle_is_kong_lucey_space_to_depth():
    """PixelUnshuffle(2) of a 4x6 input is Kong & Lucey's space-to-depth at stride 2."""
    x = np.random.default_rng(1).standard_normal((2, 4, 6))
    a, _ = convmat.from_torch(nn.PixelUnshuffle(2), (2, 4, 6))
    kl = convmat.kong_lucey(np.ones((1, 2, 2, 2)), (4, 6), stride=2)
    np.testing.assert_array_equal(a @ x.ravel(), kl.space_to_depth(x).ravel())


PADS = {1: [(1, 2), (0, 3)], 2: [(1, 0, 2, 1), (2, 2, 0, 1)], 3: [(1, 0, 0, 1, 1, 1)]}


@requires_torch
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("kind", ["ZeroPad", "ConstantPad", "ReflectionPad",
                                  "ReplicationPad", "CircularPad"])
def test_padding_modules(n, kind):
    for pad in PADS[n]:
        cls = getattr(nn, f"{kind}{n}d")
        module = cls(pad, 2.5) if kind == "ConstantPad" else cls(pad)
        size = (4,) * n
        _check_affine(module, (2, *size), (2, *size), key="padding")


@requires_torch
def test_negative_constant_padding_crops():
    module = nn.ConstantPad2d((-1, 2, 1, -2), 3.0)
    _check_affine(module, (2, 5, 6), (2, 5, 6), key="padding")


UPSAMPLE = [
    (dict(scale_factor=2, mode="nearest"), (5,)),
    (dict(scale_factor=3, mode="nearest"), (3, 4)),
    (dict(scale_factor=1.5, mode="nearest"), (5, 3)),
    (dict(size=(7, 3), mode="nearest"), (4, 5)),
    (dict(scale_factor=1.7, mode="nearest-exact"), (4, 5)),
    (dict(scale_factor=2, mode="linear"), (5,)),
    (dict(scale_factor=2, mode="bilinear"), (3, 4)),
    (dict(scale_factor=2.5, mode="bilinear"), (3, 4)),
    (dict(scale_factor=0.6, mode="bilinear"), (5, 6)),
    (dict(size=(5, 7), mode="bilinear", align_corners=True), (3, 4)),
    (dict(size=(6, 1), mode="bilinear", align_corners=True), (3, 4)),
    (dict(scale_factor=1.5, mode="bilinear", recompute_scale_factor=True), (3, 5)),
    (dict(scale_factor=2, mode="trilinear"), (2, 3, 2)),
    (dict(scale_factor=(2, 1.5, 3), mode="trilinear", align_corners=True), (2, 3, 2)),
]


@requires_torch
@pytest.mark.parametrize("kw,size", UPSAMPLE)
def test_upsample(kw, size):
    _check_affine(nn.Upsample(**kw), (2, *size), (2, *size), key="upsample")


@requires_torch
def test_upsampling_modules():
    _check_affine(nn.UpsamplingBilinear2d(scale_factor=2), (1, 3, 3), (1, 3, 3))
    _check_affine(nn.UpsamplingNearest2d(size=(5, 7)), (1, 3, 3), (1, 3, 3))


# ------------------------------------------------------------- non-linear layers, at x


@requires_torch
@FEW
@given(st.data())
def test_max_pool_jacobian(data):
    n = data.draw(st.sampled_from([1, 2, 3]))
    size = tuple(data.draw(st.integers(2, 7 if n < 3 else 4)) for _ in range(n))
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(n))
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(n))
    d = tuple(data.draw(st.integers(1, 2)) for _ in range(n))
    p = tuple(data.draw(st.integers(0, kk // 2)) for kk in k)
    for i, kk, dd, pp in zip(size, k, d, p):
        assume(i + 2 * pp >= dd * (kk - 1) + 1)
    module = getattr(nn, f"MaxPool{n}d")(k, stride=s, padding=p, dilation=d,
                                         ceil_mode=data.draw(st.booleans()))
    # small integers: many ties, broken as PyTorch breaks them
    ties = data.draw(st.booleans())
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    x = rng.integers(-2, 3, (2, *size)).astype(float) if ties else rng.standard_normal(
        (2, *size))
    _check_jacobian(module, x, key="max_pool")


@requires_torch
@pytest.mark.parametrize("n,out", [(1, 3), (2, (2, 3)), (2, (None, 4)), (3, 2)])
def test_adaptive_max_pool_jacobian(n, out):
    module = getattr(nn, f"AdaptiveMaxPool{n}d")(out)
    rng = np.random.default_rng(n)
    for x in (rng.standard_normal((2,) + (5,) * n), rng.integers(0, 2, (2,) + (5,) * n) * 1.0):
        _check_jacobian(module, x, key="adaptive_max_pool")


ACTIVATIONS = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "CELU", "SELU", "GELU", "SiLU",
               "Mish", "Sigmoid", "Tanh", "Hardtanh", "Hardsigmoid", "Hardswish", "Softplus",
               "Softsign", "Softshrink", "Hardshrink", "Tanhshrink", "LogSigmoid"]


@requires_torch
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_jacobians(name):
    module = getattr(nn, name)().double()
    x = np.random.default_rng(0).standard_normal((2, 4, 4)) * 3
    x[0, 0, :3] = [0.0, 1.0, -1.0]  # kinks of ReLU, Hardtanh, shrinks
    a, _ = _check_jacobian(module, x, key="activation")
    assert (a != sp_diag(a)).nnz == 0


@requires_torch
@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "Hardtanh", "ReLU6", "Tanh",
                                  "Sigmoid", "GELU"])
def test_activation_slopes_at_kinks_and_non_finite_points(name):
    """The slopes PyTorch's backward takes at 0, at the clip points, at +-inf and NaN."""
    module = getattr(nn, name)()
    x = np.array([[np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 6.0, 7.0]])
    a, _ = convmat.from_torch(module, x.shape, at=x)
    xt = torch.tensor(x[None], requires_grad=True)
    (slope,) = torch.autograd.grad(module(xt).sum(), xt)
    np.testing.assert_allclose(a.diagonal(), slope.numpy().ravel(), rtol=0, atol=1e-15)


def sp_diag(a):
    import scipy.sparse as sp

    return sp.diags_array(a.diagonal())


@requires_torch
def test_relu_jacobian_is_a_mask_storing_live_units_only():
    x = np.array([[-1.0, 2.0, 0.0, 3.0]])
    a, b = convmat.from_torch(nn.ReLU(), (4,), at=x)
    np.testing.assert_array_equal(a.toarray(), np.diag([0.0, 1.0, 0.0, 1.0]))
    assert a.nnz == 2 and not b.any()
    assert convmat.from_torch(nn.Threshold(0.5, -2.0), (4,), at=x)[1].tolist() == \
        [-2.0, 0.0, -2.0, 0.0]


# ------------------------------------------------------------------------ whole networks


def lenet5(act=None, pool=None):
    act = act or nn.Tanh
    pool = pool or nn.AvgPool2d
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), act(), pool(2), nn.Conv2d(6, 16, 5), act(), pool(2),
        nn.Flatten(), nn.Linear(576, 120), act(), nn.Linear(120, 84), act(),
        nn.Linear(84, 10))


def vgg_block():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
        nn.Conv2d(8, 8, 3, padding=1, padding_mode="reflect"), nn.BatchNorm2d(8),
        nn.ReLU(inplace=True), nn.MaxPool2d(2))


@requires_torch
def test_linear_lenet5_exact():
    """LeNet-5 without its activations is one affine map."""
    layers = [m for m in lenet5() if not isinstance(m, nn.Tanh)]
    model = _randomise(nn.Sequential(*layers))
    a, b = _check_affine(model, (32, 32), (1, 32, 32), key="network")
    assert a.shape == (10, 1024)


@requires_torch
@pytest.mark.parametrize("act,pool", [(None, None), ("ReLU", "MaxPool2d")])
def test_lenet5_jacobian(act, pool):
    model = _randomise(lenet5(act and getattr(nn, act), pool and getattr(nn, pool)))
    x = np.random.default_rng(3).standard_normal((1, 32, 32))
    _check_jacobian(model, x, key="network")
    conv_part = model[:6]
    a, _ = _check_jacobian(conv_part, x, key="network")
    assert a.shape == (576, 1024)


@requires_torch
def test_vgg_block_jacobian_and_nested_sequential():
    model = _randomise(nn.Sequential(vgg_block(), nn.Sequential(nn.Conv2d(8, 4, 1),
                                                                nn.LeakyReLU(0.1))))
    x = np.random.default_rng(4).standard_normal((3, 8, 8))
    a, _ = _check_jacobian(model, x, key="network")
    assert a.shape == (4 * 16, 3 * 64)


@requires_torch
def test_custom_module_with_a_chain_forward_is_traced():
    import torch.nn.functional as F

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
            self.block = nn.Sequential(nn.Conv2d(6, 16, 5), nn.Tanh())
            self.fc1 = nn.Linear(576, 120)
            self.fc2 = nn.Linear(120, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.avg_pool2d(self.block(x), kernel_size=2, stride=2)
            x = x.view(x.size(0), -1)
            return self.fc2(torch.relu(self.fc1(x)))

    model = _randomise(LeNet())
    x = np.random.default_rng(7).standard_normal((1, 32, 32))
    _check_jacobian(model, x, key="network")
    names = [row.name for row in summary(model, (32, 32)).rows]
    assert names == ["conv1", "relu", "max_pool2d", "block.0", "block.1", "avg_pool2d",
                     "view", "fc1", "relu_1", "fc2"]

    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            return x + self.conv(x)

    # a residual connection is not a chain: read as a graph (tests/test_graphs.py)
    residual = _randomise(nn.Sequential(nn.Identity(), Residual()))
    a, _ = _check_affine(residual, (1, 8, 8), (1, 8, 8))
    conv = convmat.from_torch(residual[1].conv, (1, 8, 8))[0]
    assert abs(a - conv - np.eye(64)).max() < 1e-15


@requires_torch
def test_jacobian_of_a_linear_network_is_its_matrix():
    model = _randomise(nn.Sequential(nn.Conv1d(2, 3, 3, stride=2), nn.AvgPool1d(2)))
    a, b = convmat.from_torch(model, (9,))
    x = np.random.default_rng(5).standard_normal((2, 9))
    a_at, b_at = convmat.from_torch(model, (9,), at=x)
    assert abs(a - a_at).max() < 1e-15
    np.testing.assert_allclose(b_at, b, atol=1e-13)


@requires_torch
def test_input_shape_forms():
    model = _randomise(nn.Sequential(nn.ReLU(), nn.Conv2d(3, 2, 3)))
    x = np.random.default_rng(6).standard_normal((3, 5, 5))
    for shape in [(5, 5), (3, 5, 5)]:
        a, _ = convmat.from_torch(model, shape, at=x)
        a1, _ = convmat.from_torch(model, shape, at=x[None])  # a batch of one
        assert a.shape == (18, 75) and (a != a1).nnz == 0
    assert convmat.from_torch(model[1], (3, 5, 5))[0].shape == (18, 75)
    with pytest.raises(ConvmatError, match="does not match"):
        convmat.from_torch(model, (6, 6), at=x)
    with pytest.raises(ConvmatError, match="full shape"):
        convmat.from_torch(nn.Sequential(nn.ZeroPad2d(1)), (5, 5))


# --------------------------------------------------------------------------------- errors


@requires_torch
def test_non_linear_layers_need_a_point():
    with pytest.raises(ConvmatError, match=r"layer 1 \(Tanh\) is not linear.*at=x"):
        convmat.from_torch(lenet5(), (32, 32))
    with pytest.raises(ConvmatError, match=r"layer 2 \(MaxPool2d\)"):
        convmat.from_torch(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Identity(), nn.MaxPool2d(2),
                                         nn.ReLU()), (8, 8))


@requires_torch
def test_unsupported_and_training_mode_name_their_layer():
    class Custom(nn.Module):
        def forward(self, x):
            return torch.where(x > 0, x, 0.5 * x)

    bn = nn.BatchNorm2d(1)  # training mode by default
    cases = [
        (nn.Sequential(nn.Conv2d(1, 1, 3), bn), r"layer 1 \(BatchNorm2d\).*training mode"),
        (nn.Sequential(nn.Conv2d(1, 1, 3), nn.Sequential(nn.ReLU(), Custom())),
         r"node gt \(call_function gt, at test_networks\.py:\d+: return torch\.where\(x > 0, "
         r"x, 0\.5 \* x\)\) is not a function from_torch reads"),
        (nn.Sequential(nn.Dropout(0.2)), r"layer 0 \(Dropout\).*training"),
        (nn.Sequential(nn.LocalResponseNorm(2)), r"layer 0 \(LocalResponseNorm\) is not a "
                                                 r"supported module type"),
        (nn.Sequential(nn.BatchNorm2d(1, track_running_stats=False).eval()),
         "track_running_stats"),
        (nn.Sequential(nn.MaxPool2d(2, return_indices=True)), "return_indices"),
        (nn.Sequential(nn.Upsample(scale_factor=2, mode="bicubic")), "bicubic"),
    ]
    for model, message in cases:
        with pytest.raises(ConvmatError, match=message):
            convmat.from_torch(model, (1, 6, 6), at=np.zeros((1, 6, 6)))
    with pytest.raises(ConvmatError, match=r"layer 1 \(Conv2d\): in_channels=2 but the input "
                                           r"has 3 channels"):
        convmat.from_torch(nn.Sequential(nn.Conv2d(1, 3, 3), nn.Conv2d(2, 1, 3)), (8, 8))
    with pytest.raises(ConvmatError, match=r"layer 2 \(Linear\): in_features=10"):
        convmat.from_torch(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten(), nn.Linear(10, 2)),
                           (8, 8))
    with pytest.raises(ConvmatError, match="not a torch.nn.Module"):
        convmat.from_torch("conv 6 5x5", (8, 8))


@requires_torch
def test_memory_guard_refuses_before_building():
    model = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.Conv2d(64, 64, 3, padding=1))
    with convmat.options.override(memory_limit=10**6):
        with pytest.raises(ConvmatError, match="memory limit"):
            convmat.from_torch(model, (64, 64))
    # small factors, a full 2000 x 2000 product: refused before it is formed
    bottleneck = nn.Sequential(nn.Linear(2000, 1), nn.Linear(1, 2000))
    with convmat.options.override(memory_limit=10 * 2**20):
        with pytest.raises(ConvmatError, match=r"the network's matrix would need about "
                                               r"\S+ MiB \(4,000,000 stored entries"):
            convmat.from_torch(bottleneck, (2000,))


# -------------------------------------------------------------------- summary of a model


@requires_torch
def test_summary_of_a_torch_model_matches_the_layers():
    model = _randomise(nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), nn.ReLU(), nn.MaxPool2d(2),
        nn.ConvTranspose2d(4, 2, 3, stride=2, output_padding=1), nn.BatchNorm2d(2),
        nn.ReflectionPad2d(1), nn.AvgPool2d(3, stride=2, ceil_mode=True), nn.Upsample(
            scale_factor=2, mode="bilinear"), nn.PixelUnshuffle(2), nn.AdaptiveAvgPool2d(3),
        nn.Flatten(), nn.Linear(72, 5)))
    table = summary(model, (8, 8))
    x = torch.randn(1, 3, 8, 8, dtype=torch.float64)
    for row, layer in zip(table.rows, model):
        y = layer(x)
        assert row.output_shape == tuple(y.shape[1:]), row
        assert row.parameters == sum(p.numel() for p in layer.parameters())
        assert row.matrix_shape == (y.numel(), x.numel())
        single = nn.Sequential(layer)
        if row.linear:
            a, _ = convmat.from_torch(single, tuple(x.shape[1:]))
            assert row.stored == a.nnz and row.exact, row
        else:
            a, _ = convmat.from_torch(single, tuple(x.shape[1:]), at=x[0].detach().numpy())
            assert a.nnz <= row.stored
        x = y.detach()
    assert table.total_parameters == sum(p.numel() for p in model.parameters())
    assert [r.receptive_field for r in table.rows][:3] == [(3, 3), (3, 3), (4, 4)]
    assert all(r.receptive_field is None for r in table.rows[3:])
    assert "MaxPool2d" in table.text() and "| Linear |" in table.markdown()


# ------------------------------------------------------------- summaries without PyTorch


#: LeNet-5 as published (LeCun, Bottou, Bengio, Haffner, "Gradient-based learning applied to
#: document recognition"): C1 6@28x28, S2 6@14x14, C3 16@10x10, S4 16@5x5, C5 120 (a 5x5
#: convolution over a 5x5 map: a fully connected 400 -> 120), F6 84, output 10
LENET5_SHAPES = [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (400,), (120,), (84,),
                 (10,)]
LENET5_PARAMETERS = 61_706


def test_summary_of_lenet5_description():
    table = summary(MODELS["lenet5"], (32, 32))
    assert [r.output_shape for r in table.rows if r.type != "Tanh"] == LENET5_SHAPES
    # conv 1->6 5x5 + bias, conv 6->16, fc 400->120->84->10, counted by hand
    assert table.total_parameters == (6 * 25 + 6) + (16 * 6 * 25 + 16) + (400 * 120 + 120) + (
        120 * 84 + 84) + (84 * 10 + 10) == LENET5_PARAMETERS
    conv1 = table.rows[0]
    ones = convmat.conv_matrix(np.ones((6, 1, 5, 5)), (32, 32))
    assert conv1.matrix_shape == ones.shape == (6 * 28 * 28, 32 * 32)
    assert conv1.stored == ones.nnz and conv1.density == ones.nnz / (4704 * 1024)
    fields = [r.receptive_field for r in table.rows]
    assert fields[:6] == [(5, 5), (5, 5), (6, 6), (14, 14), (14, 14), (16, 16)]
    assert fields[6:] == [None] * 6
    assert not table.rows[1].exact and table.rows[1].stored == 4704


def test_lenet5_padded_is_its_own_preset():
    """The MNIST variant: 28x28 input, conv1 padded by 2, the same shapes from then on."""
    table = summary(MODELS["lenet5-padded"], (28, 28))
    assert [r.output_shape for r in table.rows if r.type != "Tanh"] == LENET5_SHAPES
    assert table.total_parameters == LENET5_PARAMETERS
    assert table.rows[0].matrix_shape == (6 * 28 * 28, 28 * 28)
    assert "pad" not in MODELS["lenet5"] and "pad 2" in MODELS["lenet5-padded"]


@requires_torch
@pytest.mark.parametrize("name, size, pad", [("lenet5", 32, 0), ("lenet5-padded", 28, 2)])
def test_lenet5_presets_against_pytorch(name, size, pad):
    """The presets' tables against LeNet-5 written here in PyTorch: shapes layer by layer
    from torch's own forward pass, parameters from torch's own count."""
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=pad), nn.Tanh(), nn.AvgPool2d(2), nn.Conv2d(6, 16, 5),
        nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.Tanh(),
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))
    assert sum(p.numel() for p in model.parameters()) == LENET5_PARAMETERS
    table = summary(MODELS[name], (size, size))
    x = torch.zeros(1, 1, size, size)
    for layer, row in zip(model, table.rows, strict=True):
        x = layer(x)
        assert tuple(x.shape[1:]) == row.output_shape, row
        assert sum(p.numel() for p in layer.parameters()) == row.parameters, row
    assert table.total_parameters == LENET5_PARAMETERS


def test_summary_stored_entries_match_the_builders():
    """Counted from the geometry, equal to the nnz of the matrices the builders return."""
    cases = [
        ("conv 2 3x3 pad 1 mode reflect", (1, 5, 5),
         convmat.conv_matrix(np.ones((2, 1, 3, 3)), (5, 5), padding=1,
                             padding_mode="reflect")),
        ("conv 4 3 stride 2 pad 2 dilation 2 groups 2 mode circular", (2, 7),
         convmat.conv_matrix(np.ones((4, 1, 3)), (7,), stride=2, padding=2, dilation=2,
                             groups=2, padding_mode="circular")),
        ("deconv 3 3x2 stride 2 pad 1 outpad 1", (2, 4, 3),
         convmat.conv_transpose_matrix(np.ones((2, 3, 3, 2)), (4, 3), stride=2, padding=1,
                                       output_padding=1)),
        ("avgpool 3 stride 2 pad 1", (2, 6, 6),
         convmat.avg_pool_matrix((6, 6), 3, stride=2, padding=1, channels=2)),
        ("pad 2 mode replicate", (1, 4),
         convmat.padding_matrix((4,), 2, padding_mode="replicate")),
        ("pad 1x2", (3, 4, 4), convmat.padding_matrix((4, 4), [1, 2], channels=3)),
    ]
    for spec, full, matrix in cases:
        (row,) = summary(spec, full[1:], in_channels=full[0]).rows
        assert row.matrix_shape == matrix.shape, spec
        assert row.stored == matrix.nnz, spec


def test_summary_text_markdown_latex():
    table = summary("conv1: conv 6 5x5 pad 2; relu; avgpool 2", (28, 28))
    text = table.text()
    assert text.splitlines()[0].split() == ["layer", "type", "output", "params", "matrix",
                                           "stored", "density", "receptive", "field"]
    assert "conv1  Conv2d" in text and "≤4,704" in text and str(table) == text
    md = table.markdown().splitlines()
    assert md[1].startswith("| --- | --- | --:") and "| 6×28×28 |" in md[2]
    assert table._repr_markdown_() == table.markdown()
    tex = table.latex()
    assert tex.startswith(r"\begin{tabular}{llrrrrrr}") and tex.endswith(r"\end{tabular}")
    assert r"6$\times$28$\times$28" in tex and r"\%" in tex and r"$\le$4{,}704" in tex
    assert all(line.count("&") == 7 for line in tex.splitlines() if "&" in line)


@requires_pdflatex
def test_summary_latex_compiles(tmp_path):
    import subprocess

    table = summary("conv_1: conv 6 5x5 pad 2; relu; pool_1: maxpool 2; linear 10", (28, 28))
    bare = "\\documentclass{article}\n\\begin{document}\n" + table.latex() + \
        "\n\\end{document}\n"
    for doc in (bare, table.latex(standalone=True)):
        assert table.latex() in doc
        (tmp_path / "t.tex").write_text(doc)
        result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                                 "t.tex"], cwd=tmp_path, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout[-2000:]


def test_summary_spectral_column():
    """Linear layers get their spectral norm (checked against LAPACK on the dense matrix);
    a described convolution has no weights, so no value; non-linear layers none."""
    table = summary("conv 2 3; relu; avgpool 2; flatten", (6,))
    assert not table.spectral and "spectral" not in table.text()  # no weights, no column
    assert table.rows[0].spectral_norm is None  # a description has no weights
    assert table.rows[1].spectral_norm is None  # ReLU is not linear
    assert table.rows[2].spectral_norm is None  # pooling: left out (no weight to read)
    assert table.rows[3].spectral_norm == pytest.approx(1.0)
    if torch is not None:
        model = _randomise(nn.Sequential(nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(8, 3)))
        table = summary(model, (6,))
        assert table.spectral and "spectral norm" in table.text()
        rows = table.rows
        w = model[2].weight.detach().numpy()
        assert rows[0].spectral_norm == pytest.approx(
            np.linalg.norm(convmat.from_torch(model[0], (6,))[0].toarray(), 2), rel=1e-9)
        assert rows[2].spectral_norm == pytest.approx(np.linalg.norm(w, 2), rel=1e-9)


def test_parse_layers_grammar():
    assert parse_layers("a: conv 6 5x5 stride 2 pad same dilation 2 groups 1 mode reflect "
                        "nobias") == [{
                            "type": "conv", "name": "a", "out_channels": 6,
                            "kernel_size": (5, 5), "stride": 2, "padding": "same",
                            "dilation": 2, "groups": 1, "mode": "reflect", "bias": False}]
    assert parse_layers("maxpool 3 stride 2 ceil; upsample 2 bilinear align-corners") == [
        {"type": "maxpool", "kernel_size": 3, "stride": 2, "ceil_mode": True},
        {"type": "upsample", "scale_factor": 2, "mode": "bilinear", "align_corners": True}]
    for bad, message in [("conv 6", "needs out_channels and kernel_size"),
                         ("conv 6 5 banana", "'banana' is not understood"),
                         ("conv 6 5 stride", "stride needs a value"),
                         ("", "has no layers")]:
        with pytest.raises(ConvmatError, match=message):
            parse_layers(bad)


def test_summary_description_errors_name_the_layer():
    with pytest.raises(ConvmatError, match=r"layers\[1\] type='softmaxx'"):
        summary("conv 2 3; softmaxx", (8,))
    with pytest.raises(ConvmatError, match=r"layer 1 \(Conv1d\).*larger than the padded"):
        summary("conv 2 3; conv 2 9", (8,))
    with pytest.raises(ConvmatError, match="unknown keys"):
        summary([{"type": "conv", "out_channels": 2, "kernel": 3, "colour": 1}], (8,))
    with pytest.raises(ConvmatError, match="in summary"):
        summary("pixelshuffle 2", (4, 4))


def test_summary_description_of_every_kind():
    spec = ("conv 4 3 pad same; bn; leakyrelu; pad 1 mode circular; maxpool 2 ceil; "
            "deconv 2 2 stride 2; upsample 2 linear; adaptiveavgpool 5; "
            "adaptivemaxpool 5; dropout; identity; flatten; linear 3 nobias")
    table = summary(spec, (9,), in_channels=2)
    assert [r.output_shape for r in table.rows] == [
        (4, 9), (4, 9), (4, 9), (4, 11), (4, 6), (2, 12), (2, 24), (2, 5), (2, 5), (2, 5),
        (2, 5), (10,), (3,)]
    assert [r.parameters for r in table.rows] == [4 * 2 * 3 + 4, 8, 0, 0, 0, 4 * 2 * 2 + 2,
                                                  0, 0, 0, 0, 0, 0, 30]
    table2 = summary("pixelunshuffle 2; pixelshuffle 2", (4, 6), in_channels=3)
    assert [r.output_shape for r in table2.rows] == [(12, 2, 3), (3, 4, 6)]


# ------------------------------------------------------------------------------------ CLI


def test_cli_summary(capsys):
    assert main(["summary", "--model", "lenet5", "--input", "32x32"]) == 0
    out = capsys.readouterr().out
    assert "conv1  Conv2d      6x28x28" in out and "total                       61,706" in out
    assert main(["summary", "--model", "lenet5-padded", "--input", "28x28"]) == 0
    assert "conv1  Conv2d      6x28x28     156   4704x784" in capsys.readouterr().out
    assert main(["summary", "--layers", "conv 6 5x5 pad 2; avgpool 2", "--input", "28x28",
                 "--format", "markdown"]) == 0
    assert "| AvgPool2d | 6×14×14 |" in capsys.readouterr().out
    assert main(["summary", "--model", "vgg-block", "--input", "32x32", "--in-channels",
                 "3", "--format", "latex"]) == 0
    assert r"\begin{tabular}" in capsys.readouterr().out
    assert main(["summary", "--model", "lenet5", "--input", "32x32", "--format", "latex",
                 "--standalone"]) == 0
    assert r"\documentclass" in capsys.readouterr().out
    assert main(["summary", "--model", "lenet5", "--input", "32x32", "--standalone"]) == 2
    assert "--standalone applies to --format latex" in capsys.readouterr().err
    assert main(["summary", "--layers", "conv 6 5x5 wat", "--input", "28x28"]) == 1
    assert "'wat' is not understood" in capsys.readouterr().err
    assert main(["summary", "--model", "lenet5", "--layers", "relu", "--input", "8"]) == 2
    capsys.readouterr()
    assert main(["summary", "--help"]) == 0  # help is printed, not an exit of the process
    assert "conv C K [stride S]" in capsys.readouterr().out


def test_import_convmat_does_not_import_torch():
    import subprocess

    code = "import sys, convmat; convmat.summary('conv 2 3', (5,)); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert result.stdout.strip() == "False"


def test_summary_rows_are_consistent():
    for name, spec in MODELS.items():
        table = summary(spec, (32, 32), in_channels=3)
        shape = (3, 32, 32)
        for row in table.rows:
            assert row.matrix_shape == (math.prod(row.output_shape), math.prod(shape)), name
            assert 0 < row.density <= 1
            shape = row.output_shape


# ------------------------------------------------------- the chain's factors and products


def _random_factor(kind, rows, cols, rng):
    """A factor of the chain and its dense value: CSR, dense, or Rows (a diagonal or a
    selection with repeated columns and zero values)."""
    from convmat.networks._chain import Rows

    if kind == "csr":
        a = sp.random_array((rows, cols), density=0.3, format="csr", rng=rng)
        return sp.csr_array(a), a.toarray()
    if kind == "dense":
        a = rng.standard_normal((rows, cols))
        return a, a
    if kind == "diag":
        values = rng.standard_normal(rows) * (rng.random(rows) < 0.7)
        return Rows.diag(values), np.diag(values)
    columns = rng.integers(0, cols, rows)
    values = rng.standard_normal(rows) * (rng.random(rows) < 0.8)
    dense = np.zeros((rows, cols))
    dense[np.arange(rows), columns] = values
    return Rows(columns, values, cols), dense


FACTORS = ("csr", "dense", "diag", "rows")


@pytest.mark.parametrize("left", FACTORS)
@pytest.mark.parametrize("right", FACTORS)
@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 9), m=st.integers(1, 9),
       k=st.integers(1, 9))
def test_every_product_of_factors_equals_the_dense_product(left, right, seed, n, m, k):
    """Rows (diagonals, selections) are multiplied by gathering rows and renaming columns;
    every pairing equals NumPy's dense product, and a sparse result is canonical."""
    from convmat.networks._chain import Rows, _product

    rng = np.random.default_rng(seed)
    m = n if "diag" in (left, right) else m  # a diagonal is square
    k = m if right == "diag" else k
    a, a_dense = _random_factor(left, n, m, rng)
    b, b_dense = _random_factor(right, m, k, rng)
    out = _product(a, b, "a test product")
    value = out.toarray() if sp.issparse(out) else (
        np.diag(out.values) if isinstance(out, Rows) and out.diagonal else
        _random_factor_dense(out) if isinstance(out, Rows) else out)
    np.testing.assert_allclose(value, a_dense @ b_dense, atol=1e-12)
    if sp.issparse(out):
        canonical = sp.csr_array(out)
        canonical.sum_duplicates()
        assert np.array_equal(canonical.indices, out.indices)
        assert np.all(out.data != 0) or left == right == "csr"


def _random_factor_dense(rows):
    dense = np.zeros(rows.shape)
    dense[np.arange(rows.shape[0]), rows.columns] = rows.values
    return dense


@pytest.mark.parametrize("shape, zeros", [((10, 64), 0.0), ((7, 9), 0.4), ((3, 4), 1.0),
                                          ((2, 0), 0.0), ((0, 3), 0.0), ((4, 1), 0.5)])
def test_a_dense_result_becomes_the_csr_scipy_makes(shape, zeros):
    """A dense partial product (a whole network's Jacobian) is turned into CSR directly:
    the same canonical arrays as SciPy's conversion, NaN kept, zeros dropped."""
    from convmat.networks._chain import _dense_csr

    rng = np.random.default_rng(5)
    a = rng.standard_normal(shape)
    a[rng.random(shape) < zeros] = 0
    if a.size:
        a.flat[-1] = np.nan
    got, want = _dense_csr(a), sp.csr_array(a)
    assert got.shape == want.shape and got.has_canonical_format
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data, want.data)


@settings(max_examples=60)
@given(geo=geometries(modes=MODES))
def test_conv_rows_and_counts_come_from_the_geometry(geo):
    """A convolution's rows gathered from its cached structure, scaled, equal the rows of
    its matrix; its per-column and per-row stored entries counted from the geometry equal
    the matrix's."""
    from convmat.networks._factors import LazyConv as _LazyConv

    w = RNG.standard_normal((geo.c_out, geo.c_in // geo.groups, *geo.kernel))
    lazy = _LazyConv(w, geo.input_shape, **geo.kwargs())
    a = convmat.conv_matrix(w, geo.input_shape, **geo.kwargs())
    rows = RNG.integers(0, a.shape[0], RNG.integers(1, 2 * a.shape[0] + 1))
    scale = RNG.standard_normal(rows.size)
    scale[::3] = 0  # a dead unit's row stores nothing
    picked = lazy.take_rows(rows, scale)
    np.testing.assert_allclose(picked.toarray(), scale[:, None] * a.toarray()[rows],
                               atol=1e-12)
    assert np.diff(picked.indptr)[scale == 0].sum() == 0
    cols, per_row = lazy.counts()
    np.testing.assert_array_equal(cols, np.bincount(a.indices, minlength=a.shape[1]))
    np.testing.assert_array_equal(per_row, np.diff(a.indptr))


@requires_torch
@pytest.mark.parametrize("values", ["ties", "distinct", "nan"])
def test_tiled_max_pooling_picks_what_autograd_picks(values):
    """Windows that tile the input take the reshape-and-argmax path: with ties (integer
    inputs), NaNs and distinct values the Jacobian is autograd's."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(2, 3, 1, bias=False), nn.MaxPool2d((2, 3))).double()
    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, (2, 6, 9)).astype(float) if values == "ties" else \
        rng.standard_normal((2, 6, 9))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[[[1.0]], [[0.0]]], [[[0.0]], [[1.0]]],
                                            [[[1.0]], [[1.0]]]], dtype=torch.float64))
    if values == "nan":
        x[0, 1, 1] = x[1, 4, 7] = np.nan
    a, _ = convmat.from_torch(model, (6, 9), at=x)
    xt = torch.from_numpy(x[None])
    jac = torch.autograd.functional.jacobian(lambda t: model(t).reshape(-1), xt)
    np.testing.assert_array_equal(a.toarray(), jac.reshape(a.shape).numpy())


def test_windows_maxima_are_guarded_only_when_their_structure_is_built():
    """Overlapping max-pooling windows need the windows' structure (and its argmax
    temporaries): refused past the memory limit, named, before it is built; windows that
    tile the input need only the input, so the same limit lets them through."""
    from convmat import _maxima
    from convmat.pooling import pool_geometry

    x = np.random.default_rng(0).standard_normal((2, 200, 200))
    overlapping = pool_geometry((200, 200), 3, stride=1, channels=2)
    tiling = pool_geometry((200, 200), 2, channels=2)
    with convmat.options.override(memory_limit="64K"):
        with pytest.raises(ConvmatError, match=r"max pooling of shape \(78408, 80000\)"):
            _maxima.window_maxima(x, overlapping, guard="max pooling")
        columns = _maxima.window_maxima(x, tiling, guard="max pooling")
    assert columns.shape == (tiling.shape[0],)
    np.testing.assert_array_equal(x.ravel()[columns],
                                  x.reshape(2, 100, 2, 100, 2).max(axis=(2, 4)).ravel())


@requires_torch
def test_a_jacobian_refuses_overlapping_max_pooling_past_the_limit():
    model = nn.Sequential(nn.MaxPool2d(3, stride=1)).double()
    x = np.random.default_rng(0).standard_normal((2, 200, 200))
    with convmat.options.override(memory_limit="64K"):
        with pytest.raises(ConvmatError, match=r"layer 0 \(MaxPool2d\): max pooling of shape"):
            convmat.from_torch(model, (200, 200), at=x)
