"""A stored page made safe to show: the rules (data), and the cleaner that applies them.

A capture is whatever a crawled site sent, and people archive sites they
distrust. Shown in the browser it must run nothing and fetch nothing from
the live web; what it looked like should survive. The cleaner reads the
page as a stream of tags and text (the standard library's HTML tokenizer)
and writes a new document of its own making from an allow-list:

- elements of :data:`DROPPED` go with everything inside them: scripts,
  ``<noscript>`` (a browser without scripts reads its inside as markup),
  frames, objects, SVG and MathML (markup of another grammar), templates,
  form fields that hold text, raw-text oddities;
- tags of :data:`REMOVED` go, their content stays: ``<base>``, every
  ``<meta>`` (``refresh`` among them) and ``<link>``, ``<embed>``, forms
  and their inputs and buttons;
- elements of :data:`KEPT` keep only the attributes of :data:`ATTRIBUTES`
  (and ``aria-*`` / ``data-*``): no event handler (``on…``), no ``href``,
  ``action``, ``srcset``, ``ping``, ``target``, ``autofocus`` …; any other
  tag is left out, its text kept;
- a link (``<a href>``) leads nowhere: the live URL it pointed at becomes
  its ``title``, plain text shown on hover;
- a picture (``<img src>``, ``poster``, a video's or ``<source>``'s
  ``src``, every ``url()`` of a ``style`` attribute or ``<style>``) is
  served from the archive (``/-/media/SHA256``) when the archive holds
  the file of that URL, and left blank otherwise; ``@import`` and
  ``image-set()`` are removed, CSS escapes that spell ``url`` are read
  first;
- text and attribute values are written escaped by the cleaner itself,
  never passed through as markup, so what the browser parses is only what
  the cleaner wrote, however the page was tokenized.

The page is then served under a Content-Security-Policy that holds even
if a rule here missed something (:data:`CAPTURE_CSP`: nothing but the
archive's own pictures and inline styles, no script, ``sandbox``), inside
an ``<iframe sandbox>`` of a page that says what it is (see
:mod:`.captures`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

from .paths import media_path

#: The policy a cleaned capture is served under: the archive's pictures (and inline
#: ``data:`` ones), inline styles, nothing else; sandboxed (no script, no form, no popup,
#: an origin of its own).
CAPTURE_CSP = (
    "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline';"
    " base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox"
)

#: Elements removed with everything inside them.
DROPPED = frozenset(
    """script noscript template iframe frameset object applet svg math canvas xmp
    plaintext noembed noframes textarea select datalist title portal fencedframe
    dialog""".split()
)

#: Tags removed, their content kept (void elements among them: they have none).
REMOVED = frozenset(
    """base meta link embed param frame track area map form input button keygen output
    option optgroup label slot html head body""".split()
)

#: Elements kept (with their allowed attributes); any other tag is left out, its text kept.
KEPT = frozenset(
    """div span p a b i u s strike em strong small big sub sup br hr ul ol li dl dt dd
    table caption thead tbody tfoot tr td th col colgroup img picture source video audio
    figure figcaption blockquote q pre code kbd samp var tt h1 h2 h3 h4 h5 h6 section
    article header footer nav main aside address time mark abbr cite dfn del ins details
    summary center font wbr ruby rt rp bdi bdo""".split()
)

#: Elements with no end tag.
VOID = frozenset({"br", "hr", "img", "col", "wbr", "source"})

#: Attributes kept on any kept element (besides ``aria-*`` and ``data-*``).
ATTRIBUTES = frozenset(
    """class id title lang dir role alt width height colspan rowspan headers scope datetime
    open start reversed span abbr align valign bgcolor color face size nowrap border
    cellpadding cellspacing summary type media""".split()
)

#: Attributes that name a picture or a sound, by element: served from the archive or blank.
MEDIA_ATTRIBUTES = {
    "img": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "source": ("src",),
}

#: Inline pictures a page may carry as they are (never SVG: a document of its own).
DATA_PICTURE = re.compile(r"data:image/(?:png|jpeg|gif|webp|avif|bmp);", re.IGNORECASE)

#: Attribute names written out at all (anything stranger is left out).
_NAME = re.compile(r"[a-z][a-z0-9_.:-]{0,63}\Z")
#: The longest attribute value kept (a ``style`` may be longer: :data:`MAX_STYLE`).
MAX_VALUE = 4000
MAX_STYLE = 20_000
#: The stylesheet every cleaned capture gets first: pictures fit, the marked post shows.
BASE_STYLE = (
    "body{margin:0;padding:8px;font-family:system-ui,-apple-system,'Segoe UI',Helvetica,"
    "Arial,'WenQuanYi Micro Hei',sans-serif;overflow-wrap:anywhere}"
    "img,video{max-width:100%;height:auto}"
    # A picture the archive serves as a background (Telegram's photos) shows as a block.
    "[style*='url(\"/-/media/']{display:block;max-width:100%;min-height:4em;"
    "background-size:cover;background-position:center;background-repeat:no-repeat}"
    "a[title]{text-decoration:underline dotted;cursor:help}"
    ":target{outline:3px solid #e8a100;outline-offset:2px}"
)

_CSS_URL = re.compile(
    r"""url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)"'\s]*))\s*\)""",
    re.IGNORECASE | re.DOTALL,
)
_CSS_IMPORT = re.compile(r"@import\b[^;]*;?", re.IGNORECASE)
_CSS_IMAGE_SET = re.compile(r"(?:-webkit-)?image-set\([^)]*\)", re.IGNORECASE)
_CSS_HEX_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?")
_CSS_LETTER_ESCAPE = re.compile(r"\\([g-zG-Z()@:/-])")
#: What a CSS escape may stand for and be read back as itself before the rules apply.
_PLAIN_CSS = re.compile(r"[A-Za-z0-9()@:/-]")


