"""A Telegram post's single-post embed (``/NAME/ID?embed=1``): is the post still there?

The embed is how a crawl confirms a deletion (:mod:`archive.store.deletions`):
Telegram answers a deleted (or never existing) message with its error block
(``tgme_widget_message_error``) saying **"Post not found"**, and a live one
with the message itself. Only those words confirm a deletion: the same
block saying anything else ("Too many requests", "Channel not found" …), an
error status, a redirect, a page showing neither or both, decides nothing.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from ..models import CHECK_ALIVE, CHECK_DELETED, CHECK_FAILED
from . import html as dom

_ERROR = "tgme_widget_message_error"
_MESSAGE = "tgme_widget_message"
#: The one answer that confirms a deletion (case and surrounding space aside).
NOT_FOUND = "Post not found"
_NOT_FOUND_RE = re.compile(r"^\s*post\s+not\s+found\.?\s*\Z", re.IGNORECASE)


class EmbedAnswer(NamedTuple):
    outcome: str  # CHECK_DELETED, CHECK_ALIVE or CHECK_FAILED
    reason: str


def embed_url(page_url: str, channel: str, post_id: int | str) -> str:
    """The embed of ``channel``'s post ``post_id`` on the host ``page_url`` came from."""
    parts = urlsplit(page_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{channel}/{post_id}", "embed=1", ""))


def read_embed(status: int, body: bytes, channel: str, post_id: int | str) -> EmbedAnswer:
    """What the embed of ``channel``/``post_id`` answered with ``status`` and ``body`` says."""
    if status != 200:
        return EmbedAnswer(CHECK_FAILED, f"HTTP {status}")
    decoded = dom.decode(body or b"", "text/html")
    root = dom.parse_html(decoded.text)
    if root is None:
        return EmbedAnswer(CHECK_FAILED, "the embed is not a page")
    wanted = f"{channel}/{post_id}".lower()
    shown = any(
        found.strip().lower() == wanted
        for found in root.xpath(f"//*[@data-post][{dom.class_xpath(_MESSAGE)}]/@data-post")
    )
    errors = [dom.one_line(el)[:200] for el in dom.with_class(root, _ERROR)]
    if errors and shown:
        return EmbedAnswer(CHECK_FAILED, "the embed shows the post and an error")
    if errors:
        if all(_NOT_FOUND_RE.match(error) for error in errors):
            return EmbedAnswer(CHECK_DELETED, NOT_FOUND)
        said = next((e for e in errors if not _NOT_FOUND_RE.match(e)), "") or "nothing"
        return EmbedAnswer(
            CHECK_FAILED, f"the embed shows an error that is not {NOT_FOUND!r}: {said}"
        )
    if shown:
        return EmbedAnswer(CHECK_ALIVE, "the embed shows the post")
    return EmbedAnswer(CHECK_FAILED, "the embed shows neither the post nor an error")


def is_embed_of(url: str, channel: str, post_id: int | str) -> bool:
    """Whether ``url`` is the embed of ``channel``/``post_id`` (``/NAME/ID``, name in any case)."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return False
    return path.rstrip("/").lower() == f"/{channel}/{post_id}".lower()
