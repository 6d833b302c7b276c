"""Applying a layer: the explicit CSR matrix and the matrix-free conv_operator against
torch.nn.functional.conv2d, scipy.signal.correlate and PyLops ConvolveND on the same data.

Every result is checked equal before it is timed. Peers not installed are skipped.
Run: ``python benchmarks/bench_apply.py``.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

import convmat

from _timing import best_time

RNG = np.random.default_rng(0)


def report(name, t, base):
    print(f"  {name:<42} {t * 1e3:9.3f} ms   ({t / base:6.2f}x convmat CSR)")


def single_channel(n=256, k=3, batch=32):
    w = RNG.standard_normal((k, k))
    x = RNG.standard_normal((n, n))
    xs = RNG.standard_normal((batch, n, n))
    a = convmat.conv_matrix(w, (n, n))
    op = convmat.conv_operator(w, (n, n))
    ref = scipy.signal.correlate(x, w, mode="valid").ravel()
    assert np.allclose(a @ x.ravel(), ref) and np.allclose(op @ x.ravel(), ref)
    print(f"one channel {n}x{n}, {k}x{k} valid; matvec and a batch of {batch}")
    t_mv = best_time(lambda: a @ x.ravel(), repeat=10, number=5)
    report("CSR matvec", t_mv, t_mv)
    report("conv_operator matvec", best_time(lambda: op @ x.ravel(), 10, 5), t_mv)
    report("scipy.signal.correlate (valid)",
           best_time(lambda: scipy.signal.correlate(x, w, mode="valid"), 10, 5), t_mv)
    xb = xs.reshape(batch, -1).T.copy()
    t_b = best_time(lambda: a @ xb, repeat=5)
    report(f"CSR @ batch of {batch}", t_b, t_b)
    report(f"conv_operator @ batch of {batch}", best_time(lambda: op @ xb, 5), t_b)
    report(f"scipy.signal.correlate x {batch}", best_time(
        lambda: [scipy.signal.correlate(v, w, mode="valid") for v in xs], 5), t_b)
    try:
        import torch
    except ImportError:
        print("  torch skipped (not installed)")
    else:
        torch.set_num_threads(1)
        wt, xt = torch.from_numpy(w)[None, None], torch.from_numpy(xs)[:, None]
        assert np.allclose(torch.nn.functional.conv2d(xt, wt)[3, 0].numpy().ravel(),
                           a @ xs[3].ravel())
        report(f"torch conv2d, batch of {batch} (1 thread)",
               best_time(lambda: torch.nn.functional.conv2d(xt, wt), 5), t_b)
        report("torch conv2d, one image (1 thread)",
               best_time(lambda: torch.nn.functional.conv2d(xt[:1], wt), 10, 5), t_mv)
    try:
        import pylops
    except ImportError:
        print("  PyLops skipped (not installed)")
    else:
        same = convmat.conv_operator(w, (n, n), padding="same", flip=True)
        lop = pylops.signalprocessing.ConvolveND((n, n), w, offset=(k // 2, k // 2),
                                                 axes=(0, 1), method="direct")
        assert np.allclose(lop @ x.ravel(), same @ x.ravel())
        t_same = best_time(lambda: same @ x.ravel(), 10, 5)
        print(f"matrix-free 'same' convolution {n}x{n}, {k}x{k}")
        print(f"  conv_operator matvec                       {t_same * 1e3:9.3f} ms")
        t_l = best_time(lambda: lop @ x.ravel(), 10, 5)
        print(f"  PyLops ConvolveND matvec (direct)          {t_l * 1e3:9.3f} ms"
              f"   ({t_l / t_same:6.2f}x conv_operator)")
        t_la = best_time(lambda: lop.H @ x.ravel(), 10, 5)
        t_sa = best_time(lambda: same.H @ x.ravel(), 10, 5)
        print(f"  adjoint: conv_operator {t_sa * 1e3:.3f} ms, PyLops {t_la * 1e3:.3f} ms")


def multi_channel(n=64, c=16, k=3, batch=8):
    w = RNG.standard_normal((c, c, k, k))
    xs = RNG.standard_normal((batch, c, n, n))
    a = convmat.conv_matrix(w, (n, n), padding=1)
    op = convmat.conv_operator(w, (n, n), padding=1)
    xb = xs.reshape(batch, -1).T.copy()
    print(f"{c}->{c} channels {n}x{n}, {k}x{k}, padding 1; batch of {batch}")
    t_b = best_time(lambda: a @ xb, 5)
    report("CSR @ batch", t_b, t_b)
    assert np.allclose(op @ xb, a @ xb)
    report("conv_operator @ batch", best_time(lambda: op @ xb, 5), t_b)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)
    xt, wt = torch.from_numpy(xs), torch.from_numpy(w)
    assert np.allclose(torch.nn.functional.conv2d(xt, wt, padding=1)[2].numpy().ravel(),
                       a @ xs[2].ravel())
    report("torch conv2d (1 thread)",
           best_time(lambda: torch.nn.functional.conv2d(xt, wt, padding=1), 5), t_b)


if __name__ == "__main__":
    single_channel()
    multi_channel()
