r"""The published spectral-norm bounds and estimates of a convolution layer beside its exact value.

:func:`spectral_bounds` returns a :class:`BoundsTable`: one row per method, each with its value,
whether it is a *guaranteed* upper bound for this layer (its padding, stride, dilation and
groups), its time and, when the method does not apply, why. The methods, each as its paper
states it:

``exact``
    :func:`convmat.spectral_norm` with its certified interval (see :mod:`convmat.spectral`);
    marked an upper bound only when the interval has closed to ``1e-10``.
Sedghi et al., "The Singular Values of Convolutional Layers" (ICLR 2019)
    :math:`\max_f \sigma_1(\hat W(f))` over the DFT frequencies of the *input* grid
    :math:`n`, stride 1 (the layer treated as circular). Exact for circular layers at stride
    1; an upper bound when the layer is a set of distinct rows of that circulant (circular
    padding with :math:`(o-1)s < n`, or no padding read); otherwise only an estimate.
circular layer on the padded grid
    The same on the padded grid :math:`M = n + b + a` (:math:`n + k - 1` for ``"same"``), times
    :math:`\|P\|_2` (1 for zero padding). The layer is :math:`A = V P` with :math:`V` the
    padding-free convolution on the padded grid, a set of distinct rows of the circulant
    :math:`C_M` applied to an input that never wraps, so :math:`\|A\| \le \|C_M\|\,\|P\|_2`:
    always an upper bound (the bridge between zero and circular padding of Delattre,
    Barthélemy & Allauzen, "Spectral Norm of Convolutional Layers with Circular and Zero
    Paddings", 2024).
Singla & Feizi, "Fantastic Four: Differentiable Bounds on Singular Values of Convolution Layers" (ICLR 2021)
    :math:`\sqrt{\prod_i k_i}\,\min_S \|R_S\|_2`, over the reshapes :math:`R_S` of the kernel
    into ``(C_out * prod(k_S), C_in * prod(k_rest))`` for every subset :math:`S` of the
    spatial axes (the paper's four in 2-D), each norm computed exactly; times
    :math:`\|P\|_2` unless the layer is zero-padded (or circular with distinct rows).
Araujo et al., "On Lipschitz Regularization of Convolutional Layers using Toeplitz Matrix Theory" (AAAI 2021)
    :math:`\alpha \max_{\omega \in \Omega} \|F(\omega)\|_F`, :math:`F(\omega) = \sum_j
    W_j e^{i \omega \cdot d j}` the layer's trigonometric polynomial sampled on the grid
    :math:`\Omega` of :data:`ARAUJO_SAMPLES` points per axis, :math:`\alpha = (1 - (k_e - 1)
    / N)^{-1}` with :math:`k_e` the largest dilated kernel extent; times :math:`\|P\|_2` as
    for Singla & Feizi.
Delattre et al., "Efficient Bound of Lipschitz Constant for Convolutional Layers by Gram Iteration" (ICML 2023)
    Gram iteration on every frequency's matrix of the input grid (as Sedghi et al.),
    :data:`GRAM_ITERATIONS` iterations: :math:`G_{t+1} = G_t^\mathsf{H} G_t` after rescaling,
    :math:`\sigma_1 \le \|G_T\|_F^{1/2^T}`; an upper bound where Sedghi et al.'s value is.
Gram iteration, padded grid (Delattre, Barthélemy & Allauzen 2024)
    The same on the padded grid's circulant times :math:`\|P\|_2`: always an upper bound.
``torch.nn.utils.parametrizations.spectral_norm``
    :math:`\|W_{\text{reshaped}}\|_2`, the kernel reshaped to ``(C_out, -1)``: what PyTorch
    normalises, not the layer's norm.
power iteration, 1, 10 and 100 steps
    :math:`\|A v_t\|` for :math:`v_{t+1} = A^\mathsf{T} A v_t / \|A^\mathsf{T} A v_t\|` from a
    seeded Gaussian :math:`v_0`: lower bounds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, cast

import numpy as np

from . import geometry
from ._certified import NormInterval
from ._memory import check_budget
from ._spectral_layer import Layer, fast_products, limited_threads, padding_norm
from ._validate import as_flag
from .errors import ConvmatError, error_context, shape_of
from .spectral import spectral_norm

__all__ = ["spectral_bounds", "BoundsTable", "BoundRow", "GRAM_ITERATIONS", "ARAUJO_SAMPLES",
           "POWER_STEPS"]

#: iterations of both Gram iterations
GRAM_ITERATIONS = 6
#: samples per axis of Araujo et al.'s grid (their default)
ARAUJO_SAMPLES = 50
#: the power-iteration rows
POWER_STEPS = (1, 10, 100)


@dataclass(frozen=True)
class BoundRow:
    """One method: ``value`` (``None`` when it does not apply, ``reason`` says why),
    ``upper_bound`` (guaranteed for this layer), ``seconds``, and a ``note``."""

    method: str
    value: float | None
    upper_bound: bool
    seconds: float
    reason: str | None = None
    note: str | None = None


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#",
                  "$": r"\$", "~": r"\~{}", "^": r"\^{}", "{": r"\{", "}": r"\}"}


@dataclass
class BoundsTable:
    """The rows of :func:`spectral_bounds`; ``str()`` is :meth:`text`."""

    layer: str
    rows: list[BoundRow] = field(default_factory=list)

    @property
    def exact(self) -> float | None:
        """The exact row's value (``None`` when the table was made without it)."""
        return next((r.value for r in self.rows if r.method == "exact"), None)

    def ratio(self, row: BoundRow) -> float | None:
        """``row.value / exact`` (``None`` without both)."""
        exact = self.exact
        if row.value is None or not exact:
            return None
        return row.value / exact

    def _cells(self) -> list[list[str]]:
        cells = []
        for r in self.rows:
            ratio = self.ratio(r)
            cells.append([
                r.method,
                "-" if r.value is None else f"{r.value:.10g}",
                "" if ratio is None else f"{ratio:.6f}",
                "yes" if r.upper_bound else "no",
                f"{r.seconds:.3f}",
                r.reason or r.note or "",
            ])
        return cells

    HEADER = ("method", "value", "/ exact", "upper bound", "seconds", "note")

    def text(self) -> str:
        """A plain-text table."""
        rows = [list(self.HEADER)] + self._cells()
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEADER) - 1)]
        lines = [self.layer]
        for n, r in enumerate(rows):
            lines.append("  ".join(c.rjust(w) if 0 < i < 5 and n else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(r, widths))).rstrip()
                         + ("  " + r[-1] if r[-1] else ""))
        return "\n".join(lines)

    def markdown(self) -> str:
        """A Markdown (GitHub) table."""
        out = [f"**{self.layer}**", "", "| " + " | ".join(self.HEADER) + " |",
               "|---|--:|--:|:-:|--:|---|"]
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |"
                for r in self._cells()]
        return "\n".join(out)

    def latex(self) -> str:
        r"""A LaTeX ``tabular`` (no packages needed)."""
        def esc(s: str) -> str:
            return "".join(_LATEX_ESCAPES.get(c, c) for c in s)

        out = [r"\begin{tabular}{lrrcrl}", r"\hline",
               " & ".join(esc(h) for h in self.HEADER) + r" \\", r"\hline"]
        out += [" & ".join(esc(c) for c in r) + r" \\" for r in self._cells()]
        out += [r"\hline", r"\end{tabular}"]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()


