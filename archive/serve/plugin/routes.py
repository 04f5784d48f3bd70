"""The plugin's routes: each of chanarchive's pages, as HTML and as JSON, and the files it serves.

Every page answers at its URL as HTML and at its URL plus ``.json`` with
the same data (:data:`ROUTES`):

==============================  ==================================  ==========================
page                            JSON                                data
==============================  ==================================  ==========================
``/``                           ``/-/index.json``                   :func:`.pages.home_data`
``/-/channel/NAME``             ``/-/channel/NAME.json``            :func:`.pages.channel_data`
``/-/post/NAME/ID``             ``/-/post/NAME/ID.json``            :func:`.pages.post_data`
``/-/capture/ID``               ``/-/capture/ID.json``              :func:`.captures.capture_data`
``/-/search?q=``                ``/-/search.json?q=``               :func:`.search.search_data`
``/-/changes?channel=&kinds=``  ``/-/changes.json?…``               :func:`.changes.change_list`
==============================  ==================================  ==========================

(``/.json`` is Datasette's own list of databases, so the home page's JSON
is ``/-/index.json``.) Besides: ``/-/changes.atom`` (the feed of a change
list), ``/-/capture/ID/view`` (the capture cleaned, under a sandboxing
CSP), ``/-/capture/ID/raw`` (its bytes, a download) and
``/-/media/SHA256`` (an archived media file).
"""

from __future__ import annotations

import asyncio
from typing import Any

from datasette import Response

from ...query.changes import KINDS
from . import pages
from .captures import capture_data, cleaned_capture, raw_capture
from .changes import PAGE_CHANGES, change_feed, change_list, read_cursor, read_kinds
from .media import media_headers, read_media
from .paths import channel_path, from_path
from .respond import (
    NOT_SHOWN,
    archive_databases,
    as_json,
    drawn,
    logger,
    not_found,
    read,
    render,
)
from .sanitise import CAPTURE_CSP
from .search import read_query, search_data


def _is_json(request: Any) -> bool:
    return bool(request.url_vars.get("format"))


def page_json(data: dict[str, Any]) -> dict[str, Any]:
    """A page's data as its ``.json`` gives it: all of it but the drawn charts."""
    return {key: value for key, value in data.items() if not key.endswith("_svg")}


async def _many(datasette: Any) -> bool:
    return len(await archive_databases(datasette)) > 1


async def _answer(
    datasette: Any, request: Any, template: str, data: dict[str, Any], **extra: Any
) -> Response:
    if _is_json(request):
        return as_json(page_json(data))
    return await render(datasette, request, template, {**data, **extra})


# ------------------------------------------------------------------ home


async def home_data(datasette: Any, request: Any) -> list[dict[str, Any]]:
    """The home page's data: each archive's channels and latest changes (see ``index.html``)."""
    kinds = read_kinds(request.args.get("kinds"))
    before = read_cursor(request.args.get("before"))
    archives = []
    many = await _many(datasette)
    for db in await archive_databases(datasette):
        try:
            data = await read(
                db,
                lambda conn, db=db: pages.home_data(
                    conn, db.name, kinds=kinds, before=before, many=many
                ),
            )
        except Exception as exc:  # one bad row must not take the home page down
            logger.warning("home page, %s: %s: %s", db.name, exc.__class__.__name__, exc)
            data = {"channels": [], "changes": None, "not_shown": NOT_SHOWN}
        archives.append({"name": db.name, **data})
    return archives


async def index_json(datasette: Any, request: Any) -> Response:
    return as_json({"archives": await home_data(datasette, request)})


# ------------------------------------------------------------------ channel and post


