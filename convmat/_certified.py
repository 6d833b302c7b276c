r"""The spectral norm of a layer with a certified interval: Lanczos below, a proof above.

Lanczos (no reorthogonalisation; the kept Ritz vectors are re-orthonormalised and checked
explicitly) on the normal operator :math:`M = A^\mathsf{T} A` (or :math:`A A^\mathsf{T}`, the
smaller side), with matrix-free products (PyTorch's convolutions when installed). The
Rayleigh-Ritz values :math:`\theta_1 \ge \dots \ge \theta_K` of an orthonormal :math:`V` are
lower bounds, :math:`\lambda_i(M) \ge \theta_i` (Cauchy).

**Majorants.** Write :math:`A = R\, C_\tau\, P`: :math:`P` the padding map into the padded
grid :math:`m_1 \times \dots \times m_N` (:math:`\|P\|_2` from
:func:`~convmat._spectral_layer.padding_norm`), :math:`C_\tau` the stride-1 convolution on
that grid that wraps around, *periodic* or *anti-periodic* per axis (:math:`\tau_a \in
\{0, 1\}`: a tap that wraps around axis :math:`a` is multiplied by :math:`(-1)^{\tau_a}`),
and :math:`R` the rows of the layer's outputs. A valid output never wraps (its window lies
inside the padded grid), so :math:`R C_\tau = V` for every :math:`\tau`. The plane waves
:math:`e_f(x) = e^{i \omega_f \cdot x}`, :math:`\omega_{f,a} = (2\pi f_a + \pi\tau_a)/m_a`,
are orthogonal on the grid and

.. math::

    C_\tau (e_f \otimes c) = e_f \otimes \hat W(\omega_f)\, c, \qquad
    \hat W(\omega) = \sum_j W_j\, e^{i \omega \cdot j d}

(for :math:`u = t + jd = q m + r` the wrapped read carries :math:`e^{i\pi\tau q}` and
:math:`e^{i\omega_f r} e^{i \pi \tau q} = e^{i \omega_f u}`), so the eigenvalues
:math:`g_1(\tau) \ge g_2(\tau) \ge \dots` of :math:`C_\tau^\mathsf{H} C_\tau` are those of
the frequency matrices :math:`\hat W^\mathsf{H} \hat W` together. Then
:math:`M = P^\mathsf{H} C_\tau^\mathsf{H} R^\mathsf{H} R\, C_\tau P \preceq P^\mathsf{H}
C_\tau^\mathsf{H} C_\tau P` and, as :math:`P P^\mathsf{H} \preceq \|P\|^2 I`,

.. math::

    \lambda_j(M) \le \|P\|_2^2\, \hat g_j, \qquad \hat g_j = \min_\tau g_j(\tau)
    \quad (\text{every } j),

by Courant-Fischer. The periodic circulant alone (Sedghi et al.'s matrices on the padded
grid) often has a *plateau* on top: a real kernel's frequencies :math:`\pm\omega` pair up,
and its grid samples the peak of :math:`\sigma_1(\hat W(\omega))` more closely than the
layer's eigenvectors (confined by the zero padding) can reach, so :math:`\hat g_{K+1}` stays
above :math:`\lambda_K(M)` for every small :math:`K`. The anti-periodic grids sample the
frequencies halfway between and often leave the gap that the periodic one lacks; the
:math:`2^N - 1` of them (:func:`twists`) are computed only while the interval is open.

**Certificate.** If :math:`\theta_K > \alpha = \|P\|^2 \hat g_{K+1} \ge \lambda_{K+1}(M)`,
exactly :math:`K` eigenvalues of :math:`M` exceed :math:`\alpha` (Cauchy gives :math:`K`,
the majorant at most :math:`K`); with the residual :math:`R = M V - V \Theta`, Davis and
Kahan's :math:`\sin\Theta` theorem bounds the angle to their eigenspace,
:math:`s \le \|R\| / (\theta_K - \alpha)`, so the Rayleigh quotient of :math:`M` on
:math:`V^\perp` is at most :math:`\beta = \alpha + (\|P\|^2 \hat g_1 - \alpha) s^2`, and
when :math:`\beta < \theta_1` the Schur complement of the top eigenvector's equation gives

.. math::

    \theta_1 \le \lambda_1(M) \le \theta_1 + \frac{\|R\|^2}{\theta_1 - \beta}

(quadratic in the residual: a residual of :math:`10^{-6}` closes the interval to
:math:`10^{-12}` when the gap is :math:`10^{-2}`). A margin of :data:`ROUNDING`
:math:`\|P\|^2 \hat g_1` covers rounding on both sides. When no :math:`K \le` :data:`MAX_K`
has the gap the interval stays open at :math:`\|P\|_2 \hat g_1^{1/2}`, reported as such.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from . import options
from ._memory import check_budget
from ._extremes import group_start
from ._spectral_layer import Layer, Progress, fast_products, padding_norm

__all__ = ["NormInterval", "certified_norm", "circulant_eigenvalues", "circulant_interval",
           "majorant_eigenvalues", "TOL"]

#: relative width of the interval at which the value is called exact
TOL = 1e-10
#: rounding margin, relative to the circulant bound ||P||^2 g_1, added on both sides
ROUNDING = 64 * np.finfo(np.float64).eps
#: Ritz pairs the certificate may use
MAX_K = 8
#: below this many Lanczos vectors within the memory guard, ARPACK (which restarts) is used
MIN_STEPS = 40
#: the anti-periodic circulants are tried up to this many spatial dimensions (2^N - 1 of them)
TWIST_AXES = 3


@dataclass(frozen=True)
class NormInterval:
    """The spectral norm with a certified interval: ``lower <= ||A||_2 <= upper``.

    ``value`` is the best estimate (the Rayleigh-Ritz value); ``exact`` is true when
    ``upper - lower <= tol * upper``; ``method`` says how each side was obtained;
    ``float(interval)`` is ``value``.
    """

    value: float
    lower: float
    upper: float
    exact: bool
    method: str
    steps: int = 0
    converged: bool = True

    def __float__(self) -> float:
        return self.value

    @property
    def width(self) -> float:
        """``(upper - lower) / upper``."""
        return (self.upper - self.lower) / self.upper if self.upper else 0.0


def _axis_frequencies(m: int, twisted: bool, half: bool) -> tuple[np.ndarray, np.ndarray]:
    r"""One axis's frequencies :math:`\omega_f = (2\pi f + \pi\tau) / m` and how often each
    stands for itself and its negative: with ``half`` (real weights, whose matrix at
    :math:`-\omega` is the conjugate of the one at :math:`\omega`) one of each pair
    :math:`\{\omega, -\omega\}` is kept with weight 2 (1 when it is its own negative)."""
    f = np.arange(m)
    if half:
        f = f[: (m + 1) // 2 if twisted else m // 2 + 1]
    omega = (2 * np.pi * f + (np.pi if twisted else 0.0)) / m
    if not half:
        return omega, np.ones(f.size, dtype=np.int64)
    own = (2 * f + 1 == m) if twisted else ((f == 0) | (2 * f == m))
    return omega, np.where(own, 1, 2)


def circulant_eigenvalues(layer: Layer, index: int, count: int,
                          twist: tuple[bool, ...] | None = None
                          ) -> tuple[np.ndarray, tuple[np.integer, ...]]:
    r"""The ``count`` largest eigenvalues (with multiplicity) of :math:`C^\mathsf{H} C` for
    the circulant :math:`C` of group ``index``'s kernel on the padded grid, descending, and
    the frequency index of the largest (for the warm start).

    ``twist`` (one flag per axis) makes the circulant *anti-periodic* along the flagged axes
    (a tap that wraps around changes sign): its frequencies are :math:`(2\pi f + \pi) / M`
    instead of :math:`2\pi f / M`, and it contains the layer as well (module docstring).
    Each frequency's matrix :math:`\hat W(\omega) = \sum_j W_j e^{-i \omega \cdot j d}`
    (the unreduced tap offsets :math:`j d`, which puts the sign on a wrapped tap) is
    evaluated axis by axis, a small matrix product per axis."""
    g = layer.geom
    grid = g.padded_shape
    twist = tuple(bool(t) for t in twist) if twist is not None else (False,) * g.ndim
    w = layer.group_weight(index)
    half = w.dtype.kind == "f"
    axes = [_axis_frequencies(m, t, half and a == g.ndim - 1)
            for a, (m, t) in enumerate(zip(grid, twist))]
    freqs = tuple(omega.size for omega, _ in axes)
    check_budget(4 * 16 * layer.c_out * layer.c_in * math.prod(freqs),
                 "the circulant's eigenvalues")
    spec = w.astype(np.complex128) if w.dtype.kind == "f" else w
    for (omega, _), k, d in zip(axes, g.kernel_shape, g.dilation):
        phase = np.exp(-1j * np.outer(np.arange(k) * d, omega))  # (k, F_axis)
        spec = np.tensordot(spec, phase, axes=([2], [0]))  # the axis moves to the end
    # (co, ci, *freqs) -> (F, co, ci)
    spec = np.ascontiguousarray(np.moveaxis(spec.reshape(layer.c_out, layer.c_in, -1), 2, 0))
    if spec.shape[1] < spec.shape[2]:
        spec = np.swapaxes(spec, 1, 2).conj()
    mu = np.linalg.eigvalsh(np.swapaxes(spec, 1, 2).conj() @ spec)  # (F, r) ascending
    top = np.unravel_index(int(np.argmax(mu[:, -1])), freqs)
    weights = np.broadcast_to(axes[-1][1], freqs).ravel()
    # only the largest few of a frequency can be among the count largest overall
    mu = np.repeat(mu[:, -min(count, mu.shape[1]):], weights, axis=0)
    flat = np.maximum(mu.ravel(), 0.0)
    count = min(count, flat.size)
    return np.sort(np.partition(flat, flat.size - count)[flat.size - count:])[::-1], top


def twists(ndim: int) -> list[tuple[bool, ...]]:
    """The anti-periodic circulants tried after the periodic one: every non-empty set of
    axes, fewest first (none beyond :data:`TWIST_AXES` dimensions)."""
    if ndim > TWIST_AXES:
        return []
    every = [t for t in itertools.product((False, True), repeat=ndim) if any(t)]
    return sorted(every, key=sum)


def majorant_eigenvalues(layer: Layer, index: int, count: int) -> np.ndarray:
    r""":math:`\hat g_j = \min_\tau g_j(\tau)`, :math:`j \le` ``count``: the ``j``-th
    largest eigenvalue of :math:`C_\tau^\mathsf{H} C_\tau` minimised over the periodic and
    anti-periodic circulants :math:`C_\tau` on the padded grid (:func:`twists`); each
    bounds :math:`\lambda_j(M) / \|P\|_2^2` (module docstring)."""
    best, _ = circulant_eigenvalues(layer, index, count)
    for twist in twists(layer.geom.ndim):
        best = np.minimum(best, circulant_eigenvalues(layer, index, count, twist)[0])
    return best


def warm_start(layer: Layer, index: int, frequency: tuple[np.integer, ...], input_side: bool,
               rng: np.random.Generator) -> np.ndarray:
    """A start vector near the top singular vector: the circulant's top plane wave (the
    channel vector of its frequency matrix) under a half-sine window on every axis (the
    zero padding's ground state), plus a random part so that no eigenvector is missed."""
    g = layer.geom
    w = layer.group_weight(index)
    omega = [2 * np.pi * f / m for f, m in zip(frequency, g.padded_shape)]
    taps = np.stack(np.meshgrid(*[np.arange(k) * d for k, d in zip(g.kernel_shape,
                                                                     g.dilation)],
                                indexing="ij")).reshape(g.ndim, -1)
    phase = np.exp(1j * np.tensordot(np.asarray(omega), taps, axes=1))  # (T,)
    matrix = w.reshape(w.shape[0], w.shape[1], -1) @ phase  # (co, ci)
    u, _, vh = np.linalg.svd(matrix)
    channel = vh[0].conj() if input_side else u[:, 0]
    shape = g.input_shape if input_side else g.output_shape
    scale = g.stride if not input_side else (1,) * g.ndim
    wave = np.ones(1, dtype=complex)
    for n, om, s in zip(shape, omega, scale):
        pos = np.arange(n)
        axis = np.exp(1j * om * s * pos) * np.sin(np.pi * (pos + 1) / (n + 1))
        wave = np.multiply.outer(wave, axis)
    vec = np.multiply.outer(channel, wave.reshape(shape)).ravel()
    vec = vec if layer.w.dtype.kind == "c" else np.real(vec)
    vec = vec / max(np.linalg.norm(vec), 1e-300)
    noise = rng.standard_normal(vec.size)
    return (vec + 0.05 * noise / np.linalg.norm(noise)).astype(layer.w.dtype)


def _certificate(theta: np.ndarray, resid: np.ndarray, g: np.ndarray, p2: float
                 ) -> float | None:
    """The upper bound of lambda_1(M) from Ritz values ``theta`` (descending), the norms of
    the residuals of the first K Ritz vectors ``resid[K-1]``, and the circulant's ``g``; or
    ``None``."""
    top = p2 * g[0]
    best = None
    for k in range(1, min(theta.size, g.size - 1) + 1):
        alpha = p2 * g[k]
        gap = theta[k - 1] - alpha
        if gap <= 0:
            continue
        r = resid[k - 1]
        s2 = min((r / gap) ** 2, 1.0)
        beta = alpha + (top - alpha) * s2
        if beta >= theta[0]:
            continue
        upper = theta[0] + r * r / (theta[0] - beta)
        best = upper if best is None else min(best, upper)
    return best


def _useful_k(theta: np.ndarray, g: np.ndarray, p2: float) -> int:
    """How many Ritz vectors the certificate can use: the smallest K with theta_K above
    ||P||^2 g_{K+1} (1 when none is: the interval then rests on the circulant alone)."""
    for k in range(1, min(MAX_K, theta.size, g.size - 1) + 1):
        if theta[k - 1] > p2 * g[k]:
            return k
    return 1


def _lanczos(apply: Callable[[np.ndarray], np.ndarray], size: int, dtype: Any,
             v0: np.ndarray, max_steps: int,
             done: Callable[[np.ndarray, np.ndarray, int], bool],
             reorthogonalise: bool = False) -> tuple[np.ndarray, Any, Any]:
    """Lanczos; ``done(theta, estimates, step)`` is asked every few steps. Without
    reorthogonalisation (the default: it would cost more memory traffic than the products)
    the basis loses orthogonality once a Ritz value converges, which leaves that value and
    its residual estimate accurate (Paige) but may repeat it ("ghosts"): the caller
    re-orthonormalises the Ritz vectors it keeps and checks them explicitly. Returns ``(Q, theta, S)``: the basis (rows), the Ritz values (descending) and
    the tridiagonal's eigenvectors."""
    basis = np.empty((max_steps + 1, size), dtype=dtype)
    alphas: list[float] = []
    betas: list[float] = []
    q = v0 / np.linalg.norm(v0)
    basis[0] = q
    theta = s = None
    for j in range(max_steps):
        w = apply(basis[j])
        a = float(np.real(np.vdot(basis[j], w)))
        alphas.append(a)
        w = w - a * basis[j] - (betas[-1] * basis[j - 1] if j else 0)
        b = float(np.linalg.norm(w))
        if reorthogonalise:  # full, twice when cancellation shows (Kahan)
            w = w - basis[:j + 1].T @ (basis[:j + 1].conj() @ w)
            before, b = b, float(np.linalg.norm(w))
            if b < 0.7 * before:
                w = w - basis[:j + 1].T @ (basis[:j + 1].conj() @ w)
                b = float(np.linalg.norm(w))
        betas.append(b)
        check = (j + 1) % 4 == 0 or j + 1 == max_steps or b <= 1e-14 * abs(a)
        if check:
            t = np.diag(alphas) + np.diag(betas[:-1], 1) + np.diag(betas[:-1], -1)
            theta, s = np.linalg.eigh(t)
            theta, s = theta[::-1], s[:, ::-1]
            if check and (b <= 1e-14 * max(abs(theta[0]), 1e-300) or
                          done(theta, b * np.abs(s[-1]), j + 1)):
                return basis[:j + 1], theta, s
        basis[j + 1] = w / b if b > 0 else w
    return basis[:max_steps], theta, s


def _bounds(apply: Callable[[np.ndarray], np.ndarray], basis: np.ndarray, theta: np.ndarray,
            s: np.ndarray, g: np.ndarray, p2: float
            ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Rayleigh-Ritz on the top ``K`` Ritz vectors of the Lanczos ``basis`` (``K`` from
    :func:`_useful_k`), their residuals explicitly, and ``[lower, upper]`` of lambda_1(M)
    with the rounding margin: ``(theta, residuals, lower, upper)``."""
    k = _useful_k(theta, g, p2)
    vectors = s[:, :k].T @ basis  # (k, size) Ritz vectors
    vectors, _ = np.linalg.qr(vectors.T)  # orthonormal columns
    images = np.stack([apply(vectors[:, i]) for i in range(k)], axis=1)
    small = vectors.conj().T @ images
    th, rot = np.linalg.eigh((small + small.conj().T) / 2)
    th, rot = th[::-1], rot[:, ::-1]
    vectors, images = vectors @ rot, images @ rot
    residual = images - vectors * th[None, :]
    resid = np.array([np.linalg.norm(residual[:, :i + 1], 2) for i in range(k)])
    margin = ROUNDING * p2 * g[0]
    upper = _certificate(th - margin, resid, g, p2)
    lam_low = max(th[0] - margin, 0.0)
    lam_up = p2 * g[0] + margin if upper is None else min(upper + 2 * margin,
                                                         p2 * g[0] + margin)
    return th, resid, lam_low, lam_up


def certified_norm(layer: Layer, *, tol: float = TOL, v0: Any = None, max_steps: int = 300,
                   use_torch: bool | None = None, progress: bool = False,
                   sharpen: bool = True) -> NormInterval | None:
    """The spectral norm of ``layer`` with a certified interval (module docstring);
    ``sharpen=False`` leaves out the anti-periodic circulants (the value is the same, the
    interval may be wider)."""
    lowers, uppers, values, steps_all, converged_all = [], [], [], 0, True
    p2 = padding_norm(layer.geom) ** 2
    geom_g = layer.group_geometry()
    engine = "numpy"
    limit = int(cast(int, options.get("memory_limit")))
    for index in range(layer.groups):
        w = layer.group_weight(index)
        if not w.any() or 0 in geom_g.axis_entries():
            lowers.append(0.0)
            uppers.append(0.0)
            values.append(0.0)
            continue
        matvec, rmatvec, engine = fast_products(w, geom_g, 1, use_torch=use_torch)
        if layer.rows <= layer.cols:
            size, outer, inner = layer.rows, matvec, rmatvec
        else:
            size, outer, inner = layer.cols, rmatvec, matvec
        itemsize = layer.w.dtype.itemsize
        steps = min(max_steps, size, limit // (size * itemsize) - 2 * MAX_K - 8)
        if steps < MIN_STEPS and steps < size:
            return None  # the basis does not fit the memory guard: the caller uses ARPACK
        g, peak = circulant_eigenvalues(layer, index, MAX_K + 2)

        def apply(v, outer=outer, inner=inner):
            return outer(inner(v))

        rng = np.random.default_rng(20251)
        output_side = layer.rows <= layer.cols
        start = None
        if v0 is not None:
            start = group_start(v0, layer, index, output_side, matvec, rmatvec)
        if start is None or not np.any(start):
            start = warm_start(layer, index, peak, not output_side, rng)

        bar = Progress(progress, "Lanczos" + (f" (group {index + 1}/{layer.groups})"
                                              if layer.groups > 1 else ""), steps, "steps")

        def done(theta, estimates, step, g=g, bar=bar):
            bar.step(step - bar.done)
            k = min(MAX_K, theta.size)
            resid = np.sqrt(np.cumsum(estimates[:k] ** 2))
            upper = _certificate(theta[:k], resid, g, p2)
            converged = estimates[0] <= tol * theta[0]
            return converged or (upper is not None and upper - theta[0] <= 0.25 * tol * theta[0])

        basis, theta, s = _lanczos(apply, size, layer.w.dtype, start, steps, done)
        bar.step(basis.shape[0] - bar.done)
        bar.close()
        steps_all += basis.shape[0]
        th, resid, lam_low, lam_up = _bounds(apply, basis, theta, s, g, p2)
        # the periodic circulant left the interval open: the anti-periodic ones, each of
        # which contains the layer too, may leave the gap it lacked (until one closes it)
        for twist in twists(layer.geom.ndim) if sharpen else []:
            if lam_up - lam_low <= tol * lam_up:
                break
            g = np.minimum(g, circulant_eigenvalues(layer, index, MAX_K + 2, twist)[0])
            th, resid, lam_low, lam_up = _bounds(apply, basis, theta, s, g, p2)
        low, up = math.sqrt(lam_low), math.sqrt(lam_up)
        lowers.append(low)
        uppers.append(up)
        values.append(math.sqrt(max(th[0], 0.0)))
        converged_all &= bool(resid[0] <= tol * max(th[0], 1e-300) or (up - low) <= tol * up)
    lower, upper, value = max(lowers), max(uppers), max(values)
    exact = (upper - lower) <= tol * upper if upper else True
    how = (f"Lanczos ({engine} products) below; above, the periodic and anti-periodic "
           f"circulants on the padded grid with the Ritz residuals (Davis-Kahan)")
    return NormInterval(value, lower, upper, bool(exact), how, steps_all, converged_all)


def circulant_interval(layer: Layer, value: float, how: str) -> NormInterval:
    """``[value, circulant bound]`` for a Rayleigh-Ritz ``value`` found otherwise."""
    p = padding_norm(layer.geom)
    top = max(math.sqrt(majorant_eigenvalues(layer, i, 1)[0]) for i in range(layer.groups))
    upper = max(p * top * (1 + ROUNDING), value)
    exact = upper - value <= TOL * upper
    return NormInterval(value, value, upper, bool(exact),
                        f"{how} below; the circulant on the padded grid above")
