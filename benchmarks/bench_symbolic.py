"""Time the symbolic builder and the LaTeX writer against their goals.

    python benchmarks/bench_symbolic.py [--repeat N]

Goals (issue 3): the symbolic matrix of a 3x3 kernel on a 32x32 input (8,100 symbolic
entries) in under 1 s; LaTeX of a 100x100 block of it in under 0.5 s. Each line prints the
best of N runs and its ratio to the goal (below 1 meets it). For scale, the numeric build of
the same matrix and sympy's own constructor fed the same entries are printed too.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sympy

import convmat
from convmat import symbolic
from convmat.latex import to_latex


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    shape, kernel = (32, 32), (3, 3)
    matrix = symbolic.conv_matrix(kernel, shape)
    entries = dict(matrix.todok())
    block = matrix[:100, :100]
    rows = [
        ("symbolic conv_matrix 3x3 on 32x32", 1.0,
         lambda: symbolic.conv_matrix(kernel, shape)),
        ("symbolic conv_transpose_matrix (same size)", 1.0,
         lambda: symbolic.conv_transpose_matrix(kernel, (30, 30))),
        ("to_latex of a 100x100 block (A[:100, :100])", 0.5,
         lambda: to_latex(block, max_rows=None, max_cols=None)),
        ("to_latex(A, max_rows=100, max_cols=100)", 0.5,
         lambda: to_latex(matrix, max_rows=100, max_cols=100)),
        ("  reference: numeric conv_matrix, same geometry", None,
         lambda: convmat.conv_matrix(np.ones(kernel), shape)),
        ("  reference: sympy.SparseMatrix from the same dict", None,
         lambda: sympy.SparseMatrix(*matrix.shape, entries)),
    ]
    print(f"{matrix.shape[0]} x {matrix.shape[1]} symbolic matrix, {len(entries):,} entries; "
          f"best of {args.repeat}")
    for name, goal, function in rows:
        seconds = best(function, args.repeat)
        ratio = f"{seconds / goal:6.3f} of the goal ({goal} s)" if goal else ""
        print(f"{name:52s} {seconds * 1e3:9.2f} ms  {ratio}")


if __name__ == "__main__":
    main()
