"""Old spellings of the public API, kept working with a :class:`DeprecationWarning`.

One vocabulary across the API (``padding_mode``, ``kernel_shape``, ``(input_shape,
kernel_shape)``, ``stride``): a renamed keyword stays accepted under its old name through
:func:`renamed`, which warns once per call site and hands back the value to use.
"""

from __future__ import annotations

import warnings

from .errors import ConvmatError

__all__ = ["MISSING", "deprecated", "renamed", "warn_renamed"]


class _Missing:
    """The default of a deprecated keyword: tells "not given" from any value."""

    def __repr__(self) -> str:
        return "<deprecated>"


#: the default of every deprecated keyword
MISSING = _Missing()


def deprecated(message: str, stacklevel: int = 2) -> None:
    """Issue a :class:`DeprecationWarning`; ``stacklevel`` counts from the caller of this
    function (2: the caller's caller, the user's line)."""
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel + 1)


def warn_renamed(call: str, old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that ``call(old=...)`` is now spelled ``call(new=...)``."""
    deprecated(f"{call}({old}=...) is deprecated; use {call}({new}=...)", stacklevel + 1)


def renamed(call: str, old: str, old_value: object, new: str, new_value: object,
            default: object = MISSING, stacklevel: int = 3) -> object:
    """The value of keyword ``new`` of ``call``, also given under its old name ``old``.

    ``old_value`` is :data:`MISSING` when the old name was not used; otherwise a
    :class:`DeprecationWarning` is issued (pointing at the caller of ``call``) and the old
    value is used, unless ``new`` was given too (``new_value`` is not ``default``): then a
    :class:`~convmat.errors.ConvmatError` names both.
    """
    if old_value is MISSING:
        return new_value
    if new_value is not default:
        raise ConvmatError(f"{call}: {old}= is the deprecated spelling of {new}=; give only "
                           f"{new}= (got {old}={old_value!r} and {new}={new_value!r})")
    warn_renamed(call, old, new, stacklevel)
    return old_value
