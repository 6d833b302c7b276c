"""The index engine off the zero-padding path: padding modes, long kernels, Kong & Lucey,
small builds, scaling — each side by side with the memory-write floor in one run.

The floor is the time to allocate and fill the arrays of the final CSR matrix (data,
indices, indptr) of the same size and index width: no index arithmetic at all. Every figure
is the best of several runs, build and floor interleaved. Peak memory is tracemalloc's peak
during one build divided by the bytes of the CSR it returns.
Run: ``python benchmarks/bench_engine.py [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import tracemalloc

import numpy as np

import convmat

from _timing import best_cpu_time, best_time, csr_bytes, floor, torch_jacobian


def peak_ratio(fn, final):
    gc.collect()
    tracemalloc.start()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak / final


def measure(fn, repeat):
    """(seconds, nnz, floor seconds, peak/final) of ``fn`` returning a CSR matrix."""
    a = fn()
    nnz, rows, idx, final = a.nnz, a.shape[0], a.indices.dtype, csr_bytes(a)
    del a
    number = max(1, 1_000_000 // max(nnz, 1))
    build = flo = float("inf")
    for _ in range(repeat):  # interleaved
        build = min(build, best_time(fn, 1, number))
        flo = min(flo, best_time(lambda: floor(nnz, rows, idx), 1, number))
    return build, nnz, flo, peak_ratio(fn, final)


def row(name, build, nnz, flo, peak=None, extra=""):
    peak_s = f"  peak/final {peak:4.2f}" if peak is not None else ""
    print(f"{name:<46} nnz {nnz:>11,}  build {build * 1e3:9.2f} ms  floor {flo * 1e3:8.2f} ms"
          f"  ratio {build / flo:6.2f}  {build / nnz * 1e9:6.2f} ns/nnz{peak_s}{extra}")


def conv(weight, shape, **kw):
    return lambda: convmat.conv_matrix(weight, shape, **kw)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer repeats, no 1e8 case")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS,
                        help="run these sections only")
    args = parser.parse_args()
    for name in SECTIONS:
        if name in args.only:
            globals()[f"section_{name}"](args)


SECTIONS = ["modes", "long", "kong_lucey", "small", "scaling"]


def section_modes(args):
    repeat = 2 if args.quick else 4
    rng = np.random.default_rng(0)
    w16 = rng.standard_normal((16, 16, 3, 3))
    print("== padding modes: 2-D 128x128, 16->16, 3x3, padding 1 ==")
    for mode in ("zeros", "reflect", "replicate", "circular", "symmetric"):
        fn = conv(w16, (128, 128), padding=1, padding_mode=mode)
        try:
            build, nnz, flo, peak = measure(fn, repeat)
        except convmat.ConvmatError as exc:
            print(f"{mode:<46} not available ({str(exc)[:60]}...)")
            continue
        row(mode, build, nnz, flo, peak)


def section_long(args):
    repeat = 2 if args.quick else 4
    rng = np.random.default_rng(1)
    print("\n== long kernels / all-border rows (1-D) ==")
    for name, (i, k, kw) in {
        "1-D i=4000, k=4000, 'full'": (4000, 4000, dict(padding="full")),
        "1-D i=4096, k=2049, 'same'": (4096, 2049, dict(padding="same")),
        "1-D i=8192, k=64, dilation 64, 'same'": (8192, 64, dict(padding="same", dilation=64)),
        "1-D i=4000, k=2000, circular 1999": (4000, 2000, dict(
            padding=1999, padding_mode="circular")),
    }.items():
        w = rng.standard_normal(k)
        build, nnz, flo, peak = measure(conv(w, (i,), **kw), max(2, repeat // 2))
        row(name, build, nnz, flo, peak)


def section_kong_lucey(args):
    repeat = 2 if args.quick else 4
    rng = np.random.default_rng(2)
    print("\n== numeric Kong & Lucey, 64->64, 3x3, stride 2 on 64x64 ==")
    w64 = rng.standard_normal((64, 64, 3, 3))
    a = convmat.conv_matrix(w64, (64, 64), stride=2)
    nnz, rows, idx = a.nnz, a.shape[0], a.indices.dtype
    del a
    t_conv = t_kl = flo = float("inf")
    for _ in range(max(2, repeat // 2)):  # interleaved
        t_conv = min(t_conv, best_time(lambda: convmat.conv_matrix(w64, (64, 64), stride=2), 1))
        t_kl = min(t_kl, best_time(lambda: convmat.kong_lucey(w64, (64, 64), stride=2), 1))
        flo = min(flo, best_time(lambda: floor(nnz, rows, idx), 1))
    print(f"conv_matrix (same layer) {t_conv * 1e3:8.1f} ms   kong_lucey {t_kl * 1e3:8.1f} ms"
          f"   floor {flo * 1e3:6.1f} ms   kong_lucey / conv_matrix {t_kl / t_conv:5.2f}"
          f"   kong_lucey / floor {t_kl / flo:5.2f}")


def section_small(args):
    rng = np.random.default_rng(3)
    print("\n== small builds: 2-D 48x48, 3x3 'same', one channel ==")
    w = rng.standard_normal((3, 3))
    fn = conv(w, (48, 48), padding="same")
    t_small = best_time(fn, repeat=20, number=50)
    t_floor = best_time(lambda: floor(20164, 2304, np.int32), repeat=20, number=50)
    line = f"conv_matrix {t_small * 1e3:7.3f} ms (floor {t_floor * 1e3:5.3f} ms)"
    try:
        reference = fn().toarray()
        jac = torch_jacobian(w, 48)
        assert np.allclose(jac.toarray(), reference)
        t_jac = best_time(lambda: torch_jacobian(w, 48), repeat=3)
        line += f"   PyTorch autograd Jacobian {t_jac * 1e3:8.1f} ms   ratio {t_jac / t_small:7.0f}x"
    except ImportError:
        line += "   (PyTorch not installed)"
    print(line)
    cpu = best_cpu_time(fn, repeat=20, number=50)
    line = f"  CPU time (not counting time the process waits): {cpu * 1e3:6.3f} ms"
    engine = getattr(getattr(convmat, "_engine", None), "_small_cached", None)
    if engine is not None:  # the structure of a repeated small geometry is cached
        remembered = getattr(convmat.geometry.convolution_geometry, "cache_clear", None)

        def first():
            engine.cache_clear()
            if remembered is not None:  # the validated geometry too
                remembered()
            return fn()
        line += f"; a geometry's first build {best_cpu_time(first, 20, 50) * 1e3:6.3f} ms"
    print(line)
    for mode in ("reflect", "circular"):
        try:
            t = best_time(conv(w, (48, 48), padding="same", padding_mode=mode), 20, 50)
            print(f"  same, padding_mode={mode!r}: {t * 1e3:7.3f} ms")
        except convmat.ConvmatError:
            pass


def section_scaling(args):
    repeat = 2 if args.quick else 4
    rng = np.random.default_rng(4)
    print("\n== scaling: time per stored entry (2-D, C->C channels, 3x3, padding 1) ==")
    sizes = [(4, 28), (8, 44), (16, 68), (16, 208)]  # about 1e5, 1e6, 1e7, 1e8 entries
    if args.quick:
        sizes = sizes[:3]
    per = []
    for c, n in sizes:
        build, nnz, flo, peak = measure(conv(rng.standard_normal((c, c, 3, 3)), (n, n),
                                             padding=1), max(2, repeat // 2))
        row(f"C={c:<3} {n}x{n}", build, nnz, flo, peak)
        per.append(build / nnz)
    print(f"time per nnz, max/min over {sizes[0]}..{sizes[-1]}: {max(per) / min(per):.2f}")
    cache = getattr(getattr(convmat, "_engine", None), "_small_cached", None)
    if cache is not None:  # the 1e5 case's structure is cached per geometry: build it cold
        w = rng.standard_normal((4, 4, 3, 3))
        remembered = getattr(convmat.geometry.convolution_geometry, "cache_clear", lambda: None)

        def cold():
            cache.cache_clear()
            remembered()
            return convmat.conv_matrix(w, (28, 28), padding=1)
        build, nnz, flo, peak = measure(cold, max(2, repeat // 2))
        row("C=4   28x28, every call a first build", build, nnz, flo, peak)
        print(f"time per nnz, max/min with that first build: "
              f"{max(per[1:] + [build / nnz]) / min(per[1:] + [build / nnz]):.2f}")


if __name__ == "__main__":
    main()
