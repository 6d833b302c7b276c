"""Summaries of networks that are graphs (residual sums, concatenations) and the text
grammar's blocks ``residual(...)`` and ``cat(...)``.

Oracles, all PyTorch: random small graphs are generated as a structure that gives both the
text description and a real ``torch.nn.Module``; every row's stored entries are checked
against the non-zeros of ``torch.autograd.functional.jacobian`` of that node alone (with
respect to each of its inputs), every receptive field against the support of one output's
gradient in the whole model up to that node, and (with the graph engine) ``from_torch``'s
matrix and Jacobian against ``torch.autograd.functional.jacobian`` of the whole model.
"""

from __future__ import annotations

import math
import subprocess

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import convmat
from convmat import ConvmatError
from convmat.cli import main
from convmat.networks import LAYER_GRAMMAR, summary

from .conftest import requires_pdflatex, requires_torch, torch

if torch is not None:
    import torch.nn as nn

GEOMETRIES_CHECKED: dict[str, int] = {}
FEW = settings(max_examples=25, deadline=None)

BLOCK = ("conv 16 3x3 pad 1; bn; relu; "
         "b1: residual(conv 16 3x3 pad 1; bn; relu; conv 16 3x3 pad 1; bn); relu")


def _count(key: str) -> None:
    GEOMETRIES_CHECKED[key] = GEOMETRIES_CHECKED.get(key, 0) + 1


# ------------------------------------------------------------------ fixed examples


def test_a_residual_block_names_its_inputs_and_its_sum():
    s = summary(BLOCK, (8, 8), in_channels=3)
    names = [r.name for r in s.rows]
    assert names == ["0", "1", "2", "3", "4", "5", "6", "7", "b1", "9"]
    inputs = {r.name: r.inputs for r in s.rows}
    assert inputs["0"] == ("input",) and inputs["3"] == ("2",)
    assert inputs["b1"] == ("7", "2")  # the body's end and the skip connection
    add = s.rows[names.index("b1")]
    n = 16 * 8 * 8
    assert (add.type, add.matrix_shape, add.stored, add.exact) == ("add", (n, 2 * n), 2 * n,
                                                                   True)
    # the body's convolutions add 2 + 2 to the stem's 3x3; the sum keeps the larger field
    assert [r.receptive_field for r in s.rows] == [(3, 3)] * 3 + [(5, 5)] * 3 + \
        [(7, 7)] * 4
    assert s.graph and s.total_parameters == 448 + 32 + 2 * (2320 + 32)


def test_a_downsampling_block_has_its_shortcut_and_cat_stacks_channels():
    s = summary("residual(conv 8 3x3 stride 2 pad 1; relu; conv 8 3x3 pad 1 | "
                "short: conv 8 1x1 stride 2); cat(conv 4 3x3 pad 1 | ); avgpool 2",
                (16, 16), in_channels=4)
    rows = {r.name: r for r in s.rows}
    assert rows["short"].inputs == ("input",) and rows["short"].receptive_field == (1, 1)
    assert rows["4"].inputs == ("2", "short") and rows["4"].receptive_field == (7, 7)
    assert rows["5"].receptive_field == (11, 11)
    assert rows["6"].type == "cat" and rows["6"].inputs == ("5", "4")
    assert rows["6"].output_shape == (12, 8, 8) and rows["6"].stored == 12 * 64
    assert rows["6"].receptive_field == (11, 11)  # the union of 11x11 and 7x7, centred
    assert rows["7"].output_shape == (12, 4, 4) and rows["7"].receptive_field == (13, 13)


def test_a_chain_without_blocks_keeps_its_table():
    chain = "conv 6 5x5 pad 2; avgpool 2; conv 16 5x5"
    s = summary(chain, (28, 28))
    assert not s.graph and "inputs" not in s.text().splitlines()[0]
    graph = summary(f"residual(conv 1 3x3 pad 1); {chain}", (28, 28))
    assert [r.stored for r in graph.rows[2:]] == [r.stored for r in s.rows]


