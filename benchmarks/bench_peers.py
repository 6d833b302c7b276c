"""Build time of conv_matrix against other ways of getting a convolution's matrix.

The 2-D case: a 48x48 single-channel input, a 3x3 kernel, 'same' padding (2304 x 2304,
20,164 stored entries). Peers: the dense Jacobian of PyTorch's conv2d
(``torch.autograd.functional.jacobian``) made sparse, PyLops ``ConvolveND(...).tosparse()``,
and a straightforward Python loop over rows and taps. In 1-D,
``scipy.linalg.convolution_matrix`` (dense). Every peer's matrix is checked equal to ours
before it is timed. Peers that are not installed are skipped.
Run: ``python benchmarks/bench_peers.py``.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

import convmat

from _timing import best_time, torch_jacobian

RNG = np.random.default_rng(0)
N, K = 48, 3
W = RNG.standard_normal((K, K))


def ours():
    return convmat.conv_matrix(W, (N, N), padding="same")


def python_loop():
    rows, cols, vals = [], [], []
    for r in range(N):
        for c in range(N):
            for i in range(K):
                for j in range(K):
                    y, x = r + i - 1, c + j - 1
                    if 0 <= y < N and 0 <= x < N:
                        rows.append(r * N + c)
                        cols.append(y * N + x)
                        vals.append(W[i, j])
    return sp.csr_array((vals, (rows, cols)), shape=(N * N, N * N))


def pylops_tosparse():
    import pylops

    op = pylops.signalprocessing.ConvolveND((N, N), W[::-1, ::-1].copy(), offset=(1, 1),
                                           axes=(0, 1), method="direct")
    return sp.csr_array(op.tosparse())


def main():
    reference = ours().toarray()
    t_ours = best_time(ours, repeat=20, number=10)
    print(f"2-D {N}x{N}, 3x3 'same', one channel ({reference.shape[0]} x {reference.shape[1]},"
          f" {ours().nnz:,} stored entries)")
    print(f"  convmat.conv_matrix                 {t_ours * 1e3:9.3f} ms")
    for name, fn, repeat in [("Python loop (rows x taps)", python_loop, 3),
                             ("PyTorch autograd Jacobian -> CSR", lambda: torch_jacobian(W, N), 3),
                             ("PyLops ConvolveND.tosparse()", pylops_tosparse, 2)]:
        try:
            matrix = fn()
        except ImportError as exc:
            print(f"  {name:<35} skipped ({exc.name} not installed)")
            continue
        assert np.allclose(matrix.toarray(), reference), f"{name} disagrees with convmat"
        t = best_time(fn, repeat=repeat)
        print(f"  {name:<35} {t * 1e3:9.3f} ms   convmat is {t / t_ours:8.0f}x faster")

    n1, k1 = 4096, 5
    h = RNG.standard_normal(k1)

    def ours_1d():
        return convmat.conv_matrix(h, (n1,), padding="full", flip=True)

    def scipy_1d():
        return scipy.linalg.convolution_matrix(h, n1, mode="full")

    assert np.allclose(ours_1d().toarray(), scipy_1d())
    t1, t2 = best_time(ours_1d, repeat=10, number=5), best_time(scipy_1d, repeat=5)
    print(f"1-D n={n1}, k={k1}, 'full' convolution ({n1 + k1 - 1} x {n1})")
    print(f"  convmat.conv_matrix (sparse)        {t1 * 1e3:9.3f} ms")
    print(f"  scipy.linalg.convolution_matrix     {t2 * 1e3:9.3f} ms   convmat is {t2 / t1:8.0f}x"
          f" faster (dense: {scipy_1d().nbytes / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