# --------------------------------------------------------------------------------------------
# the layer's structure
# --------------------------------------------------------------------------------------------

def _circulant_rows(geom: geometry.ConvGeometry) -> bool:
    """The layer is a set of distinct rows of the stride-1 circulant on the input grid:
    circular padding (no crop) with ``(o - 1) s < n``, or no padding read at all."""
    if all(b <= 0 and a <= 0 for b, a in geom.padding):
        return True
    return (geom.padding_mode == "circular" and all(b >= 0 and a >= 0 for b, a in geom.padding)
            and all((o - 1) * s < n for o, s, n in zip(geom.output_shape, geom.stride,
                                                       geom.input_shape)))


def _toeplitz_factor(geom: geometry.ConvGeometry) -> float:
    """The factor a bound of the padding-free convolution needs for this layer."""
    if _circulant_rows(geom):
        return 1.0
    return padding_norm(geom)


def _grid_symbol(layer: Layer, grid: Sequence[int]) -> np.ndarray:
    """``(B, m, r)``, ``m >= r``: the matrices of every frequency of the stride-1 circulant on
    ``grid`` (taps at ``j d mod grid``), every group; conjugate pairs once for real weights."""
    g = layer.geom
    n = g.ndim
    real = layer.w.dtype.kind == "f"
    freqs = (*grid[:-1], grid[-1] // 2 + 1) if real else tuple(grid)
    check_budget(3 * 16 * g.out_channels * layer.c_in * math.prod(freqs) + 8 * math.prod(grid),
                 "the circulant symbol on a grid of " + " x ".join(map(str, grid)))
    scattered = np.zeros((g.out_channels, layer.c_in, *grid), dtype=layer.w.dtype)
    where = np.ix_(*[(np.arange(k) * d) % m for k, d, m in zip(g.kernel_shape, g.dilation,
                                                                 grid)])
    np.add.at(scattered, (slice(None), slice(None), *where), layer.w)
    axes = tuple(range(2, 2 + n))
    spec = np.fft.rfftn(scattered, axes=axes) if real else np.fft.fftn(scattered, axes=axes)
    del scattered
    spec = spec.reshape(layer.groups, layer.c_out, layer.c_in, -1)
    spec = np.ascontiguousarray(np.moveaxis(spec, 3, 1)).reshape(-1, layer.c_out, layer.c_in)
    if spec.shape[1] < spec.shape[2]:
        spec = np.swapaxes(spec, 1, 2).conj()
    return spec


def _eigenvalues(symbol: np.ndarray) -> np.ndarray:
    """``(B, r)``: the eigenvalues of ``W(f)^H W(f)`` (the squared singular values) of every
    frequency, ascending."""
    normal = np.swapaxes(symbol, 1, 2).conj() @ symbol
    return np.maximum(np.linalg.eigvalsh(normal), 0.0)


def _max_sigma(mu: np.ndarray) -> float:
    return float(math.sqrt(float(mu[:, -1].max())))


def _gram_bound(mu: np.ndarray, iterations: int) -> float:
    r"""Delattre et al.'s Gram iteration after ``T = iterations`` steps, per frequency:
    :math:`G_0 = \hat W(f)`, :math:`G_{t+1} = G_t^\mathsf{H} G_t`,
    :math:`\sigma_1 \le \|G_T\|_F^{1/2^T}`. As :math:`G_T = (\hat W^\mathsf{H}
    \hat W)^{2^{T-1}}` has the eigenvalues :math:`\mu_i^{2^{T-1}}`,
    :math:`\|G_T\|_F^{1/2^T} = (\sum_i \mu_i^{2^T})^{1/2^{T+1}}`, the Schatten
    :math:`2^{T+1}`-norm of :math:`\hat W(f)`: computed so from the eigenvalues
    :math:`\mu_i` (equal in exact arithmetic to the rescaled iteration), max over
    frequencies."""
    top = mu[:, -1:]
    safe = np.where(top > 0, top, 1.0)
    power = 2.0 ** iterations  # of mu: mu^(2^T) = sigma^(2^(T+1))
    ratio = np.sum((mu / safe) ** power, axis=1)
    value = np.sqrt(top[:, 0]) * ratio ** (1.0 / (2 * power))
    return float(np.where(top[:, 0] > 0, value, 0.0).max())


# --------------------------------------------------------------------------------------------
# the methods
# --------------------------------------------------------------------------------------------

class _Context:
    def __init__(self, layer: Layer):
        self.layer = layer
        self.geom = layer.geom
        self.input_circulant = _circulant_rows(layer.geom)
        self.pnorm = padding_norm(layer.geom)
        self.factor = _toeplitz_factor(layer.geom)
        self._symbols: dict = {}

    def eigenvalues(self, grid: Sequence[int]) -> np.ndarray:
        """The squared singular values of every frequency's matrix on ``grid``."""
        grid = tuple(grid)
        if grid not in self._symbols:
            self._symbols[grid] = _eigenvalues(_grid_symbol(self.layer, grid))
        return self._symbols[grid]

    def times_p(self, note: str) -> str:
        if self.pnorm == 1.0:
            return note
        return f"{note}; times ||P||_2 = {self.pnorm:.6g} ({self.geom.padding_mode} padding)"

    def times_factor(self, note: str) -> str:
        if self.factor == 1.0:
            return note
        return f"{note}; times ||P||_2 = {self.factor:.6g} ({self.geom.padding_mode} padding)"


_NOT_INPUT_CIRCULANT = ("not a bound here: the layer is not a set of rows of the circulant on "
                        "the input grid (it reads {mode} padding)")


def _sedghi(ctx: _Context) -> tuple[float | None, bool, str]:
    value = _max_sigma(ctx.eigenvalues(ctx.geom.input_shape))
    if ctx.input_circulant:
        return value, True, "exact for a circular stride-1 layer; rows of it here"
    return value, False, _NOT_INPUT_CIRCULANT.format(mode=ctx.geom.padding_mode)


def _padded(ctx: _Context) -> tuple[float | None, bool, str]:
    value = _max_sigma(ctx.eigenvalues(ctx.geom.padded_shape)) * ctx.pnorm
    grid = "x".join(map(str, ctx.geom.padded_shape))
    return value, True, ctx.times_p(f"circulant on the {grid} padded grid")


def _gram(ctx: _Context) -> tuple[float | None, bool, str]:
    value = _gram_bound(ctx.eigenvalues(ctx.geom.input_shape), GRAM_ITERATIONS)
    if ctx.input_circulant:
        return value, True, "bounds the circulant on the input grid"
    return value, False, _NOT_INPUT_CIRCULANT.format(mode=ctx.geom.padding_mode)


def _gram_padded(ctx: _Context) -> tuple[float | None, bool, str]:
    value = _gram_bound(ctx.eigenvalues(ctx.geom.padded_shape), GRAM_ITERATIONS) * ctx.pnorm
    grid = "x".join(map(str, ctx.geom.padded_shape))
    return value, True, ctx.times_p(f"on the {grid} padded grid")


def _singla_feizi(ctx: _Context) -> tuple[float | None, bool, str]:
    layer, g = ctx.layer, ctx.geom
    n = g.ndim
    best = 0.0
    for index in range(layer.groups):
        w = layer.group_weight(index)  # (co, ci, *k)
        norms: list[float] = []
        for size in range(n + 1):
            for out_axes in combinations(range(n), size):
                rest = [a for a in range(n) if a not in out_axes]
                order = [0, *(2 + a for a in out_axes), 1, *(2 + a for a in rest)]
                rows = layer.c_out * math.prod(g.kernel_shape[a] for a in out_axes)
                norms.append(float(np.linalg.norm(np.transpose(w, order).reshape(rows, -1), 2)))
        best = max(best, min(norms))
    value = math.sqrt(math.prod(g.kernel_shape)) * best * ctx.factor
    return value, True, ctx.times_factor(f"min over {2 ** n} reshapes")


def _araujo(ctx: _Context) -> tuple[float | None, bool, str]:
    layer, g = ctx.layer, ctx.geom
    extent = max(d * (k - 1) + 1 for k, d in zip(g.kernel_shape, g.dilation))
    samples = ARAUJO_SAMPLES
    if extent - 1 >= samples:
        return None, False, (f"the dilated kernel extent {extent} is not below the "
                             f"{samples} samples per axis the bound needs")
    count = samples ** g.ndim
    taps = math.prod(g.kernel_shape)
    check_budget(16 * 3 * count * taps, f"Araujo et al.'s {count:,} samples")
    omega = 2 * np.pi * np.arange(samples) / samples
    grids = np.meshgrid(*([omega] * g.ndim), indexing="ij")
    positions = np.stack([m.ravel() for m in np.meshgrid(
        *[np.arange(k) * d for k, d in zip(g.kernel_shape, g.dilation)], indexing="ij")])
    phase = sum(gr.reshape(-1, 1) * positions[i][None, :] for i, gr in enumerate(grids))
    e = np.exp(1j * phase)  # (S, T)
    best = 0.0
    for index in range(layer.groups):
        w = layer.group_weight(index).reshape(layer.c_out * layer.c_in, taps)
        k = w.conj().T @ w  # (T, T)
        poly = np.real(np.sum(e.conj() * (e @ k.T), axis=1))
        best = max(best, float(poly.max()))
    alpha = 1.0 / (1.0 - (extent - 1) / samples)
    value = alpha * math.sqrt(max(best, 0.0)) * ctx.factor
    return value, True, ctx.times_factor(f"{samples} samples per axis, alpha = {alpha:.4f}")


def _torch_reshape(ctx: _Context) -> tuple[float | None, bool, str]:
    w = ctx.layer.w.reshape(ctx.geom.out_channels, -1)
    return float(np.linalg.norm(w, 2)), False, "what PyTorch normalises, not the layer's norm"


def _power(ctx: _Context) -> list[tuple[int, float, float, str]]:
    """Values after each of POWER_STEPS, with the time to each."""
    layer = ctx.layer
    matvec, rmatvec, engine = fast_products(layer.w, layer.geom, layer.groups)
    rng = np.random.default_rng(0)
    v = rng.standard_normal(layer.groups * layer.cols)
    if layer.w.dtype.kind == "c":
        v = v + 1j * rng.standard_normal(v.size)
    v /= np.linalg.norm(v)
    out = []
    start = time.perf_counter()
    for step in range(1, max(POWER_STEPS) + 1):
        u = rmatvec(matvec(v))
        norm = np.linalg.norm(u)
        if norm == 0:
            v = u
        else:
            v = u / norm
        if step in POWER_STEPS:
            value = float(np.linalg.norm(matvec(v)))
            out.append((step, value, time.perf_counter() - start, engine))
    return out


METHODS = (
    ("Sedghi et al. (FFT, input grid)", _sedghi),
    ("circular layer, padded grid", _padded),
    ("Singla & Feizi", _singla_feizi),
    ("Araujo et al.", _araujo),
    (f"Gram iteration 2023 ({GRAM_ITERATIONS} it.)", _gram),
    (f"Gram iteration 2024, padded grid ({GRAM_ITERATIONS} it.)", _gram_padded),
    ("torch spectral_norm (reshaped kernel)", _torch_reshape),
)


def spectral_bounds(
    weight: Any,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    exact: bool = True,
) -> BoundsTable:
    r"""Every published bound and estimate of a layer's spectral norm beside the exact value.

    Parameters
    ----------
    weight, input_shape, stride, padding, dilation, groups, padding_mode
        As :func:`convmat.conv_matrix`; ``weight`` may also be a PyTorch ``nn.Conv1d/2d/3d``
        (its geometry read from it).
    exact : bool
        Compute the exact row (default); ``False`` leaves it out (the ratios then too).

    Returns
    -------
    BoundsTable
        ``.rows``: one :class:`BoundRow` per method (module :mod:`convmat.bounds` lists them
        with their papers); ``.text()``, ``.markdown()``, ``.latex()``.

    Raises
    ------
    ConvmatError
        For everything :func:`convmat.singular_values` refuses. A method that would exceed
        the memory guard is not computed: its row says so (``value=None``).

    Notes
    -----
    For :math:`A = V P` (valid convolution :math:`V` on the padded grid, padding map
    :math:`P`), the padded-grid rows use :math:`\|A\|_2 \le \|C_M\|_2 \|P\|_2` with
    :math:`C_M` the circulant of the kernel on the padded grid.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.random.default_rng(0).standard_normal((4, 4, 3, 3))
    >>> table = spectral_bounds(W, (8, 8), padding=1)
    >>> table.rows[0].method
    'exact'
    >>> all(r.value >= table.exact * (1 - 1e-12) for r in table.rows if r.upper_bound)
    True
    """
    with error_context("spectral_bounds", input_shape=input_shape,
                       weight_shape=shape_of(weight)), limited_threads():
        layer = Layer.from_call(weight, input_shape, stride=stride, padding=padding,
                                dilation=dilation, groups=groups, padding_mode=padding_mode)
        exact = as_flag(exact, "exact")
        g = layer.geom
        describe = (f"{g.in_channels} -> {g.out_channels} channels, kernel "
                    f"{'x'.join(map(str, g.kernel_shape))}, input "
                    f"{'x'.join(map(str, g.input_shape))}, stride {g.stride}, padding "
                    f"{g.padding} ({g.padding_mode}), dilation {g.dilation}, groups {g.groups}")
        table = BoundsTable(describe)
        if exact:
            start = time.perf_counter()
            try:
                box = cast(NormInterval, spectral_norm(  # certified=True: an interval
                    layer.w, g.input_shape, groups=g.groups, certified=True, **layer.kwargs()))
            except ConvmatError as exc:
                table.rows.append(BoundRow("exact", None, False, time.perf_counter() - start,
                                           reason=f"skipped: {exc}"))
            else:
                note = ("certified: the interval closed" if box.exact and
                        box.lower == box.upper else
                        f"certified interval [{box.lower:.12g}, {box.upper:.12g}]"
                        if box.exact else
                        f"converged Lanczos value; proven interval [{box.lower:.10g}, "
                        f"{box.upper:.10g}] (width {box.width:.1e})")
                table.rows.append(BoundRow("exact", box.value, box.exact,
                                           time.perf_counter() - start, note=note))
        ctx = _Context(layer)
        for name, method in METHODS:
            start = time.perf_counter()
            try:
                value, bound, note = method(ctx)
            except ConvmatError as exc:
                table.rows.append(BoundRow(name, None, False, time.perf_counter() - start,
                                           reason=f"skipped: {exc}"))
                continue
            reason = note if value is None else None
            table.rows.append(BoundRow(name, value, bound if value is not None else False,
                                       time.perf_counter() - start, reason=reason,
                                       note=None if value is None else note))
        try:
            for step, value, seconds, engine in _power(ctx):
                table.rows.append(BoundRow(
                    f"power iteration, {step} step{'s' if step > 1 else ''}", value, False,
                    seconds, note=f"a lower bound ({engine} products)"))
        except ConvmatError as exc:
            table.rows.append(BoundRow("power iteration", None, False, 0.0,
                                       reason=f"skipped: {exc}"))
        return table

