r"""The words pictures and beamer frames write, in every built-in language (format-neutral:
plain text).

One catalogue per language, the same keys in each. A picture writer (matplotlib or TikZ, or
:func:`convmat.to_latex` for its frames' subtitles)
asks :func:`labels` once for the catalogue of the call's ``lang=`` with the user's
``labels=`` overrides, then writes ``catalogue[key]``. Some entries hold fields in braces
(``{x}``, ``{A}``, ``{xw}``, ``{value}``) that the writer fills with :func:`fill`, in its
own syntax (a math symbol such as ``$x$``, a number); an override may drop them. Symbols
and numbers (``×``, ``→``, ``w_0``, ``3×3``) are not words and are not in the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from ..errors import ConvmatError, brief

__all__ = ["LANGUAGES", "LABEL_KEYS", "labels", "fill"]

_EN: dict[str, str] = {
    # the parts of a picture
    "input": "input",
    "kernel": "kernel",
    "output": "output",
    "padding": "padding",
    "padding_copies": "padding (copies)",
    "implicit_padding": "implicit padding",
    "output_padding": "output padding",
    "inserted_zero": "inserted zero",
    "input_flattened": "{x} (input, flattened)",
    "input_x": "input {x}",
    "padded_input": "padded input",
    "padded_input_x": "padded input {x}",
    "channel": "channel",
    "channels": "channels",
    "input_channels": "input channels",
    "output_channels": "output channels",
    "in": "in",
    "out": "out",
    "groups": "groups",
    "depthwise": "depthwise",
    # the geometry's words
    "stride": "stride",
    "dilation": "dilation",
    "tap": "tap",
    "taps": "kernel taps",
    "values": "values",
    "phase": "phase",
    "phases": "phases",
    "block": "block",
    "matrix": "matrix",
    "stored_entries": "stored entries",
    "unit_stride": "unit stride",
    "strided_matrix": "strided {A}",
    # superposition and overlaps
    "stamp": "stamp {xw}",
    "running_sum": "output: running sum of the stamps {xw}",
    "output_sum": "output (sum)",
    "cropped": "cropped by padding",
    "overlap_counts": "overlap counts",
    "distinct": "distinct",
    # titles
    "convolution": "convolution",
    "transposed": "transposed",
    "transposed_convolution": "transposed convolution",
    "superposition": "transposed convolution by superposition",
    "same_connections": "the same connections, reversed",
    "side_by_side": "convolution (left) and its transpose (right) on the same nodes",
    "drawn_stretched": "drawn: stride 1 over the stretched input, implicit padding {value}",
    "kong_lucey": "Kong & Lucey",
    # the displays of a Kong & Lucey result (beamer frame subtitles; {equation}: the formula)
    "strided_display": "strided: {equation} on the padded input",
    "permuted_display": "columns grouped by phase: {equation}",
    "sum_display": "sum over the phases: {equation}",
    "phase_of": "phase {k} of {n}",
}

_ES: dict[str, str] = {
    "input": "entrada",
    "kernel": "núcleo",
    "output": "salida",
    "padding": "relleno",
    "padding_copies": "relleno (copias)",
    "implicit_padding": "relleno implícito",
    "output_padding": "relleno de salida",
    "inserted_zero": "cero insertado",
    "input_flattened": "{x} (entrada, aplanada)",
    "input_x": "entrada {x}",
    "padded_input": "entrada rellenada",
    "padded_input_x": "entrada rellenada {x}",
    "channel": "canal",
    "channels": "canales",
    "input_channels": "canales de entrada",
    "output_channels": "canales de salida",
    "in": "ent.",
    "out": "sal.",
    "groups": "grupos",
    "depthwise": "por canal",
    "stride": "paso",
    "dilation": "dilatación",
    "tap": "peso",
    "taps": "pesos del núcleo",
    "values": "valores",
    "phase": "fase",
    "phases": "fases",
    "block": "bloque",
    "matrix": "matriz",
    "stored_entries": "elementos almacenados",
    "unit_stride": "paso unitario",
    "strided_matrix": "{A} con paso",
    "stamp": "estampa {xw}",
    "running_sum": "salida: suma acumulada de las estampas {xw}",
    "output_sum": "salida (suma)",
    "cropped": "recortado por el relleno",
    "overlap_counts": "número de solapamientos",
    "distinct": "distintos",
    "convolution": "convolución",
    "transposed": "traspuesta",
    "transposed_convolution": "convolución traspuesta",
    "superposition": "convolución traspuesta por superposición",
    "same_connections": "las mismas conexiones, invertidas",
    "side_by_side": "convolución (izquierda) y su traspuesta (derecha) sobre los mismos nodos",
    "drawn_stretched": "dibujada: paso 1 sobre la entrada estirada, relleno implícito {value}",
    "kong_lucey": "Kong y Lucey",
    "strided_display": "con paso: {equation} sobre la entrada rellenada",
    "permuted_display": "columnas agrupadas por fase: {equation}",
    "sum_display": "suma sobre las fases: {equation}",
    "phase_of": "fase {k} de {n}",
}

_CATALOGUES: dict[str, dict[str, str]] = {"en": _EN, "es": _ES}

#: the built-in languages (``lang=``)
LANGUAGES: tuple[str, ...] = tuple(_CATALOGUES)
#: every key of a catalogue (``labels=`` overrides some of them)
LABEL_KEYS: tuple[str, ...] = tuple(_EN)

_FIELD = re.compile(r"\{([A-Za-z]+)\}")


def labels(lang: str = "en", labels: Mapping[str, str] | None = None,
           call: str = "labels") -> Mapping[str, str]:
    """The words of a picture in language ``lang``, with single keys overridden by ``labels``.

    Parameters
    ----------
    lang : str
        One of :data:`LANGUAGES` (``"en"``, ``"es"``).
    labels : mapping of str to str, optional
        Overrides: key (one of :data:`LABEL_KEYS`) -> the text to write instead.
    call : str
        The picture function asking (named in error messages).

    Returns
    -------
    Mapping
        A read-only mapping with every key of :data:`LABEL_KEYS`.

    Raises
    ------
    ConvmatError
        ``lang`` is not a built-in language (the message lists them); ``labels`` is not a
        mapping, names a key that does not exist (the message names it and the known keys)
        or gives a text that is not a string.

    Examples
    --------
    >>> words = labels("es", {"kernel": "filtro"})
    >>> words["input"], words["kernel"], words["inserted_zero"]
    ('entrada', 'filtro', 'cero insertado')
    >>> fill(words["input_flattened"], x="$x$")
    '$x$ (entrada, aplanada)'
    """
    if not isinstance(call, str):
        raise ConvmatError(f"call={brief(call)} of labels must be a string (the name of the "
                           f"picture function asking)")
    if not isinstance(lang, str) or lang not in _CATALOGUES:
        raise ConvmatError(f"lang={brief(lang)} is not a built-in language of {call}; "
                           f"choose one of {', '.join(LANGUAGES)}")
    catalogue = dict(_CATALOGUES[lang])
    if labels is None:
        return MappingProxyType(catalogue)
    if not isinstance(labels, Mapping):
        raise ConvmatError(f"labels={brief(labels)} of {call} is not a mapping; give a dict "
                           f"such as {{'kernel': 'filter'}}")
    for key, text in labels.items():
        if key not in catalogue:
            raise ConvmatError(f"labels key {brief(key)} of {call} is not a label; known "
                               f"keys: {', '.join(LABEL_KEYS)}")
        if not isinstance(text, str):
            raise ConvmatError(f"labels[{key!r}]={brief(text)} of {call} is not a string")
        catalogue[key] = text
    return MappingProxyType(catalogue)


def fill(text: str, **fields: object) -> str:
    """``text`` with each ``{name}`` of ``fields`` replaced by its value; other braces (a
    user's own text) stay as they are.

    Examples
    --------
    >>> fill("stamp {xw}", xw="$x_m w$")
    'stamp $x_m w$'
    >>> fill("{not a field} {x}", x=1)
    '{not a field} 1'
    """
    if not isinstance(text, str):
        raise ConvmatError(f"text={brief(text)} is not a string (a label to fill)")
    return _FIELD.sub(lambda m: _written(m.group(1), fields[m.group(1)]) if m.group(1)
                      in fields else m.group(0), text)


def _written(name: str, value: object) -> str:
    """``str(value)`` of a field, or a ConvmatError naming it when Python cannot write it
    (an integer past Python's limit on digits)."""
    try:
        return str(value)
    except ValueError as err:
        raise ConvmatError(f"{name}={brief(value)} cannot be written into a label: "
                           f"{err}") from None
