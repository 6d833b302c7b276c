"""The LaTeX test table: every option of ``to_latex`` (and ``equations_to_latex``) on numeric,
symbolic and Kong & Lucey inputs, as math fragments. ``tests/test_engines.py`` renders every
case with pdfLaTeX, KaTeX and MathJax 3, and the overlay cases with beamer."""

from __future__ import annotations

import numpy as np
import sympy

import convmat
from convmat import symbolic
from convmat._choices import ENVIRONMENTS
from convmat.geometry import convolution_geometry
from convmat.latex import equations_to_latex, to_latex


def cases() -> dict[str, str]:
    """Name -> math fragment."""
    A = symbolic.conv_matrix((2, 2), (3, 3))
    numeric = convmat.conv_matrix(np.arange(1, 10).reshape(3, 3), (5, 5), padding=1)
    channels = symbolic.conv_matrix((2, 2, 2, 2), (3, 3))
    big = convmat.conv_matrix(np.linspace(-1, 1, 9).reshape(3, 3), (32, 32), padding=1)
    out: dict[str, str] = {}
    for env in ENVIRONMENTS:
        out[f"env-{env}-plain"] = to_latex(A, environment=env, blocks=None)
        out[f"env-{env}-blocks-y=Ax"] = to_latex(A, environment=env, x="x", y="y")
        out[f"env-{env}-wide"] = to_latex(np.arange(12)[None, :], environment=env)
    for zero in ("0", "cdot", "blank"):
        out[f"zero-{zero}"] = to_latex(numeric, zero=zero, max_cols=12, max_rows=8)
    for highlight in ("boxed", "bold", "color"):
        out[f"highlight-{highlight}"] = to_latex(A, x="x", y="y", highlight_row=2,
                                                 highlight=highlight)
        out[f"highlight-{highlight}-grid"] = to_latex(
            numeric, x="x", y="y", grid=True, highlight_row=12, highlight=highlight)
    out.update({
        "channels-double-rules": to_latex(channels, zero="cdot", max_cols=14, x="x", y="y"),
        "channels-grid": to_latex(channels, x="x", y="y", grid=True, highlight_row=5),
        "elided-1024": to_latex(big, max_rows=12, max_cols=16, precision=2, x="x", y="y"),
        "elided-1024-pmatrix-blank": to_latex(big, environment="pmatrix", zero="blank"),
        "numbers": to_latex(np.array([[0.5, 1 / 3, 2.5e-7, -1e12],
                                      [np.nan, -np.inf, 1 + 2j, -1j]]), precision=3),
        "sympy-rationals": to_latex(sympy.Matrix([[sympy.Rational(1, 2), sympy.sqrt(2)],
                                                  [sympy.Symbol("alpha"), 0]])),
        "transposed": to_latex(symbolic.conv_transpose_matrix((2, 2), (2, 2), stride=2),
                               x="x", y="y"),
        "transposed-numeric-vmatrix": to_latex(
            convmat.conv_transpose_matrix(np.ones((3, 3), dtype=int), (3, 3), stride=2),
            environment="vmatrix", zero="blank"),
        "three-d": to_latex(symbolic.conv_matrix((2, 2, 2), (3, 3, 3)), max_cols=30, x="x"),
        "explicit-blocks": to_latex(np.arange(36).reshape(6, 6), blocks=((4, 2), (3,))),
        "explicit-entries": to_latex(np.eye(2, dtype=int), x=[r"\alpha", 1.5],
                                     y=sympy.symbols("u v")),
        "base-1": to_latex(symbolic.conv_matrix((2, 2), (3, 3), base=1), x="x", y="y",
                           grid=True),
        "spacing-1": to_latex(A, spacing=1, x="x"),
        "spacing-2": to_latex(A, spacing=2, y="y"),
        "geometry-given": to_latex(numeric.toarray(), geometry=convolution_geometry(
            (5, 5), (3, 3), padding=1), x="x", max_cols=None, max_rows=None),
        "equations": equations_to_latex(symbolic.product(channels), max_rows=5),
    })
    kls = {
        "kl-numeric": convmat.kong_lucey(np.arange(1, 10).reshape(3, 3), (6, 6), stride=2,
                                         padding=1),
        "kl-symbolic": symbolic.kong_lucey((3,), (7,), stride=2, name="h"),
        "kl-reflect": symbolic.kong_lucey((3,), (6,), stride=3, padding=[(1, 2)],
                                          padding_mode="reflect", name="h"),
        "kl-channels": symbolic.kong_lucey((2, 2, 3), (7,), stride=2, dilation=2),
    }
    for name, kl in kls.items():
        for part in ("all", "strided", "permuted", "sum"):
            out[f"{name}-{part}"] = to_latex(kl, part=part, max_cols=16, max_rows=8)
        out[f"{name}-grid-highlight"] = to_latex(kl, part="sum", grid=True, highlight_row=1)
    out.update(random_cases(24))
    return out


