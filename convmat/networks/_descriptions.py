"""Layer descriptions: the text grammar (:data:`LAYER_GRAMMAR`) and dicts read into
:class:`~convmat.networks._kinds.Stage` records (no PyTorch needed)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..errors import ConvmatError, brief
from ._kinds import Stage
from ._registry import kind_of_word, words
from ._resample_kinds import INTERPOLATION

__all__ = ["LAYER_GRAMMAR", "description_stages", "parse_layers"]

LAYER_GRAMMAR = """\
Layers are separated by ';'. Each is '[name:] kind arguments', sizes written like 5x5
(or 5 for every spatial dim):

  conv C K [stride S] [pad P|same|valid] [dilation D] [groups G] [mode M] [nobias]
  deconv C K [stride S] [pad P] [outpad Q] [dilation D] [groups G] [nobias]
  avgpool K [stride S] [pad P] [ceil] [exclude-pad]
  maxpool K [stride S] [pad P] [dilation D] [ceil]
  adaptiveavgpool O     adaptivemaxpool O
  linear N [nobias]     (also fc, dense; flattens its input)
  bn                    batch normalisation (eval mode)
  pad P [mode zeros|reflect|replicate|circular]
  upsample F [nearest|linear|bilinear|trilinear] [align-corners]
  pixelshuffle R        pixelunshuffle R
  flatten   dropout   identity
  relu, tanh, sigmoid, leakyrelu, gelu, ... (any element-wise activation)

C channels, K kernel, S stride, P padding, D dilation, G groups, Q output padding,
O output size, N features, F scale factor, R factor, M padding mode (zeros, reflect,
replicate, circular). Example (LeNet-5 on 32x32):
  "conv 6 5x5; tanh; avgpool 2; conv 16 5x5; tanh; avgpool 2; linear 120; tanh;
   linear 84; tanh; linear 10"
