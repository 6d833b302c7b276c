"""Time the notebook display of large results against sympy's own display.

    python benchmarks/bench_display.py [--repeat N]

Goal: the display of the 3x3 kernel on a 32x32 input (a 900 x 1024 symbolic matrix) in under
0.2 s and under 50 KB. What a notebook computes for a result is IPython's whole mime bundle
(``text/plain`` and ``text/latex``), so both are timed through IPython's formatter, side by
side with sympy's own printers on the same matrix (what a notebook showed before: sympy's
``__repr__`` for ``text/plain`` and ``sympy.latex`` for ``text/latex``; measured once, they
take seconds).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sympy
from IPython.core.formatters import DisplayFormatter

import convmat
from convmat import symbolic


def best(function, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    formatter = DisplayFormatter()
    big = symbolic.conv_matrix((3, 3), (32, 32))
    cases = {
        "ConvMatrix 900x1024 (symbolic)": big,
        "ConvArray 1024x1024 (numeric)": convmat.conv_matrix(np.arange(1, 10).reshape(3, 3),
                                                             (32, 32), padding=1),
        "SymbolicKongLucey 32x32, stride 2": symbolic.kong_lucey((3, 3), (32, 32), stride=2,
                                                                 padding=1),
        "product y = A x (symbolic)": symbolic.product(big),
    }
    print(f"{'display (IPython mime bundle)':38s} {'first s':>8s} {'best s':>8s} {'bytes':>8s}"
          f"  goal 0.2 s, 50 KB")
    for name, obj in cases.items():
        first, _ = best(lambda obj=obj: formatter.format(obj), 1)  # sympy caches after this
        seconds, (bundle, _) = best(lambda obj=obj: formatter.format(obj), repeat)
        size = sum(len(str(v).encode()) for v in bundle.values())
        print(f"{name:38s} {first:8.3f} {seconds:8.3f} {size:8,d}  ({first / 0.2:.2f} x time "
              f"goal)")
    plain = sympy.ImmutableSparseMatrix(big)  # the same entries without convmat's display
    seconds_text, text = best(lambda: repr(plain), 1)
    seconds_latex, latex = best(lambda: sympy.latex(plain), 1)
    ours, (bundle, _) = best(lambda: formatter.format(big), repeat)
    print(f"{'sympy text/plain + text/latex':38s} {seconds_text + seconds_latex:8.3f} "
          f"{'':8s} {len(text.encode()) + len(latex.encode()):8,d}  "
          f"(convmat's display is {(seconds_text + seconds_latex) / ours:,.0f}x faster)")


if __name__ == "__main__":
    main()