def test_the_graph_table_in_every_format():
    s = summary(BLOCK, (8, 8), in_channels=3)
    text = s.text().splitlines()
    assert text[0].split()[:4] == ["layer", "type", "inputs", "output"]
    assert text[10].split()[:4] == ["b1", "add", "7,", "2"]
    md = s.markdown().splitlines()
    assert md[1] == "| --- | --- | --- | --: | --: | --: | --: | --: | --: |"
    assert "| b1 | add | 7, 2 | 16×8×8 |" in s.markdown()
    latex = s.latex()
    assert r"\begin{tabular}{lllrrrrrr}" in latex and r"b1 & add & 7, 2 &" in latex
    assert LAYER_GRAMMAR.count("residual(") >= 2  # the grammar in `convmat summary --help`


@requires_pdflatex
@pytest.mark.latex
def test_the_graph_table_compiles(tmp_path):
    s = summary("a_1: residual(conv 2 3 pad 1 | x&y: conv 2 1); cat(relu | )", (9,),
                in_channels=2)
    (tmp_path / "g.tex").write_text(s.latex(standalone=True))
    result = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                             "g.tex"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]


def test_the_command_line_prints_the_graph_table(capsys):
    assert main(["summary", "--layers", BLOCK, "--input", "8x8", "--in-channels", "3"]) == 0
    out = capsys.readouterr().out
    assert "inputs" in out.splitlines()[0] and "b1 " in out
    assert main(["summary", "--layers", "residual(conv 1 3 pad 1", "--input", "9"]) == 1
    assert "'(' at position 8" in capsys.readouterr().err


@pytest.mark.parametrize("spec, words", [
    ("conv 4 3 pad 1; residual(conv 4 3 pad 1", ["'(' at position 24", "never closed"]),
    ("relu)", ["')' at position 4", "closes no"]),
    ("relu | tanh", ["'|' is not understood"]),  # a chain (a name may hold '|')
    ("relu | tanh; cat(relu | )", ["'|' at position 5", "outside a block"]),
    ("conv 4 3; block(relu)", ["'block('", "position 10", "not a block"]),
    ("residual(relu) tanh", ["'tanh'", "position 15", "separate layers"]),
    ("residual(relu | relu | relu)", ["position 0", "3 branch(es)"]),
    ("residual( | relu)", ["empty body"]),
    ("cat(relu)", ["two branches"]),
    ("residual(conv 3 3 pad 1)", ["body gives shape (3, 9)", "shortcut (1, 9)"]),
    ("cat(conv 2 3 | relu)", ["cat at position 0", "(2, 7), (1, 9)"]),
    ("residual(relu; conv 1 3 bogus 1)", ["'conv 1 3 bogus 1'", "position 15",
                                          "'bogus' is not understood"]),
    ("a: relu; a: residual(relu)", ["names ['a']"]),
    ("conv 2 3 pad 1, residual(relu)", ["is not a block", "separated by ';', not ','"]),
    ("residual(conv 1 3 pad 1, relu)", ["'1,'", "separated by ';', not ','"]),
    ("input: relu; residual(relu)", ["names ['input']"]),
])
def test_parse_errors_name_the_position_and_the_token(spec, words):
    with pytest.raises(ConvmatError) as info:
        summary(spec, (9,))
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ------------------------------------------------------- random graphs and their oracles
#
# An item is ("conv", out, kernel, dilation), ("act", name), ("pool", kind) or
# ("res", body, shortcut) / ("cat", branches) with body/shortcut/branches lists of items.


@st.composite
def _items(draw, channels: int, depth: int, keep: bool, pool: bool):
    """Items and the channels they end with; ``keep``: end with ``channels`` again."""
    items, c = [], channels
    for _ in range(draw(st.integers(1, 3))):
        choice = draw(st.sampled_from(["conv", "act", "res", "cat", "pool"][:5 if pool else 4]
                                      [:None if depth else 2]))
        if choice == "conv":
            items.append(("conv", draw(st.integers(1, 4)), draw(st.sampled_from([1, 3])),
                          draw(st.sampled_from([1, 2]))))
            c = items[-1][1]
        elif choice == "act":
            items.append(("act", draw(st.sampled_from(["relu", "tanh"]))))
        elif choice == "pool":
            items.append(("pool", draw(st.sampled_from(["avg", "max"]))))
            pool = False
        elif choice == "res":
            body, end = draw(_items(c, depth - 1, True, False))
            shortcut = None
            if draw(st.booleans()):
                shortcut, _ = draw(_items(c, depth - 1, True, False))
            items.append(("res", body, shortcut))
        else:
            branches, out = [], 0
            for _ in range(draw(st.integers(2, 3))):
                branch, end = draw(_items(c, depth - 1, False, False)) if draw(
                    st.booleans()) else ([], c)
                branches.append(branch)
                out += end
            items.append(("cat", branches))
            c = out
    if keep and c != channels:
        items.append(("conv", channels, draw(st.sampled_from([1, 3])), 1))
        c = channels
    return items, c


