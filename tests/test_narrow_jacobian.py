"""The Jacobian of a chain with a narrow output (a classifier) at a point: from_torch goes
from the output end with PyTorch's kernels (convmat.networks._torch_reverse). Checked
against torch.autograd.functional.jacobian in float64 (1e-12), on LeNet-5 and on random
small chains ending in Linear layers; a model whose weights change between calls gives
the new Jacobian."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convmat
from convmat.networks import _torch_reverse
from convmat.networks._from_torch import _input_shape, _shapes, _torch_stages

from .conftest import requires_torch, torch
from .test_networks import _randomise

if torch is not None:
    from torch import nn

GEOMETRIES_CHECKED: dict[str, int] = {}


def _autograd(model, x):
    """The oracle: torch.autograd.functional.jacobian of a float64 copy, and the output."""
    model = copy.deepcopy(model).double()
    xt = torch.tensor(x[None], dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(lambda t: model(t).reshape(-1), xt)
    with torch.no_grad():
        y = model(xt).numpy().ravel()
    return jac.reshape(-1, x.size).numpy(), y


def _narrow_taken(model, x) -> bool:
    """Whether from_torch's narrow-output path takes this chain at x."""
    stages = _torch_stages(model)
    shapes = _shapes(stages, _input_shape(stages, x.shape, x))
    return _torch_reverse.narrow_jacobian(stages, shapes, x) is not None


def _check(model, x, atol=1e-12):
    a, b = convmat.from_torch(model, x.shape, at=x)
    jac, y = _autograd(model, x)
    assert isinstance(a, sp.csr_array)
    assert a.dtype == np.float64 and a.has_canonical_format and a.has_sorted_indices
    assert a.indices.dtype == np.int32 and a.indptr.dtype == np.int32
    assert not (a.data == 0).any()  # only the non-zeros stored
    scale = max(1.0, float(np.abs(jac).max()))
    np.testing.assert_allclose(a.toarray(), jac, rtol=0, atol=atol * scale)
    np.testing.assert_allclose(a @ x.ravel() + b, y, rtol=0, atol=1e-12 * max(1.0, abs(y).max()))
    return a, b


def lenet5(act, pool):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), act(), pool(2), nn.Conv2d(6, 16, 5), act(), pool(2),
        nn.Flatten(), nn.Linear(576, 120), act(), nn.Linear(120, 84), act(),
        nn.Linear(84, 10))


@requires_torch
@pytest.mark.parametrize("act,pool", [("ReLU", "MaxPool2d"), ("Tanh", "AvgPool2d")])
def test_lenet5_by_the_narrow_path(act, pool):
    model = _randomise(lenet5(getattr(nn, act), getattr(nn, pool)))
    x = np.random.default_rng(1).standard_normal((1, 32, 32))
    assert _narrow_taken(model, x)
    a, _ = _check(model, x)
    assert a.shape == (10, 1024)


@requires_torch
def test_changed_weights_give_the_new_jacobian():
    """Nothing is kept from one call to the next: weights edited in place (and a layer's
    configuration) are read again."""
    model = _randomise(lenet5(nn.ReLU, nn.MaxPool2d))
    x = np.random.default_rng(2).standard_normal((1, 32, 32))
    first, _ = _check(model, x)
    with torch.no_grad():
        model[0].weight.mul_(-1.5)
        model[3].weight.add_(0.1)
        model[7].bias.add_(1.0)
        model[11].weight.mul_(2.0)
    second, _ = _check(model, x)
    assert abs(second - first).max() > 1e-3
    model[0].padding_mode = "reflect"  # the same module read with its new padding
    third, _ = _check(model, x)
    assert abs(third - second).max() > 1e-6
    model[3].weight = nn.Parameter(torch.randn_like(model[3].weight))  # a new parameter
    fourth, _ = _check(model, x)
    assert abs(fourth - third).max() > 1e-3


@requires_torch
def test_float32_model_is_read_in_float64():
    model = lenet5(nn.ReLU, nn.MaxPool2d).eval()  # float32 parameters
    x = np.random.default_rng(3).standard_normal((1, 32, 32))
    assert _narrow_taken(model, x)
    _check(model, x)


@requires_torch
def test_max_pool_ties_and_relu_kinks():
    """Integer inputs: max pooling's windows tie (PyTorch's choice is kept), ReLU sees 0."""
    model = _randomise(nn.Sequential(nn.MaxPool2d(2, stride=1), nn.ReLU(), nn.Flatten(),
                                     nn.Linear(2 * 5 * 5, 3)))
    x = np.random.default_rng(4).integers(-1, 2, (2, 6, 6)).astype(np.float64)
    assert _narrow_taken(model, x)
    _check(model, x)


@requires_torch
def test_other_chains_keep_the_general_path():
    """A layer without a rule (LayerNorm), an output that is not narrow: the general path,
    the same Jacobian."""
    layer_norm = _randomise(nn.Sequential(nn.Conv1d(2, 3, 3), nn.LayerNorm(6), nn.Flatten(),
                                          nn.Linear(18, 2)))
    x = np.random.default_rng(5).standard_normal((2, 8))
    assert not _narrow_taken(layer_norm, x)
    _check(layer_norm, x)
    wide = _randomise(nn.Sequential(nn.Conv1d(2, 3, 3), nn.Tanh(), nn.Flatten(),
                                    nn.Linear(18, 10)))
    assert not _narrow_taken(wide, x)
    _check(wide, x)


