"""Reading and checking inputs: the one home of every argument check the package shares.

Every function raises :class:`~convmat.errors.ConvmatError` naming the parameter and its value;
the public entry points add the call's context (:func:`~convmat.errors.error_context`).
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Iterable, Sequence

import numpy as np

from ._choices import FORMATS
from ._memory import check_budget, conversion_bytes, count_diagonals
from .errors import ConvmatError, brief

__all__ = [
    "FORMATS", "GREEK", "MAX_SIZE", "SYMBOL_NAME", "SYMBOL_NAME_HINT", "as_array", "as_dtype",
    "as_flag", "as_format", "as_int", "as_per_dim", "as_shape", "as_weight", "check_choice",
    "check_format", "check_size", "listed", "plain", "plain_key", "positive_int", "remembered",
    "symbol_name",
]

#: the largest size, step or padding a builder indexes (``2**62``: sums of two stay in int64)
MAX_SIZE = 2**62



def as_int(value: object, name: str) -> int:
    """``value`` as a Python int (NumPy integers accepted; bools, floats, strings refused, and
    magnitudes beyond :data:`MAX_SIZE`, which no size, step or index of a build can reach)."""
    if isinstance(value, (bool, np.bool_)):
        raise ConvmatError(f"{name}={value!r} must be an integer, not a bool")
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ConvmatError(
            f"{name}={brief(value)} must be an integer, not {type(value).__name__}"
        ) from None
    return check_size(number, name)


def check_size(value: int, name: str) -> int:
    """``value`` when ``|value| <= MAX_SIZE`` (what int64 index arithmetic can hold)."""
    if abs(value) > MAX_SIZE:
        raise ConvmatError(f"{name}={brief(value)} is out of range: convmat takes integers up "
                           f"to 2**62 = {MAX_SIZE} in magnitude (what int64 index arithmetic "
                           f"can hold)")
    return value


def as_flag(value: object, name: str) -> bool:
    """``value`` when it is a bool (Python or NumPy); a string such as ``"False"`` or an
    array is refused rather than read by its truthiness."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConvmatError(f"{name}={brief(value)} must be True or False, not "
                           f"{type(value).__name__}")
    return bool(value)


def as_dtype(dtype: object, name: str = "dtype", kinds: str = "biufc") -> np.dtype:
    """A NumPy dtype of one of ``kinds`` that SciPy's sparse arrays store.

    ``float16`` (which SciPy's sparse arrays cannot compute with) becomes ``float32``.
    """
    try:
        value = np.dtype(dtype)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ConvmatError(f"{name}={brief(dtype)} is not a NumPy dtype") from None
    if value.kind not in kinds or value.fields is not None or value.subdtype is not None:
        raise ConvmatError(f"{name}={value} is not a number type this accepts "
                           f"({_KINDS_TEXT(kinds)})")
    if value == np.float16:
        return np.dtype(np.float32)
    return value


def _KINDS_TEXT(kinds: str) -> str:  # noqa: N802 - a tiny table
    words = {"b": "bool", "i": "int", "u": "uint", "f": "float", "c": "complex"}
    return ", ".join(words[k] for k in kinds)


