r"""Exact singular values and spectral norm of a convolution layer.

:func:`singular_values` and :func:`spectral_norm` take the arguments of
:func:`convmat.conv_matrix` and return the singular values of that matrix, for every stride,
padding, padding mode, dilation and group count, by one of three exact methods:

``"fft"``
    The layer is *block-circulant* on a reduced grid (circular padding whose output size is
    ``input / stride``, the input a multiple of the stride; see :func:`circulant_symbol`):
    one small matrix per frequency, ``C_out/G x (C_in/G * prod(stride))``, and the singular
    values of the layer are those of all these matrices together. At stride 1 this is the
    classical result for circular convolutions; at stride ``s`` it follows from Kong &
    Lucey's rearrangement (a strided layer is a unit-stride layer on the space-to-depth
    input). Cost: one FFT of the kernel and ``prod(input / stride)`` small SVDs.
``"sparse"``
    The largest ``k`` by Lanczos (ARPACK, :func:`scipy.sparse.linalg.eigsh`) on the normal
    operator :math:`A^\mathsf{H} A` (or :math:`A A^\mathsf{H}`, the smaller side),
    converged to a relative residual of ``1e-10`` (so each value is within ``5e-11`` of
    itself), then a Rayleigh-Ritz step (the SVD of :math:`A V`) for the singular values.
    The operator is the CSR matrix for small layers and the matrix-free
    :func:`convmat.conv_operator` for large ones (so also whenever the matrix would not fit
    the memory guard). The start vector is fixed, so results are reproducible.
``"dense"``
    :func:`numpy.linalg.svd` of the dense matrix, for small layers (guarded by a memory
    estimate).
``"auto"`` (default)
    ``"fft"`` whenever the layer is block-circulant; otherwise ``"dense"`` when every
    singular value is wanted (``k=None``, or ``k`` at least a group's smaller side) or the
    per-group matrix is small (smaller side below 256) or ``k`` is more than a tenth of that
    side; otherwise ``"sparse"``. If the dense matrix would not fit the memory guard it falls
    back to ``"sparse"`` when that can serve ``k``, and raises otherwise (the message says
    which ``k`` or method works).

With ``groups > 1`` the matrix is block diagonal (one block per group, all of one shape); each
method works group by group and merges. Results are descending float64 arrays, exact to
rounding: each value within about ``1e-12`` of the largest singular value, relatively, of
``numpy.linalg.svd(conv_matrix(...).toarray())``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
import scipy.sparse.linalg as spla

from . import geometry, options
from ._memory import check_budget, estimate_bytes, format_bytes
from ._padmap import index_map
from ._certified import NormInterval, certified_norm, circulant_interval
from ._extremes import (MAX_SECONDS, check_options, check_time, dense_seconds, extreme, ritz,
                        top_eigen)
from ._spectral_layer import Layer, Progress, limited_threads
from ._validate import as_flag, as_int
from .errors import ConvmatError, brief, error_context, shape_of
from .operator import conv_operator
from .sparse import conv_matrix

__all__ = ["singular_values", "spectral_norm", "circulant_symbol", "choose_method", "METHODS",
           "NormInterval"]

Method = Literal["auto", "fft", "sparse", "dense"]
METHODS: tuple[str, ...] = ("auto", "fft", "sparse", "dense")

#: relative residual at which Lanczos stops: each singular value is then within about
#: ``TOL / 2`` of itself, relatively (|lambda - theta| <= ||r|| for a Hermitian matrix)
TOL = 1e-10
#: ``auto`` uses the dense SVD below this smaller side of a group's matrix
DENSE_SIDE = 256
#: ``auto`` uses the dense SVD when ``k`` exceeds this fraction of the smaller side
DENSE_FRACTION = 0.1
#: the sparse method uses the CSR matrix up to this many stored entries per group, the
#: matrix-free conv_operator above
CSR_ENTRIES = 400_000


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------

def _check_k(k, count: int) -> int | None:
    if k is None:
        return None
    k = as_int(k, "k")
    if k < 1:
        raise ConvmatError(f"k={brief(k)} must be >= 1 (or None for all singular values)")
    if k > count:
        raise ConvmatError(f"k={brief(k)} exceeds the number of singular values of the layer, "
                           f"{count:,} (the matrix's smaller side)")
    return k


def _check_method(method) -> str:
    if not isinstance(method, str) or method not in METHODS:
        raise ConvmatError(f"method={brief(method)} is not one of {METHODS}")
    return method


def _top(values: np.ndarray, k: int | None) -> np.ndarray:
    """The ``k`` largest of ``values`` (all for ``None``), descending."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if k is not None and k < values.size:
        values = np.partition(values, values.size - k)[values.size - k:]
    return np.sort(values)[::-1].copy()


# --------------------------------------------------------------------------------------------
# fft: block-circulant layers
# --------------------------------------------------------------------------------------------

def _circulant_taps(geom: geometry.ConvGeometry):
    """Per dim, the input index each tap reads for output 0 (``-1``: a padding zero), or
    the reason the layer is not block-circulant.

    A dim is block-circulant when ``n % s == 0``, ``o == n / s`` and shifting the output by
    one is shifting every read by ``s`` modulo ``n``: ``read[t, j] == (read[0, j] + t s) mod
    n`` for every output ``t`` and tap ``j`` (and a tap that reads a padding zero does so for
    every ``t``). A layer whose every window reads only padding along some dim is zero,
    block-circulant with no tap.
    """
    taps = []
    zero = 0 in geom.axis_entries()  # along some dim every tap reads padding: the layer is 0
    for axis, (n, k, s, d, (b, a), o) in enumerate(zip(
            geom.input_shape, geom.kernel_shape, geom.stride, geom.dilation, geom.padding,
            geom.output_shape)):
        where = f"in dim {axis}"
        if n % s:
            return None, (f"{where} the input size {n} is not a multiple of the stride {s}")
        if o != n // s:
            return None, (f"{where} the output size is {o}, not input/stride = {n // s} (with "
                          f"padding_mode='circular', padding='same' gives that size)")
        source = index_map(n, b, a, geom.padding_mode)
        reads = source[np.arange(o)[:, None] * s + np.arange(k)[None, :] * d]  # (o, k)
        base = reads[0]
        shifted = np.where(base >= 0, (base + np.arange(o)[:, None] * s) % n, -1)
        if zero:  # a zero matrix is block-circulant: no tap reads anything
            taps.append(np.full(k, -1))
            continue
        if not np.array_equal(reads, shifted):
            return None, (f"{where} the window reads {brief(geom.padding_mode)} padding, so "
                          f"shifting the input by the stride does not shift the output by "
                          f"one (only padding_mode='circular', or no padding read, keeps it)")
        taps.append(base)
    return taps, None