# ------------------------------------------------------------- random chains, narrow end

MODES = ["zeros", "reflect", "replicate", "circular"]


@st.composite
def _features(draw, n: int, channels: int, size: tuple):
    """One layer of the convolutional part: (module, channels, size) or None (invalid)."""
    what = draw(st.sampled_from(["conv", "conv", "act", "maxpool", "avgpool", "bn",
                                 "convt", "adaptive", "pad", "upsample"]))
    if what in ("conv", "convt"):
        groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
        out = groups * draw(st.integers(1, 2))
        k = draw(st.integers(1, 3))
        s = draw(st.integers(1, 2))
        d = draw(st.integers(1, 2))
        if what == "convt":
            p = draw(st.integers(0, 1))
            q = draw(st.integers(0, max(s, d) - 1))
            return (getattr(nn, f"ConvTranspose{n}d")(channels, out, k, stride=s, padding=p,
                                                      output_padding=q, dilation=d,
                                                      groups=groups), out)
        mode = draw(st.sampled_from(MODES))
        padding = "same" if s == 1 and draw(st.booleans()) else draw(st.integers(0, 2))
        return (getattr(nn, f"Conv{n}d")(channels, out, k, stride=s, padding=padding,
                                         dilation=d, groups=groups, padding_mode=mode), out)
    if what == "act":
        name = draw(st.sampled_from(["ReLU", "Tanh", "LeakyReLU", "GELU", "ELU", "Sigmoid",
                                     "Softplus", "Hardtanh"]))
        return getattr(nn, name)(), channels
    if what in ("maxpool", "avgpool"):
        k = draw(st.integers(1, 3))
        s = draw(st.integers(1, k))
        p = draw(st.integers(0, k // 2))
        ceil = draw(st.booleans())
        if what == "maxpool":
            return (getattr(nn, f"MaxPool{n}d")(k, s, p, dilation=draw(st.integers(1, 2)),
                                                ceil_mode=ceil), channels)
        return (getattr(nn, f"AvgPool{n}d")(k, s, p, ceil_mode=ceil,
                                            count_include_pad=draw(st.booleans())), channels)
    if what == "bn":
        return getattr(nn, f"BatchNorm{n}d")(channels), channels
    if what == "adaptive":
        out = tuple(max(1, i - draw(st.integers(0, 2))) for i in size)
        cls = draw(st.sampled_from(["AdaptiveMaxPool", "AdaptiveAvgPool"]))
        return getattr(nn, f"{cls}{n}d")(out if n > 1 else out[0]), channels
    if what == "pad":
        pads = tuple(draw(st.integers(0, 1)) for _ in range(2 * n))
        cls = draw(st.sampled_from(["ZeroPad", "ReplicationPad", "ReflectionPad"]))
        if cls == "ZeroPad" and n != 2:
            cls = "ConstantPad"
            return getattr(nn, f"{cls}{n}d")(pads, 0.5), channels
        return getattr(nn, f"{cls}{n}d")(pads), channels
    return nn.Upsample(scale_factor=2, mode=draw(st.sampled_from(
        ["nearest", "linear" if n == 1 else "bilinear"]))), channels


@st.composite
def narrow_chains(draw):
    n = draw(st.sampled_from([1, 2, 2]))
    channels = draw(st.integers(1, 3))
    size = tuple(draw(st.integers(4, 8)) for _ in range(n))
    layers, c = [], channels
    for _ in range(draw(st.integers(1, 4))):
        layer, c = draw(_features(n, c, size))
        layers.append(layer)
    hidden = draw(st.integers(8, 12))
    out = draw(st.integers(1, 2))
    act = getattr(nn, draw(st.sampled_from(["ReLU", "Tanh", "SiLU"])))
    body = nn.Sequential(*layers)
    x = np.random.default_rng(draw(st.integers(0, 99))).standard_normal((channels, *size))
    if draw(st.booleans()):  # ties: few distinct values
        x = np.round(x)
    try:
        with torch.no_grad():
            features = body.double()(torch.tensor(x[None])).numel()
    except (RuntimeError, ValueError):  # a geometry PyTorch refuses
        assume(False)
    model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(features, hidden), act(),
                          nn.Linear(hidden, out))
    return _randomise(model, draw(st.integers(0, 99))), x


@requires_torch
@settings(max_examples=60, deadline=None)
@given(narrow_chains())
def test_random_narrow_chains_equal_autograd(case):
    model, x = case
    taken = _narrow_taken(model, x)
    assume(taken)  # every layer drawn has a rule; a chain that is not narrow is not drawn
    _check(model, x)
    GEOMETRIES_CHECKED["narrow_chains"] = GEOMETRIES_CHECKED.get("narrow_chains", 0) + 1
