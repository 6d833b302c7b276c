r"""Singular values from either end of a layer's spectrum, with singular vectors and a warm start,
and the dense SVD's time estimate.

Lanczos (ARPACK, :func:`scipy.sparse.linalg.eigsh`) on the normal operator of the smaller
side, :math:`A^\mathsf{T} A` or :math:`A A^\mathsf{T}`, with the fast products of
:func:`convmat._spectral_layer.fast_products`; the other side's vectors follow from
:math:`u = A v / \sigma` (or :math:`v = A^\mathsf{T} u / \sigma`). The dense route is the SVD
of each group's block. Vectors of the whole (block-diagonal) matrix are the groups' vectors
placed in their block, zero elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np
import scipy.sparse.linalg as spla

from . import options
from ._memory import check_budget, format_bytes
from ._spectral_layer import Layer, Progress, fast_products
from ._validate import as_flag, check_choice
from .errors import ConvmatError, brief
from .sparse import conv_matrix

__all__ = ["dense_seconds", "DENSE_FLOPS", "lanczos_extreme", "dense_extreme", "WHICH",
           "check_time", "time_error", "extreme", "MAX_SECONDS", "group_start", "check_options",
           "as_start", "top_eigen", "ritz", "LANCZOS_TOL", "factor_bytes",
           "smallest_advice"]

#: floating-point operations per second assumed for LAPACK's SVD (one core, half of it
#: matrix-vector work in the bidiagonalisation): a deliberately modest figure, so that the
#: estimate errs on the long side
DENSE_FLOPS = 5e9
WHICH = ("largest", "smallest")
#: singular values below this fraction of a bound of ||A|| count as 0 for the vectors
NULL = 1e-8
#: a dense SVD estimated to take longer is refused unless asked for (``max_seconds``)
MAX_SECONDS = 60.0
#: relative residual at which ARPACK stops (``convmat.spectral.TOL``)
LANCZOS_TOL = 1e-10


def dense_seconds(layer: Layer, vectors: bool = False) -> float:
    """Estimated seconds of the dense SVD of every group's block: ``4 m n^2 - 4 n^3 / 3``
    floating-point operations for the values of an ``m x n`` block (``m >= n``), about
    three times that with the vectors; real arithmetic (complex costs four times)."""
    m, n = max(layer.rows, layer.cols), min(layer.rows, layer.cols)
    flops = 4.0 * m * n * n - 4.0 * n ** 3 / 3
    if vectors:
        flops *= 3
    if layer.w.dtype.kind == "c":
        flops *= 4
    return layer.groups * flops / DENSE_FLOPS


def _place(layer: Layer, index: int, block: np.ndarray, output: bool) -> np.ndarray:
    """Columns of group ``index``'s block placed in the whole matrix's rows (or columns)."""
    per = layer.rows if output else layer.cols
    full = np.zeros((per * layer.groups, block.shape[1]), dtype=block.dtype)
    full[index * per:(index + 1) * per] = block
    return full


def _merge(layer: Layer, parts: list[tuple[np.ndarray, Any, Any]], k: int, which: str,
           vectors: bool) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` extreme values over the groups (largest first, or smallest first), with
    their vectors."""
    values = np.concatenate([p[0] for p in parts])
    order = np.argsort(-values if which == "largest" else values, kind="stable")[:k]
    if not vectors:
        return values[order].copy()
    lefts = np.hstack([_place(layer, i, p[1], True) for i, p in enumerate(parts)])
    rights = np.hstack([_place(layer, i, p[2], False) for i, p in enumerate(parts)])
    return values[order].copy(), lefts[:, order], rights[:, order]


