"""Build time of conv_matrix against the memory-write floor, and its scaling and peak memory.

The floor is the time to merely allocate and fill the arrays of the final CSR matrix
(data, indices, indptr) of the same size: no index arithmetic at all. Each figure is the
best of several runs, build and floor interleaved in one process, so both see the same
machine state. Run: ``python benchmarks/bench_build.py [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc

import numpy as np

import convmat

from _timing import best_time, csr_bytes, floor


def case(name, weight, shape, repeat, **kw):
    a = convmat.conv_matrix(weight, shape, **kw)
    nnz, rows = a.nnz, a.shape[0]
    final = csr_bytes(a)
    del a
    number = max(1, 2_000_000 // nnz)  # several calls per timing for the small cases
    times = {"build": [], "floor": []}
    for _ in range(repeat):  # interleaved
        times["build"].append(best_time(lambda: convmat.conv_matrix(weight, shape, **kw), 1,
                                        number))
        times["floor"].append(best_time(lambda: floor(nnz, rows), 1, number))
    build, flo = min(times["build"]), min(times["floor"])
    gc.collect()
    tracemalloc.start()
    m = convmat.conv_matrix(weight, shape, **kw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del m
    print(f"{name:<44} nnz {nnz:>11,}  build {build * 1e3:8.1f} ms  floor {flo * 1e3:7.1f} ms"
          f"  ratio {build / flo:5.2f}  {nnz / build / 1e6:6.1f} M nnz/s"
          f"  peak/final {peak / final:4.2f}")
    return nnz, build


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller scaling")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    rng = np.random.default_rng(0)
    print("== build vs memory-write floor ==")
    case("2-D 128x128, 16->16, 3x3, padding 1", rng.standard_normal((16, 16, 3, 3)), (128, 128),
         repeat, padding=1)
    case("3-D 32x32x32, 4->4, 3x3x3, padding 1", rng.standard_normal((4, 4, 3, 3, 3)),
         (32, 32, 32), repeat, padding=1)
    case("2-D 128x128, 16->16, 3x3, stride 2 same", rng.standard_normal((16, 16, 3, 3)),
         (128, 128), repeat, stride=2, padding="same")
    case("2-D 128x128, 16->16, 3x3, reflect 1", rng.standard_normal((16, 16, 3, 3)),
         (128, 128), max(2, repeat // 2), padding=1, padding_mode="reflect")
    case("2-D 96x96, depthwise 32, 5x5, same", rng.standard_normal((32, 1, 5, 5)), (96, 96),
         repeat, padding="same", groups=32)

    print("\n== scaling: time per stored entry (2-D, C->C channels, 3x3, padding 1) ==")
    sizes = [(4, 28), (8, 44), (16, 68), (16, 208)]  # about 1e5, 1e6, 1e7, 1e8 entries
    if args.quick:
        sizes = sizes[:3]
    per = []
    for c, n in sizes:
        nnz, t = case(f"C={c:<3} {n}x{n}", rng.standard_normal((c, c, 3, 3)), (n, n),
                      max(2, repeat // 2), padding=1)
        per.append(t / nnz)
    print(f"time per nnz, max/min over {sizes[0]}..{sizes[-1]}: {max(per) / min(per):.2f}")


if __name__ == "__main__":
    main()
