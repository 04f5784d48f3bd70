"""The pages' URLs: names and ids in, out escaped; links only to http(s) or the archive itself.

A page's URL carries a channel name, a post id or a capture's id escaped
(:func:`channel_path`, :func:`post_path`, :func:`capture_path`: a web
channel's ``127.0.0.1:8080`` is ``127.0.0.1%3A8080``, a post id is escaped
whole, ``/`` too), and each route reads it back unescaped
(:func:`from_path`), so every link round-trips. Every page also answers
as JSON at its URL plus ``.json``; a name that itself ends in ``.json`` (or
``.atom``) has that dot escaped, so that the page and its JSON never meet.

:func:`safe_href` is the only way a stored URL becomes a link: http(s) only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

#: Endings that name another form of a page; a name ending so has its dot escaped.
FORMS = (".json", ".atom")


def safe_href(url: Any) -> str | None:
    """``url`` when it is an http(s) URL a page may link to; None otherwise (``javascript:`` …)."""
    if not isinstance(url, str) or not url or len(url) > 8192:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def escaped(part: str) -> str:
    """A name or id as one segment of a page's path: every character but letters, digits
    and ``_.-~`` escaped, and the dot of an ending of :data:`FORMS`."""
    out = quote(part, safe="")
    for form in FORMS:
        if out.endswith(form):
            out = out[: -len(form)] + "%2E" + form[1:]
    return out


def channel_path(name: str) -> str:
    """The page of channel ``name``."""
    return "/-/channel/" + escaped(name)


def post_path(channel: str, post_id: str) -> str:
    """The page of a post; its id escaped whole (``/`` too), so a browser never rewrites it."""
    return f"/-/post/{escaped(channel)}/{escaped(post_id)}"


def capture_path(
    snapshot: int,
    database: str | None = None,
    *,
    post_id: str | None = None,
    form: str | None = None,
) -> str:
    """The page of capture ``snapshot`` (``snapshots.id``), or one of its forms
    (``view``: the cleaned page, ``raw``: the bytes as fetched).

    ``database``: the archive it is in, named when Datasette serves more
    than one (capture ids are each archive's own); ``post_id``: the post
    of the page to mark in it.
    """
    params = {}
    if database is not None:
        params["db"] = database
    if post_id is not None:
        params["post"] = post_id
    path = f"/-/capture/{int(snapshot)}" + (f"/{form}" if form else "")
    return path + ("?" + urlencode(params) if params else "")


def media_path(sha256: str) -> str:
    return f"/-/media/{sha256}"


def from_path(part: str) -> str:
    """A channel name or post id as a page's URL carries it (:func:`channel_path`, :func:`post_path`)."""
    return unquote(part)