def dense_extreme(layer: Layer, k: int, which: str, vectors: bool, progress: bool = False
                  ) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The dense SVD of every group's block: the ``k`` extreme values (and vectors)."""
    parts: list[tuple[np.ndarray, Any, Any]] = []
    bar = Progress(progress, f"dense SVD (about {dense_seconds(layer, vectors):,.0f} s "
                   f"estimated)", layer.groups, "groups")
    for index in range(layer.groups):
        dense = conv_matrix(layer.group_weight(index), layer.geom.input_shape,
                            **layer.kwargs()).toarray()
        if vectors:
            u, s, vh = np.linalg.svd(dense, full_matrices=False)
            parts.append((s, u, vh.conj().T))
        else:
            parts.append((np.linalg.svd(dense, compute_uv=False), None, None))
        bar.step()
    bar.close()
    return _merge(layer, parts, k, which, vectors)


def factor_bytes(nnz: int, size: int) -> int:
    """A generous estimate of the sparse LU of the normal matrix of a layer with ``nnz``
    stored entries on a side of ``size`` (fill included), before anything is built."""
    return int(16 * 40 * (nnz + size) * max(1.0, nnz / max(size, 1)))


def smallest_advice(layer: Layer) -> str:
    """What computes the smallest singular values when shift-invert does not fit."""
    dense = 2 * layer.rows * layer.cols * layer.w.dtype.itemsize
    fits = dense <= int(cast(int, options.get("memory_limit")))
    return (f"method='dense' gives every singular value, the smallest included, from the "
            f"dense {layer.rows:,} x {layer.cols:,} matrix{' per group' if layer.groups > 1 else ''}"
            f" (about {format_bytes(dense)}{'' if fits else ', over the limit too'} and "
            f"{dense_seconds(layer):,.0f} s); a circular layer with output size input/stride "
            f"has all of them by method='fft'; a smaller input_shape shows the same layer's "
            f"behaviour at less cost. ")


def check_options(which: Any, return_vectors: Any, max_seconds: Any
                  ) -> tuple[str, bool, float | None]:
    """``singular_values``' ``which``, ``return_vectors`` and ``max_seconds``, checked."""
    which = check_choice(which, "which", WHICH)
    vectors = as_flag(return_vectors, "return_vectors")
    if max_seconds is not None:
        number = isinstance(max_seconds, (int, float, np.integer, np.floating)) and \
            not isinstance(max_seconds, (bool, np.bool_))
        try:
            seconds = float(max_seconds) if number else math.nan
        except OverflowError:  # an integer too large for a float: refused as infinite
            seconds = math.inf
        if not (math.isfinite(seconds) and seconds > 0):
            raise ConvmatError(f"max_seconds={brief(max_seconds)} must be a positive number "
                               f"of seconds, or None for no limit")
        max_seconds = seconds
    return which, vectors, max_seconds


def as_start(v0: Any, dtype: Any) -> np.ndarray:
    """A warm start as a finite vector of ``dtype``."""
    try:
        v = np.asarray(v0, dtype=dtype).ravel()
    except (TypeError, ValueError, OverflowError):
        raise ConvmatError(f"v0={brief(v0)} is not a numeric vector") from None
    if not np.isfinite(v).all():
        raise ConvmatError("v0 contains NaN or infinite entries")
    return v


def group_start(v0: Any, layer: Layer, index: int, output_side: bool,
                matvec: Callable[[np.ndarray], np.ndarray],
                rmatvec: Callable[[np.ndarray], np.ndarray]) -> np.ndarray | None:
    """Group ``index``'s part of a warm start given on the input side (``C_in *
    prod(input)`` values) or the output side, mapped to the side Lanczos runs on (``None``
    without ``v0`` or when that part is zero)."""
    if v0 is None:
        return None
    v = as_start(v0, layer.w.dtype)
    if v.size == layer.cols * layer.groups:
        part = v[index * layer.cols:(index + 1) * layer.cols]
        start = matvec(part) if output_side else part.copy()
    elif v.size == layer.rows * layer.groups:
        part = v[index * layer.rows:(index + 1) * layer.rows]
        start = part.copy() if output_side else rmatvec(part)
    else:
        raise ConvmatError(
            f"v0 has {v.size:,} values; a warm start has one per input "
            f"({layer.cols * layer.groups:,}) or output ({layer.rows * layer.groups:,}) entry")
    return start if np.any(start) else None


