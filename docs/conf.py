"""Sphinx configuration: ``sphinx-build -W --keep-going -b html docs <out>`` builds the site."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if (ROOT / "convmat" / "__init__.py").exists():  # a source checkout documents itself
    sys.path.insert(0, str(ROOT))

import convmat  # noqa: E402

project = "convmat"
author = "the convmat developers"
copyright = "2026, the convmat developers"  # noqa: A001
release = convmat.__version__
version = ".".join(release.split(".")[:2])