def _text(items) -> str:
    parts = []
    for item in items:
        if item[0] == "conv":
            _, out, k, d = item
            parts.append(f"conv {out} {k}x{k} pad {d * (k - 1) // 2} dilation {d}")
        elif item[0] == "act":
            parts.append(item[1])
        elif item[0] == "pool":
            parts.append(f"{item[1]}pool 2")
        elif item[0] == "res":
            body = _text(item[1])
            parts.append(f"residual({body})" if item[2] is None else
                         f"residual({body} | {_text(item[2])})")
        else:
            parts.append("cat(" + " | ".join(_text(b) for b in item[1]) + ")")
    return "; ".join(parts)


if torch is not None:
    class _Residual(nn.Module):
        def __init__(self, body, shortcut):
            super().__init__()
            self.body, self.shortcut = body, shortcut

        def forward(self, x):
            return self.body(x) + (x if self.shortcut is None else self.shortcut(x))

    class _Cat(nn.Module):
        def __init__(self, branches):
            super().__init__()
            self.branches = nn.ModuleList(branches)

        def forward(self, x):
            return torch.cat([branch(x) for branch in self.branches], dim=1)


def _module(items, channels: int, smooth: bool = False):
    """The torch module of ``items`` (``smooth``: tanh for every activation and average
    pooling, so that a gradient's support is the receptive field's), and its pieces: one
    ``(function of the node's inputs, number of inputs)`` per node, in the order of the
    summary's rows."""
    layers, pieces, c = [], [], channels
    for item in items:
        if item[0] == "conv":
            _, out, k, d = item
            layer = nn.Conv2d(c, out, k, padding=d * (k - 1) // 2, dilation=d).double()
            c = out
        elif item[0] == "act":
            layer = nn.Tanh() if smooth or item[1] == "tanh" else nn.ReLU()
        elif item[0] == "pool":
            layer = nn.AvgPool2d(2) if smooth or item[1] == "avg" else nn.MaxPool2d(2)
        elif item[0] == "res":
            body, body_pieces, _ = _module(item[1], c, smooth)
            shortcut, short_pieces = None, []
            if item[2] is not None:
                shortcut, short_pieces, _ = _module(item[2], c, smooth)
            layer = _Residual(body, shortcut)
            pieces += body_pieces + short_pieces + [(lambda a, b: a + b, 2)]
            layers.append(layer)
            continue
        else:
            branches, ends = [], 0
            for branch in item[1]:
                module, branch_pieces, end = _module(branch, c, smooth)
                branches.append(module if branch else nn.Identity())
                pieces += branch_pieces
                ends += end
            layers.append(_Cat(branches))
            pieces.append((lambda *xs: torch.cat(xs, dim=1), len(item[1])))
            c = ends
            continue
        layers.append(layer)
        pieces.append((layer, 1))
    return nn.Sequential(*layers), pieces, c


def _structures(pool: bool = True):
    return st.integers(1, 3).flatmap(
        lambda c: st.tuples(st.just(c), _items(c, 2, False, pool).map(lambda t: t[0])))


@requires_torch
@FEW
@given(_structures(), st.integers(0, 2**32 - 1))
def test_stored_entries_are_the_nonzeros_of_each_nodes_jacobian(structure, seed):
    channels, items = structure
    torch.manual_seed(seed % 2**31)
    s = summary(_text(items), (6, 6), in_channels=channels)
    model, pieces, _ = _module(items, channels)
    assert len(pieces) == len(s.rows)
    shapes = {"input": (channels, 6, 6)}
    rng = np.random.default_rng(seed)
    previous = "input"
    for row, (piece, n_inputs) in zip(s.rows, pieces):
        inputs = row.inputs if s.graph else (previous,)  # a chain: each reads the last
        previous = row.name
        assert len(inputs) == n_inputs
        xs = tuple(torch.from_numpy(rng.standard_normal((1, *shapes[i]))) for i in inputs)
        with torch.no_grad():
            out = piece(*xs)
        shapes[row.name] = tuple(out.shape[1:])
        assert row.output_shape == shapes[row.name]
        jac = torch.autograd.functional.jacobian(
            lambda *t, piece=piece: piece(*t).reshape(-1), xs)
        blocks = jac if isinstance(jac, tuple) else (jac,)
        nnz = sum(int((b != 0).sum()) for b in blocks)
        assert row.matrix_shape == (out.numel(), sum(x.numel() for x in xs))
        if row.exact:
            assert nnz == row.stored, (row, nnz)
        else:  # an activation's or max pooling's Jacobian at a point: at most the bound
            assert nnz <= row.stored
        _count("stored entries")


def _support_span(model, channels: int, size: int, out_shape: tuple) -> tuple[int, int]:
    """The span, per spatial dim, of the inputs that output ``out_shape``'s centre
    position (every channel) depends on: the support of its gradient."""
    x = torch.randn(1, channels, size, size, dtype=torch.float64, requires_grad=True)
    y = model(x)
    centre = tuple(n // 2 for n in out_shape[1:])
    y[(0, slice(None), *centre)].sum().backward()
    rows, cols = np.nonzero(np.abs(x.grad[0].numpy()).sum(axis=0))
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


@requires_torch
@FEW
@given(_structures(), st.integers(0, 2**31 - 1))
def test_receptive_fields_are_the_span_of_a_gradients_support(structure, seed):
    channels, items = structure
    torch.manual_seed(seed)
    size = 64
    s = summary(_text(items), (size, size), in_channels=channels)
    last = s.rows[-1]
    assume(max(last.receptive_field) <= size // 2)  # the centre's window lies inside
    model, _, _ = _module(items, channels, smooth=True)
    assert _support_span(model, channels, size, last.output_shape) == last.receptive_field
    _count("receptive fields")


def _graph_engine_merged() -> bool:
    """Whether from_torch reads graphs (the graph engine): until then, the tests that
    need it skip."""
    try:
        convmat.from_torch(_Residual(nn.Conv2d(1, 1, 3, padding=1), None), (1, 5, 5))
    except ConvmatError:
        return False
    return True


@requires_torch
@FEW
@given(_structures(), st.integers(0, 2**31 - 1))
def test_random_graphs_jacobian_is_pytorchs(structure, seed):
    if not _graph_engine_merged():
        pytest.skip("from_torch does not read graphs yet")
    channels, items = structure
    torch.manual_seed(seed)
    model, _, _ = _module(items, channels)
    shape = (channels, 6, 6)
    x = np.random.default_rng(seed).standard_normal(shape)
    J, b = convmat.from_torch(model, shape, at=x)
    xt = torch.from_numpy(x[None])
    jac = torch.autograd.functional.jacobian(lambda t: model(t).reshape(-1), xt)
    expected = jac.reshape(J.shape).numpy()
    scale = max(1.0, np.abs(expected).max())
    assert np.abs(J.toarray() - expected).max() <= 1e-12 * scale
    with torch.no_grad():
        y = model(xt).numpy().ravel()
    assert np.allclose(J @ x.ravel() + b, y, rtol=1e-12, atol=1e-12 * scale)
    if all(item[0] != "act" and item[0] != "pool" for item in items) and \
            "relu" not in _text(items) and "tanh" not in _text(items) \
            and "maxpool" not in _text(items):
        A, _ = convmat.from_torch(model, shape)
        assert np.abs(A.toarray() - expected).max() <= 1e-12 * scale
    _count("graph jacobians")


@requires_torch
def test_a_torch_graphs_summary_matches_its_description():
    if not _graph_engine_merged():
        pytest.skip("from_torch does not read graphs yet")
    items = [("conv", 4, 3, 1), ("act", "relu"),
             ("res", [("conv", 4, 3, 1), ("act", "relu"), ("conv", 4, 3, 1)], None),
             ("cat", [[("conv", 2, 3, 1)], [("act", "tanh")]])]
    model, _, _ = _module(items, 2)
    s = summary(model, (2, 12, 12))
    t = summary(_text(items), (12, 12), in_channels=2)
    assert s.graph
    def key(r):
        return (r.type.lower().removeprefix("torch."), r.output_shape, r.stored,
                r.receptive_field, len(r.inputs), r.parameters)

    assert [key(r) for r in s.rows] == [key(r) for r in t.rows]
    assert s.rows[-1].inputs == (s.rows[-3].name, s.rows[-2].name)  # cat(conv, tanh)
    assert math.isclose(s.total_parameters, sum(p.numel() for p in model.parameters()))


@requires_torch
def test_every_operation_of_a_torch_graph_against_its_jacobian():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)

        def forward(self, x):
            d = self.conv(x) - x
            g = torch.sigmoid(x.mean((2, 3), keepdim=True))
            a = (d * g) * 2.0 - 1.0
            c = torch.cat([a, x], dim=3)
            return torch.stack([c, c], dim=1).flatten(1)

    torch.manual_seed(0)
    s = summary(Mixed().double(), (2, 6, 6), spectral=True)
    rows = {r.name: r for r in s.rows}
    rng = np.random.default_rng(0)

    def nnz(f, *shapes):
        xs = tuple(torch.from_numpy(rng.standard_normal((1, *shape))) for shape in shapes)
        jac = torch.autograd.functional.jacobian(lambda *t: f(*t).reshape(-1), xs)
        return sum(int((b != 0).sum()) for b in jac)

    n = 2 * 6 * 6
    sub, mean, mul, cat = rows["sub"], rows["mean"], rows["mul"], rows["cat"]
    assert sub.inputs == ("conv", "x") and sub.exact and sub.receptive_field == (3, 3)
    assert sub.stored == nnz(lambda a, b: a - b, (2, 6, 6), (2, 6, 6)) == 2 * n
    assert math.isclose(sub.spectral_norm, math.sqrt(2))
    assert mean.stored == nnz(lambda t: t.mean((2, 3), keepdim=True), (2, 6, 6)) == n
    assert mean.receptive_field is None  # every position mixed: the field ends
    assert mul.inputs == ("sub", "sigmoid") and not mul.exact and not mul.linear
    assert nnz(lambda a, b: a * b, (2, 6, 6), (2, 1, 1)) <= mul.stored == 2 * n
    affine = [r for r in s.rows if r.type == "affine"]
    assert len(affine) == 2 and all(r.matrix_shape == (n, n) for r in affine)
    assert affine[0].stored == nnz(lambda t: t * 2.0, (2, 6, 6))
    assert cat.stored == nnz(lambda a, b: torch.cat([a, b], dim=3), (2, 6, 6), (2, 6, 6))
    assert cat.output_shape == (2, 6, 12) and cat.receptive_field is None  # the gate's mean
    assert s.rows[-1].output_shape == (2 * 2 * 6 * 12,)
    assert s.total_parameters == 38


@requires_torch
@pytest.mark.parametrize("dim, field", [(1, (3, 3)), (-3, (3, 3)), (3, None)])
def test_a_concatenation_keeps_the_field_along_channels_only(dim, field):
    class Cat(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, x):
            return torch.cat([self.conv(x), x], dim=dim)

    s = summary(Cat(), (1, 8, 8))
    assert s.rows[-1].receptive_field == field


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("()|;: ") + ["conv 2 3", "pad 1", "relu", "residual",
                                                  "cat", "avgpool 2", "x", "a:", "3x3", "-1",
                                                  "é"]), max_size=20).map("".join))
def test_any_text_is_a_table_or_a_convmat_error(spec):
    try:
        s = summary(spec, (9,))
    except ConvmatError:
        return
    assert s.text() and s.markdown() and s.latex()


@pytest.mark.parametrize("input_shape, in_channels, words", [
    ((0, 8), None, "input_shape"), ("8x8", None, "input_shape"), ((8, 8), 0, "in_channels=0"),
    ((8, 8), 2.5, "in_channels"), ((10**30, 10**30), None, "out of range"), ((2,), None, "layer"),
])
def test_a_graph_description_with_bad_shapes_is_a_convmat_error(input_shape, in_channels,
                                                                 words):
    with pytest.raises(ConvmatError, match=words):
        summary("conv 2 3x3 pad 1; residual(conv 2 3x3 pad 1); avgpool 2", input_shape,
                in_channels=in_channels)
