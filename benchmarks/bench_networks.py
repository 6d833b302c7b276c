"""A network's Jacobian at an input: ``convmat.from_torch(model, shape, at=x)`` against the
fastest PyTorch way, time and peak memory, side by side in one run.

PyTorch's ways, float64, PyTorch's default number of threads:

- ``torch.func.jacrev`` (vmap over one backward pass per output), ``chunk_size`` tuned:
  every size in :data:`CHUNKS` that fits the case is timed, the best one kept;
- ``torch.func.jacfwd`` (vmap over one forward-mode pass per input);
- ``torch.autograd.functional.jacobian`` with default settings (a Python loop of backward
  passes), for information only.

"best PyTorch" is the faster of jacrev (best chunk size) and jacfwd; ratios are against
it. Every method runs in its own fresh process (``--worker``), which reports its best
time (printed to 0.1 ms) over its runs (at least :data:`WARM` when one takes under a
second: PyTorch's first calls of ``jacrev`` are far slower than the next ones; about a
second of runs for the small cases) and its peak resident memory above the process's
state just before the first run (model, input, imports and a small forward pass done;
for convmat, before its warm-up run, so that the work arrays it keeps from one call to
the next count): ``ru_maxrss`` minus ``VmRSS``. Every result is checked equal to
convmat's (1e-12 relative) in that process.

Cases:

- LeNet-5's convolutional part (conv 1->6 5x5 pad 2, ReLU, max pool 2, conv 6->16 5x5,
  ReLU, max pool 2) at 1x32x32: 576 x 1,024; goal >= 5x faster than the best PyTorch way;
- the whole LeNet-5 (then 576 -> 120 -> 84 -> 10): 10 outputs; goal no slower;
- VGG-16's block 1 (conv 3->64 pad 1, ReLU, conv 64->64 pad 1, ReLU, max pool 2) at
  3x32x32: goal >= 20x faster and >= 10x less peak memory;
- the same at 3x64x64 and 3x128x128 (dense Jacobians of 6.4 GB and 103 GB: PyTorch's ways
  are not run): built in <= 10 s and <= 45 s, peak memory <= 3x the result's CSR arrays;
- ResNet-18's stem and layer1 (two residual BasicBlocks, BatchNorm in eval mode) at
  3x64x64: 16,384 x 12,288, a graph read through ``torch.fx``; time and memory reported.

Run: ``python benchmarks/bench_networks.py`` (``--quick``: LeNet-5 and VGG at 32x32 with
convmat alone; case names, e.g. ``lenet vgg-32``, run those cases only).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # this tree

#: jacrev chunk sizes tried (None: all outputs at once), when the case's outputs allow;
#: for a large case (over LARGE outputs x inputs) only LARGE_CHUNKS (all outputs at once
#: would hold every output's activations: about 20 GB for VGG-16's block at 3x32x32)
CHUNKS = (None, 2048, 512, 128)
LARGE_CHUNKS = (2048, 256)
LARGE = 10**7
#: runs at least, when one takes under a second (the best of them is reported)
WARM = 30
#: PyTorch's dense Jacobian must fit in this (bytes) for PyTorch's ways to run
DENSE_LIMIT = 2 << 30

CASES = {
    "lenet-conv": ("LeNet-5 conv part", (1, 32, 32)),
    "lenet": ("LeNet-5 whole", (1, 32, 32)),
    "vgg-32": ("VGG-16 block 1, 3x32x32", (3, 32, 32)),
    "vgg-64": ("VGG-16 block 1, 3x64x64", (3, 64, 64)),
    "vgg-128": ("VGG-16 block 1, 3x128x128", (3, 128, 128)),
    "resnet": ("ResNet-18 stem + layer1, 3x64x64", (3, 64, 64)),
}


def model_of(case: str):
    import torch
    from torch import nn
    torch.manual_seed(0)
    if case.startswith("lenet"):
        layers = [nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                  nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)]
        if case == "lenet":
            layers += [nn.Flatten(), nn.Linear(576, 120), nn.ReLU(), nn.Linear(120, 84),
                       nn.ReLU(), nn.Linear(84, 10)]
        return nn.Sequential(*layers).double().eval()
    if case.startswith("vgg"):
        return nn.Sequential(nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(),
                             nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2)).double().eval()
    return _resnet_stem_layer1(torch, nn)


def _resnet_stem_layer1(torch, nn):
    """ResNet-18's stem (conv 7x7 stride 2, BatchNorm, ReLU, max pool 3 stride 2) and its
    layer1 (two BasicBlocks of 64 channels with identity shortcuts), BatchNorm in eval mode
    with non-trivial running statistics (written here: torchvision is not a dependency)."""

    def bn(c):
        b = nn.BatchNorm2d(c)
        b.running_mean.uniform_(-0.5, 0.5)
        b.running_var.uniform_(0.5, 2.0)
        b.weight.data.uniform_(0.5, 1.5)
        b.bias.data.uniform_(-0.2, 0.2)
        return b

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(64, 64, 3, padding=1, bias=False), bn(64)
            self.conv2, self.bn2 = nn.Conv2d(64, 64, 3, padding=1, bias=False), bn(64)

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(out)) + x)

    stem = [nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), bn(64), nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1)]
    return nn.Sequential(*stem, Block(), Block()).double().eval()


def rss_now() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def worker(case: str, method: str, chunk: int | None, runs: int) -> dict:
    """One method on one case in this (fresh) process: best time, peak memory."""
    import torch

    import convmat
    model = model_of(case)
    for p in model.parameters():  # a Jacobian with respect to the input alone
        p.requires_grad_(False)
    shape = CASES[case][1]
    x = np.random.default_rng(0).standard_normal(shape)
    xt = torch.from_numpy(x[None])

    def f(t):
        return model(t[None]).reshape(-1)

    small = model_of(case)  # warm: PyTorch's first call sets up its kernels
    with torch.no_grad():
        small(xt)
    base = rss_now()  # convmat's work arrays, kept from its warm-up run on, are counted
    if method == "convmat":
        if case.startswith("lenet"):  # warm: the layers' geometries cached
            convmat.from_torch(model, shape, at=x)

        def run():
            return convmat.from_torch(model, shape, at=x)[0]
    elif method == "jacrev":
        def run():
            return torch.func.jacrev(f, chunk_size=chunk)(xt[0])
    elif method == "jacfwd":
        def run():
            return torch.func.jacfwd(f)(xt[0])
    else:
        def run():
            return torch.autograd.functional.jacobian(f, xt[0])
    best, result, spent, done, last = float("inf"), None, 0.0, 0, 0.0
    # small cases: about 1 s of runs, and at least WARM (jacrev's first ten calls or so,
    # with its functions set up, take a hundred times as long as the next ones)
    while done < runs or (spent < 1.0 and done < 500) or (done < WARM and last < 1.0):
        result = None
        t = time.perf_counter()
        result = run()
        last = time.perf_counter() - t
        best = min(best, last)
        spent += last
        done += 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    out = {"time": best, "peak": peak}
    if method == "convmat":
        out["nnz"] = int(result.nnz)
        out["csr"] = int(result.data.nbytes + result.indices.nbytes + result.indptr.nbytes)
        out["shape"] = list(result.shape)
        np.save(f"/tmp/bench_networks_{case}.npy", result.toarray()) \
            if result.shape[0] * result.shape[1] * 8 <= DENSE_LIMIT else None
    else:
        dense = result.detach().reshape(-1, x.size).numpy()
        ref = np.load(f"/tmp/bench_networks_{case}.npy")
        scale = max(1.0, float(np.abs(ref).max()))
        out["error"] = float(np.abs(dense - ref).max() / scale)
        assert out["error"] < 1e-12, out
    return out


def spawn(case: str, method: str, chunk: int | None = None, runs: int = 3) -> dict:
    cmd = [sys.executable, __file__, "--worker", case, method, str(chunk), str(runs)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return {"failed": done.stderr.strip().splitlines()[-1] if done.stderr else "?"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def seconds(t: float) -> str:
    """A best time to 0.1 ms (below 10 s), else to the ms."""
    return f"{t * 1e3:9.1f} ms" if t < 10 else f"{t:9.3f} s "


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main(quick: bool, only: list[str] | None = None) -> None:
    import torch
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; load "
          f"{os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f} "
          f"on {os.cpu_count()} cores\n")
    cases = ["lenet-conv", "lenet", "vgg-32"] + ([] if quick else ["vgg-64", "vgg-128", "resnet"])
    cases = [c for c in cases if not only or c in only]
    for case in cases:
        name, shape = CASES[case]
        big = case in ("vgg-64", "vgg-128")
        ours = spawn(case, "convmat", runs=1 if big else 3)
        if "failed" in ours:
            print(f"{name}: convmat failed: {ours['failed']}\n")
            continue
        rows, cols = ours["shape"]
        print(f"{name}: {rows:,} x {cols:,}, {ours['nnz']:,} stored entries "
              f"(CSR arrays {mib(ours['csr'])}; dense {mib(8 * rows * cols)})")
        print(f"  {'convmat.from_torch(at=x)':<34} {seconds(ours['time'])}  peak +{mib(ours['peak'])}"
              f"  ({ours['peak'] / ours['csr']:.2f}x the CSR arrays)")
        if quick or 8 * rows * cols > DENSE_LIMIT:
            print(f"  PyTorch's ways not run (dense Jacobian {mib(8 * rows * cols)})\n")
            continue
        large = rows * cols >= LARGE
        runs = 1 if large else 3
        theirs = {}
        for chunk in LARGE_CHUNKS if large else CHUNKS:
            if chunk is not None and chunk >= rows:
                continue
            theirs[f"jacrev chunk_size={chunk}"] = spawn(case, "jacrev", chunk, runs)
        theirs["jacfwd"] = spawn(case, "jacfwd", runs=runs)
        if large:  # one backward pass per output in a Python loop: many minutes
            print(f"  {'autograd.functional.jacobian':<34} not run ({rows:,} backward passes "
                  f"in a loop)")
        else:
            theirs["autograd.functional.jacobian"] = spawn(case, "autograd", runs=runs)
        for label, r in theirs.items():
            if "failed" in r:
                print(f"  {label:<34} failed: {r['failed']}")
                continue
            print(f"  {label:<34} {seconds(r['time'])}  peak +{mib(r['peak'])}  "
                  f"time {r['time'] / ours['time']:6.1f}x convmat's, memory "
                  f"{r['peak'] / max(ours['peak'], 1):6.1f}x")
        fast = {k: v for k, v in theirs.items() if "failed" not in v and "autograd" not in k}
        if fast:
            label = min(fast, key=lambda k: fast[k]["time"])
            lean = min(v["peak"] for v in fast.values())
            print(f"  best PyTorch way: {label}; convmat is "
                  f"{fast[label]['time'] / ours['time']:.2f}x faster, "
                  f"{fast[label]['peak'] / max(ours['peak'], 1):.1f}x less peak memory than it "
                  f"({lean / max(ours['peak'], 1):.1f}x less than the leanest)\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        c, m, ch, n = sys.argv[2:6]
        print(json.dumps(worker(c, m, None if ch == "None" else int(ch), int(n))))
    else:
        main("--quick" in sys.argv, [a for a in sys.argv[1:] if a in CASES])
