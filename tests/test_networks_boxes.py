"""Chains of convolutions, activations and max pooling multiplied from the output end as
dense boxes (convmat.networks._boxes): exact against PyTorch's autograd (integer weights
and inputs: every sum exact, ties in the pools and ReLU's kink included), canonical CSR,
and the sparse products taken instead when the boxes do not apply or give up."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import convmat
from convmat.networks import _boxes, _chain

from .conftest import requires_torch, torch

GEOMETRIES_CHECKED = {"box chains": 0, "box chains through the boxes": 0}


def _spy(monkeypatch) -> list:
    """The results of every call of the boxes (None: not applied or gave up)."""
    seen: list = []
    real = _boxes.box_rows

    def spy(mats, what):
        out = real(mats, what)
        seen.append(out)
        return out
    monkeypatch.setattr(_chain, "box_rows", spy)
    return seen


def _jacobian(model, x: np.ndarray) -> np.ndarray:
    """PyTorch's autograd Jacobian of the flat output at ``x``, float64."""
    xt = torch.from_numpy(x)
    j = torch.autograd.functional.jacobian(lambda t: model(t[None]).reshape(-1), xt)
    return j.detach().reshape(-1, x.size).numpy()


def _check_canonical(a) -> None:
    """Sorted, distinct columns in every row, checked directly on the CSR arrays."""
    for r in range(a.shape[0]):
        cols = a.indices[a.indptr[r]:a.indptr[r + 1]]
        assert np.all(np.diff(cols) > 0)
    assert np.all(a.data != 0)


layers = st.fixed_dictionaries({
    "c": st.integers(1, 3), "k": st.integers(1, 3), "stride": st.integers(1, 2),
    "dilation": st.integers(1, 2), "padding": st.integers(0, 2),
    "groups": st.sampled_from([1, 1, 2]), "act": st.sampled_from(["relu", "none", "leaky"]),
    "pool": st.sampled_from([None, None, (2, 2, 0), (3, 2, 1), (2, 1, 0), (3, 3, 1)]),
    "ceil": st.booleans()})


def _chain_model(specs, c_in: int, mode: str, seed: int):
    """A chain conv [activation] [max pool] per spec, integer weights in [-2, 2]."""
    mods, c = [], c_in
    for i, s in enumerate(specs):
        groups = s["groups"] if c % s["groups"] == 0 else 1
        out = s["c"] * groups
        mods.append(torch.nn.Conv2d(c, out, s["k"], stride=s["stride"], dilation=s["dilation"],
                                    padding=s["padding"], groups=groups,
                                    padding_mode=mode if i == 0 else "zeros"))
        if s["act"] == "relu":
            mods.append(torch.nn.ReLU())
        elif s["act"] == "leaky":
            mods.append(torch.nn.LeakyReLU(0.5))
        if s["pool"] is not None:
            k, st_, p = s["pool"]
            mods.append(torch.nn.MaxPool2d(k, stride=st_, padding=p, ceil_mode=s["ceil"]))
        c = out
    model = torch.nn.Sequential(*mods).double().eval()
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randint(-2, 3, p.shape, generator=gen, dtype=torch.float64))
    return model


@requires_torch
@given(st.lists(layers, min_size=2, max_size=3), st.integers(1, 2), st.integers(6, 13),
       st.sampled_from(["zeros", "zeros", "zeros", "reflect", "circular"]),
       st.integers(0, 2**31))
def test_box_chain_equals_autograd_exactly(specs, c_in, size, mode, seed):
    """Random chains (strides, paddings, padding modes, dilations, groups, channels, max
    pools with padding and ceil_mode, integer inputs: ties): from_torch at x equals
    PyTorch's autograd entry for entry, canonical CSR storing exactly its non-zeros."""
    model = _chain_model(specs, c_in, mode, seed)
    x = np.random.default_rng(seed).integers(-2, 3, (c_in, size, size)).astype(float)
    try:
        y = model(torch.from_numpy(x[None]))
    except RuntimeError:  # the input is too small for this chain
        return
    if y.numel() == 0:
        return
    want = _jacobian(model, x)
    seen: list = []
    real = _boxes.box_rows
    with mock.patch.object(_chain, "box_rows", lambda m, w: seen.append(real(m, w)) or seen[-1]):
        a, b = convmat.from_torch(model, (c_in, size, size), at=x)
    GEOMETRIES_CHECKED["box chains through the boxes"] += any(s is not None for s in seen)
    assert np.array_equal(a.toarray(), want)
    assert a.nnz == np.count_nonzero(want)
    _check_canonical(a)
    assert np.allclose(a @ x.ravel() + b, y.detach().numpy().ravel(), rtol=0, atol=1e-9)
    GEOMETRIES_CHECKED["box chains"] += 1