def lanczos_extreme(layer: Layer, k: int, which: str, vectors: bool, v0: Any = None,
                    tol: float = 1e-10, progress: bool = False
                    ) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ARPACK on every group's normal operator: the ``k`` extreme singular values (and
    vectors) of the whole matrix, ``k`` below each group's smaller side."""
    geom_g = layer.group_geometry()
    if which == "smallest":  # before building anything: the factorisation's estimate
        check_budget(factor_bytes(geom_g.nnz_upper_bound(), min(layer.rows, layer.cols)),
                     "the sparse factorisation behind the smallest singular values "
                     "(shift-invert Lanczos)", advice=smallest_advice(layer))
    bar = Progress(progress, f"Lanczos (ARPACK, {which})", None, "products")
    parts: list[tuple[np.ndarray, Any, Any]] = []
    for index in range(layer.groups):
        w = layer.group_weight(index)
        matvec, rmatvec, _ = fast_products(w, geom_g, 1)
        output_side = layer.rows <= layer.cols
        size = layer.rows if output_side else layer.cols
        outer, inner = (matvec, rmatvec) if output_side else (rmatvec, matvec)
        k_g = min(k, size - 1)
        if k_g < 1 or not w.any() or 0 in geom_g.axis_entries():
            zeros = np.zeros(min(k, size))
            parts.append((zeros, np.zeros((layer.rows, zeros.size)),
                          np.zeros((layer.cols, zeros.size))))
            continue
        def product(v, o=outer, i=inner):
            bar.step()
            return o(i(v))

        normal = spla.LinearOperator((size, size), matvec=product, dtype=layer.w.dtype)
        start = group_start(v0, layer, index, output_side, matvec, rmatvec)
        if start is None:
            start = np.random.default_rng(20251).standard_normal(size).astype(layer.w.dtype)
        # more than k: Lanczos meets one vector per eigenspace, the extra ones catch the
        # copies of a repeated value (a circular layer pairs frequency f with -f)
        want = min(size - 1, 2 * k_g + 4)
        try:
            if which == "largest":
                mu, vecs = spla.eigsh(normal, k=want, which="LA", tol=tol, v0=start,
                                      ncv=min(size, max(2 * want + 1, 24)))
            else:  # shift-invert just below 0 on the sparse normal matrix
                a = conv_matrix(w, layer.geom.input_shape, **layer.kwargs())
                m = (a @ a.conj().T if output_side else a.conj().T @ a).tocsc()
                shift = -1e-9 * max(float(abs(m).sum(axis=1).max()), 1e-300)
                mu, vecs = spla.eigsh(m, k=want, sigma=shift, which="LM", tol=tol, v0=start)
        except spla.ArpackError as exc:
            if "error -9:" not in str(exc):  # "starting vector is zero": the block is 0
                raise
            mu, vecs = np.zeros(1), np.eye(size, 1, dtype=layer.w.dtype)
        except (spla.ArpackNoConvergence, RuntimeError) as exc:
            raise ConvmatError(
                f"Lanczos (ARPACK) did not converge for the {which} k={k} singular values "
                f"({exc}); method='dense' computes every value of a small layer") from None
        order = np.argsort(-mu if which == "largest" else mu)[:k_g]
        mu, vecs = mu[order], vecs[:, order]
        # sigma = ||A^H u|| (or ||A v||), not sqrt(mu): accurate to rounding times sigma_max
        # also for the smallest values, where the square root would amplify mu's rounding
        images = np.stack([inner(vecs[:, i]) for i in range(vecs.shape[1])], axis=1)
        sigma = np.linalg.norm(images, axis=0)
        if not vectors:
            parts.append((sigma, None, None))
            continue
        # the other side's vector is A^H u / sigma: undetermined (set to 0) for a value at
        # rounding level, below NULL times a bound of ||A||
        bound = np.linalg.norm(w) * np.sqrt(np.prod(layer.geom.kernel_shape)) * 4.0
        null = sigma <= NULL * bound
        images = np.where(null[None, :], 0.0, images / np.where(null, 1.0, sigma)[None, :])
        if output_side:  # vecs are left vectors u, images A^T u / sigma the right ones
            parts.append((sigma, vecs, images))
        else:
            parts.append((sigma, images, vecs))
    bar.close()
    return _merge(layer, parts, k, which, vectors)


