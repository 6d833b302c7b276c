"""Graph descriptions: the text grammar's blocks (:data:`BLOCK_GRAMMAR`), a residual block
and a concatenation written inline, read into the nodes of a graph
(:class:`~convmat.networks._graph.Graph`, as a traced PyTorch model gives) without
PyTorch."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import ConvmatError, brief
from ._descriptions import _description_stage, _parse_one
from ._graph import Graph, Node

__all__ = ["BLOCK_GRAMMAR", "description_graph", "is_graph_description"]

BLOCK_GRAMMAR = """\
Blocks (a graph instead of a chain), nested freely:

  [name:] residual(BODY)             x + BODY(x)             (a ResNet basic block)
  [name:] residual(BODY | SHORTCUT)  BODY(x) + SHORTCUT(x)   (a downsampling block)
  [name:] cat(B1 | B2 | ...)         the branches' outputs stacked along channels; an
                                     empty branch is x itself (concat: the same)

BODY, SHORTCUT and Bi are layers separated by ';' as above (names in a graph hold none of
';', '|', '(' and ')'). Example (a ResNet stem and
basic block on 3x32x32):
  "conv 16 3x3 pad 1; bn; relu; residual(conv 16 3x3 pad 1; bn; relu; conv 16 3x3 pad 1;
   bn); relu"
"""

#: block words -> the merge that ends the block
_BLOCKS = {"residual": "add", "cat": "cat", "concat": "cat"}
_INPUT = "input"  # the name of the input node
_HEAD = re.compile(r"\s*(?:([^\s:();|]+)\s*:\s*)?([A-Za-z_]+)\s*\($")


@dataclass
class _Block:
    merge: str
    name: str | None
    branches: list[list]  # each a list of items: (text, position) layers or _Block
    position: int


def _where(spec: str, position: int) -> str:
    return f"at position {position} ({brief(spec[position:position + 20])})"


def _check_brackets(spec: str) -> None:
    opened = []
    for i, ch in enumerate(spec):
        if ch == "(":
            opened.append(i)
        elif ch == ")":
            if not opened:
                raise ConvmatError(f"spec: ')' {_where(spec, i)} closes no '('")
            opened.pop()
        elif ch == "|" and not opened:
            raise ConvmatError(f"spec: '|' {_where(spec, i)} is outside a block; it separates "
                               f"the branches of residual(...) and cat(...)")
    if opened:
        raise ConvmatError(f"spec: '(' {_where(spec, opened[-1])} is never closed")


def _split(spec: str, start: int, end: int, separator: str) -> list[tuple[int, int]]:
    """``spec[start:end]`` cut at ``separator`` outside brackets: (start, end) of each."""
    parts, depth, begin = [], 0, start
    for i in range(start, end):
        ch = spec[i]
        depth += (ch == "(") - (ch == ")")
        if ch == separator and depth == 0:
            parts.append((begin, i))
            begin = i + 1
    parts.append((begin, end))
    return parts


def _items(spec: str, start: int, end: int) -> list:
    """The layers and blocks of ``spec[start:end]`` (a sequence separated by ';')."""
    items: list = []
    for a, b in _split(spec, start, end, ";"):
        text = spec[a:b]
        if not text.strip():
            continue
        position = a + len(text) - len(text.lstrip())
        opening = text.find("(")
        if opening < 0:
            items.append((text, position))
            continue
        head = _HEAD.match(text[:opening + 1])
        word = head.group(2).lower() if head else ""
        if word not in _BLOCKS:
            hint = "; layers are separated by ';', not ','" if "," in text[:opening] else ""
            raise ConvmatError(f"spec: {brief(text[:opening + 1].strip())} "
                               f"{_where(spec, position)} is not a block; the blocks are "
                               f"residual(...), cat(...) and concat(...){hint}")
        close = a + opening + _closing(spec[a + opening:b])
        rest = spec[close + 1:b]
        if rest.strip():
            after = close + 1 + len(rest) - len(rest.lstrip())
            raise ConvmatError(f"spec: {brief(rest.strip())} {_where(spec, after)} follows "
                               f"a block; separate layers with ';'")
        branches = [_items(spec, i, j) for i, j in _split(spec, a + opening + 1, close, "|")]
        merge = _BLOCKS[word]
        if merge == "add" and (len(branches) > 2 or not branches[0]):
            raise ConvmatError(f"spec: residual {_where(spec, position)} takes a body and "
                               f"optionally a shortcut: residual(BODY) or residual(BODY | "
                               f"SHORTCUT), got {len(branches)} branch(es)"
                               + ("" if branches[0] else " with an empty body"))
        if merge == "cat" and len(branches) < 2:
            raise ConvmatError(f"spec: cat {_where(spec, position)} needs two branches or "
                               f"more, separated by '|'")
        items.append(_Block(merge, head.group(1) if head else None, branches, position))
    return items


def _closing(text: str) -> int:
    """Offset of the ')' that closes the '(' at ``text[0]``."""
    depth = 0
    for i, ch in enumerate(text):
        depth += (ch == "(") - (ch == ")")
        if depth == 0:
            return i
    raise ConvmatError("unbalanced brackets")  # _check_brackets ran first: not reached


def is_graph_description(model: object) -> bool:
    """Whether ``model`` is a text description with blocks (or stray brackets, which the
    graph reader reports by their position). A ``|`` alone is not: a chain's layer names
    may hold it."""
    return isinstance(model, str) and any(ch in model for ch in "()")


class _Builder:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.nodes: list[Node] = []

    def sequence(self, items: list, source: str, shape: tuple) -> tuple[str, tuple]:
        for item in items:
            if isinstance(item, _Block):
                source, shape = self.block(item, source, shape)
                continue
            text, position = item
            number = len(self.nodes)
            try:
                stage = _description_stage(_parse_one(text, number), number, shape)
                out = stage.kind.out_shape(stage, shape)
            except ConvmatError as exc:
                hint = "; layers are separated by ';', not ','" if "," in text else ""
                raise ConvmatError(f"spec: layer {brief(text.strip())} "
                                   f"{_where(self.spec, position)}: {exc.message}{hint}") \
                    from None
            self.nodes.append(Node(stage.name, "layer", (source,), out, stage=stage,
                                   target=stage.type, line=f"position {position}"))
            source, shape = stage.name, out
        return source, shape

    def block(self, block: _Block, source: str, shape: tuple) -> tuple[str, tuple]:
        ends = [self.sequence(branch, source, shape) for branch in block.branches]
        if block.merge == "add" and len(ends) == 1:
            ends.append((source, shape))
        shapes = tuple(s for _, s in ends)
        where = _where(self.spec, block.position)
        if block.merge == "add":
            if len(set(shapes)) > 1:
                raise ConvmatError(f"spec: residual {where}: the body gives shape "
                                   f"{brief(shapes[0])} but the shortcut {brief(shapes[1])}; "
                                   f"they must be equal to be added")
            out = shapes[0]
        else:
            if any(len(s) < 2 for s in shapes) or len({s[1:] for s in shapes}) > 1:
                raise ConvmatError(f"spec: cat {where}: the branches give shapes "
                                   f"{', '.join(map(brief, shapes))}; they must be (C, *spatial) "
                                   f"with the same spatial shape")
            out = (sum(s[0] for s in shapes), *shapes[0][1:])
        name = block.name or str(len(self.nodes))
        self.nodes.append(Node(name, block.merge, tuple(n for n, _ in ends), out,
                               target=block.merge, line=f"position {block.position}",
                               cfg={"dim": 0} if block.merge == "cat" else {}))
        return name, out


def description_graph(spec: str, shape: tuple) -> Graph:
    """The nodes of a text description with blocks, in topological order (each layer read
    on its input's shape); errors name the position in ``spec``."""
    _check_brackets(spec)
    items = _items(spec, 0, len(spec))
    if not items:
        raise ConvmatError(f"spec={brief(spec)} has no layers")
    builder = _Builder(spec)
    builder.sequence(items, _INPUT, shape)
    names = [n.name for n in builder.nodes]
    twice = sorted({n for n in names if names.count(n) > 1} | ({_INPUT} & set(names)))
    if twice:
        raise ConvmatError(f"spec: the names {twice} are given to more than one node (or "
                           f"to the input); name each node once")
    return Graph([Node(_INPUT, "input", (), shape), *builder.nodes])
