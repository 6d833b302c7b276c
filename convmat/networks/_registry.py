"""The registry of layer kinds: every kind module loaded, the look-ups by PyTorch module
and by description word, and the users' converters (:func:`convmat.networks.register`).

To add a kind, define its class with :func:`convmat.networks._kinds.registered` in a module
of this package whose name ends in ``_kinds`` (or ``_kind``): an existing one or a new file.
Every such module is imported here, in name order; nothing else changes.
"""

from __future__ import annotations

from typing import Any

import importlib
import pkgutil
from pathlib import Path

from ..errors import ConvmatError, brief
from ._converted import Converted
from ._kinds import KINDS, Kind

#: the modules that define the built-in kinds (imported for their registrations)
KIND_MODULES = tuple(
    importlib.import_module(f"{__package__}.{info.name}")
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda i: i.name)
    if info.name.endswith(("_kinds", "_kind")) and info.name != "_kinds")

__all__ = ["KINDS", "KIND_MODULES", "kind_of_module", "kind_of_word", "kinds_of", "register",
           "words"]

_CONVERTED: dict[type, Converted] = {}
#: per module class: (its users' kind, its kind), found once (every kind matches by the
#: module's class); emptied by :func:`register` and whenever a kind is added
_BY_CLASS: dict[type, tuple[Kind | None, Kind | None]] = {}
_KNOWN = [0]  # the number of kinds the cache was made with


def register(module_type: Any, converter: Any) -> None:
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
    _BY_CLASS.clear()


def kinds_of(module: Any) -> tuple[Kind | None, Kind | None]:
    """(the users' kind, the kind) of ``module``'s class, looked up once per class."""
    cls = type(module)
    if _KNOWN[0] != len(KINDS):
        _BY_CLASS.clear()
        _KNOWN[0] = len(KINDS)
    found = _BY_CLASS.get(cls)
    if found is None:
        users = next((k for k in reversed(_CONVERTED.values()) if k.matches(module)), None)
        found = users, users or next((k for k in KINDS.values() if not isinstance(
            k, Converted) and k.matches(module)), None)
        _BY_CLASS[cls] = found
    return found


def converted(module: Any) -> Kind | None:
    """The users' kind of ``module`` (the latest registration that matches), if any."""
    return kinds_of(module)[0]


def kind_of_module(module: Any) -> Kind | None:
    """The kind of a PyTorch leaf module: a user's converter first, then the built-ins."""
    return kinds_of(module)[1]


def _by_word() -> dict[str, Kind]:
    return {word: kind for kind in KINDS.values() for word in kind.words}


def kind_of_word(word: str) -> Kind | None:
    """The kind a description's word names (``_`` ignored where the word has none)."""
    table = _by_word()
    return table.get(word) or table.get(word.replace("_", ""))


def words() -> list[str]:
    """Every word of the text grammar, sorted."""
    return sorted(_by_word())
