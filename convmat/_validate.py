"""Reading and checking inputs: the one home of every argument check the package shares.

Every function raises :class:`~convmat.errors.ConvmatError` naming the parameter and its value;
the public entry points add the call's context (:func:`~convmat.errors.error_context`).
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence

import numpy as np

from ._choices import FORMATS
from .errors import ConvmatError

__all__ = [
    "FORMATS", "as_array", "as_format", "as_int", "as_per_dim", "as_shape", "as_weight",
    "check_choice", "check_format", "listed", "positive_int",
]



def as_int(value: object, name: str) -> int:
    """``value`` as a Python int (NumPy integers accepted; bools, floats, strings refused)."""
    if isinstance(value, (bool, np.bool_)):
        raise ConvmatError(f"{name}={value!r} must be an integer, not a bool")
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ConvmatError(
            f"{name}={value!r} must be an integer, not {type(value).__name__}"
        ) from None


def positive_int(value: object, name: str, *, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (the one ">= 1" check)."""
    number = as_int(value, name)
    if number < minimum:
        raise ConvmatError(f"{name}={number} must be >= {minimum}")
    return number


def listed(value: object) -> object:
    """A 1-D (or deeper) numpy array as the list of its entries, so it reads like a tuple."""
    if isinstance(value, np.ndarray) and value.ndim >= 1:
        return value.tolist()
    return value


def as_shape(shape: object, name: str = "input_shape") -> tuple[int, ...]:
    """A non-empty sequence of positive integers (an int means 1-D)."""
    shape = listed(shape)
    if isinstance(shape, (str, bytes)):
        raise ConvmatError(f"{name}={shape!r} must be a tuple of positive integers")
    if not isinstance(shape, Sequence):
        try:
            return as_shape((as_int(shape, name),), name)
        except ConvmatError:
            raise ConvmatError(
                f"{name}={shape!r} must be a tuple of positive integers"
            ) from None
    if len(shape) == 0:
        raise ConvmatError(f"{name}={tuple(shape)!r} must have at least one dimension")
    dims = tuple(as_int(v, name) for v in shape)
    if any(v < 1 for v in dims):
        raise ConvmatError(f"{name}={dims!r} must contain positive sizes only")
    return dims


def as_per_dim(value: object, ndim: int, name: str, *, minimum: int) -> tuple[int, ...]:
    """An int or one int per spatial dimension, each ``>= minimum``."""
    value = listed(value)
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        if len(value) != ndim:
            raise ConvmatError(
                f"{name}={tuple(value)!r} has {len(value)} entries but there are "
                f"{ndim} spatial dimensions; give one int or {ndim} ints"
            )
        values = tuple(as_int(v, name) for v in value)
    else:
        values = (as_int(value, name),) * ndim
    if any(v < minimum for v in values):
        shown = values[0] if not isinstance(value, Sequence) else values
        raise ConvmatError(f"{name}={shown!r} must be >= {minimum}")
    return values


def check_choice(value: object, name: str, choices: Iterable[str]) -> str:
    """``value`` when it is one of ``choices`` (strings)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ConvmatError(f"{name}={value!r} is not one of {choices}")
    return value


def check_format(format: object) -> str:  # noqa: A002 - SciPy's name
    """A SciPy sparse format name."""
    if not isinstance(format, str) or format not in FORMATS:
        raise ConvmatError(f"format={format!r} is not a SciPy sparse format; use one of {FORMATS}")
    return format


def as_format(matrix, format: str):  # noqa: A002
    """A SciPy sparse array in ``format``, without a copy when it already is."""
    return matrix if matrix.format == format else matrix.asformat(format)


def as_array(value: object, name: str) -> np.ndarray:
    """``numpy.asarray(value)``, with a ragged or unreadable value a :class:`ConvmatError`."""
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise ConvmatError(f"{name} could not be read as an array ({exc})") from None


def as_weight(weight: object, name: str = "weight") -> np.ndarray:
    """The weight as a numeric numpy array (object, string and empty arrays refused)."""
    array = as_array(weight, name)
    if array.dtype.kind not in "biufc":
        raise ConvmatError(
            f"{name} has dtype {array.dtype}, not a number type; for symbols use "
            f"convmat.symbolic.conv_matrix"
        )
    if array.ndim == 0:
        raise ConvmatError(f"{name}={array!r} is a scalar; give at least a 1-D kernel")
    if array.size == 0:
        raise ConvmatError(f"{name}.shape={array.shape!r} is empty")
    return array
