"""Shared test fixtures: optional oracles (PyTorch, pdflatex) and hypothesis settings."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default", max_examples=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "ci", max_examples=150, deadline=None,
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
