"""The registry of layer kinds, users' converters (``convmat.networks.register``),
``convmat.to_torch_sparse``, and the networks' memory guard and counts from the geometry.

Oracles: PyTorch (module outputs, ``torch.autograd.functional.jacobian``), NumPy's ``np.pad``
and direct sums written here.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convmat
from convmat import ConvmatError
from convmat.networks import _kinds
from convmat.networks._conv_kinds import axis_reads

from .conftest import requires_torch, torch
from .oracle import NUMPY_MODE
from .strategies import MODES

if torch is not None:
    import torch.nn as nn

# ------------------------------------------------------------------------- the registry


def test_every_kind_is_registered_once_with_distinct_words():
    kinds = list(_kinds.KINDS.values())
    assert len({k.name for k in kinds}) == len(kinds) >= 16
    words = [w for k in kinds for w in k.words]
    assert len(words) == len(set(words))  # a word names one kind
    for kind in kinds:
        assert isinstance(kind, (_kinds.LinearKind, _kinds.NonLinearKind))


def test_a_kind_lacking_a_method_or_attribute_fails_loudly():
    """No silent default: a kind without ``stored`` (or without ``words``) is refused when
    it is registered, not counted as ``n_in`` later."""

    class Halfway(_kinds.LinearKind):
        name, words, positional, modules = "halfway", (), (), ()

        def read_module(self, stage, module, ndim): ...
        def read_description(self, stage, take, word, shape): ...
        def first_geometry(self, stage): ...
        def out_shape(self, stage, shape): ...
        def field_step(self, stage, shape): ...
        def spectral(self, stage, shape, norm): ...
        def matrix(self, stage, shape, out_shape): ...

    with pytest.raises(TypeError, match="stored"):
        _kinds.registered(Halfway)

    class Nameless(_kinds.NonLinearKind):
        name, positional, modules = "nameless", (), ()

    with pytest.raises(TypeError, match="words"):
        _kinds.registered(Nameless)
    assert "halfway" not in _kinds.KINDS and "nameless" not in _kinds.KINDS


def test_the_networks_package_has_no_switch_on_kind_names():
    """The kinds are classes: no module of the package compares a kind's name."""
    import pathlib
    import re

    folder = pathlib.Path(convmat.networks.__file__).parent
    pattern = re.compile(r"\bkind(\.name)?\s*(==|!=|not in|in)\s*[\(\"']")
    hits = [f"{p.name}:{n}" for p in folder.glob("*.py")
            for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert hits == []


# ------------------------------------------------------- stored entries from the geometry


def _distinct_reads_oracle(i, k, s, d, b, a, mode, o):
    """Sum over the outputs of the distinct input positions their taps read (np.pad of the
    positions themselves gives the source of every padded position)."""
    if mode == "zeros":
        source = np.pad(np.arange(i), (b, a), mode="constant", constant_values=-1)
    else:
        source = np.pad(np.arange(i), (b, a), mode=NUMPY_MODE[mode])
    total = 0
    for t in range(o):
        taps = source[t * s + d * np.arange(k)]
        total += len(set(taps[taps >= 0].tolist()))
    return total


@settings(max_examples=300, deadline=None)
@given(i=st.integers(1, 12), k=st.integers(1, 5), s=st.integers(1, 4), d=st.integers(1, 3),
       b=st.integers(0, 12), a=st.integers(0, 12), mode=st.sampled_from(MODES))
def test_distinct_reads_per_axis_equal_a_direct_count(i, k, s, d, b, a, mode):
    try:
        convmat.geometry.check_mode(mode, [(b, a)], (i,))
    except ConvmatError:
        assume(False)
    span = d * (k - 1) + 1
    assume(i + b + a >= span)
    o = (i + b + a - span) // s + 1
    assert axis_reads(i, k, s, d, b, mode, o) == _distinct_reads_oracle(i, k, s, d, b, a,
                                                                        mode, o)


@settings(max_examples=100, deadline=None)
@given(i=st.integers(1, 40), o=st.integers(1, 40), c=st.integers(1, 3))
def test_adaptive_average_pooling_entries_equal_the_windows(i, o, c):
    """Window t spans floor(t i / o) to ceil((t + 1) i / o), PyTorch's rule."""
    want = c * sum(math.ceil((t + 1) * i / o) - math.floor(t * i / o) for t in range(o))
    assert convmat.summary(f"adaptiveavgpool {o}", (i,), in_channels=c).rows[0].stored == want


@settings(max_examples=100, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=2),
       pads=st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=2,
                     max_size=2))
