"""The Jacobian of a network at an input: convmat.from_torch(model, ..., at=x) against
``torch.autograd.functional.jacobian`` (default settings: one backward pass per output).

Cases, on one 32x32 single-channel input, float64:

- LeNet-5's convolutional part, conv(1->6, 5x5, pad 2) - act - pool 2 - conv(6->16, 5x5) -
  act - pool 2: 576 outputs (autograd makes 576 backward passes); goal >= 100x faster;
- the whole LeNet-5 (then 576 -> 120 -> 84 -> 10): 10 outputs, 10 backward passes; goal
  no slower.

Each with ReLU + max pooling and with tanh + average pooling. Both Jacobians are checked
equal (to 1e-12) before timing; ours is a SciPy sparse matrix, autograd's a dense tensor.
Autograd is timed with PyTorch's default number of threads (the setting the goals refer
to) and with one thread (much faster than two on a busy machine). Each side runs for about
0.3 s per round, in three interleaved rounds, best run kept: PyTorch's thread pool and
NumPy's BLAS threads each slow the other for a while after they ran.

Every run is timed twice over: "cold", after a garbage collection (which walks every
Python object, about 90 ms with PyTorch loaded, and leaves the caches cold: a single
Jacobian in a program), and "warm", runs back to back (a Jacobian at many points).
Run: ``python benchmarks/bench_networks.py``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

import convmat

from _timing import best_time


def lenet5(act, pool, conv_only: bool) -> nn.Sequential:
    torch.manual_seed(0)
    layers = [nn.Conv2d(1, 6, 5, padding=2), act(), pool(2), nn.Conv2d(6, 16, 5), act(),
              pool(2)]
    if not conv_only:
        layers += [nn.Flatten(), nn.Linear(576, 120), act(), nn.Linear(120, 84), act(),
                   nn.Linear(84, 10)]
    return nn.Sequential(*layers).double().eval()


def repeats(fn, budget: float = 0.3) -> int:
    """Runs of ``fn`` that take about ``budget`` seconds (2 to 50)."""
    return int(min(50, max(2, budget / best_time(fn, repeat=1))))


def best(fn, collect: bool = True) -> float:
    return best_time(fn, repeat=repeats(fn), collect=collect)


def main() -> None:
    x = np.random.default_rng(0).standard_normal((1, 32, 32))
    xt = torch.from_numpy(x[None])
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}; best of runs; autograd with PyTorch's default "
          f"{threads} threads and with 1 thread\n")
    print(f"{'':<42} {'':>7} {'cold (a collection before each run)':^38} "
          f"{'warm (back to back)':^29}")
    print(f"{'case':<42} {'outputs':>7} {'convmat':>9} {'autograd':>10} {'ratio':>7} "
          f"{'1 thread':>9} {'convmat':>9} {'autograd':>10} {'ratio':>7} {'stored':>8} "
          f"{'dense':>8}")
    for conv_only in (True, False):
        for act, pool in ((nn.ReLU, nn.MaxPool2d), (nn.Tanh, nn.AvgPool2d)):
            model = lenet5(act, pool, conv_only)

            def ours():
                return convmat.from_torch(model, (32, 32), at=x)[0]

            def autograd():
                return torch.autograd.functional.jacobian(lambda t: model(t).reshape(-1), xt)

            a, jac = ours(), autograd().reshape(-1, x.size).numpy()
            assert np.abs(a.toarray() - jac).max() < 1e-12
            t = dict.fromkeys(("ours", "torch", "one", "ours warm", "torch warm"),
                              float("inf"))
            for _ in range(3):  # interleaved rounds, each side about 0.3 s a round
                t["ours"] = min(t["ours"], best(ours))
                t["torch"] = min(t["torch"], best(autograd))
                t["ours warm"] = min(t["ours warm"], best(ours, collect=False))
                t["torch warm"] = min(t["torch warm"], best(autograd, collect=False))
                torch.set_num_threads(1)
                try:
                    t["one"] = min(t["one"], best(autograd))
                finally:
                    torch.set_num_threads(threads)
            name = ("LeNet-5 conv part" if conv_only else "LeNet-5 whole") + \
                f" ({act.__name__}, {pool.__name__})"
            ms = {k: f"{v * 1e3:.1f}ms" for k, v in t.items()}
            print(f"{name:<42} {jac.shape[0]:>7} {ms['ours']:>9} {ms['torch']:>10} "
                  f"{t['torch'] / t['ours']:>6.2f}x {ms['one']:>9} {ms['ours warm']:>9} "
                  f"{ms['torch warm']:>10} {t['torch warm'] / t['ours warm']:>6.2f}x "
                  f"{a.nnz:>8,} {jac.size:>8,}")

if __name__ == "__main__":
    main()
