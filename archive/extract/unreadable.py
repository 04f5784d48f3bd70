"""Why a channel's preview page cannot be read: the answers of ``t.me/s/NAME`` that hold no channel.

Telegram reads a public channel at ``/s/NAME``. When it cannot show one it
does not say so with an error status, so each case is recognised by what
came back (the same on any host serving a preview, loopback tests included):

- **preview disabled**: ``/s/NAME`` redirects away from ``/s/`` (to
  ``/NAME``, the channel's "View in Telegram" page);
- **no such channel**: the answer is Telegram's page for a name that is no
  public channel ("If you have Telegram, you can contact @NAME right
  away"), a redirect to the site's root, or a 404 / 410;
- **not a channel page**: a 200 answer with no channel markup at all (no
  channel header, no message, not Telegram's empty "no messages" answer).

Only pages asked for at ``/s/NAME`` (a Telegram username) are judged; any
other URL is a web page as before.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import html as dom
from .telegram import asked_channel, is_telegram_markup

_TAGS = re.compile(r"<[^>]*>")
_CONTACT = re.compile(r"you can contact\s*@\w+", re.I)
#: A channel's own preview shows one of these, even when it has no message to show.
_CHANNEL_MARKS = ("tgme_channel_info", "tme_no_messages_found")

NO_SUCH_CHANNEL = "no such channel"
PREVIEW_DISABLED = "web preview disabled"
NOT_A_CHANNEL_PAGE = "not a channel page"


def preview_channel(url: str) -> str | None:
    """The channel name when ``url`` is a channel's preview page (``/s/NAME``), else None."""
    return asked_channel(url)


def unreadable_reason(requested_url: str, url: str, status: int, body: bytes) -> str | None:
    """Why the answer to ``requested_url`` (a ``/s/NAME`` page) holds no readable channel, or None.

    ``url`` is where the answer came from after redirects, ``status`` and
    ``body`` what it was. Other error statuses are left to the caller (a
    failed fetch, not a verdict on the channel).
    """
    name = preview_channel(requested_url)
    if name is None:
        return None
    if status in (404, 410):
        return f"{NO_SUCH_CHANNEL}: @{name} (HTTP {status})"
    if status != 200:
        return None
    if preview_channel(url) is not None and is_telegram_markup(body or b""):
        return None  # the common case, every page of a readable channel: decided cheaply
    text = dom.decode(body or b"", "text/html").text
    visible = " ".join(_TAGS.sub(" ", text).split())
    if _CONTACT.search(visible) and not is_telegram_markup(text):
        return f"{NO_SUCH_CHANNEL}: @{name} is no public channel (t.me offers only to contact it)"
    if preview_channel(url) is None:
        path = urlsplit(url).path or "/"
        if path.strip("/") == "":
            return f"{NO_SUCH_CHANNEL}: @{name} (/s/{name} redirects to the site's root)"
        return f"{PREVIEW_DISABLED}: @{name} (/s/{name} redirects to {path})"
    if is_telegram_markup(text) or any(mark in text for mark in _CHANNEL_MARKS):
        return None
    return f"{NOT_A_CHANNEL_PAGE}: /s/{name} answered without channel markup"
