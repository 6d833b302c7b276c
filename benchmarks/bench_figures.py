"""Time the pictures: a 7x7 / 3x3 matrix animation (A2) saved as GIF (goal: under 1 s),
and every picture of docs/figures.md made and saved (goal: each under 1.5 s).

Run from this folder: ``python bench_figures.py``. Also prints the per-frame cost of the
A1 animation and of matplotlib's own PillowWriter on the same animation, side by side.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import matplotlib.animation  # noqa: E402

from convmat import figures  # noqa: E402


def timed(fn) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "a.gif"

        def a2():
            figures.save(figures.animate_matrix((7, 7), (3, 3)), out)

        def a2_pillow_writer():
            anim = figures.animate_matrix((7, 7), (3, 3))
            anim.save(str(out), writer=matplotlib.animation.PillowWriter(fps=1.5), dpi=100)

        def a1():
            figures.save(figures.animate_convolution((7, 7), (3, 3)), out)

        t2 = timed(a2)
        size = out.stat().st_size
        tw = timed(a2_pillow_writer)
        t1 = timed(a1)
    print("picture                                      frames   seconds   per frame")
    print(f"A2 7x7/3x3 -> GIF (figures.save)                 25   {t2:7.2f}   {t2 / 25 * 1e3:6.0f} ms"
          f"   ({size / 1024:.0f} KB; goal < 1 s: {'met' if t2 < 1 else 'NOT met'})")
    print(f"A2 7x7/3x3 -> GIF (matplotlib PillowWriter)      25   {tw:7.2f}   {tw / 25 * 1e3:6.0f} ms"
          f"   (ratio {tw / t2:.2f}x)")
    print(f"A1 7x7/3x3 -> GIF (figures.save)                 25   {t1:7.2f}   {t1 / 25 * 1e3:6.0f} ms")


def docs_pictures() -> None:
    """Every picture of docs/figures.md (docs/make_figures.py), made and saved, timed."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "docs"))
    import make_figures

    jobs = make_figures.jobs()
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        print("\ndocs picture                         seconds (goal < 1.5 s)")
        for name, make in jobs.items():
            t = time.perf_counter()
            figures.save(make(), Path(tmp) / name, fps=1.5)
            took = time.perf_counter() - t
            worst = max(worst, took)
            print(f"{name:36s} {took:6.2f}{'' if took < 1.5 else '   NOT met'}")
    print(f"slowest: {worst:.2f} s ({'met' if worst < 1.5 else 'NOT met'})")


if __name__ == "__main__":
    main()
    docs_pictures()
