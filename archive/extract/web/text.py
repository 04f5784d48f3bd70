"""Where a post's main text runs: trafilatura's judgement, mapped onto our lines.

trafilatura is good at finding the main text of a page and at leaving page
furniture out, but it drops short lines (a hashtag line, a bare link) and
lays text out its own way (lists, tables). :func:`main_region` matches its
output against the container's own lines and takes back the lines it left
out between two of its own, when they sit beside them in the page.
"""

from __future__ import annotations

from typing import Any

import lxml.html
import trafilatura

from .. import html
from .context import PageContext

#: Length of the pieces a long line of trafilatura's is matched by.
_PIECE = 40
#: At most this many lines in a row that trafilatura left out are taken back.
_MAX_GAP = 3
#: trafilatura's lines shorter than this match whole lines of ours only.
_SHORT = 25


def main_text(root: Any, ctx: PageContext) -> str | None:
    """trafilatura's main text of the page as it stands after our cuts."""
    pruned = lxml.html.tostring(root, encoding="unicode")
    return trafilatura.extract(
        pruned,
        url=ctx.url,
        favor_recall=ctx.options.favor_recall,
        include_comments=False,
        include_tables=ctx.options.include_tables,
    )


def main_region(
    lines: list[html.Line], main_text: str, title: str | None = None
) -> list[html.Line] | None:
    """The container's lines that make the main text.

    Lines trafilatura kept, and between the first and the last of them, the
    lines whose block is one of theirs or their sibling (a short line of the
    same run of paragraphs, which trafilatura may drop).
    """
    keys = [html.match_key(line.text) for line in lines]
    joined = "".join(keys)
    starts = []
    offset = 0
    for key in keys:
        starts.append(offset)
        offset += len(key)
    matched: set[int] = set()
    position = 0
    title_key = html.match_key(title)
    for raw in main_text.split("\n"):
        key = html.match_key(raw)
        if not key or key == title_key:
            continue  # the title was cut from our lines: it would match a card's copy of it
        if len(key) < _SHORT:
            # A short line ("Comments") matches a whole line of ours, the next one if it can.
            later = [i for i in range(_line_at(starts, position), len(keys)) if keys[i] == key]
            anywhere = later or [i for i, k in enumerate(keys) if k == key]
            if anywhere:
                matched.add(anywhere[0])
                position = starts[anywhere[0]] + len(key)
            continue
        # A line of theirs may hold more than ours (a table row around the
        # whole article, with the title we cut): then match it piece by piece.
        pieces = (
            [key] if key in joined else [key[i : i + _PIECE] for i in range(0, len(key), _PIECE)]
        )
        for piece in pieces:
            at = joined.find(piece, position)
            if at < 0:
                at = joined.find(piece)
            if at < 0 or (len(piece) < 8 and len(pieces) > 1):
                continue
            first = _line_at(starts, at)
            last = _line_at(starts, at + len(piece) - 1)
            matched.update(range(first, last + 1))
            position = at + len(piece)
    if not matched:
        return None
    # Hold the elements themselves: lxml proxies live only while referenced.
    blocks_kept = {lines[i].block for i in matched}
    parents = {lines[i].block.getparent() for i in matched}
    order = sorted(matched)
    region = []
    for before, after in zip(order, order[1:] + [None], strict=True):
        region.append(lines[before])
        if after is None or after - before - 1 > _MAX_GAP:
            continue  # a long run trafilatura left out is not a dropped line: a gallery, a box
        for i in range(before + 1, after):
            block = lines[i].block
            if block in blocks_kept or block.getparent() in parents:
                region.append(lines[i])
    return region


def _line_at(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo
