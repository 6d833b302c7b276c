r"""Lipschitz constants of whole networks: every layer's constant, their products, the
products of the linear segments, and the local value :math:`\|J(x)\|_2`.

In the Euclidean norm a network :math:`f = f_L \circ \cdots \circ f_1` is Lipschitz with

.. math::

    \operatorname{Lip}(f) \le \prod_{l} \operatorname{Lip}(f_l),

where a linear layer's constant is its spectral norm :math:`\|A_l\|_2` and an element-wise
activation's is :math:`\sup_t |\sigma'(t)|`. Consecutive linear layers (a convolution, its
batch normalisation, an average pooling) form one linear map, a *segment*
:math:`S_j = A_{l_j} \cdots A_{l_{j-1}+1}`, whose exact norm is at most the product of its
layers' norms (:math:`\|AB\|_2 \le \|A\|_2 \|B\|_2`); the segment-wise product is the
tighter bound. At a point :math:`x`, :math:`\|J_f(x)\|_2` (the Jacobian of
:func:`convmat.from_torch` with ``at=x``) is a lower bound of :math:`\operatorname{Lip}(f)`.

Every norm here is of a matrix-free operator (a convolution through
:func:`convmat.conv_operator`), computed by a dense SVD when small, else by Lanczos on the
normal operator converged to a relative residual of ``1e-10``; a non-negative operator
(pooling, upsampling, padding) is certified by the Collatz–Wielandt bound
:math:`\rho(M) \le \max_i (Mw)_i / w_i` (any :math:`w > 0`) on :math:`M = A^\mathsf{T} A`.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from numpy.typing import ArrayLike

from .._memory import check_budget
from .._spectral_layer import limited_threads
from .._validate import as_flag, as_int, as_shape
from ..errors import ConvmatError, brief, error_context
from ..spectral import spectral_norm
from ._conv_kinds import Conv, ConvTranspose
from ._dense_kinds import BatchNorm, Linear
from ._descriptions import description_stages
from ._from_torch import _input_shape, _shapes, _torch_stages
from ._factors import LazyConv, Rows
from ._kinds import Stage
from ._nonlinear import nonlinear_constant

__all__ = ["LayerLipschitz", "LipschitzBound", "MODES", "Norm", "Progress", "SegmentNorm",
           "as_point", "chain_operator", "check_mode", "checked_in_channels", "layer_norms",
           "lipschitz_bound", "lipschitz_record", "network_chain", "operator_norm",
           "seeded_weights", "segment_norms"]

#: the relative width at which a certified norm is called exact
TOL = 1e-10
#: a product whose smaller side is at most this is an explicit dense SVD
DENSE_SIDE = 400
#: how ``summary(spectral=...)`` and :func:`convmat.lipschitz_bound` compute a layer's norm
MODES = ("exact", "bound")


# ------------------------------------------------------------------------------ norms


@dataclass(frozen=True)
class Norm:
    """A norm: ``value`` (exact to ``1e-10``: a dense SVD, a closed form or a converged
    Lanczos value), ``upper`` (a proven upper bound, ``None`` when none is known) and how."""

    value: float
    upper: float | None
    how: str

    @property
    def certified(self) -> bool:
        return self.upper is not None


def _identity(v: np.ndarray) -> np.ndarray:
    return v


def _adjoint(factor: Any) -> Callable[[np.ndarray], np.ndarray]:
    if factor is None:
        return _identity
    if isinstance(factor, LazyConv):
        return factor.operator.rmatvec
    transposed = (factor.tocsr() if isinstance(factor, Rows) else factor).T
    return transposed.__matmul__


def _forward(factor: Any) -> Callable[[np.ndarray], np.ndarray]:
    if factor is None:
        return _identity
    if isinstance(factor, LazyConv):
        return factor.operator.matvec
    return factor.__matmul__


def chain_operator(factors: Sequence[Any], n_in: int) -> spla.LinearOperator:
    """The product ``F_L ... F_1`` of a chain's factors (first applied first) as a
    matrix-free operator (``None``: a reshape, the identity on the flat values)."""
    forward = [_forward(f) for f in factors]
    backward = [_adjoint(f) for f in reversed(factors)]
    n_out = n_in
    for f in factors:
        if f is not None:
            n_out = f.shape[0]

    def matvec(v):
        v = np.asarray(v, dtype=np.float64).ravel()
        for f in forward:
            v = f(v)
        return v

    def rmatvec(v):
        v = np.asarray(v, dtype=np.float64).ravel()
        for f in backward:
            v = f(v)
        return v

    return spla.LinearOperator((n_out, n_in), matvec=matvec, rmatvec=rmatvec,
                               dtype=np.float64)


def _nonnegative(factors: Sequence[Any]) -> bool:
    """Every factor has non-negative entries (then so has their product)."""
    for f in factors:
        if f is None:
            continue
        if isinstance(f, LazyConv):
            if np.any(np.asarray(f.weight) < 0):
                return False
            continue
        data = f.values if isinstance(f, Rows) else (f.data if sp.issparse(f) else f)
        if np.any(np.asarray(data) < 0):
            return False
    return True


def _collatz_wielandt(normal: Callable[[np.ndarray], np.ndarray], v: np.ndarray
                      ) -> tuple[float, float]:
    """(lower, upper) of the largest eigenvalue of a non-negative symmetric ``M`` from a
    positive vector near its Perron vector: :math:`\\min_i (Mw)_i / w_i \\le \\rho(M) \\le
    \\max_i (Mw)_i / w_i` over the rows where ``w`` has mass (a row of ``M`` that is zero
    gives 0)."""
    w = np.abs(v) + 1e-3 * np.abs(v).max() + 1e-300
    for _ in range(3):  # a few power steps: w stays positive, the ratios tighten
        mw = normal(w)
        w = mw / np.linalg.norm(mw) + 1e-300
    mw = normal(w)
    ratio = mw / w
    rayleigh = float(w @ mw / (w @ w))
    return rayleigh, float(ratio.max())


def operator_norm(op: spla.LinearOperator, *, nonnegative: bool = False) -> Norm:
    r"""The spectral norm of a linear operator: from its Gram matrix (:math:`A^\mathsf{T} A`
    or :math:`A A^\mathsf{T}`, the smaller, built column by column) when a side is at most
    :data:`DENSE_SIDE`, else Lanczos (ARPACK) on the normal operator converged to a
    relative residual of ``1e-10`` and refined by its Rayleigh quotient; ``nonnegative``:
    certified above by Collatz–Wielandt."""
    m, n = op.shape
    if m == 0 or n == 0:
        return Norm(0.0, 0.0, "empty")
    if n <= m:
        apply, back, size = op.matvec, op.rmatvec, n
    else:
        apply, back, size = op.rmatvec, op.matvec, m

    def normal(v):
        return back(apply(v))

    if size <= DENSE_SIDE:
        check_budget(8 * (size * size + 4 * max(m, n)), "the Gram matrix of the norm")
        gram = np.empty((size, size))
        for i in range(size):
            unit = np.zeros(size)
            unit[i] = 1.0
            gram[:, i] = normal(unit)
        value = math.sqrt(max(float(np.linalg.eigvalsh((gram + gram.T) / 2)[-1]), 0.0))
        return Norm(value, value, "dense (Gram matrix)")
    check_budget(8 * (45 * size + 4 * max(m, n)), "the Lanczos vectors of the norm")
    gram_op = spla.LinearOperator((size, size), matvec=normal, dtype=np.float64)
    rng = np.random.default_rng(0)
    starts = [rng.standard_normal(size) for _ in range(3)]
    v0 = next((v for v in starts if np.any(normal(v))), None)
    if v0 is None:  # three random vectors in the null space: the zero map
        return Norm(0.0, None, "zero on random vectors")
    try:
        theta, vectors = spla.eigsh(gram_op, k=1, which="LA", v0=v0, tol=1e-12,
                                    maxiter=50 * size)
    except (spla.ArpackNoConvergence, spla.ArpackError) as exc:  # pragma: no cover
        raise ConvmatError(f"Lanczos failed on the {m}x{n} operator: {exc}") from None
    v = vectors[:, 0] / np.linalg.norm(vectors[:, 0])
    value = float(np.linalg.norm(apply(v)))
    residual = np.linalg.norm(normal(v) - theta[0] * v)
    how = "Lanczos"
    if residual > 1e-8 * max(theta[0], 1e-300):
        how = f"Lanczos (residual {residual / theta[0]:.1e})"
    if nonnegative:
        low, high = _collatz_wielandt(normal, v)
        value = max(value, math.sqrt(max(low, 0.0)))
        upper = math.sqrt(high)
        if upper <= value * (1 + TOL):
            return Norm(value, upper, "Lanczos, Collatz-Wielandt")
        return Norm(value, upper, "Lanczos; Collatz-Wielandt bound above")
    return Norm(value, None, how)


# ------------------------------------------------------------------ layers and chains


@dataclass(frozen=True)
class LayerLipschitz:
    """One layer: its Lipschitz constant ``value`` (a linear layer's spectral norm,
    ``None`` when unknown), ``upper`` (proven; ``None`` when only the converged value is
    known), whether it is ``linear``, its ``segment`` (index into
    :attr:`LipschitzBound.segments`; ``None`` for a non-linear layer), how, seconds."""

    name: str
    type: str
    linear: bool
    value: float | None
    upper: float | None
    how: str
    seconds: float
    segment: int | None = None


@dataclass(frozen=True)
class SegmentNorm:
    """A run of consecutive linear layers (``layers``: their names) as one linear map: its
    exact norm ``value`` (``upper``: proven), the product of its layers' norms
    (``product``, which ``value`` never exceeds), how, seconds."""

    layers: tuple[str, ...]
    value: float | None
    upper: float | None
    product: float | None
    how: str
    seconds: float


def _bound_norm(weight: Any, spatial: Any, **kw: Any) -> Norm:
    """The tightest guaranteed upper bound of :func:`convmat.spectral_bounds` (without the
    exact value)."""
    from ..bounds import spectral_bounds

    table = spectral_bounds(weight, spatial, exact=False, **kw)
    bounds = [(r.value, r.method) for r in table.rows if r.upper_bound and r.value is not None]
    if not bounds:
        raise ConvmatError("no guaranteed bound applies")
    value, method = min(bounds)
    return Norm(value, value, f"bound: {method}")


def _exact_norm(weight: Any, spatial: Any, **kw: Any) -> Norm:
    box = spectral_norm(weight, spatial, certified=True, **kw)
    value, upper = float(box.value), float(box.upper)  # type: ignore[union-attr]
    return Norm(value, upper, "exact (certified)" if box.exact else  # type: ignore[union-attr]
                "Lanczos; circulant bound above")


_NORMS = {"exact": _exact_norm, "bound": _bound_norm}


def _factor(stage: Stage, shape: tuple, out: tuple) -> Any:
    """A linear layer's factor of the chain: a convolution matrix-free, any other built
    (its stored entries checked against the memory limit first)."""
    kind: Any = stage.kind  # a LinearKind
    if not isinstance(kind, Conv):  # a convolution stays matrix-free
        stored, _ = kind.stored(stage, shape, out)
        check_budget(16 * stored + 8 * math.prod(out), f"{stage.label}: its matrix",
                     nnz=stored)
    return kind.matrix(stage, shape, out)[0]


def _linear_norm(stage: Stage, shape: tuple, out: tuple, mode: str) -> Norm | None:
    """A linear layer's norm: the kind's own (a convolution's, certified), else its
    factor's (``None``: no weights to read)."""
    norm: Any = _NORMS[mode]  # the kinds pass on what it returns: a Norm
    found: Any = stage.kind.spectral(stage, shape, norm)
    if isinstance(found, Norm):
        return found
    if found is not None:
        return Norm(float(found), float(found), "closed form")
    if stage.weight is None and stage.parameters:
        return None  # a described layer: its weights are not known
    factor = _factor(stage, shape, out)
    if factor is None:
        return Norm(1.0, 1.0, "a reshape")
    return operator_norm(chain_operator([factor], math.prod(shape)),
                         nonnegative=_nonnegative([factor]))


class Progress:
    """A progress bar on ``stream`` (standard error), written only when ``enabled``:
    ``[#####-----] 3/8 conv2 1.2 s``."""

    def __init__(self, total: int, enabled: bool, stream: TextIO | None = None,
                 what: str = "") -> None:
        self.total, self.enabled, self.done, self.what = max(total, 1), enabled, 0, what
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()

    def step(self, label: str) -> None:
        """Announce the next item (``label``) before it is computed."""
        if not self.enabled:
            return
        filled = round(20 * self.done / self.total)
        self.stream.write(f"\r{self.what}[{'#' * filled}{'-' * (20 - filled)}] "
                          f"{self.done}/{self.total} {label[:30]:<30} "
                          f"{time.perf_counter() - self.start:6.1f} s")
        self.stream.flush()
        self.done += 1

    def close(self) -> None:
        if self.enabled:
            self.stream.write(f"\r{self.what}[{'#' * 20}] {self.total}/{self.total} "
                              f"{'done':<30} {time.perf_counter() - self.start:6.1f} s\n")
            self.stream.flush()


def layer_norms(stages: Sequence[Stage], shapes: Sequence[tuple], mode: str,
                progress: Progress) -> list[LayerLipschitz]:
    """Every layer's Lipschitz constant (linear: its spectral norm by ``mode``)."""
    rows = []
    segment, previous = -1, False
    for stage, shape, out in zip(stages, shapes, shapes[1:]):
        progress.step(stage.name)
        start = time.perf_counter()
        if stage.linear:
            if not previous:
                segment += 1
            try:
                norm = _linear_norm(stage, shape, out, mode)
            except ConvmatError as exc:
                norm, why = None, f"skipped: {exc.message}"
            else:
                why = "no weights" if norm is None else norm.how
            rows.append(LayerLipschitz(stage.name, stage.type, True,
                                       None if norm is None else norm.value,
                                       None if norm is None else norm.upper, why,
                                       time.perf_counter() - start, segment))
        else:
            value, why = nonlinear_constant(stage, shape)
            rows.append(LayerLipschitz(stage.name, stage.type, False, value, value, why,
                                       time.perf_counter() - start))
        previous = stage.linear
    return rows


def _product(values: Sequence[float | None]) -> float | None:
    return None if any(v is None for v in values) else math.prod(values)  # type: ignore


def _scalar(stage: Stage, row: LayerLipschitz) -> bool:
    """The layer is its norm times an isometry (a reshape, a batch normalisation that
    scales every channel alike): in a product it contributes its norm exactly."""
    w = stage.weight
    if isinstance(stage.kind, BatchNorm):
        return (w is not None and np.size(w) > 0
                and bool(np.all(np.abs(w) == np.abs(np.ravel(w)[0]))))
    # a reshape or a permutation (flatten, pixel shuffle, identity): norm 1 in closed form
    return row.how in ("a reshape", "closed form") and row.value == 1.0


def segment_norms(stages: Sequence[Stage], shapes: Sequence[tuple],
                  rows: Sequence[LayerLipschitz], progress: Progress,
                  merge: bool = True) -> list[SegmentNorm]:
    """The exact norm of every segment (a run of linear layers) as one operator
    (``merge=False``: the product of its layers' norms, not computed)."""
    out: list[SegmentNorm] = []
    count = 1 + max((r.segment for r in rows if r.segment is not None), default=-1)
    for index in range(count):
        members = [i for i, r in enumerate(rows) if r.segment == index]
        names = tuple(rows[i].name for i in members)
        product = _product([rows[i].value for i in members])
        upper = _product([rows[i].upper for i in members])
        if not merge:
            out.append(SegmentNorm(names, product, upper, product, "not merged", 0.0))
            continue
        progress.step(f"segment {names[0]}..{names[-1]}")
        start = time.perf_counter()
        weighty = [i for i in members if not _scalar(stages[i], rows[i])]
        if product is None or len(weighty) <= 1:  # one map: its norm is the layer's
            out.append(SegmentNorm(names, product, upper, product,
                                   "no weights" if product is None else "one layer",
                                   time.perf_counter() - start))
            continue
        try:
            factors = [_factor(stages[i], shapes[i], shapes[i + 1]) for i in members]
            norm = operator_norm(chain_operator(factors, math.prod(shapes[members[0]])),
                                 nonnegative=_nonnegative(factors))
        except ConvmatError as exc:
            out.append(SegmentNorm(names, product, upper, product,
                                   f"the layers' product (skipped: {exc.message})",
                                   time.perf_counter() - start))
            continue
        best_upper = upper if norm.upper is None else min(norm.upper, upper or math.inf)
        out.append(SegmentNorm(names, min(norm.value, product), best_upper, product,
                               norm.how, time.perf_counter() - start))
    return out


# ------------------------------------------------------------------------ the record


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#",
          "$": r"\$", "~": r"\~{}", "^": r"\^{}", "{": r"\{", "}": r"\}"}
