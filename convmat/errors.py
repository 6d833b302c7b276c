"""The one exception type of convmat, and the helper that adds call context to it."""

from __future__ import annotations

import contextvars

import numpy as np

__all__ = ["ConvmatError"]  # error_context, shape_of, brief: for the modules


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


class error_context:  # noqa: N801 - used as a function: ``with error_context(...)``
    """Append ``function(key=value, ...)`` to any :class:`ConvmatError` raised inside.

    Only the outermost context is kept, so errors raised through several public entry points
    carry the context of the call the user made (nesting is tracked per thread/task). A plain
    class rather than a generator-based context manager: every public call enters one.
    """

    __slots__ = ("function", "context", "token")

    def __init__(self, function: str, **context: object) -> None:
        self.function = function
        self.context = context

    def __enter__(self) -> None:
        self.token = _depth.set(_depth.get() + 1)

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        try:
            if isinstance(exc, ConvmatError) and _depth.get() == 1:
                args = ", ".join(f"{k}={brief(v)}" for k, v in self.context.items())
                exc.context = f"{self.function}({args})"
        finally:
            _depth.reset(self.token)


def brief(value: object, limit: int = 300) -> str:
    """``repr(value)`` for an error message, safe and short: an integer too long to print
    (Python refuses ``repr`` past 4300 digits) shows its size, a long repr is cut.

    Examples
    --------
    >>> brief((5, 10**5000))
    '(5, <int of ~5001 digits>)'
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        bits = value.bit_length()
        digits = str(len(str(abs(value)))) if bits < 14000 else f"~{int(bits * 0.30103) + 1}"
        text = f"<int of {digits} digits>"
    elif type(value) in (tuple, list):
        items = [brief(v, limit) for v in value]  # type: ignore[attr-defined]
        text = ", ".join(items) + ("," if type(value) is tuple and len(items) == 1 else "")
        text = f"({text})" if type(value) is tuple else f"[{text}]"
    else:
        try:
            text = repr(value)
        except (ValueError, TypeError, RuntimeError):  # a repr that fails (huge ints inside)
            text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[:limit - 20] + " ... " + text[-12:]


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