def _symbol(layer: Layer, taps, *, half: bool) -> np.ndarray:
    """``(G, *freqs, C_out/G, C_in/G * prod(s))`` complex: one matrix per frequency.

    ``half`` (real weights) keeps the frequencies of :func:`numpy.fft.rfftn` only.
    """
    g = layer.geom
    n = g.ndim
    q = tuple(i // s for i, s in zip(g.input_shape, g.stride))
    # per tap (C order over the kernel): phase r = read mod s, position read // s
    grids = np.meshgrid(*taps, indexing="ij")
    reads = np.stack([m.ravel() for m in grids])  # (n, T)
    keep = (reads >= 0).all(axis=0)
    reads = reads[:, keep]
    stride = np.asarray(g.stride)[:, None]
    phase, position = reads % stride, reads // stride
    w = layer.w.reshape(g.out_channels, layer.c_in, -1)[:, :, keep]  # (C_out, C_in/G, T')
    scattered = np.zeros((*q, *g.stride, g.out_channels, layer.c_in), dtype=layer.w.dtype)
    np.add.at(scattered, (*position, *phase), np.moveaxis(w, 2, 0))
    axes = tuple(range(n))
    if half:
        spectrum = np.fft.rfftn(scattered, axes=axes)
    else:
        spectrum = np.fft.fftn(scattered, axes=axes)
    # (*freqs, *s, C_out, C_in/G) -> (*freqs, G, C_out/G, C_in/G, *s) -> (G, *freqs, co, ci*P)
    freqs = spectrum.shape[:n]
    spectrum = spectrum.reshape(*freqs, math.prod(g.stride), layer.groups, layer.c_out,
                                layer.c_in)
    spectrum = np.moveaxis(spectrum, n, -1)  # (*freqs, G, co, ci, P)
    spectrum = spectrum.reshape(*freqs, layer.groups, layer.c_out, -1)
    return np.moveaxis(spectrum, n, 0)


def _fft_bytes(layer: Layer) -> int:
    g = layer.geom
    cells = math.prod(i // s for i, s in zip(g.input_shape, g.stride))
    per_group = layer.c_out * layer.c_in * math.prod(g.stride)
    # scattered kernel (8 B), its spectrum twice (FFT output, reordered copy) and LAPACK's
    # copy (16 B each); the singular values, repeated and sorted (8 B each, twice)
    return int(cells * layer.groups * per_group * (8 + 3 * 16) + 16 * layer.count)


def _fft(layer: Layer, k: int | None) -> np.ndarray:
    taps, reason = _circulant_taps(layer.geom)
    if taps is None:
        raise ConvmatError(f"method='fft' does not apply: the layer is not block-circulant "
                           f"({reason}); use method='sparse', 'dense' or 'auto'")
    check_budget(_fft_bytes(layer), "the FFT of the layer's circulant blocks")
    real = layer.w.dtype.kind == "f"
    symbol = _symbol(layer, taps, half=real)
    if symbol.shape[-2] < symbol.shape[-1]:  # LAPACK's batched SVD is faster on tall blocks
        symbol = np.swapaxes(symbol, -1, -2)
    values = np.linalg.svd(symbol, compute_uv=False)  # (G, *freqs, min(co, ci*P))
    if real:
        # a real layer's symbol at -f is the conjugate of the one at f: rfftn kept one of
        # each pair, plus the self-conjugate frequencies of the last axis (0 and q/2)
        q = layer.geom.input_shape[-1] // layer.geom.stride[-1]
        f = np.arange(values.shape[-2])
        repeats = np.where((f == 0) | (2 * f == q), 1, 2)
        values = np.repeat(values, repeats, axis=-2)
    return _top(values, k)


def circulant_symbol(
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
) -> np.ndarray:
    r"""The per-frequency matrices of a block-circulant convolution layer.

    Parameters
    ----------
    weight, input_shape, stride, padding, dilation, groups, padding_mode
        As :func:`convmat.conv_matrix`.

    Returns
    -------
    numpy.ndarray, complex, shape ``(groups, *q, C_out/groups, C_in/groups * prod(stride))``
        ``q = input_shape // stride``; entry ``[g, f]`` is the matrix of frequency ``f``
        of group ``g``. The singular values of ``conv_matrix(...)`` are those of all these
        matrices together.

    Raises
    ------
    ConvmatError
        When the layer is not block-circulant (the message says which dim and why).

    Notes
    -----
    Per dim with input size :math:`n`, stride :math:`s`, :math:`q = n/s`, let
    :math:`u_j \in [0, n)` be the input position that tap :math:`j` reads for output 0
    (for circular padding :math:`u_j = (jd - b) \bmod n`). The layer is block-circulant
    when output :math:`t` reads :math:`(u_j + ts) \bmod n` for every :math:`t` (output size
    :math:`n/s`, circular padding or no padding read). Writing
    :math:`u_j = s\alpha_j + r_j` (phase :math:`r_j`, position :math:`\alpha_j` on the
    reduced grid),

    .. math::

        y_o[t] = \sum_{c, j} w[o, c, j]\; x_{c, r_j}[(t + \alpha_j) \bmod q],
        \qquad x_{c, r}[m] = x_c[sm + r],

    a unit-stride circular convolution of the space-to-depth input (Kong & Lucey), so a
    plane wave :math:`e^{2\pi i f m / q}` on every phase channel is mapped to a plane wave
    with the matrix

    .. math::

        \hat W(f)[o, (c, r)] = \sum_{j \,:\, r_j = r} w[o, c, j]\, e^{-2\pi i f \alpha_j / q}

    (up to conjugation, which leaves singular values unchanged). The DFT diagonalises the
    layer into these ``prod(q)`` blocks.

    Examples
    --------
    >>> import numpy as np
    >>> S = circulant_symbol([1.0, 2.0, 3.0], (4,), padding=1, padding_mode="circular")
    >>> S.shape
    (1, 4, 1, 1)
    >>> np.round(np.sort(np.abs(S.ravel())), 6)
    array([2.      , 2.828427, 2.828427, 6.      ])
    >>> circulant_symbol(np.ones((2, 3, 3, 3)), (8, 8), stride=2, padding="same",
    ...                  padding_mode="circular").shape
    (1, 4, 4, 2, 12)
    """
    with error_context("circulant_symbol", input_shape=input_shape,
                       weight_shape=shape_of(weight)):
        layer = Layer.from_call(weight, input_shape, stride=stride, padding=padding,
                                dilation=dilation, groups=groups, padding_mode=padding_mode)
        taps, reason = _circulant_taps(layer.geom)
        if taps is None:
            raise ConvmatError(f"the layer is not block-circulant: {reason}")
        check_budget(_fft_bytes(layer), "the FFT of the layer's circulant blocks")
        return _symbol(layer, taps, half=False)


# --------------------------------------------------------------------------------------------
# dense
# --------------------------------------------------------------------------------------------

def _dense_bytes(layer: Layer, geom_g: geometry.ConvGeometry) -> int:
    itemsize = layer.w.dtype.itemsize
    _, csr = estimate_bytes(geom_g, itemsize, transposed=False)
    # the dense block, LAPACK's copy of it and its workspace (a few columns' worth)
    return int(csr + 2 * layer.rows * layer.cols * itemsize
               + 8 * itemsize * max(layer.rows, layer.cols) * min(layer.side, 64))


def _dense(layer: Layer, k: int | None, progress: bool = False) -> np.ndarray:
    geom_g = layer.group_geometry()
    check_budget(_dense_bytes(layer, geom_g),
                 f"the dense SVD of a {layer.rows:,} x {layer.cols:,} matrix",
                 advice=_advice(layer, k, "dense"))
    bar = Progress(progress, f"dense SVD (about {dense_seconds(layer):,.0f} s estimated)",
                   layer.groups, "groups")
    values = []
    for index in range(layer.groups):
        dense = conv_matrix(layer.group_weight(index), layer.geom.input_shape,
                            **layer.kwargs()).toarray()
        values.append(np.linalg.svd(dense, compute_uv=False))
        del dense
        bar.step()
    bar.close()
    return _top(np.concatenate(values), k)


# --------------------------------------------------------------------------------------------
# sparse: Lanczos on the normal operator
# --------------------------------------------------------------------------------------------

def _engine(layer: Layer, index: int, geom_g: geometry.ConvGeometry):
    """(matvec, rmatvec) of group ``index``: the CSR matrix for small groups, else the
    matrix-free :func:`convmat.conv_operator` (one matrix product per kernel tap)."""
    w = layer.group_weight(index)
    if geom_g.nnz_upper_bound() <= CSR_ENTRIES:
        matrix = conv_matrix(w, geom_g.input_shape, **layer.kwargs())
        adjoint = matrix.T.conj().tocsr()
        return (lambda x: matrix @ x), (lambda y: adjoint @ y)
    operator = conv_operator(w, geom_g.input_shape, **layer.kwargs())
    return operator.matvec, operator.rmatvec


def _sparse_bytes(layer: Layer, geom_g: geometry.ConvGeometry, k: int) -> int:
    itemsize = layer.w.dtype.itemsize
    nnz = geom_g.nnz_upper_bound()
    if nnz <= CSR_ENTRIES:
        engine = 2 * estimate_bytes(geom_g, itemsize, transposed=True)[1]
    else:
        taps = math.prod(geom_g.kernel_shape)
        engine = itemsize * (2 * geom_g.in_channels * math.prod(geom_g.padded_shape)
                             + 2 * geom_g.in_channels * taps * math.prod(geom_g.output_shape))
    ncv = min(layer.side, max(2 * k + 1, 20))
    arpack = itemsize * (ncv + 2 * k + 4) * max(layer.rows, layer.cols) + 8 * ncv * ncv * 8
    return int(engine + arpack)


def _max_sparse_k(layer: Layer, geom_g: geometry.ConvGeometry) -> int:
    """The largest ``k`` the sparse method can serve within the memory guard (0: none)."""
    limit = int(options.get("memory_limit"))  # type: ignore[arg-type]
    best = 0
    lo, hi = 1, layer.side - 1
    while lo <= hi:  # _sparse_bytes grows with k
        mid = (lo + hi) // 2
        if _sparse_bytes(layer, geom_g, mid) <= limit:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return best


def _lanczos(layer: Layer, index: int, geom_g: geometry.ConvGeometry, k: int,
             bar: Progress | None = None) -> np.ndarray:
    """The ``k`` largest singular values of group ``index``'s block (``k < side``).

    Lanczos finds one vector of each eigenspace it meets, so a multiple singular value (a
    circular layer's real weights pair frequency ``f`` with ``-f``) could lose a copy. For
    ``k > 1`` the result is therefore verified: Lanczos runs again on the normal operator
    deflated by the vectors found, and whatever it finds above the ``k``-th value joins
    them (a Rayleigh-Ritz step on the union), until nothing is found above it.
    """
    if not layer.group_weight(index).any() or 0 in geom_g.axis_entries():
        return np.zeros(k)  # a zero block (or every tap reads zero padding): Lanczos breaks down
    matvec, rmatvec = _engine(layer, index, geom_g)
    if layer.rows <= layer.cols:  # A A^H on the output side
        size, outer, inner = layer.rows, matvec, rmatvec
    else:  # A^H A on the input side
        size, outer, inner = layer.cols, rmatvec, matvec
    dtype = layer.w.dtype
    rng = np.random.default_rng(20251)
    basis = np.zeros((size, 0), dtype=dtype)
    values = np.zeros(0)
    want = k
    for _ in range(k + 1):
        found = basis

        def project(v, found=found):
            return v - found @ (found.conj().T @ v) if found.shape[1] else v

        def product(v, project=project):
            if bar is not None:
                bar.step()
            return project(outer(inner(project(v))))

        normal = spla.LinearOperator((size, size), matvec=product, dtype=dtype)
        room = size - found.shape[1]
        if room <= 1:  # the complement is one vector (or none): check it directly
            if room == 1:
                full, _ = np.linalg.qr(np.hstack([found, rng.standard_normal((size, 1))]))
                new = full[:, -1:]
                mu = np.linalg.norm(inner(new[:, 0])) ** 2
                if mu > values[k - 1] ** 2 * (1 + 10 * TOL):
                    basis = np.hstack([basis, new])
                    values = ritz(inner, basis)
            break
        want = min(want, room - 1)
        v0 = project(rng.standard_normal(size).astype(dtype))
        mu, vectors = top_eigen(normal, want, v0, k, room)
        if found.shape[1] and mu.max() <= values[k - 1] ** 2 * (1 + 10 * TOL):
            break  # nothing above the k-th value outside the subspace found
        basis, _ = np.linalg.qr(np.hstack([found, vectors]))
        values = ritz(inner, basis)
        if k == 1:
            break  # the largest value is found even if a copy of it is not
        want = 1 if found.shape[1] == 0 else k
    return values[:k]


def _sparse(layer: Layer, k: int, progress: bool = False) -> np.ndarray:
    if k >= layer.count:
        raise ConvmatError(
            f"k={k} must be smaller than the matrix's smaller side {layer.count:,} for "
            f"method='sparse' (Lanczos finds some, not all, singular values); use "
            f"method='dense'{_fft_hint(layer)} for all of them")
    geom_g = layer.group_geometry()
    k_g = min(k, layer.side)
    if k_g == layer.side:
        # groups > 1 and k reaches past one group's singular values: each group's full
        # spectrum is a candidate, which only the dense SVD of the (small) blocks gives
        return _dense(layer, k, progress)
    check_budget(_sparse_bytes(layer, geom_g, k_g),
                 f"Lanczos for the largest {k_g:,} singular values",
                 advice=_advice(layer, k, "sparse"))
    bar = Progress(progress, "Lanczos (ARPACK)", None, "products")
    values = [_lanczos(layer, index, geom_g, k_g, bar) for index in range(layer.groups)]
    bar.close()
    return _top(np.concatenate(values), k)


# --------------------------------------------------------------------------------------------
# choosing, advising
# --------------------------------------------------------------------------------------------

def _fits(nbytes: int) -> bool:
    return nbytes <= int(options.get("memory_limit"))  # type: ignore[arg-type]


def _fft_hint(layer: Layer) -> str:
    taps, _ = _circulant_taps(layer.geom)
    return " or method='fft'" if taps is not None else ""


def _advice(layer: Layer, k: int | None, method: str) -> str:
    """What would work instead: which ``k`` the sparse method serves, whether fft applies."""
    geom_g = layer.group_geometry()
    parts = []
    taps, reason = _circulant_taps(layer.geom)
    if taps is not None and _fits(_fft_bytes(layer)):
        parts.append("method='fft' computes every singular value of this layer")
    else:
        if reason is not None:
            parts.append(f"method='fft' does not apply ({reason})")
        best = _max_sparse_k(layer, geom_g)
        if method != "sparse" or k is None or k > best:
            if best >= 1:
                parts.append(f"method='sparse' gives the largest k singular values for any "
                             f"k <= {min(best, layer.count - 1):,} (k=1: the spectral norm)")
            else:
                parts.append("no k fits method='sparse' within the memory limit either")
    return ("; ".join(parts) + ". ") if parts else ""


def choose_method(
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    k: int | None = None,
) -> str:
    """The method ``method="auto"`` uses for this request: ``"fft"``, ``"dense"`` or
    ``"sparse"``.

    Raises :class:`ConvmatError` (saying what would work) when no exact method can serve
    the request within the memory guard.

    Examples
    --------
    >>> W = np.ones((16, 16, 3, 3))
    >>> choose_method(W, (32, 32), padding="same", padding_mode="circular")
    'fft'
    >>> choose_method(W, (32, 32), padding="same", k=1)
    'sparse'
    >>> choose_method(W, (6, 6), padding="same")
    'dense'
    """
    with error_context("choose_method", input_shape=input_shape,
                       weight_shape=shape_of(weight)):
        layer = Layer.from_call(weight, input_shape, stride=stride, padding=padding,
                                dilation=dilation, groups=groups, padding_mode=padding_mode)
        return _choose(layer, _check_k(k, layer.count))


def _choose(layer: Layer, k: int | None) -> str:
    """The fastest exact method for this request (see the module docstring)."""
    taps, _ = _circulant_taps(layer.geom)
    if taps is not None and _fits(_fft_bytes(layer)):
        return "fft"
    geom_g = layer.group_geometry()
    dense_fits = _fits(_dense_bytes(layer, geom_g))
    want_all = k is None or k >= layer.side
    if want_all:
        if dense_fits:
            return "dense"
        if k is not None and k < layer.count:
            return "sparse"  # raises with the sizes and what would work
        asked = "k=None asks for all" if k is None else f"k={k} reaches into all"
        per_group = " per group" if layer.groups > 1 else ""
        limit = format_bytes(int(options.get("memory_limit")))  # type: ignore[arg-type]
        raise ConvmatError(
            f"{asked} {layer.count:,} singular values, which needs the dense SVD of the "
            f"{layer.rows:,} x {layer.cols:,} matrix{per_group}: about "
            f"{format_bytes(_dense_bytes(layer, geom_g))}, over the memory limit of {limit}. "
            + _advice(layer, k, "dense").rstrip())
    small = layer.side < DENSE_SIDE or k > DENSE_FRACTION * layer.side
    if small and dense_fits:
        return "dense"
    return "sparse"


# --------------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------------

def singular_values(
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    k: int | None = None,
    method: Method = "auto",
    which: str = "largest",
    return_vectors: bool = False,
    v0: ArrayLike | None = None,
    max_seconds: float | None = MAX_SECONDS,
    progress: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Singular values of a convolution layer's matrix, largest first (or smallest first).

    Parameters
    ----------
    weight, input_shape, stride, padding, dilation, groups, padding_mode
        Exactly as :func:`convmat.conv_matrix`: the values are those of
        ``conv_matrix(weight, input_shape, ...)``.
    k : int, optional
        The ``k`` largest; ``None`` (default) for all ``min(rows, cols)`` of them.
    method : {"auto", "fft", "sparse", "dense"}
        ``"fft"`` for block-circulant layers (circular padding with output size
        ``input / stride``; see :func:`circulant_symbol`), ``"sparse"`` (Lanczos, the
        largest ``k < min(rows, cols)`` only), ``"dense"`` (LAPACK on the dense matrix) or
        ``"auto"``: the fastest that applies (module :mod:`convmat.spectral` gives the rule).
    which : {"largest", "smallest"}
        The end of the spectrum: ``"smallest"`` returns the ``k`` smallest, ascending.
    return_vectors : bool
        Also return the singular vectors: ``(values, U, V)`` with ``A @ V[:, i] ==
        values[i] * U[:, i]`` (``U``: output side, ``V``: input side; FFT layers use the
        dense SVD or Lanczos for them).
    v0 : array, optional
        A Lanczos warm start (one value per input or output entry).
    max_seconds : float or None
        A dense SVD estimated (before it starts) to take longer is refused, with the
        estimate and what would work instead; ``None`` runs it anyway.
    progress : bool
        Draw a progress bar on ``sys.stderr`` while the long paths run (the dense SVD, group
        by group, with its time estimate; Lanczos, product by product).

    Returns
    -------
    numpy.ndarray of float64, descending
        Length ``k`` (or ``min(rows, cols)``), each within about ``1e-12`` times the
        largest of ``numpy.linalg.svd(conv_matrix(...).toarray(), compute_uv=False)``.

    Raises
    ------
    ConvmatError
        For a non-numeric or non-finite weight, an invalid geometry, ``k < 1`` or ``k``
        above the number of singular values (or ``k`` equal to it with ``method="sparse"``),
        a method that does not apply (``"fft"`` on a layer that is not block-circulant), or
        a request no exact method can serve within the memory guard (the message says which
        ``k`` or method would work).

    Notes
    -----
    With :math:`G` groups the matrix is block diagonal, :math:`A = \operatorname{diag}(A_1,
    \ldots, A_G)`, so :math:`\sigma(A) = \bigcup_g \sigma(A_g)`; each method works group by
    group. For a block-circulant layer (stride :math:`s`, reduced grid :math:`q = n/s`),

    .. math::

        \sigma(A) = \bigcup_{f \in \mathbb{Z}_{q_1} \times \cdots \times \mathbb{Z}_{q_N}}
                    \sigma\big(\hat W(f)\big),
        \qquad \hat W(f) \in \mathbb{C}^{C_{out}/G \times (C_{in}/G) \prod s}.

    Otherwise the ``k`` largest are the square roots of the largest eigenvalues of
    :math:`A^\mathsf{H} A` found by Lanczos, refined by a Rayleigh-Ritz step.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([1.0, 2.0, 3.0])
    >>> np.round(singular_values(w, (4,), padding=1, padding_mode="circular"), 6)
    array([6.      , 2.828427, 2.828427, 2.      ])
    >>> A = conv_matrix(w, (4,), padding=1)
    >>> np.allclose(singular_values(w, (4,), padding=1),
    ...             np.linalg.svd(A.toarray(), compute_uv=False))
    True
    >>> singular_values(np.ones((8, 8, 3, 3)), (16, 16), padding=1, k=3).shape  # Lanczos
    (3,)
    """
    with error_context("singular_values", input_shape=input_shape,
                       weight_shape=shape_of(weight)), limited_threads():
        method = _check_method(method)
        layer = Layer.from_call(weight, input_shape, stride=stride, padding=padding,
                                dilation=dilation, groups=groups, padding_mode=padding_mode)
        k = _check_k(k, layer.count)
        which, return_vectors, max_seconds = check_options(which, return_vectors, max_seconds)
        progress = as_flag(progress, "progress")
        auto = method == "auto"
        if auto:
            method = _choose(layer, k)
        slow = max_seconds is not None and dense_seconds(layer, return_vectors) > max_seconds
        if auto and method == "dense" and slow and k is not None and k < layer.side:
            method = "sparse"  # the dense SVD would run for minutes: Lanczos serves k
        if return_vectors or which == "smallest" or v0 is not None:
            return extreme(layer, k, method, which, bool(return_vectors), v0, max_seconds,
                           lambda: _fft(layer, None), _advice(layer, k, "dense"), progress)
        if method == "fft":
            return _fft(layer, k)
        if method == "dense":
            check_time(layer, False, max_seconds, _advice(layer, k, "dense"))
            return _dense(layer, k, progress)
        if k is None:
            raise ConvmatError(
                f"method='sparse' finds the largest k singular values: give k "
                f"(1 <= k < {layer.count:,}); all of them need method='dense'"
                f"{_fft_hint(layer)}")
        return _sparse(layer, k, progress)


def spectral_norm(
    weight: ArrayLike,
    input_shape: Sequence[int],
    *,
    stride: int | Sequence[int] = 1,
    padding: geometry.Padding = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    padding_mode: geometry.PaddingMode = "zeros",
    method: Method = "auto",
    certified: bool = False,
    v0: ArrayLike | None = None,
    progress: bool = False,
) -> float | NormInterval:
    r"""The largest singular value of a convolution layer's matrix (its Lipschitz constant
    in the Euclidean norm), exactly.

    Parameters
    ----------
    weight, input_shape, stride, padding, dilation, groups, padding_mode, method
        As :func:`singular_values`; ``weight`` may be a PyTorch ``nn.Conv1d/2d/3d``.
    certified : bool
        Return a :class:`NormInterval` ``[lower, upper]`` that provably contains the norm
        (``exact`` when it closes to ``1e-10``), instead of the float.
    v0 : array, optional
        A warm start for Lanczos (a vector of the input or output side, e.g. the previous
        training step's singular vector).
    progress : bool
        Draw a progress bar of the Lanczos steps (or the dense SVD) on ``sys.stderr``.

    Returns
    -------
    float or NormInterval
        :math:`\|A\|_2 = \sigma_{\max}(A)` of ``A = conv_matrix(weight, input_shape, ...)``.

    Notes
    -----
    ``method="auto"``: the FFT for block-circulant layers and the dense SVD for small ones
    (closed intervals), else Lanczos with PyTorch's convolutions (``conv_operator`` without
    torch): its Rayleigh-Ritz value below; above, the periodic and anti-periodic circulants
    on the padded grid (each contains the layer, so :math:`\lambda_j(A^\mathsf{T} A) \le
    \|P\|^2 \min_\tau g_j(\tau)` for every ``j``), closed by the Ritz residuals when that
    spectrum leaves a gap below the ``K`` largest Ritz values (:mod:`convmat._certified`);
    without one the interval stays open (``exact=False``), the value converged to a
    relative residual of ``1e-10``. The anti-periodic circulants are computed only with
    ``certified=True``.

    Examples
    --------
    >>> round(spectral_norm([1.0, -1.0], (8,), padding="same", padding_mode="circular"), 12)
    2.0
    >>> W = np.random.default_rng(0).standard_normal((4, 4, 3, 3))
    >>> exact = spectral_norm(W, (12, 12), padding=1)
    >>> bool(abs(exact - np.linalg.norm(conv_matrix(W, (12, 12), padding=1).toarray(), 2))
    ...      < 1e-10 * exact)
    True
    >>> box = spectral_norm(W, (12, 12), padding=1, certified=True)
    >>> bool(box.exact and abs(box.value - exact) < 1e-10 * exact)
    True
    """
    with error_context("spectral_norm", input_shape=input_shape,
                       weight_shape=shape_of(weight)), limited_threads():
        method = asked = _check_method(method)
        certified = as_flag(certified, "certified")
        progress = as_flag(progress, "progress")
        layer = Layer.from_call(weight, input_shape, stride=stride, padding=padding,
                                dilation=dilation, groups=groups, padding_mode=padding_mode)
        if method == "auto":
            method = _choose(layer, 1)
        if method in ("fft", "dense"):
            value = float(_fft(layer, 1)[0] if method == "fft" else _dense(layer, 1, progress)[0])
            how = ("FFT: the layer is block-circulant, its singular values are those of the "
                   "frequency matrices" if method == "fft" else "dense SVD")
            return NormInterval(value, value, value, True, how) if certified else value
        if layer.count <= 1:
            _sparse(layer, 1)  # raises: Lanczos needs k below the smaller side
        interval = certified_norm(layer, v0=v0, progress=progress, sharpen=certified)
        if certified and asked == "auto" and (interval is None or not interval.exact) and \
                dense_seconds(layer) < 1 and _fits(_dense_bytes(layer, layer.group_geometry())):
            value = float(_dense(layer, 1, progress)[0])  # a second closes what was left open
            return NormInterval(value, value, value, True, "dense SVD")
        if interval is not None and interval.converged:
            return interval if certified else interval.value
        value = float(_sparse(layer, 1, progress)[0])  # ARPACK: restarted, within the guard
        return circulant_interval(layer, value, "ARPACK") if certified else value
