"""How loose each published bound is across VGG-16's convolutional layers at CIFAR size.

Shapes from Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (configuration D: 13 convolutions 3x3, padding 1, max pooling halving the map
after each block), on 32x32 inputs; seeded random weights with He et al.'s standard deviation
sqrt(2 / fan_in). For each layer: convmat.spectral_bounds, printed as one Markdown row of
ratios to the exact value (and whether the exact value's interval closed).

Run from this folder: ``python bench_bounds_vgg.py``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import convmat  # noqa: E402

#: (C_in, C_out, input size) of VGG-16's convolutions on a 32x32 input
VGG16_CIFAR = [(3, 64, 32), (64, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8),
               (256, 256, 8), (256, 256, 8), (256, 512, 4), (512, 512, 4), (512, 512, 4),
               (512, 512, 2), (512, 512, 2), (512, 512, 2)]

SHORT = {
    "Sedghi et al. (FFT, input grid)": "Sedghi",
    "circular layer, padded grid": "padded circ.",
    "Singla & Feizi": "Singla-Feizi",
    "Araujo et al.": "Araujo",
    "torch spectral_norm (reshaped kernel)": "torch reshape",
    "power iteration, 10 steps": "power 10",
    "power iteration, 100 steps": "power 100",
}


def main() -> None:
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; one thread "
          f"(convmat's default)")
    rng = np.random.default_rng(16)
    header = None
    start_all = time.perf_counter()
    for i, (c_in, c_out, n) in enumerate(VGG16_CIFAR, 1):
        w = rng.standard_normal((c_out, c_in, 3, 3)) * np.sqrt(2 / (c_in * 9))
        start = time.perf_counter()
        table = convmat.spectral_bounds(w, (n, n), padding=1)
        seconds = time.perf_counter() - start
        exact = table.rows[0]
        rows = [r for r in table.rows if r.method in SHORT or r.method.startswith("Gram")]
        names = [SHORT.get(r.method, r.method.replace("Gram iteration ", "Gram ")
                           .replace(", padded grid", " padded")) for r in rows]
        if header is None:
            header = names
            print("| layer | C_in→C_out | map | exact | closed | "
                  + " | ".join(f"{h} (bound?)" for h in header) + " | s |")
            print("|---|---|---|---|---|" + "---|" * len(header) + "---|")
        cells = []
        for r in rows:
            ratio = table.ratio(r)
            mark = "✓" if r.upper_bound else "✗"
            cells.append("–" if ratio is None else f"{ratio:.4f} {mark}")
        print(f"| conv{i} | {c_in}→{c_out} | {n}×{n} | {exact.value:.6f} | "
              f"{'yes' if exact.upper_bound else 'no'} | " + " | ".join(cells)
              + f" | {seconds:.1f} |", flush=True)
    print(f"total {time.perf_counter() - start_all:.0f} s; load average "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