def test_zero_padding_entries_equal_numpy_pad_and_crop(shape, pads):
    """A zero padding (negative: a crop) stores one entry per input value that survives."""
    pads = pads[:len(shape)]
    assume(all(i + b + a >= 1 for i, (b, a) in zip(shape, pads)))
    eye = np.eye(math.prod(shape)).reshape(-1, *shape)
    padded = np.pad(eye, [(0, 0)] + [(max(b, 0), max(a, 0)) for b, a in pads])
    crop = tuple(slice(max(-b, 0), padded.shape[1 + n] - max(-a, 0))
                 for n, (b, a) in enumerate(pads))
    want = int(np.count_nonzero(padded[(slice(None), *crop)]))
    spec = {"type": "pad", "padding": [list(p) for p in pads]}
    assert convmat.summary([spec], shape).rows[0].stored == want


@pytest.mark.parametrize("spec, want", [
    ("conv 4 3", 4 * 3 * (2**40 - 2)),       # every tap of every output inside
    ("conv 4 3 pad 1", 4 * (3 * 2**40 - 2)),  # two taps fall in the padding
    ("conv 4 3 pad 2 mode reflect", 4 * (3 * (2**40 + 2) - 2)),  # 1 and 1 merged twice
    ("avgpool 2", 2**40),
    ("avgpool 3 stride 2 pad 1", 3 * (2**39) - 1),
    ("pad 3", 2**40),
    ("pad -1", 2**40 - 2),
    ("upsample 2", 2**41),
    ("upsample 2 linear", 2**41 + 2**41 - 1),
    ("adaptiveavgpool 7", 2**40 + 6),
])
def test_summary_counts_a_huge_input_from_the_geometry(spec, want):
    """``summary`` promises stored entries from the geometry alone: nothing of the input's
    length is allocated (an array of 2**40 entries would need terabytes)."""
    start = time.perf_counter()
    assert convmat.summary(spec, (2**40,)).rows[0].stored == want
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("spec", ["conv 4 3", "upsample 2 linear", "avgpool 3 stride 2 pad 1",
                                  "conv 2 3 pad 2 mode replicate", "adaptiveavgpool 5"])
def test_the_huge_counts_match_the_built_matrix_on_small_inputs(spec):
    """The same formulas as above, on inputs small enough to build the layer's matrix."""
    for n in (1, 2, 5, 16, 33):
        try:
            table = convmat.summary(spec, (n,))
        except ConvmatError:
            continue
        stage_shapes = convmat.networks._descriptions.description_stages(spec, (1, n))
        (stage,), (shape, out) = stage_shapes
        if stage.kind.name == "conv":  # a description has no weights: ones
            stage.weight = np.ones((stage.cfg["out_channels"], 1, 3))
        a, _ = stage.kind.matrix(stage, shape, out)
        a = a.matrix() if hasattr(a, "matrix") else a
        assert table.rows[0].stored == a.nnz, (spec, n)


def test_summary_refuses_an_empty_channel_axis():
    for spec in ("conv 4 3", "bn", "linear 3", "avgpool 2"):
        with pytest.raises(ConvmatError, match=r"in_channels=0 must be positive"):
            convmat.summary(spec, (8,), in_channels=0)
    with pytest.raises(ConvmatError, match=r"in_channels=-2 must be positive"):
        convmat.summary("conv 4 3", (8,), in_channels=-2)


# ----------------------------------------------------------------- from_torch's guard


@requires_torch
@pytest.mark.parametrize("layer, shape", [
    ("Conv2d", (10**5, 10**5)),
    ("Conv1d", (2**61,)),
    ("Conv2d", (12000, 12000)),
    ("AvgPool1d", (2**50,)),
    ("Upsample", (2**40,)),
])
def test_from_torch_refuses_a_huge_layer_at_once(layer, shape):
    """Estimated in closed form before anything is allocated: a ConvmatError in well
    under a second, not a MemoryError, a bare ValueError or 21 s of building."""
    module = {"Conv2d": lambda: nn.Conv2d(1, 1, 3), "Conv1d": lambda: nn.Conv1d(1, 1, 3),
              "AvgPool1d": lambda: nn.AvgPool1d(2),
              "Upsample": lambda: nn.Upsample(scale_factor=2)}[layer]()
    full = (1, *shape)
    start = time.perf_counter()
    with convmat.options.override(memory_limit="4G"):
        with pytest.raises(ConvmatError, match=r"layer 0 \(\w+\): the matrix of shape .* "
                                               r"estimated before allocating"):
            convmat.from_torch(module, full if layer != "Conv2d" else shape)
    assert time.perf_counter() - start < 1