def plain(value: object, name: str) -> object:
    """``value`` with a PyTorch tensor made a NumPy array (detached from autograd, moved to
    the CPU) and a masked array's data taken when nothing is masked (refused otherwise:
    convmat has no notion of a missing entry)."""
    module = type(value).__module__ or ""
    if module.startswith("torch") and hasattr(value, "detach"):
        tensor = value.detach()  # type: ignore[attr-defined]
        try:
            tensor = tensor.cpu().resolve_conj().resolve_neg()
            return tensor.numpy()
        except (RuntimeError, TypeError, AttributeError) as exc:
            raise ConvmatError(f"{name} is a tensor NumPy cannot read ({exc})") from None
    if isinstance(value, np.ma.MaskedArray):
        masked = int(np.count_nonzero(np.ma.getmaskarray(value)))
        if masked:
            raise ConvmatError(
                f"{name} is a masked array with {masked} masked entries; convmat reads every "
                f"entry, so fill them first (e.g. {name}.filled(0))")
        return np.ma.getdata(value)
    return value


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
        raise ConvmatError(f"{name}={brief(shape)} must be a tuple of positive integers")
    if not isinstance(shape, Sequence):
        try:
            return as_shape((as_int(shape, name),), name)
        except ConvmatError as exc:
            if "out of range" in exc.message:
                raise
            raise ConvmatError(
                f"{name}={brief(shape)} must be a tuple of positive integers"
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
                f"{name}={brief(tuple(value))} has {len(value)} entries but there are "
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
        raise ConvmatError(f"{name}={brief(value)} is not one of {choices}")
    return value


#: Greek letters a symbol name may start with (as the LaTeX macro, ``\theta``)
GREEK: tuple[str, ...] = (
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega")
#: a symbol name: a letter or a Greek-letter macro, then letters and digits. It is written
#: into LaTeX as it is (``w_{0,1}``), so nothing else is accepted (no ``\input``, no brace)
SYMBOL_NAME = re.compile(r"(?:[A-Za-z]|\\(?:" + "|".join(GREEK) + r")(?![A-Za-z]))[A-Za-z0-9]*")
SYMBOL_NAME_HINT = ("use a letter or a Greek-letter macro such as \\theta, then letters and "
                    "digits (e.g. h, W2, \\alpha)")


def symbol_name(value: object, name: str = "name") -> str:
    r"""``value`` when it is a symbol name (:data:`SYMBOL_NAME`): the one rule for every name
    a user gives symbols, in the library and on the command line.

    Examples
    --------
    >>> symbol_name(r"\alpha2")
    '\\alpha2'
    >>> symbol_name("x}")
    Traceback (most recent call last):
    ...
    convmat.errors.ConvmatError: name='x}' is not a symbol name: use a letter or a Greek-letter macro such as \theta, then letters and digits (e.g. h, W2, \alpha)
    """
    if not isinstance(value, str) or not SYMBOL_NAME.fullmatch(value):
        raise ConvmatError(f"{name}={brief(value)} is not a symbol name: {SYMBOL_NAME_HINT}")
    return value


def check_format(format: object) -> str:  # noqa: A002 - SciPy's name
    """A SciPy sparse format name."""
    if not isinstance(format, str) or format not in FORMATS:
        raise ConvmatError(f"format={brief(format)} is not a SciPy sparse format; use one of "
                           f"{FORMATS}")
    return format


def as_format(matrix, format: str, what: str = "the matrix"):  # noqa: A002
    """A SciPy sparse array in ``format``, without a copy when it already is.

    The conversion is counted by the memory guard first (SciPy's ``lil`` and ``dok`` keep
    Python objects per entry, ``dia`` a dense array per diagonal).
    """
    if matrix.format == format:
        return matrix
    itemsize = matrix.dtype.itemsize
    index_size = matrix.indices.dtype.itemsize if hasattr(matrix, "indices") else 8
    rows, cols = matrix.shape
    diagonals = None
    if format == "dia" and matrix.format in ("csr", "csc"):
        diagonals = count_diagonals(matrix)
    extra = conversion_bytes(format, int(matrix.nnz), rows, cols, itemsize, index_size,
                             diagonals)
    own = matrix.data.nbytes + (matrix.indices.nbytes + matrix.indptr.nbytes
                                if hasattr(matrix, "indptr") else 0)
    check_budget(own + extra, f"converting {what} ({rows}x{cols}, {matrix.nnz:,} stored "
                 f"entries) to format={format!r}",
                 advice="csr, csc and coo store a convolution most compactly. ")
    return matrix.asformat(format)


def as_array(value: object, name: str) -> np.ndarray:
    """``numpy.asarray(value)``, with a ragged or unreadable value a :class:`ConvmatError`."""
    value = plain(value, name)
    try:
        return np.asarray(value)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ConvmatError(f"{name} could not be read as an array ({exc})") from None


def as_weight(weight: object, name: str = "weight") -> np.ndarray:
    """The weight as a numeric numpy array (object, string and empty arrays refused; float16
    is widened to float32, the narrowest float SciPy's sparse arrays compute with)."""
    array = as_array(weight, name)
    if array.dtype.kind not in "biufc":
        raise ConvmatError(
            f"{name} has dtype {array.dtype}, not a number type; for symbols use "
            f"convmat.symbolic.conv_matrix"
        )
    if array.ndim == 0:
        raise ConvmatError(f"{name}={brief(array)} is a scalar; give at least a 1-D kernel")
    if array.size == 0:
        raise ConvmatError(f"{name}.shape={array.shape!r} is empty")
    if array.dtype == np.float16:  # SciPy's sparse arrays cannot compute in float16
        array = array.astype(np.float32)
    return array


def plain_key(value):
    """A hashable key that tells apart everything validation tells apart (``True`` from
    ``1``, a list from a tuple), or ``None`` for anything but ints, strings, bools, ``None``
    and (nested) tuples and lists of them."""
    kind = type(value)
    if kind in (int, str, bool) or value is None:
        return kind, value
    if kind in (tuple, list):
        if all(type(v) is int for v in value):  # the common case, keyed flat
            return kind, int, tuple(value)
        parts = tuple(map(plain_key, value))
        return None if None in parts else (kind, parts)
    return None


def remembered(builder):
    """``builder`` with its results remembered for plain arguments (see :func:`plain_key`):
    validated geometries are immutable and recur (a network's layers, a lecture's
    examples), and their validation is most of a small build's fixed cost. Refusals are
    not remembered."""
    memo: dict = {}

    @functools.wraps(builder)
    def wrapper(*args, **kwargs):
        key = plain_key((args, tuple(sorted(kwargs.items()))))
        if key is None:
            return builder(*args, **kwargs)
        found = memo.get(key)
        if found is None:
            found = builder(*args, **kwargs)
            if len(memo) >= 256:
                memo.clear()
            memo[key] = found
        return found

    wrapper.cache_clear = memo.clear
    return wrapper
