"""How fast and how light a refusal is: every hostile case of the hardening tests, each in a
fresh interpreter, with the time of the refused call and the peak resident memory of the
whole process (the interpreter with numpy, scipy and sympy loaded included), printed side by
side with the same process that only imports (the floor).

Run from this folder: ``python bench_refusals.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES = [
    "convmat.conv_matrix([1., 2.], (10**9,))",
    "convmat.conv_matrix(np.ones((3, 3)), (6, 6), padding=10**9)",
    "convmat.avg_pool_matrix((10**9,), 2)",
    "convmat.conv_matrix([1., 2.], (10,), stride=2**63)",
    "convmat.conv_matrix([1., 2.], (10**30,))",
    "convmat.conv_operator(np.ones((3, 3)), (2**63, 6))",
    "convmat.conv_operator(np.ones((3, 3)), (6, 6), padding=2**62)",
    "convmat.kong_lucey(np.ones(3), (3,), stride=10**7)",
    "convmat.polyphase(np.ones((3, 3)), (7, 7), stride=10**9)",
    "convmat.kong_lucey(np.ones((64, 64, 3, 3)), (4096, 4096), stride=2)",
    "convmat.conv_matrix(np.ones((64, 64, 3, 3)), (4096, 4096), stride=2)",
    "convmat.conv_matrix(np.ones((4, 3, 3, 3)), (100, 100), stride=2, padding=1, format='dia')",
    "convmat.conv_matrix(np.ones((64, 16, 3, 3)), (96, 96), padding=1, format='dok')",
    "convmat.symbolic.conv_matrix((1000, 1000), (5, 5), stride=0)",
    "convmat.symbolic.kernel((10**5, 10**5))",
    "convmat.conv_matrix([1, 2], (4,), stride=10**5000)",
    "convmat.summary('conv 4 3', (2**40,))",  # counted, not refused: nothing allocated
    "convmat.summary('avgpool 3 stride 2 pad 1; upsample 2 linear; pad 3', (2**40,))",
    "convmat.summary('conv 4 3', (8,), in_channels=0)",
    # the pictures' guard (sliding_windows needs no matplotlib; the others refuse before
    # drawing)
    "convmat.figures.sliding_windows((10**9,), (3,))",
    "convmat.figures.sliding_windows((5,), (3,), dilation=10**12)",
    "convmat.figures.animate_convolution((4, 4, 4, 4), (2, 2, 2, 2))",
    "convmat.figures.overlap_counts((10**9,), (3,), stride=2)",
    "convmat.figures.plot_connectivity((10**5, 10**5), (3, 3))",
    "convmat.figures.animate_superposition((10**5, 10**5), (3, 3), stride=2)",
    "convmat.singular_values(np.ones((8, 8, 3, 3)), (10**4, 10**4), padding=1)",
]

#: cases that need PyTorch (measured against a floor that imports it too)
TORCH_CASES = [
    "convmat.from_torch(torch.nn.Conv2d(1, 1, 3), (10**5, 10**5))",
    # a table, not a refusal: every row that would not fit is skipped with its reason (the
    # exact row's products use PyTorch)
    "convmat.spectral_bounds(np.ones((64, 64, 3, 3)), (10**5, 10**5), padding=1)",
    "convmat.from_torch(torch.nn.Conv1d(1, 1, 3), (1, 2**61))",
    "convmat.from_torch(torch.nn.Conv2d(1, 1, 3), (12000, 12000))",
    "convmat.from_torch(torch.nn.Sequential(torch.nn.AvgPool1d(2), torch.nn.Upsample("
    "scale_factor=2)), (1, 2**40))",
]

#: the limit every case runs under, so that the figures do not depend on the machine's memory
LIMIT = "1G"

SCRIPT = """
import resource, time, numpy as np, convmat, convmat.symbolic
{prelude}
start = time.perf_counter()
try:
    {call}
    outcome = "built"
except convmat.ConvmatError:
    outcome = "refused"
elapsed = time.perf_counter() - start
print(outcome, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def run(call: str, prelude: str = "") -> tuple[str, float, int]:
    result = subprocess.run([sys.executable, "-c", SCRIPT.format(call=call, prelude=prelude)],
                            cwd=ROOT,
                            capture_output=True, text=True, timeout=600, check=True,
                            env={**os.environ, "CONVMAT_MEMORY_LIMIT": LIMIT})
    outcome, elapsed, rss = result.stdout.split()
    return outcome, float(elapsed), int(rss)


CLI = [
    ["shape", "--input", "5", "--kernel", "3"],  # the floor: a command that succeeds
    ["matrix", "--input", "5", "--kernel", "9" * 5000],
    ["matrix", "--input", "1000000000", "--kernel", "1000000000"],
    ["matrix", "--input", "40000x40000", "--kernel", "40000x40000"],
    ["matrix", "--input", "5", "--kernel", "3", "--in-channels", "100000", "--out-channels",
     "100000"],
    ["kong-lucey", "--input", "7", "--kernel", "3", "--stride", "1000000000"],
]


def run_cli(argv: list[str]) -> tuple[int, float, int, int]:
    """Exit code, wall time, peak RSS (KiB) of the child, lines written to stderr."""
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "convmat", *argv], cwd=ROOT,
                            capture_output=True, text=True, timeout=600, check=False,
                            env={**os.environ, "CONVMAT_MEMORY_LIMIT": LIMIT})
    elapsed = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return result.returncode, elapsed, max(rss, before), len(result.stderr.splitlines())


def main() -> None:
    _, _, floor = run("pass")
    print(f"memory limit {LIMIT}; floor: a process that imports convmat, numpy, scipy, sympy "
          f"peaks at {floor / 1024:.0f} MiB")
    print(f"{'case':74s} {'outcome':8s} {'time':>9s} {'peak RSS':>9s} {'vs floor':>8s}")
    for call in CASES:
        outcome, elapsed, rss = run(call)
        print(f"{call[:74]:74s} {outcome:8s} {elapsed * 1e3:7.2f}ms {rss / 1024:6.0f}MiB "
              f"{rss / floor:7.2f}x")
    try:
        _, _, floor = run("pass", "import torch")
    except subprocess.CalledProcessError:
        print("PyTorch is not installed: from_torch's cases left out")
    else:
        print(f"with PyTorch imported, the floor peaks at {floor / 1024:.0f} MiB")
        for call in TORCH_CASES:
            outcome, elapsed, rss = run(call, "import torch")
            print(f"{call[:74]:74s} {outcome:8s} {elapsed * 1e3:7.2f}ms {rss / 1024:6.0f}MiB "
                  f"{rss / floor:7.2f}x")
    print()
    print(f"{'command line (whole process: start, imports, refusal)':74s} {'exit':>4s} "
          f"{'wall':>8s} {'stderr':>6s}")
    for argv in CLI:
        code, elapsed, _, lines = run_cli(argv)
        shown = " ".join(a if len(a) < 20 else f"<{len(a)} digits>" for a in argv)
        print(f"{('convmat ' + shown)[:74]:74s} {code:4d} {elapsed:7.2f}s {lines:6d}")


if __name__ == "__main__":
    main()
