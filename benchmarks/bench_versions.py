"""Before/after in one process: two checkouts of convmat timed interleaved, case by case.

``python bench_versions.py --before /path/to/old/checkout`` imports the old ``convmat``
from that folder and the current one from this repository, then times every case with
both, alternating, best of several runs — so both see the same machine state (the
figures of separate runs on a shared machine are not comparable). Each pair of results is
checked equal before it is timed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import numpy as np

from _timing import best_time

HERE = Path(__file__).resolve().parent.parent


def _ours(name):
    return name == "convmat" or name.startswith("convmat.")


def load(path: Path):
    """Import the ``convmat`` package found in ``path`` with all its modules; returns the
    package and its ``sys.modules`` entries (see :func:`activate`)."""
    for name in [m for m in sys.modules if _ours(m)]:
        del sys.modules[name]
    sys.path.insert(0, str(path))
    try:
        module = importlib.import_module("convmat")
        for sub in ("sparse", "striding", "padding", "geometry", "symbolic", "latex"):
            importlib.import_module(f"convmat.{sub}")
    finally:
        sys.path.remove(str(path))
    return module, {m: v for m, v in sys.modules.items() if _ours(m)}


def activate(modules):
    """Make one checkout's modules the ones that imports inside functions find."""
    for name in [m for m in sys.modules if _ours(m)]:
        del sys.modules[name]
    sys.modules.update(modules)


def cases(rng):
    w16 = rng.standard_normal((16, 16, 3, 3))
    w1 = rng.standard_normal((3, 3))
    return [
        ("2-D 128x128, 16->16, 3x3, zeros 1", "conv_matrix", (w16, (128, 128)), dict(padding=1)),
        ("3-D 32^3, 4->4, 3x3x3, zeros 1", "conv_matrix",
         (rng.standard_normal((4, 4, 3, 3, 3)), (32, 32, 32)), dict(padding=1)),
        ("2-D 128x128, 16->16, stride 2 same", "conv_matrix", (w16, (128, 128)),
         dict(stride=2, padding="same")),
        ("2-D 96x96, depthwise 32, 5x5 same", "conv_matrix",
         (rng.standard_normal((32, 1, 5, 5)), (96, 96)), dict(padding="same", groups=32)),
        ("2-D 128x128, 16->16, reflect 1", "conv_matrix", (w16, (128, 128)),
         dict(padding=1, padding_mode="reflect")),
        ("2-D 128x128, 16->16, replicate 1", "conv_matrix", (w16, (128, 128)),
         dict(padding=1, padding_mode="replicate")),
        ("1-D i=4000, k=4000, 'full'", "conv_matrix", (rng.standard_normal(4000), (4000,)),
         dict(padding="full")),
        ("Kong & Lucey 64->64, 3x3, s=2, 64x64", "kong_lucey",
         (rng.standard_normal((64, 64, 3, 3)), (64, 64)), dict(stride=2)),
        ("2-D 48x48, 3x3 same, one channel", "conv_matrix", (w1, (48, 48)),
         dict(padding="same")),
        ("2-D 28x28, 4->4, 3x3, zeros 1 (1e5 nnz)", "conv_matrix",
         (rng.standard_normal((4, 4, 3, 3)), (28, 28)), dict(padding=1)),
    ]


def other_cases(rng):
    """Typesetting and PyTorch models: (name, setup), ``setup(convmat)`` -> the call to time."""
    w = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])
    found = [
        ("LaTeX: worked 9x25 numeric matrix", lambda cm: (
            lambda A: lambda: cm.to_latex(A))(cm.conv_matrix(w, (5, 5)))),
        ("LaTeX: symbolic 2x2 on 4x4, stride 2", lambda cm: (
            lambda S: lambda: cm.to_latex(S))(cm.symbolic.conv_matrix((2, 2), (4, 4), stride=2))),
        ("LaTeX: Kong & Lucey 1-D, permuted", lambda cm: (
            lambda kl: lambda: cm.to_latex(kl, part="permuted"))(
                cm.symbolic.kong_lucey((3,), (7,), stride=2))),
    ]
    try:
        import torch
    except ImportError:
        return found
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(),
        torch.nn.Linear(84, 10)).double().eval()
    linear = torch.nn.Sequential(*net[:1], torch.nn.AvgPool2d(2), *net[3:4]).double().eval()
    x = rng.standard_normal((1, 28, 28))
    found += [
        ("from_torch: conv, avg pool, conv (affine)",
         lambda cm: lambda: cm.from_torch(linear, (28, 28))),
        ("from_torch: LeNet-5 Jacobian at x",
         lambda cm: lambda: cm.from_torch(net, (28, 28), at=x)),
    ]
    return found


def same(a, b):
    if isinstance(a, str):
        return a == b
    if isinstance(a, tuple):
        return all(same(x, y) for x, y in zip(a, b))
    if a is None or isinstance(a, np.ndarray):
        return (a is None and b is None) or np.allclose(a, b)
    if hasattr(a, "blocks"):
        return all(same(x, y) for x, y in zip(a.blocks, b.blocks))
    a, b = a.tocsr(), b.tocsr()
    a.sort_indices(), b.sort_indices()
    return (a.shape == b.shape and np.array_equal(a.indptr, b.indptr)
            and np.array_equal(a.indices, b.indices) and np.allclose(a.data, b.data))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, type=Path,
                        help="folder holding the old convmat package")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    (old, old_modules), (new, new_modules) = load(args.before), load(HERE)
    print(f"before: {old.__file__}\nafter:  {new.__file__}")
    print(f"{'case':<42} {'before':>11} {'after':>11} {'speed-up':>9}")
    for name, fn, pos, kw in cases(np.random.default_rng(0)):
        activate(old_modules)
        a = getattr(old, fn)(*pos, **kw)
        activate(new_modules)
        b = getattr(new, fn)(*pos, **kw)
        assert same(a, b), name
        del a, b
        size = pos[0].size * np.prod(pos[1])
        number = max(1, int(200_000 // size))
        t_old = t_new = float("inf")
        for _ in range(args.repeat):  # interleaved
            activate(old_modules)
            t_old = min(t_old, best_time(lambda: getattr(old, fn)(*pos, **kw), 1, number))
            activate(new_modules)
            t_new = min(t_new, best_time(lambda: getattr(new, fn)(*pos, **kw), 1, number))
        print(f"{name:<42} {t_old * 1e3:8.2f} ms {t_new * 1e3:8.2f} ms {t_old / t_new:8.2f}x")
    for name, setup in other_cases(np.random.default_rng(0)):
        activate(old_modules)
        call_old = setup(old)
        a = call_old()
        activate(new_modules)
        call_new = setup(new)
        b = call_new()
        assert same(a, b), name
        t_old = t_new = float("inf")
        for _ in range(args.repeat):  # interleaved
            activate(old_modules)
            t_old = min(t_old, best_time(call_old, 3, 20))
            activate(new_modules)
            t_new = min(t_new, best_time(call_new, 3, 20))
        print(f"{name:<42} {t_old * 1e3:8.2f} ms {t_new * 1e3:8.2f} ms {t_old / t_new:8.2f}x")


if __name__ == "__main__":
    main()
