r"""TikZ of a picture (:class:`convmat.layout.Picture`): a ``tikzpicture`` of cells as
``\node``\ s in a coordinate grid (one unit per cell, ``y`` down), roles as styles, colours
named once with ``\definecolor``, values as node text; for an animation one page, one
picture or one beamer overlay per frame. Every TikZ string of the package lives here."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import ConvmatError, brief
from ..layout import Cells, Frame, Label, Picture, Rect, Segment
from ._pages import BORDER, cropped_page
from ._strings import check_math, escape_text

__all__ = ["tikz_picture"]

#: points per centimetre
_PT = 72.27 / 2.54
#: the largest cell (cm), and the box a picture is fitted into: a page, a beamer frame (cm)
CELL_CM = 0.75
PAGE_BOX = (25.0, 18.0)
BEAMER_BOX = (11.0, 7.4)
#: a number's font size as a share of its cell, and the size (pt) a number too wide for
#: its cell is not shrunk below (as the matplotlib pictures' DIGIT_SHARE, MIN_DIGIT_PT)
DIGIT_SHARE, MIN_DIGIT_PT = 0.55, 8.0
#: the room (cells) below a beamer picture for its legend and key
BEAMER_LEGEND = 2.4
#: most cells (still and per frame together) written as nodes
MAX_NODES = 60_000

#: text characters pdfLaTeX does not know without extra packages -> their LaTeX
_UNICODE = {"×": r"$\times$", "→": r"$\to$", "−": r"$-$", "⋯": r"$\cdots$", "⋮": r"$\vdots$", "…": r"\dots{}",
            "≤": r"$\le$", "≥": r"$\ge$", "ᵀ": r"$^{\top}$", "·": r"$\cdot$", "Π": r"$\Pi$",
            "₀": r"$_0$", "₁": r"$_1$", "₂": r"$_2$", "₃": r"$_3$", "₄": r"$_4$",
            "₅": r"$_5$", "₆": r"$_6$", "₇": r"$_7$", "₈": r"$_8$", "₉": r"$_9$",
            "–": "--", "—": "---", "’": "'", "“": "``", "”": "''", "\u00a0": "~"}
_ANCHORS = {"center", "north", "south", "east", "west", "north east", "north west",
            "south east", "south west"}
_LINES = {"solid": "solid", "dashed": "dashed", "dotted": "dotted"}


def color_name(name: str) -> str:
    """The LaTeX name of a picture's colour: ``input_edge`` -> ``cmInputEdge``."""
    parts = re.split(r"[^A-Za-z0-9]+", name)
    return "cm" + "".join(p[:1].upper() + p[1:] for p in parts if p)


def text(value: str, math: bool = False) -> str:
    """A label for LaTeX: plain text escaped (``$...$`` parts checked as math), or math."""
    if math:
        return f"${check_math(value, 'label')}$"
    parts = value.split("$")
    if len(parts) % 2 == 0:  # an unpaired $: all text
        parts = [value]
    out = []
    for k, part in enumerate(parts):
        if k % 2:
            out.append(f"${check_math(part, 'label')}$")
        else:
            escaped = escape_text(part)
            out.append("".join(_UNICODE.get(ch, ch) if ord(ch) > 127 and ch in _UNICODE
                               else ch for ch in escaped))
    return "".join(out)


def _num(v: float) -> str:
    return f"{float(v):.3f}".rstrip("0").rstrip(".") if v != int(v) else str(int(v))


def _at(x: float, y: float) -> str:
    return f"({_num(x)},{_num(y)})"


def _fill(fill: tuple[str, float]) -> str:
    name, tint = fill
    pct = int(round(100 * tint))
    return color_name(name) if pct >= 100 else f"{color_name(name)}!{pct}"