"""

_KEYWORDS = {"stride": "stride", "pad": "padding", "padding": "padding",
             "dilation": "dilation", "dil": "dilation", "groups": "groups",
             "mode": "mode", "outpad": "output_padding", "output_padding": "output_padding",
             "value": "value", "divisor": "divisor_override"}
_FLAGS = {"nobias": ("bias", False), "ceil": ("ceil_mode", True),
          "exclude-pad": ("count_include_pad", False), "align-corners": ("align_corners", True)}


def _size(token: str, what: str):
    parts = re.split(r"[x×,]", token)
    if not all(re.fullmatch(r"-?\d+", p) for p in parts):
        raise ConvmatError(f"{what} {brief(token)} is not an int or per-dim ints like 5x5")
    values = tuple(int(p) for p in parts)
    return values[0] if len(values) == 1 else values


def _positional_value(key: str, word: str, low: str, text: str, number: int):
    if key == "padding" and low in ("same", "valid"):
        return low
    if key == "scale_factor":
        try:
            return float(word) if "." in word else int(word)
        except ValueError:
            raise ConvmatError(f"layer {number} {text.strip()!r}: scale factor "
                               f"{brief(word)} is not a number") from None
    return _size(word, key)


def _parse_one(text: str, number: int) -> dict:
    words_ = text.split()
    name = None
    if words_ and words_[0].endswith(":"):
        name, words_ = words_[0][:-1], words_[1:]
    elif ":" in text:
        name, rest = text.split(":", 1)
        name, words_ = name.strip(), rest.split()
    if not words_:
        raise ConvmatError(f"layer {number} {text.strip()!r} is empty")
    word, args = words_[0].lower(), words_[1:]
    layer: dict = {"type": word}
    if name:
        layer["name"] = name
    kind = kind_of_word(word)
    positional = kind.positional if kind is not None else ()
    k = 0
    while args:
        token = args.pop(0)
        low = token.lower()
        if low in _FLAGS:
            key, value = _FLAGS[low]
            layer[key] = value
        elif low in INTERPOLATION:
            layer["mode"] = low
        elif low in _KEYWORDS:
            if not args:
                raise ConvmatError(f"layer {number} {text.strip()!r}: {token} needs a value")
            value = args.pop(0)
            key = _KEYWORDS[low]
            if key == "mode":
                layer[key] = value.lower()
            elif key == "value":
                layer[key] = float(value)
            elif key == "padding" and value.lower() in ("same", "valid"):
                layer[key] = value.lower()
            else:
                layer[key] = _size(value, token)
        elif k < len(positional):
            layer[positional[k]] = _positional_value(positional[k], token, low, text, number)
            k += 1
        else:
            raise ConvmatError(f"layer {number} {text.strip()!r}: {brief(token)} is not "
                               f"understood (see the layer grammar: convmat summary --help)")
    if k < len(positional):
        raise ConvmatError(f"layer {number} {text.strip()!r} needs {' and '.join(positional)}")
    return layer


def parse_layers(spec: str) -> list[dict]:
    """Layer descriptions from the text grammar (:data:`LAYER_GRAMMAR`).

    Examples
    --------
    >>> parse_layers("conv1: conv 6 5x5 pad 2; relu; avgpool 2; linear 10")
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'type': 'conv', 'name': 'conv1', 'out_channels': 6, 'kernel_size': (5, 5),
      'padding': 2}, {'type': 'relu'}, {'type': 'avgpool', 'kernel_size': 2},
     {'type': 'linear', 'out_features': 10}]
    """
    if not isinstance(spec, str):
        raise ConvmatError(f"spec={brief(spec)} must be a string")
    parts = [p for p in spec.replace("\n", " ").split(";") if p.strip()]
    if not parts:
        raise ConvmatError(f"spec={brief(spec)} has no layers")
    return [_parse_one(p, n) for n, p in enumerate(parts)]


def _description_stage(layer, number: int, shape: tuple) -> Stage:
    if isinstance(layer, str):
        layer = _parse_one(layer, number)
    if not isinstance(layer, Mapping) or "type" not in layer:
        raise ConvmatError(f"layers[{number}]={brief(layer)} must be a dict with a 'type' (or "
                           f"a string like 'conv 6 5x5')")
    d = dict(layer)
    word = str(d.pop("type")).lower()
    name = str(d.pop("name", number))
    kind = kind_of_word(word)
    if kind is None:
        raise ConvmatError(f"layers[{number}] type={brief(word)} is not a known layer type; use "
                           f"one of {words()}")
    if "kernel" in d:
        d["kernel_size"] = d.pop("kernel")
    stage = Stage(name, "", kind, parameters=0)
    try:
        kind.read_description(stage, lambda key, default: d.pop(key, default), word, shape)
    except ConvmatError as exc:
        raise ConvmatError(f"layers[{number}]: {exc.message}") from None
    d.pop("in_channels", None)
    if d:
        raise ConvmatError(f"layers[{number}] ({word}): unknown keys {sorted(d)}")
    return stage


def description_stages(layers, shape: tuple) -> tuple[list[Stage], list[tuple]]:
    """Stages and shapes of a description list (each layer read on its input's shape)."""
    if isinstance(layers, str):
        layers = parse_layers(layers)
    if not isinstance(layers, Sequence) or not layers:
        raise ConvmatError(f"layers={brief(layers)} must be a non-empty list of layer "
                           f"descriptions")
    stages, shapes = [], [shape]
    for number, layer in enumerate(layers):
        current = shapes[-1]
        try:
            stage = _description_stage(layer, number, current)
        except ConvmatError as exc:
            raise ConvmatError(exc.message if exc.message.startswith("layers[")
                               else f"layers[{number}]: {exc.message}") from None
        try:
            shapes.append(stage.kind.out_shape(stage, current))
        except ConvmatError as exc:
            raise ConvmatError(f"{stage.label}: {exc.message}") from None
        stages.append(stage)
    return stages, shapes