@dataclass
class Cleaned:
    """A cleaned page, and what the cleaner did to it."""

    html: str
    removed: dict[str, int] = field(default_factory=dict)  # elements dropped, by name
    archived: int = 0  # pictures served from the archive
    blanked: int = 0  # pictures left blank (not in the archive, or not a picture)


#: Finds the archive's file of each of some absolute URLs: {url: sha256}.
MediaLookup = Callable[[set[str]], dict[str, str]]


def _absolute(base: str, url: str) -> str | None:
    """``url`` read against the page's own URL; only an http(s) URL (None otherwise)."""
    url = url.strip()
    if not url or len(url) > 8192:
        return None
    try:
        found = urljoin(base, url)
    except ValueError:
        return None
    return found if found.lower().startswith(("http://", "https://")) else None


def _unescape_css(css: str) -> str:
    """CSS escapes that spell letters, digits and punctuation read as what they spell, so
    that ``\\75 rl(`` is seen as ``url(``; other escapes are left as they are."""

    def hex_escape(match: re.Match) -> str:
        code = int(match.group(1), 16)
        char = chr(code) if code < 0x110000 else ""
        return char if _PLAIN_CSS.fullmatch(char or " ") else match.group(0)

    css = _CSS_HEX_ESCAPE.sub(hex_escape, css)
    return _CSS_LETTER_ESCAPE.sub(lambda m: m.group(1), css)


def css_urls(css: str) -> list[str]:
    """The ``url()`` references of a piece of CSS (as written)."""
    return [a or b or c or "" for a, b, c in _CSS_URL.findall(_unescape_css(css))]