class _Writer:
    """The strings of one picture at one cell size."""

    def __init__(self, pic: Picture, cell_cm: float):
        self.pic = pic
        self.cell = cell_cm
        cell_pt = cell_cm * _PT
        self.fs = max(min(DIGIT_SHARE * cell_pt, 12.0), 3.0)  # a number in a cell (pt)
        groups = [*pic.cells, *(c for f in pic.frames for c in f.cells)]
        self.roles = {c.role for c in groups} | set(pic.legend)
        used: set[str | None] = {"text", "grid", "white"}
        for role in self.roles:
            st = pic.styles.get(role)
            if st is not None:
                used |= {st.fill, st.edge}
        for c in groups:
            used |= {name for name, _ in c.fills or ()} | set(c.inks or ())
        for lab in [*pic.labels, *(lab for f in pic.frames for lab in f.labels)]:
            used.add(lab.ink)
        for seg in [*pic.segments, *(s for f in pic.frames for s in f.segments)]:
            used.add(seg.color)
        for r in [*pic.rects, *(r for f in pic.frames for r in f.rects)]:
            used |= {r.fill, r.edge}
        used |= {name for name, _ in pic.keys}
        self.used = used
        #: the options of cells drawn smaller or in a smaller font -> their style's name
        self.sized: dict[str, str] = {}

    def font(self, size: float) -> str:
        fs = max(self.fs * size, 3.0)
        return rf"\fontsize{{{fs:.1f}}}{{{fs * 1.2:.1f}}}\selectfont"

    def fitted(self, texts: Iterable[str], size: float = 1.0, math: bool = False,
               width: float = 1.0) -> float:
        """The font scale that fits the longest text in a cell ``width`` cells wide."""
        longest = max((len(re.sub(r"[${}\\_^]|\\[a-z]+", "", t)) for t in texts), default=1)
        longest += 1 if math else 0
        room = 0.86 * self.cell * width * _PT / (0.55 * max(longest, 1) * self.fs)
        return min(size, room)

    def styles(self) -> list[str]:
        """``\\tikzset`` of every role: ``cm-<role>`` on top of ``cm-cell``."""
        lines = [r"\tikzset{",
                 rf"  cm-cell/.style={{minimum size={_num(self.cell)}cm, inner sep=0pt, "
                 rf"outer sep=0pt, text=cmText, font={self.font(1)}}},",
                 rf"  cm-label/.style={{inner sep=1pt, text=cmText, font={self.font(1.1)}}},"]
        for role, st in self.pic.styles.items():
            if role not in self.roles:
                continue
            opts = ["cm-cell"]
            opts.append(f"fill={color_name(st.fill)}" if st.fill else "")
            opts.append(f"draw={color_name(st.edge)}" if st.edge else "")
            opts.append(f"line width={_num(st.width)}pt")
            if st.line != "solid":
                opts.append(_LINES[st.line])
            if st.opacity < 1:
                opts.append(f"fill opacity={_num(st.opacity)}, text opacity=1")
            lines.append(f"  cm-{role}/.style={{{', '.join(o for o in opts if o)}}},")
        for sized, name in self.sized.items():  # cells drawn smaller: one style each
            lines.append(f"  {name}/.style={{{sized}}},")
        lines[-1] = lines[-1].rstrip(",")
        return lines + ["}"]

    def colors(self) -> list[str]:
        return [rf"\definecolor{{{color_name(k)}}}{{HTML}}{{{v}}}"
                for k, v in self.pic.colors.items() if k in self.used]

    def cells(self, group: Cells) -> list[str]:
        opts = f"cm-{group.role}"
        texts = group.texts or ("",) * len(group.xy)
        height = group.size if group.height is None else group.height
        size = min(group.size, height, 1.0)  # a smaller cell: a smaller font
        scale = max(self.fitted([t for t in texts if t], size, group.math, group.size),
                    min(size, MIN_DIGIT_PT / self.fs)) if group.texts else 1.0
        if scale < 1:
            opts += f", font={self.font(scale)}"
        if group.size != 1 or height != 1:
            opts += (f", minimum width={_num(self.cell * group.size)}cm, "
                     f"minimum height={_num(self.cell * height)}cm")
        if opts != f"cm-{group.role}":  # written once as a style of its own
            name = self.sized.setdefault(opts, f"cm-{group.role}-{len(self.sized) + 1}")
            opts = name
        half, half_h = group.size / 2, height / 2
        out = []
        for k, (x, y) in enumerate(group.xy):
            extra = ""
            if group.fills is not None:
                extra += f", fill={_fill(group.fills[k])}"
            if group.inks is not None and group.inks[k] != "text":
                extra += f", text={color_name(group.inks[k])}"
            body = text(texts[k], group.math) if texts[k] else ""
            out.append(rf"\node[{opts}{extra}] at {_at(x + half, y + half_h)} {{{body}}};")
        return out

    def label(self, lab: Label) -> str:
        anchor = lab.anchor if lab.anchor in _ANCHORS else "center"
        bold = lab.role == "weight"
        opts = [f"anchor={anchor}", f"font={self.font(lab.size)}" + (r"\bfseries" if bold
                                                                      else "")]
        if bold:
            opts.append("inner sep=0.4pt")
        if lab.ink != "text":
            opts.append(f"text={color_name(lab.ink)}")
        return rf"\node[cm-label, {', '.join(opts)}] at {_at(lab.x, lab.y)} " \
               rf"{{{text(lab.text, lab.math)}}};"

    @staticmethod
    def segment(seg: Segment) -> str:
        return (rf"\draw[{color_name(seg.color)}, line width={_num(seg.width)}pt] "
                rf"{_at(seg.x0, seg.y0)} -- {_at(seg.x1, seg.y1)};")

    @staticmethod
    def rect(r: Rect) -> str:
        opts = []
        if r.fill:
            opts.append(f"fill={color_name(r.fill)}")
        if r.edge:
            opts.append(f"draw={color_name(r.edge)}, line width={_num(r.width)}pt")
        return rf"\path[{', '.join(opts)}] {_at(r.x, r.y)} rectangle ++{_at(r.w, r.h)};"

    def still(self) -> list[str]:
        """The still picture: bands, cells, rules, outlines, labels, title and legend."""
        pic = self.pic
        out = [f"% {pic.kind}: {len(pic.frames) or 'no'} frames, "
               f"{_num(pic.width)} x {_num(pic.height)} cells"]
        out += [self.rect(r) for r in pic.rects if r.fill]
        for group in pic.cells:
            out.append(f"% {group.role}")
            out += self.cells(group)
        if pic.segments:
            out.append("% block rules")
            out += [self.segment(s) for s in pic.segments]
        out += [self.rect(r) for r in pic.rects if not r.fill]
        out += [self.label(lab) for lab in pic.labels]
        return out

    def frame(self, frame: Frame) -> list[str]:
        out = [self.segment(s) for s in frame.segments]
        for group in frame.cells:
            out += self.cells(group)
        out += [self.rect(r) for r in frame.rects]
        out += [self.label(lab) for lab in frame.labels]
        return out

    def legend(self) -> list[str]:
        items = []
        for role in self.pic.legend:
            st = self.pic.styles.get(role)
            if st is None or not st.label:
                continue
            face = _fill((st.fill or "white", st.opacity))  # a see-through role: its tint
            edge = st.edge or "grid"
            items.append(rf"\mbox{{\fcolorbox{{{color_name(edge)}}}{{{face}}}"
                         rf"{{\rule{{0pt}}{{0.6em}}\rule{{0.6em}}{{0pt}}}}~{text(st.label)}}}")
        keys = [rf"\mbox{{\fcolorbox{{cmWhite}}{{{color_name(name)}}}"
                rf"{{\rule{{0pt}}{{0.6em}}\rule{{0.6em}}{{0pt}}}}~{text(label)}}}"
                for name, label in self.pic.keys]
        if keys and self.pic.keys_title:
            keys.insert(0, rf"\mbox{{{text(self.pic.keys_title)}:}}")
        out = []
        at = _at(self.pic.width / 2, self.pic.height + 0.4)
        for name, line, sep in (("cm-legend", items, r"\quad "),  # (a line breaks there)
                                ("cm-keys", keys, r"\hskip 0.5em plus 0.3em ")):
            if line:
                out.append(rf"\node[cm-label, anchor=north, text width="
                           rf"{_num(max(self.pic.width * self.cell, 9.0))}cm, align=center, "
                           rf"font={self.font(1.1)}] ({name}) at {at} {{{sep.join(line)}}};")
                at = f"({name}.south)"
        return out

    def title(self) -> list[str]:
        if not self.pic.title:
            return []
        lines = r" \\ ".join(text(line) for line in self.pic.title.split("\n"))
        return [rf"\node[cm-label, anchor=south, align=center, font={self.font(1.2)}] at "
                rf"{_at(self.pic.width / 2, -0.5)} {{{lines}}};"]

    def picture(self, body: list[str]) -> str:
        opts = f"x={_num(self.cell)}cm, y=-{_num(self.cell)}cm"
        return "\n".join([rf"\begin{{tikzpicture}}[{opts}]", *body, r"\end{tikzpicture}"])


