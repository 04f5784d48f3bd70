"""The one HTML toolkit of every parser: decode, parse, find, and render as text.

- :func:`decode` turns a page's bytes into text without mojibake (the
  evidence is weighed in :mod:`.encoding`); Telegram pages and web pages
  go through the same decoding.
- :func:`parse_html` gives the document root, comments dropped.
- :func:`has_class`, :func:`first`, :func:`first_with_class`,
  :func:`class_xpath`, :func:`inside` find elements by class the way CSS does.
- :func:`inner_text` renders an element as a browser shows it (white space
  collapsed, ``<br>`` and block edges as line breaks, ``<pre>`` kept);
  :func:`render` gives the same lines each tied to the block element that
  holds it, so that later steps can reason about where a line came from
  (which siblings it has, which container it is in).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import lxml.html
from lxml import etree

from .encoding import Decoded, decode_html

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
#: A block-boundary mark while rendering inline text (folded into line breaks).
_EDGE = "\x00"
_INLINE_SPACE = re.compile(r"[ \t\n\r\f\v]+")
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


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    """A page's bytes as text, the codec that decoded them and why (see :mod:`.encoding`)."""
    return decode_html(body, content_type)


@dataclass
class Document:
    """A parsed page: its root (None when nothing could be read) and what parsing lost."""

    root: Any | None
    problems: list[str]


#: What libxml2's resource limits cost a page, said plainly.
_LIMIT_PROBLEMS = (
    (
        "depth",
        "the page is nested deeper than the HTML parser reads (256 levels): what lies deeper was lost",
    ),
    (
        "buffer",
        "a text or attribute on the page is larger than the HTML parser reads: the page was cut there",
    ),
)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
#: An attribute value longer than this is no real page's: it is dropped before parsing.
_HUGE_VALUE = 1_000_000
_HUGE_ATTRIBUTE = re.compile(rf"""=\s*(?:"[^"]{{{_HUGE_VALUE},}}"|'[^']{{{_HUGE_VALUE},}}')""")


def _parser(*, plain: bool, **options: Any) -> etree.HTMLParser:
    if plain:
        return etree.HTMLParser(remove_comments=True, remove_pis=True, **options)
    return lxml.html.HTMLParser(remove_comments=True, remove_pis=True, **options)


def _fromstring(text: str | bytes, parser: etree.HTMLParser) -> Any:
    root = etree.fromstring(text, parser)
    if root is None:
        raise etree.ParserError("Document is empty")
    return root


def parse_document(text: str, *, plain: bool = False) -> Document:
    """Parse ``text``, comments and processing instructions dropped, saying what was lost.

    libxml2 stops at its resource limits (nesting depth, huge text nodes or
    attributes) and keeps what it read so far; that is reported, never
    silent. ``plain`` gives plain ``lxml.etree`` elements, not
    ``lxml.html`` ones: the same tree, read faster, for callers that use
    only this module's helpers.
    """
    if not text or not text.strip():
        return Document(None, [])
    problems = []
    # Characters no XML tree may hold (lxml refuses them once parsed): a reader sees nothing.
    text = _NOT_XML.sub("", text)
    if len(text) > _HUGE_VALUE:
        # libxml2 gives up on the rest of the page at an attribute value this large.
        text, dropped = _HUGE_ATTRIBUTE.subn('=""', text)
        if dropped:
            problems.append(f"{dropped} attribute value(s) over {_HUGE_VALUE} characters dropped")
    parser = _parser(plain=plain)
    try:
        root = _fromstring(text, parser)
    except (etree.ParserError, ValueError):
        # An XML declaration with an encoding, or a NUL, is refused in a str: give bytes.
        parser = _parser(plain=plain, encoding="utf-8")
        try:
            root = _fromstring(text.encode("utf-8", "replace"), parser)
        except (etree.ParserError, ValueError):
            return Document(None, [*problems, "the page could not be parsed as HTML"])
    for entry in parser.error_log:
        if entry.type_name == "ERR_RESOURCE_LIMIT":
            message = entry.message.lower()
            for key, problem in _LIMIT_PROBLEMS:
                if key in message and problem not in problems:
                    problems.append(problem)
    return Document(root, problems)


#: Content types a page may be served as (a missing type is taken on trust).
PAGE_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "text/plain", "application/xml", "text/xml"}
)
#: More control characters than this share of a page's text: binary data, not a page.
_CONTROL_SHARE = 0.01
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


