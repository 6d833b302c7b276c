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
import math
import os
import re
from collections.abc import Iterator

import numpy as np

from .errors import ConvmatError, brief

__all__ = ["get", "override", "set"]

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def physical_memory() -> int:
    """Physical memory of this machine in bytes (a conservative 8 GiB when unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def parse_bytes(text: str | int | float, name: str = "memory_limit") -> int:
    """Parse ``4G``, ``512M``, ``8e9`` or a plain number of bytes (at least one byte, finite;
    a fraction of a byte is refused rather than rounded to zero)."""
    if isinstance(text, (bool, np.bool_)):
        raise ConvmatError(f"{name}={text!r} must be a number of bytes, not a bool")
    shown = brief(text)
    if isinstance(text, (int, np.integer)):
        value: float | int = int(text)
    elif isinstance(text, (float, np.floating)):
        value = float(text)
    elif isinstance(text, str):
        match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([KMGT]?)i?B?\s*", text, re.IGNORECASE)
        if match is None:
            raise ConvmatError(f"{name}={shown} is not a number of bytes like 8e9 or 4G")
        try:
            value = float(match.group(1)) * _UNITS[match.group(2).upper()]
        except ValueError:
            raise ConvmatError(
                f"{name}={shown} is not a number of bytes like 8e9 or 4G"
            ) from None
    else:
        raise ConvmatError(f"{name}={shown} is not a number of bytes like 8e9 or 4G")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConvmatError(f"{name}={shown} must be a finite number of bytes")
    if value > 2**62:
        raise ConvmatError(f"{name}={shown} is out of range (at most 2**62 bytes)")
    if not value >= 1:
        raise ConvmatError(f"{name}={shown} must be positive (at least one byte)")
    return int(value)


def _as_flag(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ConvmatError(f"{name}={brief(value)} must be True or False")
    return bool(value)


def _from_environment() -> tuple[dict[str, object], dict[str, str]]:
    """The options given by the environment, and a message per variable that could not be
    read (the default is used then; the message is raised as an error at first use, so a
    typo never passes silently and never breaks ``import convmat``)."""
    values: dict[str, object] = {"memory_limit": physical_memory() // 2, "force_int64": False}
    problems: dict[str, str] = {}
    limit = os.environ.get("CONVMAT_MEMORY_LIMIT", "").strip()
    if limit:
        try:
            values["memory_limit"] = parse_bytes(limit, "CONVMAT_MEMORY_LIMIT")
        except ConvmatError as exc:
            problems["memory_limit"] = str(exc)
    index = os.environ.get("CONVMAT_INDEX_DTYPE", "").strip().lower()
    if index in ("int64", "64"):
        values["force_int64"] = True
    elif index not in ("", "int32", "32", "auto"):
        problems["force_int64"] = (
            f"CONVMAT_INDEX_DTYPE={index!r} is not an index width; use int64 (always 64-bit "
            f"indices) or int32 / auto (32-bit while they fit)")
    return values, problems


_current, _problems = _from_environment()


def get(name: str) -> object:
    """Current value of option ``name`` (``"memory_limit"`` or ``"force_int64"``).

    An unreadable environment variable (``CONVMAT_MEMORY_LIMIT=lots``) is reported here, as
    a :class:`~convmat.errors.ConvmatError`, until the option is set explicitly.
    """
    if not isinstance(name, str) or name not in _current:
        raise ConvmatError(f"option {brief(name)} does not exist; options are {sorted(_current)}")
    if name in _problems:
        raise ConvmatError(f"{_problems[name]} (fix the environment variable or set the "
                           f"option with convmat.options.set({name}=...))")
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
            new[name] = _as_flag(value, name)
        else:
            raise ConvmatError(f"option {brief(name)} does not exist; options are "
                               f"{sorted(_current)}")
    previous = dict(_current)
    _current.update(new)
    for name in values:
        _problems.pop(name, None)
    return previous


@contextlib.contextmanager
def override(**values: object) -> Iterator[None]:
    """Set options inside a ``with`` block only."""
    problems = dict(_problems)
    previous = set(**values)
    try:
        yield
    finally:
        _current.clear()
        _current.update(previous)
        _problems.clear()
        _problems.update(problems)