_LATEX_MATH = {"√": r"$\surd$", "σ": r"$\sigma$", "Φ": r"$\Phi$", "φ": r"$\phi$",
               "±": r"$\pm$", "λ": r"$\lambda$", "²": r"$^2$", "·": r"$\cdot$",
               "≤": r"$\le$", "|": r"$|$", "‖": r"$\|$", "₂": r"$_2$", "β": r"$\beta$",
               "…": "..."}


def _latex(text: str) -> str:
    return "".join(_LATEX.get(c) or _LATEX_MATH.get(c) or (c if ord(c) < 128 else "?")
                   for c in text)


@dataclass
class LipschitzBound:
    r"""What :func:`convmat.lipschitz_bound` returns: one :class:`LayerLipschitz` per layer
    (``rows``), one :class:`SegmentNorm` per run of linear layers (``segments``), the
    products and, with ``at=x``, :math:`\|J(x)\|_2` (``local``). ``str()`` is
    :meth:`text`."""

    input_shape: tuple
    rows: list[LayerLipschitz] = field(default_factory=list)
    segments: list[SegmentNorm] = field(default_factory=list)
    local: float | None = None

    @property
    def layerwise(self) -> float | None:
        r""":math:`\prod_l \operatorname{Lip}(f_l)` (``None`` when a layer's is unknown)."""
        return _product([r.value for r in self.rows])

    @property
    def segmentwise(self) -> float | None:
        r""":math:`\prod_j \|S_j\|_2 \prod_{\text{non-linear } l} \operatorname{Lip}(f_l)`."""
        return _product([s.value for s in self.segments] +
                        [r.value for r in self.rows if not r.linear])

    @property
    def certified(self) -> float | None:
        """The smallest *proven* upper bound: segment-wise with every norm's proven upper
        side (``None`` when a norm is only a converged Lanczos value)."""
        return _product([s.upper for s in self.segments] +
                        [r.upper for r in self.rows if not r.linear])

    HEADER = ("layer", "type", "Lipschitz", "how", "segment", "segment norm")

    def _cells(self) -> list[list[str]]:
        cells, shown = [], set()
        for r in self.rows:
            seg = "" if r.segment is None else str(r.segment)
            norm = ""
            if r.segment is not None and r.segment not in shown:
                shown.add(r.segment)
                norm = _number(self.segments[r.segment].value)
            cells.append([r.name, r.type, _number(r.value) or "-", r.how, seg, norm])
        return cells

    def _totals(self) -> list[tuple[str, str]]:
        lines = [("layer-wise product", _number(self.layerwise) or "unknown"),
                 ("segment-wise product", _number(self.segmentwise) or "unknown"),
                 ("proven upper bound", _number(self.certified) or "none (Lanczos values)")]
        if self.local is not None:
            lines.append(("‖J(x)‖₂ at x (a lower bound)", _number(self.local)))
        return lines

    def text(self) -> str:
        """A plain-text table, the products below it."""
        rows = [list(self.HEADER)] + self._cells()
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEADER))]
        lines = ["  ".join(c.rjust(w) if i in (2, 4, 5) else c.ljust(w)
                           for i, (c, w) in enumerate(zip(r, widths))).rstrip() for r in rows]
        lines.insert(1, "-" * max(len(s) for s in lines))
        width = max(len(k) for k, _ in self._totals())
        return "\n".join(lines + [f"{k.ljust(width)}  {v}" for k, v in self._totals()])

    def markdown(self) -> str:
        """A Markdown (GitHub) table, the products below it."""
        def cell(c: str) -> str:
            return c.replace("|", "\\|")

        out = ["| " + " | ".join(self.HEADER) + " |", "|---|---|--:|---|--:|--:|"]
        out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in self._cells()]
        out += [""] + [f"- {k}: **{v}**" for k, v in self._totals()]
        return "\n".join(out)

    def latex(self) -> str:
        r"""A LaTeX ``tabular`` (no packages needed), the products as its last rows."""
        out = [r"\begin{tabular}{llrlrr}", r"\hline",
               " & ".join(self.HEADER) + r" \\", r"\hline"]
        out += [" & ".join(_latex(c) for c in r) + r" \\" for r in self._cells()]
        out.append(r"\hline")
        out += [rf"\multicolumn{{2}}{{l}}{{{_latex(k)}}} & {_latex(v)} & & & \\"
                for k, v in self._totals()]
        out += [r"\hline", r"\end{tabular}"]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def _repr_markdown_(self) -> str:
        return self.markdown()


