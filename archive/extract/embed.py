"""A Telegram post's single-post embed (``/NAME/ID?embed=1``): is the post still there?

The embed is how a crawl confirms a deletion (:mod:`archive.store.deletions`):
Telegram answers a deleted (or never existing) message with its error block
(``tgme_widget_message_error``, "Post not found"), and a live one with the
message itself. Anything else — an error status, a redirect, a page showing
neither — decides nothing.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit, urlunsplit

from ..models import CHECK_ALIVE, CHECK_DELETED, CHECK_FAILED
from . import html as dom

_ERROR = "tgme_widget_message_error"
_MESSAGE = "tgme_widget_message"


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
    error = dom.first_with_class(root, _ERROR)
    if error is not None:
        return EmbedAnswer(CHECK_DELETED, dom.one_line(error) or "the embed shows an error")
    wanted = f"{channel}/{post_id}".lower()
    for found in root.xpath(f"//*[@data-post][{dom.class_xpath(_MESSAGE)}]/@data-post"):
        if found.strip().lower() == wanted:
            return EmbedAnswer(CHECK_ALIVE, "the embed shows the post")
    return EmbedAnswer(CHECK_FAILED, "the embed shows neither the post nor an error")