def _cell(pic: Picture, box: tuple[float, float], extra_h: float) -> float:
    """The cell size (cm) that fits the picture, its title and legend in ``box``."""
    return min(CELL_CM, box[0] / max(pic.width, 1.0), box[1] / max(pic.height + extra_h, 1.0))


def _count(pic: Picture) -> int:
    return (sum(len(c.xy) for c in pic.cells)
            + sum(len(c.xy) for f in pic.frames for c in f.cells))


def tikz_picture(pic: Picture, *, standalone: bool = True, beamer: bool = False) -> str:
    r"""The TikZ of a picture: a standalone document (one page per frame), the
    ``tikzpicture``\ s alone (``standalone=False``, for ``\input``), or one beamer frame
    with one ``\only<t>`` overlay per frame (``beamer=True``; a whole beamer document when
    ``standalone`` too)."""
    if not isinstance(pic, Picture):
        raise ConvmatError(f"picture={brief(pic)} is not a convmat.layout.Picture")
    for name, value in (("standalone", standalone), ("beamer", beamer)):
        if not isinstance(value, bool):
            raise ConvmatError(f"{name}={brief(value)} must be True or False")
    if _count(pic) > MAX_NODES:
        raise ConvmatError(f"the picture has {_count(pic):,} cells over its frames, more than "
                           f"{MAX_NODES:,} TikZ nodes; save it as .pdf (one page per frame) "
                           f"or draw a smaller geometry")
    extra_h = 2.2 + 0.6 * pic.title.count("\n")
    w = _Writer(pic, _cell(pic, BEAMER_BOX if beamer else PAGE_BOX,
                           BEAMER_LEGEND if beamer else extra_h))
    frames = pic.frames or (Frame(),)
    still = [*w.title(), *w.still(), *w.legend()]
    drawn = [w.frame(frame) for frame in frames]  # (the styles are known once drawn)
    head = [f"% convmat: {pic.kind} picture ({pic.n_frames} "
            f"{'frame' if pic.n_frames == 1 else 'frames'}); needs \\usepackage{{tikz}}",
            *w.colors(), *w.styles()]
    if beamer:
        body = still[len(w.title()):]
        for t, lines in enumerate(drawn[:len(pic.frames)], 1):
            body += [rf"\only<{t}>{{% frame {t}", *lines, "}"]
        title = " ".join(text(line) for line in pic.title.split("\n"))
        frame_tex = "\n".join([rf"\begin{{frame}}{{{title}}}" if title else
                               r"\begin{frame}", r"\centering", *head, w.picture(body),
                               r"\end{frame}"])
        if not standalone:
            return frame_tex + "\n"
        return "\n".join([r"\documentclass{beamer}", r"\usepackage{tikz}",
                          r"\setbeamertemplate{navigation symbols}{}", r"\begin{document}",
                          frame_tex, r"\end{document}", ""])
    pictures = [w.picture([*still, *([f"% frame {t}"] if pic.frames else []), *lines])
                for t, lines in enumerate(drawn, 1)]
    if not standalone:
        return "\n".join([*head, *pictures, ""])
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage{tikz}",
        *cropped_page(("textwidth", "200in")),
        *head,
        r"\newsavebox{\cmpage}",
        r"% one page per picture, cut to its size",
        r"\newcommand{\cmshipout}{\pdfpagewidth=\dimexpr\wd\cmpage+"
        rf"{2 * BORDER}pt\relax\pdfpageheight=\dimexpr\ht\cmpage+\dp\cmpage+{2 * BORDER}pt"
        r"\relax\usebox{\cmpage}\newpage}",
        r"\begin{document}",
        *(rf"\savebox{{\cmpage}}{{{p}}}\cmshipout" for p in pictures),
        r"\end{document}",
        "",
    ])