def _local(stages: Sequence[Stage], shapes: Sequence[tuple], x: np.ndarray) -> float:
    """:math:`\\|J(x)\\|_2`: the layers' Jacobian factors at their own inputs (those
    :func:`convmat.from_torch` multiplies with ``at=x``), as one matrix-free product."""
    value, factors = x.reshape(-1), []
    for stage, shape, out in zip(stages, shapes, shapes[1:]):
        try:
            factor, _, value = stage.kind.jacobian(stage, value, shape, out)
        except ConvmatError as exc:
            raise ConvmatError(f"{stage.label}: {exc.message}") from None
        factors.append(factor)
    return operator_norm(chain_operator(factors, x.size)).value


def _uniform(rng: np.random.Generator, shape: tuple, fan_in: int) -> np.ndarray:
    bound = 1 / math.sqrt(max(fan_in, 1))
    return rng.uniform(-bound, bound, shape)


def _conv_weight(stage: Stage, shape: tuple, out: tuple, rng: np.random.Generator) -> None:
    g, k = stage.cfg["groups"], stage.cfg["kernel_size"]
    stage.weight = _uniform(rng, (out[0], shape[0] // g, *k), shape[0] // g * math.prod(k))


def _transposed_weight(stage: Stage, shape: tuple, out: tuple,
                       rng: np.random.Generator) -> None:
    g, k = stage.cfg["groups"], stage.cfg["kernel_size"]
    stage.weight = _uniform(rng, (shape[0], out[0] // g, *k), out[0] // g * math.prod(k))


def _linear_weight(stage: Stage, shape: tuple, out: tuple, rng: np.random.Generator) -> None:
    stage.weight = _uniform(rng, (out[-1], math.prod(shape)), math.prod(shape))


def _batchnorm_weight(stage: Stage, shape: tuple, out: tuple,
                      rng: np.random.Generator) -> None:
    stage.weight = np.full(shape[0], 1 / math.sqrt(1 + 1e-5))
    stage.bias = np.zeros(shape[0])


#: how ``seed=`` fills a described layer's weights, by kind
_WEIGHTS: dict[type, Callable[[Stage, tuple, tuple, np.random.Generator], None]] = {
    Conv: _conv_weight, ConvTranspose: _transposed_weight, Linear: _linear_weight,
    BatchNorm: _batchnorm_weight,
}


def seeded_weights(stages: Sequence[Stage], shapes: Sequence[tuple], seed: Any) -> None:
    """Give a description's convolutions and linear layers weights drawn as PyTorch
    initialises them, :math:`U(-1/\\sqrt{\\text{fan in}}, 1/\\sqrt{\\text{fan in}})`
    (from NumPy's generator seeded with ``seed``), its batch normalisations the initial
    scale :math:`1/\\sqrt{1 + 10^{-5}}`; biases zero."""
    rng = np.random.default_rng(as_int(seed, "seed"))
    for stage, shape, out in zip(stages, shapes, shapes[1:]):
        fill = _WEIGHTS.get(type(stage.kind))
        if fill is not None and stage.weight is None and stage.parameters:
            fill(stage, shape, out, rng)


def checked_in_channels(in_channels: Any) -> int | None:
    """``in_channels`` as a positive int (``None``: read from the model or 1)."""
    if in_channels is None:
        return None
    value = as_int(in_channels, "in_channels")
    if value < 1:
        raise ConvmatError(f"in_channels={value} must be positive")
    return value


def network_chain(model: Any, input_shape: Any, in_channels: int | None, at: Any = None,
                  count: bool = False, seed: Any = None) -> tuple[list[Stage], list[tuple]]:
    """The stages and shapes of a PyTorch model or a description (``at``: the point;
    ``seed``: random weights for a description)."""
    in_channels = checked_in_channels(in_channels)
    if not isinstance(model, (str, Sequence)):
        if seed is not None:
            raise ConvmatError(f"seed={brief(seed)} gives a description weights; a PyTorch "
                               f"model has its own")
        stages = _torch_stages(model, count=count)
        return stages, _shapes(stages, _input_shape(stages, input_shape, at, in_channels))
    if at is not None:
        raise ConvmatError("at=x needs a PyTorch model")
    shape = as_shape(input_shape, "input_shape")
    stages, shapes = description_stages(model, (in_channels or 1, *shape))
    if seed is not None:
        seeded_weights(stages, shapes, seed)
    return stages, shapes


def lipschitz_record(stages: Sequence[Stage], shapes: Sequence[tuple], mode: str,
                     x: np.ndarray | None, progress: bool,
                     merge: bool = True) -> LipschitzBound:
    """:func:`lipschitz_bound` of a chain already read (``merge=False``: the segments are
    not computed, as :func:`convmat.summary` shows only the layers)."""
    runs = sum(1 for i, st in enumerate(stages)
               if st.linear and (i == 0 or not stages[i - 1].linear)) if merge else 0
    bar = Progress(len(stages) + runs + (x is not None), progress, what="lipschitz ")
    with limited_threads():  # the thread setting of convmat's spectral functions
        rows = layer_norms(stages, shapes, mode, bar)
        segments = segment_norms(stages, shapes, rows, bar, merge)
        record = LipschitzBound(tuple(shapes[0]), rows, segments)
        if x is not None:
            bar.step("‖J(x)‖ at x")
            record.local = _local(stages, shapes, x)
    bar.close()
    return record


def as_point(at: Any) -> np.ndarray | None:
    """``at`` as a finite float64 array (``None`` stays ``None``)."""
    if at is None:
        return None
    try:
        x = np.asarray(at, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ConvmatError(f"at={brief(at)} must be an array of numbers") from None
    if not np.all(np.isfinite(x)):
        raise ConvmatError(f"at={brief(at)} must be finite")
    return x


def check_mode(mode: Any, name: str, off: bool = False) -> Any:
    """``True`` is ``"exact"``, ``False`` (when ``off`` is allowed) stays ``False``;
    otherwise one of :data:`MODES`."""
    if isinstance(mode, (bool, np.bool_)) and (mode or off):
        return "exact" if mode else False
    if not isinstance(mode, str) or mode not in MODES:
        raise ConvmatError(f"{name}={brief(mode)} must be "
                           f"{'True, False' if off else 'True'} or one of {MODES}")
    return mode


def lipschitz_bound(model: Any, input_shape: int | Sequence[int], *,
                    in_channels: int | None = None, at: ArrayLike | None = None,
                    mode: str = "exact", progress: bool = False,
                    seed: int | None = None) -> LipschitzBound:
    r"""An upper bound of a network's Lipschitz constant (Euclidean norms): the product of
    its layers' constants, and the tighter product over its linear segments.

    Parameters
    ----------
    model : torch.nn.Module, str or sequence
        As :func:`convmat.summary`: a PyTorch model or a description of its layers (a
        description has no weights: its convolutions, linear and batch-normalisation
        layers get no norm, and the products are unknown).
    input_shape : sequence of int
        Spatial shape of one sample (or the full shape ``(C, *spatial)``).
    in_channels : int, optional
        As :func:`convmat.summary`.
    at : array_like, optional
        A point ``x`` of shape ``(C, *input_shape)``: also :math:`\|J_f(x)\|_2`, the norm
        of the network's Jacobian there (:func:`convmat.from_torch` with ``at=x``), a lower
        bound of the Lipschitz constant.
    mode : {"exact", "bound"}
        How a convolution's norm is computed: ``"exact"`` (default,
        :func:`convmat.spectral_norm` with its certified interval) or ``"bound"`` (the
        smallest guaranteed upper bound of :func:`convmat.spectral_bounds`, often faster;
        segments are then still computed exactly).
    progress : bool
        Write a progress bar to standard error.
    seed : int, optional
        A description's convolutions and linear layers get random weights drawn as
        PyTorch initialises them (uniform in :math:`\pm 1/\sqrt{\text{fan in}}`, NumPy's
        generator seeded with ``seed``), its batch normalisations PyTorch's initial scale.

    Returns
    -------
    LipschitzBound
        ``.rows`` (one :class:`LayerLipschitz` per layer: ``name``, ``type``, ``linear``,
        ``value``, ``upper``, ``how``, ``seconds``, ``segment``), ``.segments`` (one
        :class:`SegmentNorm` per run of linear layers), ``.layerwise``,
        ``.segmentwise``, ``.certified``, ``.local``; ``.text()``, ``.markdown()``,
        ``.latex()``.

    Notes
    -----
    For :math:`f = f_L \circ \cdots \circ f_1`,

    .. math::

        \|J_f(x)\|_2 \le \operatorname{Lip}(f) \le
        \prod_j \|S_j\|_2 \prod_{l \text{ non-linear}} \operatorname{Lip}(f_l) \le
        \prod_l \operatorname{Lip}(f_l),

    with :math:`S_j` the product of the :math:`j`-th run of consecutive linear layers
    (its exact norm, :math:`\|S_j\|_2 \le \prod_{l \in j} \|A_l\|_2`). A linear
    layer's constant is :math:`\|A_l\|_2` (a convolution's by
    :func:`convmat.spectral_norm`; pooling, upsampling, padding and the rest by a dense
    SVD or Lanczos on their matrix); an element-wise activation's is
    :math:`\sup_t|\sigma'(t)|` (ReLU, tanh, hardtanh: 1; sigmoid: 1/4; GELU: 1.1289;
    SiLU: 1.0998; SELU: 1.7581; leaky ReLU: :math:`\max(1, |a|)`; a discontinuous one,
    hard shrink, has none); max pooling's is :math:`\sqrt{c}` with :math:`c` the largest
    number of windows that contain one input (1 without overlap: :math:`|\max_W x -
    \max_W y| \le \|x_W - y_W\|_\infty`, and an input in :math:`c` windows can move
    :math:`c` maxima at once).

    Examples
    --------
    >>> b = lipschitz_bound("avgpool 2; relu; avgpool 2", (8, 8))
    >>> [round(r.value, 6) for r in b.rows]
    [0.5, 1.0, 0.5]
    >>> round(b.layerwise, 6)
    0.25
    """
    with error_context("lipschitz_bound", input_shape=input_shape):
        mode = check_mode(mode, "mode")
        progress = as_flag(progress, "progress")
        x = as_point(at)
        stages, shapes = network_chain(model, input_shape, in_channels, x, seed=seed)
        return lipschitz_record(stages, shapes, mode, x, progress)
