"""The registry of layer kinds: every kind module loaded, the look-ups by PyTorch module
and by description word, and the users' converters (:func:`convmat.networks.register`).

To add a kind, define its class in a ``_*_kinds`` module (one file; a new module is also
imported here) with :func:`convmat.networks._kinds.registered`.
"""

from __future__ import annotations

from ..errors import ConvmatError, brief
from . import (  # noqa: F401 - imported for their registrations
    _activation_kind,
    _conv_kinds,
    _dense_kinds,
    _pool_kinds,
    _resample_kinds,
    _shape_kinds,
)
from ._converted import Converted
from ._kinds import KINDS, Kind

__all__ = ["KINDS", "kind_of_module", "kind_of_word", "register", "words"]

_CONVERTED: dict[type, Converted] = {}


def register(module_type, converter) -> None:
    """Read ``module_type`` with ``converter`` (see :func:`convmat.networks.register`)."""
    if not isinstance(module_type, type):
        raise ConvmatError(f"module_type={brief(module_type)} must be a class (a subclass of "
                           f"torch.nn.Module)")
    if not callable(converter):
        raise ConvmatError(f"converter={brief(converter)} must be callable as "
                           f"converter(module, input_shape, at)")
    kind = Converted(module_type, converter)
    _CONVERTED.pop(module_type, None)
    _CONVERTED[module_type] = kind  # the latest registration is looked at first
    KINDS[kind.name] = kind


def converted(module) -> Kind | None:
    """The users' kind of ``module`` (the latest registration that matches), if any."""
    for kind in reversed(_CONVERTED.values()):
        if kind.matches(module):
            return kind
    return None


def kind_of_module(module) -> Kind | None:
    """The kind of a PyTorch leaf module: a user's converter first, then the built-ins."""
    found = converted(module)
    if found is not None:
        return found
    for kind in KINDS.values():
        if not isinstance(kind, Converted) and kind.matches(module):
            return kind
    return None


def _by_word() -> dict[str, Kind]:
    return {word: kind for kind in KINDS.values() for word in kind.words}


def kind_of_word(word: str) -> Kind | None:
    """The kind a description's word names (``_`` ignored where the word has none)."""
    table = _by_word()
    return table.get(word) or table.get(word.replace("_", ""))


def words() -> list[str]:
    """Every word of the text grammar, sorted."""
    return sorted(_by_word())
