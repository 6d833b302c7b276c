"""`convmat demo`: exit code and content, with and without the optional Kong & Lucey part."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time

import pytest

from convmat.cli import main
from convmat.demo import lenet5_rows, tour

# the fixed parts of the tour, each checked by an independent value
EXPECTED = [
    "[[12 12 17]\n    [10 17 19]\n    [ 9  6 14]]",  # worked example 1's feature map
    "9x25 with 81 stored entries",
    "T0 T1 T2 0  0\n   0  T0 T1 T2 0\n   0  0  T0 T1 T2",  # doubly block Toeplitz
    "A.T @ y",
    "(3, 2, 1): equal to A.T? True",
    "pool2        16x5x5       0            16x16",
    "fc1             120  48,120",
]


@pytest.fixture
def no_striding(monkeypatch):
    """Make `import convmat.striding` fail, as if the module did not exist."""
    monkeypatch.setitem(sys.modules, "convmat.striding", None)


def test_demo_exits_0_and_tours_without_kong_lucey(no_striding, capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    for needle in EXPECTED:
        assert needle in out
    assert "Kong & Lucey" not in out
    assert out.strip().splitlines()[-1].lstrip().startswith("convmat shape")


def test_demo_includes_kong_lucey_when_available():
    try:
        available = importlib.util.find_spec("convmat.striding") is not None
    except ImportError:
        available = False
    if not available:
        pytest.skip("convmat.striding is not there")
    text = tour()
    assert "Kong & Lucey" in text
    assert "1 3 . . 2 . .\n   . 1 3 . . 2 .\n   . . 1 3 . . 2" in text


def test_lenet5_table():
    rows = lenet5_rows()
    assert [r[1] for r in rows] == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120,),
                                    (84,), (10,)]
    assert sum(r[2] for r in rows) == 61_706


def test_console_demo_runs_in_seconds():
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "convmat", "demo"], capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.returncode == 0 and result.stderr == ""
    assert "convmat demo" in result.stdout and EXPECTED[0] in result.stdout
    assert time.perf_counter() - start < 20