class _Tokens(HTMLParser):
    """A page as a list of events: ``(kind, name or text, attributes)``, kind one of
    ``start``, ``empty`` (a self-closed tag), ``end``, ``text``. Comments, declarations
    and processing instructions are left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("empty", tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag, []))

    def handle_data(self, data: str) -> None:
        self.events.append(("text", data, []))


def tokens(text: str) -> list[tuple[str, str, list[tuple[str, str | None]]]]:
    """The events of a page (:class:`_Tokens`)."""
    parser = _Tokens()
    parser.feed(text)
    parser.close()
    return parser.events


def media_urls(events: list[tuple[str, str, list]], base: str) -> set[str]:
    """Every absolute URL a page names a picture or sound by (what the archive may hold)."""
    found: set[str] = set()

    def add(url: str | None) -> None:
        absolute = _absolute(base, url or "")
        if absolute:
            found.add(absolute)

    in_style = False
    for kind, name, attrs in events:
        if kind in ("start", "empty"):
            for key, value in attrs:
                if key in MEDIA_ATTRIBUTES.get(name, ()):
                    add(value)
                elif key == "style" and value:
                    for url in css_urls(value):
                        add(url)
            in_style = name == "style" and kind == "start"
        elif kind == "end":
            in_style = False
        elif in_style:
            for url in css_urls(name):
                add(url)
    return found


class _Cleaner:
    def __init__(self, base: str, files: dict[str, str]) -> None:
        self.base = base
        self.files = files
        self.out = Cleaned("")

    # -- pictures

    def picture(self, url: str) -> str | None:
        """Where a picture the page names is shown from: the archive, inline data, or nowhere."""
        raw = url.strip()
        if DATA_PICTURE.match(raw) and len(raw) <= 1024 * 1024:
            return raw
        found = _absolute(self.base, raw)
        sha = self.files.get(found) if found else None
        if sha is None:
            self.out.blanked += 1
            return None
        self.out.archived += 1
        return media_path(sha)

    def css(self, text: str) -> str:
        text = _unescape_css(text)
        text = _CSS_IMPORT.sub("", text)

        def url(match: re.Match) -> str:
            src = self.picture(match.group(1) or match.group(2) or match.group(3) or "")
            return f'url("{src}")' if src else "none"

        text = _CSS_URL.sub(url, text)
        text = _CSS_IMAGE_SET.sub("none", text)
        # Nothing that could end a <style> element or start markup inside it.
        return text.replace("<", "\\3c ").replace(">", "\\3e ")

    # -- tags

    def attributes(self, name: str, attrs: list[tuple[str, str | None]]) -> str:
        """The attributes a kept element keeps, cleaned, written out."""
        kept: list[tuple[str, str]] = []
        live = None
        for key, raw in attrs:
            value = raw or ""
            if not _NAME.match(key):
                continue
            if key == "href" and name == "a":
                live = _absolute(self.base, value)
                continue
            if key in MEDIA_ATTRIBUTES.get(name, ()):
                src = self.picture(value)
                if src:
                    kept.append((key, src))
                continue
            if key == "style":
                if len(value) <= MAX_STYLE:
                    kept.append((key, self.css(value)))
                continue
            allowed = key in ATTRIBUTES or (
                key.startswith(("aria-", "data-")) and not key.startswith("data-chanarchive")
            )
            if allowed and len(value) <= MAX_VALUE and key not in dict(kept):
                kept.append((key, value))
        if name == "a" and live:
            title = dict(kept).get("title")
            kept = [(k, v) for k, v in kept if k != "title"]
            kept.append(("title", f"{title} — {live}" if title else live))
        if name in ("video", "audio"):
            kept += [("controls", ""), ("preload", "none")]
        post = dict(kept).get("data-post")
        if post and "id" not in dict(kept):
            kept.append(("id", "post-" + post.rsplit("/", 1)[-1]))
        return "".join(
            f' {key}="{html.escape(value, quote=True)}"' if value else f" {key}"
            for key, value in kept
        )

    def removed(self, name: str) -> None:
        self.out.removed[name] = self.out.removed.get(name, 0) + 1

    def page(self, events: list[tuple[str, str, list]]) -> str:
        """The document: a head of our own (the page's title, our style), the body cleaned."""
        body: list[str] = []
        title: list[str] | None = None
        root = body_attrs = ""
        skipping: str | None = None  # the dropped element we are inside
        depth = 0
        style: list[str] | None = None  # the text of the <style> we are inside
        for kind, name, attrs in events:
            if skipping is not None:
                if name == skipping and kind == "start":
                    depth += 1
                elif name == skipping and kind == "end":
                    depth -= 1
                    if depth == 0:
                        skipping = None
                elif kind == "text" and skipping == "title" and title is not None:
                    title.append(name)
                continue
            if style is not None:
                if kind == "end" and name == "style":
                    body.append(f"<style>{self.css(''.join(style))}</style>")
                    style = None
                elif kind == "text":
                    style.append(name)
                continue
            if kind == "text":
                body.append(html.escape(name, quote=False))
            elif kind in ("start", "empty"):
                if name == "title" and title is None and kind == "start":
                    title = []
                if name in DROPPED:
                    self.removed(name)
                    if kind == "start":
                        skipping, depth = name, 1
                elif name == "style":
                    if kind == "start":
                        style = []
                elif name == "html" and not root:
                    root = "".join(
                        f' {key}="{html.escape(value, quote=True)}"'
                        for key, value in attrs
                        if key in ("lang", "dir") and value and len(value) <= 40
                    )
                elif name == "body" and not body_attrs:
                    body_attrs = self.attributes("body", attrs) or " "
                elif name in REMOVED:
                    if name not in ("html", "head", "body"):
                        self.removed(name)
                elif name in KEPT:
                    body.append(f"<{name}{self.attributes(name, attrs)}>")
                    if kind == "empty" and name not in VOID:
                        body.append(f"</{name}>")
            elif kind == "end" and name in KEPT and name not in VOID:
                body.append(f"</{name}>")
        head = [
            f'<!DOCTYPE html>\n<html{root}><head><meta charset="utf-8">',
            f"<title>{html.escape(''.join(title or [])[:500], quote=False)}</title>",
            f"<style>{BASE_STYLE}</style></head>",
            f"<body{body_attrs.rstrip()}>",
        ]
        return "".join(head + body + ["</body></html>\n"])


def clean_page(text: str, base: str, lookup: MediaLookup) -> Cleaned:
    """The page ``text`` (fetched from ``base``) as a document safe to show (see the module)."""
    events = tokens(text)
    cleaner = _Cleaner(base, lookup(media_urls(events, base)))
    cleaner.out.html = cleaner.page(events)
    return cleaner.out


def plain_text_page(lines: Iterable[str]) -> str:
    """A document of plain lines (what a capture that cannot be shown says instead)."""
    body = "".join(f"<p>{html.escape(line, quote=False)}</p>" for line in lines)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<style>{BASE_STYLE}</style></head><body>{body}</body></html>\n"
    )
