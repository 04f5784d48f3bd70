"""The message telling one target what changed: a title that counts, a body that lists.

New posts, edits with their removed and added words, deletions, posts that
came back (the change events of :mod:`archive.query.changes`), newest
first, at most :data:`MAX_LISTED` of each kind spelled out; plain text.

What a message quotes was written by the channels' authors, and chat
services act on some text: ``@everyone``, ``@here``, ``@name``, Discord's
``<@123>``, ``<@&role>`` and ``<#channel>``, Slack's ``<!channel>`` ping
people. :func:`plain` makes every such mention inert — a zero-width space
after each ``@`` and after each ``<`` that opens one, which no service
reads as a mention and a reader does not see — and drops control
characters; :func:`compose` passes title and body through it. A link keeps
working: its ``@`` is written ``%40``.
"""

from __future__ import annotations

import re

from archive.query.changes import DELETED, EDITED, NEW, UNDELETED, Change
from archive.query.search import SearchQuery

#: At most this many changes of each kind are spelled out in one message; the rest are counted.
MAX_LISTED = 10
#: Characters of a post's text quoted in a message.
QUOTE_WIDTH = 160
#: Unchanged characters kept on each side of an edit's changes.
CONTEXT = 15

#: The sections of a message, in order, with their headings.
SECTIONS = ((EDITED, "Edited"), (DELETED, "Deleted"), (UNDELETED, "Back"), (NEW, "New"))


#: Written after an ``@`` or a ``<`` so that no chat service reads a mention there.
ZERO_WIDTH_SPACE = "\u200b"
_AT = re.compile("@(?!\u200b)")
_OPENS_MENTION = re.compile("<(?=[@#!&])")
#: Control characters (C0 and C1), but the line feed and the tab.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """``text`` as a message may say it: no mention any chat service acts on, no control codes."""
    text = _CONTROL.sub("", text)
    text = _OPENS_MENTION.sub("<" + ZERO_WIDTH_SPACE, text)
    return _AT.sub("@" + ZERO_WIDTH_SPACE, text)


def link(url: str) -> str:
    """A URL a message may carry: an ``@`` in it percent-encoded (the same address, no mention)."""
    return "".join(url.split()).replace("@", "%40")


def _line(text: str, width: int = QUOTE_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def counts(changes: list[Change]) -> str:
    """How many changes of each kind: ``2 edited, 1 new``."""
    parts = []
    for kind, _heading in SECTIONS:
        n = sum(1 for c in changes if c.kind == kind)
        if n:
            word = {EDITED: "edited", DELETED: "deleted", UNDELETED: "back", NEW: "new"}[kind]
            parts.append(f"{n} {word}")
    return ", ".join(parts)


def compose(
    source: str, changes: list[Change], *, match: SearchQuery | None = None
) -> tuple[str, str]:
    """The title and body of the message telling of ``changes`` (newest first) in ``source``.

    A keyword alert (``match``, the source's ``--match``) says its query in the
    title, and each change the words of it the post holds. Plain text, every
    mention made inert (:func:`plain`).
    """
    title = f"chanarchive: {source}: {counts(changes)}"
    if match is not None:
        title += f" matching {_line(match.text, QUOTE_WIDTH)}"
    lines: list[str] = []
    for kind, heading in SECTIONS:
        of_kind = [c for c in changes if c.kind == kind]
        if not of_kind:
            continue
        if lines:
            lines.append("")
        lines.append(f"{heading} ({len(of_kind)}):")
        for change in of_kind[:MAX_LISTED]:
            named = _line(change.name, QUOTE_WIDTH)
            lines.append(f"- {named}" + (f"  {link(change.url)}" if change.url else ""))
            if change.matched:
                lines.append("  matched: " + _line(" · ".join(change.matched)))
            if kind == EDITED:
                if change.removed:
                    lines.append("  removed: " + _line(" · ".join(change.removed)))
                if change.added:
                    lines.append("  added: " + _line(" · ".join(change.added)))
                if change.removed or change.added:
                    lines.append("  " + _line(change.marked(context=CONTEXT), 2 * QUOTE_WIDTH))
                else:
                    lines.append("  (the text is the same: links, media or the title changed)")
            else:
                quoted = _line(change.title or change.text)
                if quoted:
                    lines.append(f"  {quoted}")
        if len(of_kind) > MAX_LISTED:
            lines.append(f"… and {len(of_kind) - MAX_LISTED} more")
    return plain(title), plain("\n".join(lines)) + "\n"