def random_cases(n: int, seed: int = 12) -> dict[str, str]:
    """``n`` random geometries (1-D to 3-D, channels, groups, stride, padding modes, dilation,
    transposed), numeric or symbolic, each with random options."""
    rng = np.random.default_rng(seed)
    out: dict[str, str] = {}
    while len(out) < n:
        ndim = int(rng.integers(1, 4))
        kernel = tuple(int(k) for k in rng.integers(1, 4, ndim))
        shape = tuple(int(k + rng.integers(0, 4)) for k in kernel)
        groups = int(rng.choice([1, 2]))
        channels = (groups * int(rng.integers(1, 3)), groups) if rng.random() < 0.4 else None
        weight = kernel if channels is None else (channels[0], channels[1] // groups, *kernel)
        options = dict(stride=int(rng.integers(1, 3)), padding=int(rng.integers(0, 2)),
                       padding_mode=str(rng.choice(["zeros", "reflect", "replicate",
                                                    "circular"])))
        if channels is not None:
            options["groups"] = groups
        if any(options["padding"] >= s for s in shape):
            options["padding_mode"] = "zeros"
        transposed = rng.random() < 0.25
        if transposed:
            options["padding_mode"] = "zeros"
        builder = symbolic if rng.random() < 0.5 else convmat
        make = builder.conv_transpose_matrix if transposed else builder.conv_matrix
        values = weight if builder is symbolic else rng.integers(-9, 10, weight)
        try:
            matrix = make(values, shape, **options)
        except convmat.ConvmatError:
            continue
        rows, cols = matrix.shape
        latex_options = dict(
            environment=str(rng.choice(list(ENVIRONMENTS))),
            zero=str(rng.choice(["0", "cdot", "blank"])),
            max_rows=int(rng.integers(3, 12)), max_cols=int(rng.integers(3, 16)),
            x="x" if rng.random() < 0.7 else None, y="y" if rng.random() < 0.6 else None,
            grid=bool(rng.random() < 0.3), base=int(rng.integers(0, 2)),
            highlight=str(rng.choice(["boxed", "bold", "color"])))
        if rng.random() < 0.5:
            latex_options["highlight_row"] = 0
        if rng.random() < 0.2:
            latex_options["spacing"] = float(rng.choice([1, 1.5, 2]))
        out[f"random-{len(out)}-{make.__module__.split('.')[-1]}-{rows}x{cols}"] = to_latex(
            matrix, **latex_options)
    return out


def overlay_cases() -> dict[str, tuple[str, int]]:
    """Name -> (beamer frame, number of slides it must make)."""
    A = symbolic.conv_matrix((2, 2), (3, 3))
    big = convmat.conv_matrix(np.arange(1, 10).reshape(3, 3), (8, 8), padding=1)
    kl = symbolic.kong_lucey((3,), (7,), stride=2, padding=1, name="h")
    return {
        "overlay-symbolic": (to_latex(A, x="x", y="y", overlay="rows"), 4),
        "overlay-boxed": (to_latex(A, x="x", y="y", overlay="rows", highlight="boxed"), 4),
        "overlay-elided-grid": (to_latex(big, x="x", y="y", overlay="rows", max_rows=6,
                                         max_cols=14, grid=True), 5),
        # one frame per display (strided, permuted, sum), four slides each
        "overlay-kong-lucey": (to_latex(kl, x="x", y="y", overlay="rows"), 12),
        "overlay-kong-lucey-permuted-bold": (to_latex(kl, part="permuted", overlay="rows",
                                                      highlight="bold"), 4),
        "overlay-transposed-channels": (to_latex(
            symbolic.conv_transpose_matrix((2, 1, 2), (3,), stride=2), x="x", y="y",
            overlay="rows", environment="pmatrix"), 6),
        "overlay-1d-numeric-elided": (to_latex(
            convmat.conv_matrix([1, -2, 1], (12,)), x="x", y="y", overlay="rows",
            max_rows=7, max_cols=9, zero="cdot"), 6),
    }