def time_error(layer: Layer, seconds: float, max_seconds: float, advice: str) -> ConvmatError:
    per_group = " per group" if layer.groups > 1 else ""
    return ConvmatError(
        f"the dense SVD of the {layer.rows:,} x {layer.cols:,} matrix{per_group} would take "
        f"about {seconds:,.0f} s (estimated at {DENSE_FLOPS / 1e9:.0f} GFLOP/s before "
        f"starting), over max_seconds={max_seconds:g}. {advice}Or pass max_seconds=None to "
        f"run it anyway (progress=True draws a progress bar on stderr).")


def check_time(layer: Layer, vectors: bool, max_seconds: float | None, advice: str) -> None:
    """Refuse a dense SVD estimated to run longer than ``max_seconds`` (``None``: never)."""
    if max_seconds is None:
        return
    seconds = dense_seconds(layer, vectors)
    if seconds > max_seconds:
        raise time_error(layer, seconds, max_seconds, advice)


def extreme(layer: Layer, k: int | None, method: str, which: str, vectors: bool, v0: Any,
            max_seconds: float | None, all_values: Callable[[], np.ndarray], advice: str,
            progress: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``singular_values`` for the smallest values, vectors or a warm start: the FFT's
    values (``all_values()``) when no vectors are asked, else Lanczos or the dense SVD."""
    count = k if k is not None else layer.count
    if method == "fft" and not vectors:
        values = all_values()
        return values[:count].copy() if which == "largest" else values[::-1][:count].copy()
    if method == "fft":  # vectors: the dense SVD when it is quick, else Lanczos
        quick = max_seconds is None or dense_seconds(layer, True) <= max_seconds
        method = "dense" if quick or k is None or k >= layer.side else "sparse"
    if method == "sparse":
        if k is None or k >= layer.side:
            raise ConvmatError(
                f"method='sparse' finds k < {layer.side:,} singular values per group; give "
                f"k, or use method='dense'")
        return lanczos_extreme(layer, k, which, vectors, v0, progress=progress)
    check_time(layer, vectors, max_seconds, advice)
    return dense_extreme(layer, count, which, vectors, progress)


def top_eigen(normal: spla.LinearOperator, want: int, v0: np.ndarray, k: int, room: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """The ``want`` largest eigenpairs of a Hermitian positive semi-definite operator of
    rank at most ``room``: ARPACK, or, when its Krylov space would span that whole range
    (where ARPACK breaks down), the dense eigensolver on the operator applied to the
    identity (this happens only for ``k`` within about 20 of the smaller side)."""
    size = normal.shape[0]
    ncv = min(size, max(2 * want + 1, 20))
    if want >= size - 1 or ncv >= room:
        matrix = normal.matmat(np.eye(size, dtype=normal.dtype))
        mu, vectors = np.linalg.eigh((matrix + matrix.conj().T) / 2)
        return mu[-want:], vectors[:, -want:]
    try:
        return spla.eigsh(normal, k=want, which="LA", tol=LANCZOS_TOL, v0=v0, ncv=ncv)
    except spla.ArpackError as exc:
        if "error -9:" not in str(exc):
            raise
        # "starting vector is zero": the operator maps it to 0, so every value left is 0
        return np.zeros(want), np.zeros((size, want), dtype=normal.dtype)
    except spla.ArpackNoConvergence as exc:
        raise ConvmatError(
            f"Lanczos (ARPACK) did not converge for k={k} ({exc}); method='dense' computes "
            f"every singular value of a small layer") from None


def ritz(apply: Callable[[np.ndarray], np.ndarray], basis: np.ndarray) -> np.ndarray:
    """Singular values of ``A Q`` for the orthonormal ``Q = basis`` (Rayleigh-Ritz)."""
    images = np.stack([apply(basis[:, i]) for i in range(basis.shape[1])], axis=1)
    return np.linalg.svd(images, compute_uv=False)