@requires_torch
def test_lenet_conv_part_takes_the_boxes_and_equals_autograd(monkeypatch):
    """LeNet-5's convolutional part at a random point: the boxes are taken (no sparse
    product) and the Jacobian equals autograd's to 1e-12, with ties (an input of few
    values) resolved as PyTorch resolves them."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2)).double().eval()
    seen = _spy(monkeypatch)
    points = (np.random.default_rng(0).standard_normal((1, 32, 32)),
              np.random.default_rng(1).integers(0, 2, (1, 32, 32)).astype(float))
    results = []
    for x in points:
        a, _ = convmat.from_torch(model, (1, 32, 32), at=x)
        want = _jacobian(model, x)
        assert np.abs(a.toarray() - want).max() <= 1e-12 * np.abs(want).max()
        assert a.shape == (576, 1024) and a.has_canonical_format
        _check_canonical(a)
        results.append((a, want))
    assert len(seen) == 2 and all(s is not None for s in seen)
    # the work arrays the boxes keep between calls are not the result's: the first
    # Jacobian is intact after the second was computed in the same arrays
    first, want = results[0]
    assert np.abs(first.toarray() - want).max() <= 1e-12 * np.abs(want).max()


@requires_torch
@pytest.mark.parametrize("setting", [dict(BLOCK=1), dict(BOX_LIMIT=1), dict(DENSITY=0),
                                     dict(SCRATCH_MOST=0), dict(BLOCK=1, SCRATCH_MOST=0)])
def test_boxes_in_blocks_or_given_up_give_the_same_matrix(setting, monkeypatch):
    """Blocks of a few rows (BLOCK tiny), every work array fresh instead of kept
    (SCRATCH_MOST 0: the result's arrays are the work arrays, shrunk), or the boxes giving
    up (BOX_LIMIT, DENSITY): the same Jacobian, from the sparse products when given up."""
    torch.manual_seed(3)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.Tanh(), torch.nn.Conv2d(4, 2, 1),
        torch.nn.MaxPool2d(2, ceil_mode=True)).double().eval()
    x = np.random.default_rng(3).standard_normal((2, 14, 14))
    for name, value in setting.items():
        monkeypatch.setattr(_boxes, name, value)
    seen = _spy(monkeypatch)
    a, _ = convmat.from_torch(model, (2, 14, 14), at=x)
    want = _jacobian(model, x)
    assert np.abs(a.toarray() - want).max() <= 1e-12 * np.abs(want).max()
    _check_canonical(a)
    assert (seen[0] is None) == ("BOX_LIMIT" in setting or "DENSITY" in setting)


@requires_torch
def test_linear_chain_matrix_and_bias_through_the_boxes(monkeypatch):
    """A chain of convolutions without a point: the matrix and its bias carried through,
    ``A x + b`` equal to the model's output."""
    torch.manual_seed(4)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding=1, dilation=1), torch.nn.Conv2d(3, 4, 3, stride=2,
                                                                          dilation=2),
        torch.nn.Conv2d(4, 2, 2, groups=2)).double().eval()
    seen = _spy(monkeypatch)
    a, b = convmat.from_torch(model, (2, 11, 11))
    assert seen and seen[0] is not None
    x = np.random.default_rng(4).standard_normal((2, 11, 11))
    y = model(torch.from_numpy(x[None])).detach().numpy().ravel()
    assert np.abs(a @ x.ravel() + b - y).max() <= 1e-12 * np.abs(y).max()
    want = _jacobian(model, x)
    assert np.abs(a.toarray() - want).max() <= 1e-12 * np.abs(want).max()


@requires_torch
@pytest.mark.parametrize("layers", [
    # boxes crossing every border of a padded layer's grid before a pool's selection
    lambda nn: [nn.Conv2d(1, 2, 3, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(2, 2, 3, padding=1)],
    # overlapping windows (two outputs may pick one input), padding, ceil_mode
    lambda nn: [nn.Conv2d(2, 3, 3, padding=1), nn.MaxPool2d(3, stride=2, padding=1,
                                                            ceil_mode=True),
                nn.ReLU(), nn.Conv2d(3, 2, 2, padding=1), nn.MaxPool2d(2, ceil_mode=True)],
    # a pool at both ends, dilation, a 1-D chain
    lambda nn: [nn.MaxPool1d(2), nn.Conv1d(2, 3, 3, dilation=2, padding=3), nn.ReLU(),
                nn.MaxPool1d(3, stride=2), nn.Conv1d(3, 2, 2, stride=2)],
])
def test_boxes_at_borders_and_overlapping_pools(layers, monkeypatch):
    """Boxes over the zero padding of a layer's grid, overlapping pool windows (entries that
    meet are summed), a selection ending the chain: equal to autograd exactly (integer
    weights and inputs, ties), through the boxes."""
    nn = torch.nn
    model = nn.Sequential(*layers(nn)).double().eval()
    gen = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randint(-2, 3, p.shape, generator=gen, dtype=torch.float64))
    shape = (2, 17) if isinstance(model[0], nn.MaxPool1d) else (model[0].in_channels, 11, 11)
    x = np.random.default_rng(5).integers(-2, 3, shape).astype(float)
    seen = _spy(monkeypatch)
    a, _ = convmat.from_torch(model, shape, at=x)
    assert seen and seen[0] is not None
    want = _jacobian(model, x)
    assert np.array_equal(a.toarray(), want) and a.nnz == np.count_nonzero(want)
    _check_canonical(a)