@requires_torch
def test_from_torch_guards_the_layers_together():
    """Each layer fits, all of them together do not."""
    model = nn.Sequential(nn.Conv1d(1, 1, 3, padding=1), nn.Conv1d(1, 1, 3, padding=1))
    one = 16 * 3 * 1000 + 16 * 1000  # about one layer's matrix
    with convmat.options.override(memory_limit=int(1.5 * one)):
        with pytest.raises(ConvmatError, match="the matrices of the network's layers"):
            convmat.from_torch(model, (1000,))


@requires_torch
@pytest.mark.parametrize("features", [1, 3])
def test_batchnorm1d_reads_the_same_with_and_without_a_point(features):
    """``BatchNorm1d(C)`` on ``(C, L)``: ``at`` of shape ``(C, L)`` (or a batch of one) is
    the same input as ``input_shape=(L,)``, also for ``C = 1``."""
    torch.manual_seed(0)
    bn = nn.BatchNorm1d(features).double()
    bn.running_mean.uniform_(-1, 1)
    bn.running_var.uniform_(0.5, 2)
    bn.eval()
    x = np.random.default_rng(0).standard_normal((features, 4))
    a, b = convmat.from_torch(bn, (4,))
    want = bn(torch.from_numpy(x[None]))[0].detach().numpy().ravel()
    for point in (x, x[None]):
        j, c = convmat.from_torch(bn, (4,), at=point)
        np.testing.assert_allclose(j.toarray(), a.toarray())
        np.testing.assert_allclose(j @ x.ravel() + c, want)
    np.testing.assert_allclose(a @ x.ravel() + b, want)


# ---------------------------------------------------------------- users' converters


if torch is not None:
    class NegateShift(nn.Module):
        """y = shift - x: no parameters, no kind of convmat's own."""

        def __init__(self, shift=1.5):
            super().__init__()
            self.shift = shift

        def forward(self, x):
            return self.shift - x

    class ScaledConv(nn.Module):
        """A wrapper with a child (from_torch would look into it) that is not a chain."""

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 3, 3, padding=1)

        def forward(self, x):
            return 2 * self.conv(x) + x.sum(dim=1, keepdim=True)


def _negate_shift(calls):
    def converter(module, input_shape, at):
        calls.append((input_shape, None if at is None else at.shape))
        n = math.prod(input_shape)
        return -sp.eye_array(n, format="csr"), np.full(n, module.shift), input_shape
    return converter


def _scaled_conv(module, input_shape, at):
    w = module.conv.weight.detach().double().numpy()
    conv = convmat.conv_matrix(2 * w, input_shape[1:], padding=1)
    c, *spatial = input_shape
    sums = sp.kron(np.ones((3, c)), sp.eye_array(math.prod(spatial)))  # + x.sum(dim=1)
    bias = np.repeat(2 * module.conv.bias.detach().double().numpy(), math.prod(spatial))
    return sp.csr_array(conv + sums), bias, (3, *spatial)


@requires_torch
def test_a_registered_module_is_read_by_its_converter():
    calls = []
    convmat.networks.register(NegateShift, _negate_shift(calls))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), NegateShift(0.25),
                          nn.AvgPool2d(2)).double()
    x = np.random.default_rng(1).standard_normal((2, 6, 6))
    a, b = convmat.from_torch(model, (6, 6))
    want = model(torch.from_numpy(x[None]))[0].detach().numpy().ravel()
    np.testing.assert_allclose(a @ x.ravel() + b, want, atol=1e-12)
    assert calls == [((3, 6, 6), None)]  # the full input shape, no point; called once


@requires_torch
def test_a_registered_module_in_a_jacobian_matches_autograd():
    calls = []
    convmat.networks.register(NegateShift, _negate_shift(calls))
    torch.manual_seed(2)
    model = nn.Sequential(nn.Conv1d(1, 2, 3), NegateShift(0.1), nn.ReLU(),
                          nn.Conv1d(2, 1, 3)).double()
    x = np.random.default_rng(3).standard_normal((1, 9))
    j, b = convmat.from_torch(model, (9,), at=x)
    xt = torch.from_numpy(x[None])
    jac = torch.autograd.functional.jacobian(lambda t: model(t).reshape(-1), xt)
    np.testing.assert_allclose(j.toarray(), jac.reshape(j.shape).numpy(), atol=1e-12)
    np.testing.assert_allclose(j @ x.ravel() + b, model(xt).detach().numpy().ravel(),
                               atol=1e-12)
    assert ((2, 7), (2, 7)) in calls  # at: the module's own input, as an array


