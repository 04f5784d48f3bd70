"""HTML as lines of text: the small DOM toolkit of web extraction.

:func:`render` turns an element into the lines a reader sees (one line per
block element or ``<br>``), each tied to the block element that holds it,
so that later steps can reason about where a line came from (which
siblings it has, which container it is in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import lxml.html
from lxml import etree

#: Elements whose text a reader never sees.
SKIP_TAGS = frozenset(
    "script style noscript template head title select option textarea button svg iframe"
    " object embed canvas map".split()
)
BLOCK_TAGS = frozenset(
    "address article aside blockquote body dd details dialog div dl dt fieldset figcaption figure"
    " footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody"
    " thead tfoot tr ul center".split()
)
HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_SPACE = re.compile(r"\s+")


_INVISIBLE = str.maketrans("", "", "\u00ad\u200b\ufeff")  # soft hyphen, zero-width space, BOM


def norm(text: str | None) -> str:
    """Text with runs of whitespace made one space, invisible characters dropped, stripped."""
    return _SPACE.sub(" ", (text or "").translate(_INVISIBLE)).strip()


def squash(text: str | None) -> str:
    """Text without any whitespace: to compare texts laid out differently."""
    return _SPACE.sub("", text or "")


_MARKUP = re.compile(r"^\s*(?:[-*•]\s+|\d{1,3}[.)]\s+|#{1,6}\s+|>\s*)|[|\s]+")


def match_key(text: str | None) -> str:
    """``text`` reduced for comparing our lines with trafilatura's text output.

    That output marks list items ("- "), headings and tables ("| a | b |")
    the markdown way; whitespace and these marks are dropped on both sides.
    """
    key = _MARKUP.sub("", text or "")
    return "" if set(key) <= {"-", ":"} else key


def parse_html(text: str) -> Any | None:
    """The document root of ``text`` without comments and unseen elements, or None."""
    if not text or not text.strip():
        return None
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        try:  # an XML declaration with an encoding is refused in a str
            root = lxml.html.document_fromstring(text.encode("utf-8"), parser=parser)
        except (etree.ParserError, ValueError):
            return None
    return root


def tag(el: Any) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def text_of(el: Any) -> str:
    """The visible text of ``el`` on one line."""
    return " ".join(line.text for line in render(el))


def drop(el: Any) -> None:
    """Remove ``el`` from its tree, keeping the text that follows it."""
    if el.getparent() is None:
        return
    if hasattr(el, "drop_tree"):
        el.drop_tree()
    else:  # pragma: no cover - plain lxml.etree elements
        parent = el.getparent()
        if el.tail:
            prev = el.getprevious()
            if prev is not None:
                prev.tail = (prev.tail or "") + el.tail
            else:
                parent.text = (parent.text or "") + el.tail
        parent.remove(el)


@dataclass
class Line:
    """One rendered line and the block element it belongs to."""

    text: str
    block: Any


def render(el: Any) -> list[Line]:
    """The lines of ``el`` as a reader sees them (empty lines left out)."""
    lines: list[Line] = []
    buffer: list[str] = []
    current = [el]

    def flush() -> None:
        text = norm("".join(buffer))
        if text:
            lines.append(Line(text, current[-1]))
        buffer.clear()

    def walk(node: Any) -> None:
        name = tag(node)
        if name in SKIP_TAGS or not isinstance(node.tag, str):
            return
        block = name in BLOCK_TAGS
        if block:
            flush()
            current.append(node)
        if name == "br":
            flush()
        elif name in ("td", "th") and buffer:
            buffer.append(" ")
        if node.text:
            buffer.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                buffer.append(child.tail)
        if block:
            flush()
            current.pop()
        elif name in ("td", "th"):
            buffer.append(" ")

    walk(el)
    flush()
    return lines


def iter_before(root: Any, target: Any) -> list[Any]:
    """The elements that end before ``target`` starts, outermost first (not its ancestors)."""
    ancestors = set(target.iterancestors())
    before: list[Any] = []
    taken: set[Any] = set()
    for el in root.iter():
        if el is target:
            break
        if el in ancestors or not isinstance(el.tag, str):
            continue
        taken.add(el)
        if el.getparent() not in taken:
            before.append(el)
    return before