def not_html(body: bytes, content_type: str | None = None) -> str | None:
    """Why ``body`` served as ``content_type`` is not a page (None when it may be one)."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    if mime and mime not in PAGE_TYPES:
        return f"not a page: served as {mime[:60]}"
    return None


def not_text(text: str) -> str | None:
    """Why decoded ``text`` is binary data rather than a page (None when it reads as text)."""
    sample = text[:65536]
    if not sample:
        return None
    controls = len(_CONTROL.findall(sample))
    if controls > _CONTROL_SHARE * len(sample):
        return f"not a page: binary data ({controls} control bytes in the first {len(sample)})"
    return None


def parse_html(text: str) -> Any | None:
    """The document root of ``text`` without comments and unseen elements, or None."""
    return parse_document(text).root


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


# --------------------------------------------------------------------------- finding by class


def class_xpath(cls: str) -> str:
    """An XPath predicate true for elements whose ``class`` holds ``cls`` (as CSS ``.cls``)."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')"


def has_class(el: Any, cls: str) -> bool:
    return cls in (el.get("class") or "").split()


@functools.lru_cache(maxsize=512)
def compiled(xpath: str) -> etree.XPath:
    """``xpath`` compiled once (an expression is compiled again on every ``el.xpath`` call)."""
    return etree.XPath(xpath)


@functools.lru_cache(maxsize=512)
def _class_path(cls: str) -> etree.XPath:
    return etree.XPath(f".//*[{class_xpath(cls)}]")


def first(el: Any, xpath: str) -> Any | None:
    """The first match of ``xpath`` under ``el``, or None."""
    found = compiled(xpath)(el)
    return found[0] if found else None


def with_class(el: Any, cls: str) -> list[Any]:
    """The descendants of ``el`` with class ``cls``, in document order."""
    return _class_path(cls)(el)


def first_with_class(el: Any, cls: str) -> Any | None:
    """The first descendant of ``el`` with class ``cls``, or None."""
    found = _class_path(cls)(el)
    return found[0] if found else None


def inside(el: Any, stop: Any, classes: frozenset[str] | set[str]) -> bool:
    """True when an ancestor of ``el`` below ``stop`` has one of ``classes``."""
    parent = el.getparent()
    while parent is not None and parent is not stop:
        if set((parent.get("class") or "").split()) & classes:
            return True
        parent = parent.getparent()
    return False


# --------------------------------------------------------------------------- inline text


def inner_text(el: Any | None) -> str:
    """Rendered text with browser semantics: collapsed whitespace, <br> and blocks as breaks.

    Images count by their ``alt`` (emoji are images on some pages); unseen
    elements and invisible spacers (:func:`is_spacer`) count for nothing.
    """
    if el is None:
        return ""
    if not len(el):  # a leaf: its text with white space collapsed (what the full walk gives)
        return _INLINE_SPACE.sub(" ", el.text or "").strip()
    parts: list[str] = []
    _render_children(el, parts, pre=False)
    text = re.sub(r" {2,}", " ", "".join(parts))
    text = re.sub(r"\n?[ ]*\x00[\x00 ]*", "\n", text)  # a <br> right before a block edge folds
    return "\n".join(line.strip() for line in text.split("\n")).strip("\n")


def one_line(el: Any | None) -> str:
    """An element's text on one line."""
    return " ".join(inner_text(el).split()) if el is not None else ""


def _render_children(el: Any, parts: list[str], *, pre: bool) -> None:
    if el.text:
        parts.append(el.text if pre else _INLINE_SPACE.sub(" ", el.text))
    for child in el:
        if isinstance(child.tag, str):
            _render_element(child, parts, pre=pre)
        if child.tail:
            parts.append(child.tail if pre else _INLINE_SPACE.sub(" ", child.tail))


def _render_element(el: Any, parts: list[str], *, pre: bool) -> None:
    name = el.tag.lower()
    if name == "br":
        parts.append("\n")
    elif name == "img":
        parts.append(el.get("alt") or "")
    elif name in SKIP_TAGS or (el.tag == "span" and is_spacer(el)):
        return
    else:
        block = name in BLOCK_TAGS
        if block:
            parts.append(_EDGE)
        _render_children(el, parts, pre=pre or name == "pre")
        if block:
            parts.append(_EDGE)


def is_spacer(el: Any) -> bool:
    """An empty ``<span style="display: inline-block; width: 104px;">``: room, not text."""
    if el.tag != "span" or len(el) or (el.text or "").strip():
        return False
    style = re.sub(r"\s+", "", (el.get("style") or "").lower())
    return "display:inline-block" in style and "width:" in style


def inner_html(el: Any) -> str:
    """The HTML inside ``el`` (spacers left out)."""
    parts = [_html_escape(el.text)] if el.text else []
    for child in el:
        if child.tag == "span" and is_spacer(child):
            parts.append(_html_escape(child.tail or ""))
        else:
            markup = etree.tostring(child, method="html", encoding="unicode", with_tail=True)
            if "<meta" in markup:  # lxml.html drops meta content-type tags: keep its output
                markup = lxml.html.tostring(child, encoding="unicode", with_tail=True)
            parts.append(markup)
    return "".join(parts).strip()


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
