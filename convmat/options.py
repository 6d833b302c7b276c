"""Run-time options: the memory guard's limit and the index width.

Both can be set for the whole process (``convmat.options.set(...)``), for a block of code
(``with convmat.options.override(...):``) or from the environment before import:

``CONVMAT_MEMORY_LIMIT``
    bytes a single build may use, e.g. ``8e9``, ``512M``, ``4G``; default half of the
    physical memory.
``CONVMAT_INDEX_DTYPE``
    ``int64`` forces 64-bit sparse indices everywhere; by default indices are ``int32``
    while every index and the number of stored entries fit in it.

Examples
--------
>>> import convmat
>>> with convmat.options.override(memory_limit=10_000):
...     convmat.conv_matrix([[1, 2], [3, 4]], (100, 100))
Traceback (most recent call last):
    ...
convmat.errors.ConvmatError: ...
>>> with convmat.options.override(force_int64=True):
...     convmat.conv_matrix([1, 2], (4,)).indices.dtype
dtype('int64')
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

from .errors import ConvmatError

__all__ = ["get", "override", "set"]

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def physical_memory() -> int:
    """Physical memory of this machine in bytes (a conservative 8 GiB when unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def parse_bytes(text: str | int | float) -> int:
    """Parse ``4G``, ``512M``, ``8e9`` or a plain number of bytes."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([KMGT]?)i?B?\s*", str(text), re.IGNORECASE)
        if match is None:
            raise ConvmatError(f"memory_limit={text!r} is not a number of bytes like 8e9 or 4G")
        try:
            value = float(match.group(1)) * _UNITS[match.group(2).upper()]
        except ValueError:
            raise ConvmatError(
                f"memory_limit={text!r} is not a number of bytes like 8e9 or 4G"
            ) from None
    if not value > 0:
        raise ConvmatError(f"memory_limit={text!r} must be positive")
    return int(value)


def _from_environment() -> dict[str, object]:
    limit = os.environ.get("CONVMAT_MEMORY_LIMIT")
    index = os.environ.get("CONVMAT_INDEX_DTYPE", "").strip().lower()
    return {
        "memory_limit": parse_bytes(limit) if limit else physical_memory() // 2,
        "force_int64": index == "int64",
    }


_current: dict[str, object] = _from_environment()


def get(name: str) -> object:
    """Current value of option ``name`` (``"memory_limit"`` or ``"force_int64"``)."""
    if name not in _current:
        raise ConvmatError(f"option {name!r} does not exist; options are {sorted(_current)}")
    return _current[name]


def set(**values: object) -> dict[str, object]:  # noqa: A001 - the natural name here
    """Set options for the rest of the process; returns the previous values.

    Parameters
    ----------
    memory_limit : int, float or str
        Bytes one build may use before it is refused (``"4G"`` style accepted).
    force_int64 : bool
        Use 64-bit indices even when 32-bit ones would do.
    """
    new = dict(_current)
    for name, value in values.items():
        if name == "memory_limit":
            new[name] = parse_bytes(value)  # type: ignore[arg-type]
        elif name == "force_int64":
            new[name] = bool(value)
        else:
            raise ConvmatError(f"option {name!r} does not exist; options are {sorted(_current)}")
    previous = dict(_current)
    _current.update(new)
    return previous


@contextlib.contextmanager
def override(**values: object) -> Iterator[None]:
    """Set options inside a ``with`` block only."""
    previous = set(**values)
    try:
        yield
    finally:
        _current.clear()
        _current.update(previous)