@requires_torch
def test_a_registered_container_is_a_leaf():
    """Without a converter the wrapper is traced and read as a graph; with one it is one layer,
    its output PyTorch's, its summary row the converter's matrix."""
    torch.manual_seed(4)
    model = nn.Sequential(ScaledConv(), nn.ReLU()).double()
    x = np.random.default_rng(5).standard_normal((2, 4, 6))
    xt = torch.from_numpy(x[None])
    jac = torch.autograd.functional.jacobian(lambda t: model(t).reshape(-1), xt)
    j, b = convmat.from_torch(model, (2, 4, 6), at=x)  # read as a graph
    np.testing.assert_allclose(j.toarray(), jac.reshape(j.shape).numpy(), atol=1e-12)
    convmat.networks.register(ScaledConv, _scaled_conv)
    j, b = convmat.from_torch(model, (2, 4, 6), at=x)
    np.testing.assert_allclose(j.toarray(), jac.reshape(j.shape).numpy(), atol=1e-12)
    rows = convmat.summary(model, (2, 4, 6)).rows
    assert rows[0].type == "ScaledConv" and rows[0].output_shape == (3, 4, 6)
    assert rows[0].stored == _scaled_conv(model[0], (2, 4, 6), None)[0].nnz
    assert rows[0].receptive_field is None  # its window is not known


@requires_torch
@pytest.mark.parametrize("bad, message", [
    (lambda m, s, at: "A", "must return \\(A, b, output_shape\\)"),
    (lambda m, s, at: (np.eye(4), None, s), "SciPy sparse array of shape \\(4, 4\\)"),
    (lambda m, s, at: (sp.eye_array(3), None, s), "SciPy sparse array of shape \\(4, 4\\)"),
    (lambda m, s, at: (sp.eye_array(4), np.ones(3), s), "b of 3 values"),
    (lambda m, s, at: (sp.eye_array(4), None, "x"), "output_shape='x'"),
    (lambda m, s, at: (sp.eye_array(4), None, (0, 4)), "positive ints"),
])
def test_a_converter_returning_nonsense_is_named(bad, message):
    class Odd(nn.Module):
        def forward(self, x):
            return x

    convmat.networks.register(Odd, bad)
    with pytest.raises(ConvmatError, match=f"layer 0 \\(Odd\\): the converter of Odd "
                                           f"returned .*{message}"):
        convmat.from_torch(nn.Sequential(Odd()), (1, 4))


def test_register_checks_its_arguments():
    with pytest.raises(ConvmatError, match="module_type='Conv' must be a class"):
        convmat.networks.register("Conv", lambda *a: None)
    with pytest.raises(ConvmatError, match="converter=3 must be callable"):
        convmat.networks.register(type("T", (), {}), 3)


# ------------------------------------------------------------------- to_torch_sparse


@requires_torch
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo", "dia", "matrix"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_to_torch_sparse_holds_the_same_matrix(fmt, dtype):
    rng = np.random.default_rng(7)
    a = sp.random_array((7, 5), density=0.4, format="csr", rng=rng, dtype=dtype)
    if fmt == "coo":  # duplicates: summed, as SciPy's conversion sums them
        coo = a.tocoo()
        a = sp.coo_array((np.concatenate([coo.data, coo.data]),
                          (np.concatenate([coo.row, coo.row]),
                           np.concatenate([coo.col, coo.col]))), shape=a.shape)
    elif fmt == "matrix":
        a = sp.csr_matrix(a)
    elif fmt != "csr":
        a = a.asformat(fmt)
    t = convmat.to_torch_sparse(a)
    assert t.layout == torch.sparse_csr and t.shape == (7, 5)
    assert t.crow_indices().dtype == t.col_indices().dtype == torch.int64
    assert t.dtype == (torch.float64 if dtype == np.float64 else torch.float32)
    np.testing.assert_array_equal(t.to_dense().numpy(), a.toarray())
    x = rng.standard_normal(5).astype(dtype)
    np.testing.assert_allclose((t @ torch.from_numpy(x)).numpy(), a @ x, rtol=1e-6)


@requires_torch
def test_to_torch_sparse_of_a_network_reproduces_the_network():
    torch.manual_seed(6)
    model = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.Flatten(), nn.Linear(18, 4)).double()
    a, b = convmat.from_torch(model, (7, 7))
    x = torch.randn(1, 1, 7, 7, dtype=torch.float64)
    y = convmat.to_torch_sparse(a) @ x.reshape(-1) + torch.from_numpy(b)
    torch.testing.assert_close(y, model(x)[0])
    assert convmat.networks.to_torch_sparse is convmat.to_torch_sparse


def test_to_torch_sparse_refuses_a_dense_array():
    with pytest.raises(ConvmatError, match="A=ndarray must be a SciPy sparse"):
        convmat.to_torch_sparse(np.eye(3))
