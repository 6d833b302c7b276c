"""The one exception type of convmat, and the helper that adds call context to it."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

import numpy as np

__all__ = ["ConvmatError"]


class ConvmatError(ValueError):
    """Invalid input to a convmat function.

    A subclass of :class:`ValueError`. The message names the offending parameter and its
    value; at the public boundary the call's context (function, input shape, kernel shape)
    is appended once.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.context: str | None = None

    def __str__(self) -> str:
        if self.context is None:
            return self.message
        return f"{self.message} [in {self.context}]"


@contextlib.contextmanager
def error_context(function: str, **context: object) -> Iterator[None]:
    """Append ``function(key=value, ...)`` to any :class:`ConvmatError` raised inside.

    Only the outermost context is kept, so errors raised through several public entry points
    carry the context of the call the user made (nesting is tracked per thread/task).
    """
    token = _depth.set(_depth.get() + 1)
    try:
        yield
    except ConvmatError as exc:
        if _depth.get() == 1:
            args = ", ".join(f"{k}={v!r}" for k, v in context.items())
            exc.context = f"{function}({args})"
        raise
    finally:
        _depth.reset(token)


def shape_of(value: object) -> object:
    """The shape of an argument, for an error's context: ``value.shape``, else
    ``numpy.shape(value)``, else (a ragged nested list) the value itself."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return tuple(shape)
    try:
        return np.shape(value)
    except (ValueError, TypeError):
        return value


_depth: contextvars.ContextVar[int] = contextvars.ContextVar("convmat_error_depth", default=0)
