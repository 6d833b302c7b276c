"""Shared test fixtures: optional oracles (PyTorch, pdflatex) and hypothesis settings."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile("default")


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


torch = _torch()
requires_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
requires_pdflatex = pytest.mark.skipif(shutil.which("pdflatex") is None,
                                       reason="pdflatex is not installed")


def pytest_terminal_summary(terminalreporter):
    """Report how many random geometries were checked against PyTorch in this run."""
    import sys

    counts = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("tests.") and hasattr(module, "GEOMETRIES_CHECKED"):
            for key, value in module.GEOMETRIES_CHECKED.items():
                counts[f"{name.removeprefix('tests.')}.{key}"] = value
    if any(counts.values()):
        terminalreporter.write_line(
            "geometries checked against oracles: "
            + ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        )
    times = getattr(sys.modules.get("tests.test_display"), "DISPLAY_TIMES", {})
    for name, (seconds, size) in times.items():
        terminalreporter.write_line(f"display in a Jupyter kernel: {name}: {seconds:.3f} s, "
                                    f"{size:,} bytes")
    engines = getattr(sys.modules.get("tests.test_engines"), "LATEX_CASES_RENDERED", {})
    if engines:
        terminalreporter.write_line(
            "LaTeX cases rendered: " + ", ".join(f"{k}={v}" for k, v in sorted(engines.items())))