async def channel_page(datasette: Any, request: Any) -> Response:
    name = from_path(request.url_vars["name"])
    kinds = read_kinds(request.args.get("kinds"))
    before = read_cursor(request.args.get("before"))

    async def draw() -> Response:
        many = await _many(datasette)
        for db in await archive_databases(datasette, request):
            data = await read(
                db,
                lambda conn, db=db: pages.channel_data(
                    conn, name, db.name, kinds=kinds, before=before, many=many
                ),
            )
            if data is not None:
                return await _answer(
                    datasette, request, "chanarchive_channel.html", {**data, "database": db.name}
                )
        return await not_found(
            datasette, request, f"There is no channel called “{name}” here.", json=_is_json(request)
        )

    return await drawn(datasette, request, "channel page", draw)


async def post_page(datasette: Any, request: Any) -> Response:
    name = from_path(request.url_vars["name"])
    post_id = from_path(request.url_vars["post_id"])

    async def draw() -> Response:
        known_channel = False
        many = await _many(datasette)
        for db in await archive_databases(datasette, request):
            data = await read(
                db,
                lambda conn, db=db: pages.post_data(conn, name, post_id, db.name if many else None),
            )
            if data is not None:
                return await _answer(
                    datasette, request, "chanarchive_post.html", {**data, "database": db.name}
                )
            exists = await read(db, lambda conn: pages.channel_summary(conn, name) is not None)
            known_channel = known_channel or exists
        back = {"href": channel_path(name), "text": f"the channel {name}"}
        if known_channel:
            message = f"The channel {name} has no post {post_id} in this archive."
            return await not_found(datasette, request, message, back, json=_is_json(request))
        message = f"There is no channel called “{name}” here."
        return await not_found(datasette, request, message, json=_is_json(request))

    return await drawn(datasette, request, "post page", draw)


# ------------------------------------------------------------------ captures


async def capture_page(datasette: Any, request: Any) -> Response:
    sid = int(request.url_vars["id"])
    post_id = request.args.get("post")

    async def draw() -> Response:
        many = await _many(datasette)
        for db in await archive_databases(datasette, request):
            data = await read(
                db,
                lambda conn, db=db: capture_data(
                    conn, sid, db.name if many else None, post_id=post_id
                ),
            )
            if data is not None:
                return await _answer(
                    datasette, request, "chanarchive_capture.html", {**data, "database": db.name}
                )
        message = f"There is no capture {sid} here."
        return await not_found(datasette, request, message, json=_is_json(request))

    return await drawn(datasette, request, "capture page", draw)


#: Headers of a cleaned capture: its own policy, sniffing off, no referrer.
CAPTURE_HEADERS = {
    "Content-Security-Policy": CAPTURE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}


async def capture_view(datasette: Any, request: Any) -> Response:
    sid = int(request.url_vars["id"])
    loop = asyncio.get_running_loop()
    for db in await archive_databases(datasette, request):
        if not db.path:
            continue
        cleaned = await loop.run_in_executor(None, cleaned_capture, db.path, sid)
        if cleaned is not None:
            return Response(
                cleaned.html,
                content_type="text/html; charset=utf-8",
                headers=dict(CAPTURE_HEADERS),
            )
    return Response.text(f"There is no capture {sid} here.", status=404, headers=CAPTURE_HEADERS)


async def capture_raw(datasette: Any, request: Any) -> Response:
    sid = int(request.url_vars["id"])
    loop = asyncio.get_running_loop()
    for db in await archive_databases(datasette, request):
        if not db.path:
            continue
        found = await loop.run_in_executor(None, raw_capture, db.path, sid)
        if found is not None:
            body, filename = found
            return Response(
                body,
                content_type="application/octet-stream",
                headers={
                    "Content-Disposition": f'attachment; filename="{filename}"',
                    "X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'; sandbox",
                },
            )
    return await not_found(datasette, request, f"There is no stored capture {sid} here.")


# ------------------------------------------------------------------ search and changes


async def search_page(datasette: Any, request: Any) -> Response:
    q, channel, limit = read_query(request.args)

    async def draw() -> Response:
        archives = []
        if q:
            for db in await archive_databases(datasette, request):
                found = await read(
                    db, lambda conn: search_data(conn, q, channel=channel, limit=limit)
                )
                archives.append({"name": db.name, **found})
        data = {
            "q": q,
            "channel": channel,
            "channel_href": channel_path(channel) if channel else None,
            "limit": limit,
            "archives": archives,
        }
        return await _answer(datasette, request, "chanarchive_search.html", data)

    return await drawn(datasette, request, "search page", draw)


async def changes_page(datasette: Any, request: Any) -> Response:
    channel = (request.args.get("channel") or "").strip() or None
    kinds = read_kinds(request.args.get("kinds"))
    before = read_cursor(request.args.get("before"))

    async def draw() -> Response:
        archives = []
        many = await _many(datasette)
        for db in await archive_databases(datasette, request):
            if channel is not None:
                exists = await read(db, lambda conn: pages.channel_summary(conn, channel))
                if exists is None:
                    continue
            found = await read(
                db,
                lambda conn, db=db: change_list(
                    conn, db.name, channel=channel, kinds=kinds, before=before,
                    limit=PAGE_CHANGES, here="/-/changes", many=many,
                ),
            )  # fmt: skip
            archives.append({"name": db.name, "changes": found})
        if channel is not None and not archives:
            message = f"There is no channel called “{channel}” here."
            return await not_found(datasette, request, message, json=_is_json(request))
        data = {
            "channel": channel,
            "channel_href": channel_path(channel) if channel else None,
            "kinds": list(kinds),
            "archives": archives,
        }
        return await _answer(datasette, request, "chanarchive_changes.html", data)

    return await drawn(datasette, request, "changes page", draw)


async def changes_atom(datasette: Any, request: Any) -> Response:
    channel = (request.args.get("channel") or "").strip() or None
    kinds = read_kinds(request.args.get("kinds"))
    for db in await archive_databases(datasette, request):
        if channel is not None:
            exists = await read(db, lambda conn: pages.channel_summary(conn, channel))
            if exists is None:
                continue
        title = f"Changes in {channel or db.name}" + (
            f" ({', '.join(kinds)})" if kinds != KINDS else ""
        )
        feed = await read(
            db,
            lambda conn, title=title: change_feed(conn, channel=channel, kinds=kinds, title=title),
        )
        return Response(
            feed,
            content_type="application/atom+xml; charset=utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )
    return await not_found(datasette, request, f"There is no channel called “{channel}” here.")


# ------------------------------------------------------------------ media


async def media_route(datasette: Any, request: Any) -> Response:
    sha256 = request.url_vars["sha256"]
    for db in await archive_databases(datasette):
        if not db.path:
            continue
        try:
            found = await asyncio.get_running_loop().run_in_executor(
                None, read_media, db.path, sha256
            )
        except Exception as exc:  # a file the archive cannot give back: not found here
            logger.warning("media %s: %s: %s", sha256, exc.__class__.__name__, exc)
            continue
        if found is None:
            continue
        content_type, body = found
        kind, headers = media_headers(sha256, content_type)
        return Response(bytes(body), status=200, headers=headers, content_type=kind)
    return await not_found(datasette, request, f"There is no media file {sha256} here.")


#: The plugin's routes, most particular first (a page's ``.json`` before the page).
ROUTES = [
    (r"^/-/media/(?P<sha256>[0-9a-f]{64})$", media_route),
    (r"^/-/index(?P<format>\.json)$", index_json),
    (r"^/-/channel/(?P<name>[^/]+?)(?P<format>\.json)?$", channel_page),
    (r"^/-/post/(?P<name>[^/]+)/(?P<post_id>.+?)(?P<format>\.json)?$", post_page),
    (r"^/-/capture/(?P<id>[0-9]{1,18})/view$", capture_view),
    (r"^/-/capture/(?P<id>[0-9]{1,18})/raw$", capture_raw),
    (r"^/-/capture/(?P<id>[0-9]{1,18})(?P<format>\.json)?$", capture_page),
    (r"^/-/search(?P<format>\.json)?$", search_page),
    (r"^/-/changes\.atom$", changes_atom),
    (r"^/-/changes(?P<format>\.json)?$", changes_page),
]
