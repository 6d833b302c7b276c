"""Exact singular values: FFT for circular layers, Lanczos for zero padding, vs power iteration.

1. The full spectrum of a circular 64 -> 64, 3x3 layer on 32x32 (65,536 singular values; its
   dense matrix would be 34 GB) by the FFT method, and the same method checked against the
   dense SVD of the same layer on 8x8.
2. The spectral norm of the zero-padded 64 -> 64, 3x3 layer on 32x32 (37 M stored entries):
   convmat's Lanczos against 100 steps of the usual power iteration with PyTorch's conv2d /
   conv_transpose2d (float32 as in training code, and float64), each with its error against
   an independent exact value (Lanczos to machine precision on PyTorch's float64 operator, or
   on convmat's CSR matrix without PyTorch).

Run from this folder: ``python bench_spectral.py``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse.linalg as spla

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import convmat  # noqa: E402
from convmat import spectral  # noqa: E402

from _timing import best_cpu_time, best_time  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - optional peer
    torch = None

C, N = 64, 32
rng = np.random.default_rng(0)
W = rng.standard_normal((C, C, 3, 3)) / np.sqrt(C * 9)


def fft_full_spectrum() -> None:
    print("== full spectrum of a circular layer by FFT ==")
    kw = dict(padding="same", padding_mode="circular")
    values = spectral.singular_values(W, (N, N), method="fft", **kw)
    t = best_time(lambda: spectral.singular_values(W, (N, N), method="fft", **kw), repeat=3)
    print(f"{C}->{C}, 3x3, {N}x{N} circular: {values.size:,} singular values in {t:.3f} s "
          f"(dense matrix would be {(C * N * N) ** 2 * 8 / 1e9:.0f} GB); "
          f"sigma_max {values[0]:.10f}, sigma_min {values[-1]:.3e}")
    small = 8
    start = time.perf_counter()
    dense = np.linalg.svd(convmat.conv_matrix(W, (small, small), **kw).toarray(),
                          compute_uv=False)
    t_dense = time.perf_counter() - start
    t_fft = best_time(lambda: spectral.singular_values(W, (small, small), method="fft", **kw))
    fft = spectral.singular_values(W, (small, small), method="fft", **kw)
    error = np.abs(fft - dense).max() / dense[0]
    print(f"same layer on {small}x{small} ({dense.size:,} values): FFT {t_fft * 1e3:.1f} ms, "
          f"dense SVD {t_dense:.2f} s ({t_dense / t_fft:,.0f}x); max |difference| / sigma_max "
          f"= {error:.1e}")
    # the strided case (Kong & Lucey): stride 2 on the same grid, checked the same way
    kw2 = dict(stride=2, padding="same", padding_mode="circular")
    t2 = best_time(lambda: spectral.singular_values(W, (N, N), method="fft", **kw2), repeat=3)
    dense2 = np.linalg.svd(convmat.conv_matrix(W, (small, small), **kw2).toarray(),
                           compute_uv=False)
    error2 = np.abs(spectral.singular_values(W, (small, small), **kw2) - dense2).max() / dense2[0]
    print(f"stride 2 (one {C} x {C * 4} matrix per frequency of the 16x16 grid): "
          f"{t2:.3f} s for all {C * (N // 2) ** 2:,}; at {small}x{small} vs dense SVD "
          f"{error2:.1e}")


def torch_operator(dtype):
    w = torch.tensor(W, dtype=dtype)

    def forward(x):
        return F.conv2d(x, w, padding=1)

    def adjoint(y):
        return F.conv_transpose2d(y, w, padding=1)

    return forward, adjoint


def power_iteration(steps: int, dtype) -> float:
    """The usual estimate: x <- A^T A x / ||.||, sigma = ||A x|| (PyTorch)."""
    forward, adjoint = torch_operator(dtype)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, C, N, N, generator=gen, dtype=dtype)
    x = x / x.norm()
    sigma = 0.0
    with torch.no_grad():
        for _ in range(steps):
            y = forward(x)
            sigma = y.norm().item()
            x = adjoint(y)
            x = x / x.norm()
    return sigma


def reference_norm() -> tuple[float, str]:
    """Independent exact value: ARPACK to machine precision on another operator."""
    size = C * N * N
    if torch is not None:
        forward, adjoint = torch_operator(torch.float64)

        def normal(v):
            x = torch.from_numpy(np.ascontiguousarray(v)).reshape(1, C, N, N)
            with torch.no_grad():
                return adjoint(forward(x)).numpy().ravel()
        name = "ARPACK, tol 0, on PyTorch's float64 conv2d/conv_transpose2d"
    else:
        A = convmat.conv_matrix(W, (N, N), padding=1)
        AT = A.T.tocsr()

        def normal(v):
            return AT @ (A @ v)
        name = "ARPACK, tol 0, on convmat's CSR matrix"
    op = spla.LinearOperator((size, size), matvec=normal, dtype=np.float64)
    v0 = np.random.default_rng(12345).standard_normal(size)
    lam = spla.eigsh(op, k=1, which="LA", tol=0, v0=v0, ncv=40, return_eigenvectors=False)
    return float(np.sqrt(lam[0])), name


def zero_padded_norm() -> None:
    print("\n== spectral norm of a zero-padded layer: exact (certified) vs power iteration ==")
    A_nnz = convmat.conv_matrix(W, (N, N), padding=1).nnz
    print(f"{C}->{C}, 3x3, {N}x{N}, padding 1 (zeros): {A_nnz:,} stored entries; "
          f"auto method: {spectral.choose_method(W, (N, N), padding=1, k=1)}")
    box = spectral.spectral_norm(W, (N, N), padding=1, certified=True)  # warm-up (imports)
    t_exact = best_time(lambda: spectral.spectral_norm(W, (N, N), padding=1, certified=True),
                        repeat=3)
    c_exact = best_cpu_time(
        lambda: spectral.spectral_norm(W, (N, N), padding=1, certified=True), 3, 1)
    t_value = best_time(lambda: spectral.spectral_norm(W, (N, N), padding=1), repeat=3)
    exact = box.value
    ref, how = reference_norm()
    print(f"convmat.spectral_norm        {exact:.15f}  {t_exact:7.2f} s wall, {c_exact:.2f} s "
          f"CPU   |error| vs reference {abs(exact - ref) / ref:.1e}   ({box.steps} Lanczos "
          f"steps)")
    print(f"  interval [{box.lower:.15f}, {box.upper:.15f}]: exact={box.exact} (width "
          f"{box.width:.1e}; {box.method})")
    print(f"  the float alone (certified=False: no anti-periodic circulants): {t_value:.2f} s "
          f"wall")
    print(f"reference ({how}) {ref:.15f}")
    circular = spectral.spectral_norm(W, (N, N), padding="same", padding_mode="circular")
    print(f"circular padding (FFT)       {circular:.15f}  relative difference "
          f"{(circular - ref) / ref:+.2e}")
    t_bounds = best_time(lambda: convmat.spectral_bounds(W, (N, N), padding=1, exact=False),
                         repeat=3)
    print(f"spectral_bounds without the exact row: {t_bounds:.2f} s (goal: under 2 s)")
    if torch is None:
        print("PyTorch is not installed: power iteration skipped")
        return
    default_threads = torch.get_num_threads()
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        for dtype in (torch.float32, torch.float64):
            power_iteration(2, dtype)  # warm-up
            t = best_time(lambda dtype=dtype: power_iteration(100, dtype), repeat=3)
            c = best_cpu_time(lambda dtype=dtype: power_iteration(100, dtype), 3, 1)
            sigma = power_iteration(100, dtype)
            name = str(dtype).replace("torch.", "")
            print(f"power iteration, 100 steps, {name}, {threads} thread(s): {sigma:.15f}  "
                  f"{t:6.2f} s wall, {c:.2f} s CPU   relative error {(sigma - ref) / ref:+.1e}"
                  f"   convmat/power {t_exact / t:.1f}x wall, {c_exact / c:.1f}x CPU")
    torch.set_num_threads(default_threads)
    sigma10 = power_iteration(10, torch.float64)
    print(f"power iteration, 10 steps, float64:  {sigma10:.15f}  relative error "
          f"{(sigma10 - ref) / ref:+.1e}")
    print("power iteration's estimate ||A x|| is a lower bound of sigma_max; its error after "
          "t steps is bounded by the spectral gap: roughly tan^2(angle of the start) * "
          "(sigma_2/sigma_1)^(4t), and the top of a convolution's spectrum is a dense "
          "cluster (sigma_2/sigma_1 close to 1), so it stalls; float32 adds ~1e-7.")


if __name__ == "__main__":
    import os
    print(f"numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'}; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    fft_full_spectrum()
    zero_padded_norm()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
