"""The tests' HTTP server: sample Telegram channels plus routes for faults and behaviours.

Run ``python tests/server.py [--static DIR]``: it listens on ``127.0.0.1`` (a
free port), prints its base URL as the first line of stdout, and serves until
killed. Routes (besides the sample site's ``/s/<name>`` and ``/robots.txt``):

- ``/_control/channel?name=X&posts=N[&page_size=K]``: a channel with N generated posts (ids 1..N)
- ``/_control/edit?name=X&id=ID&text=...``, ``/_control/delete?name=X&id=ID``,
  ``/_control/add?name=X&count=N``, ``/_control/views?name=X&factor=2``,
  ``/_control/reactions?name=X&id=ID&set=👍:5,❤:2`` (an empty ``set`` removes the block)
- ``/_control/hide?name=X&id=ID``: post ID leaves the listing, its embed still shows it
  (``/_control/delete`` makes the embed answer "Post not found")
- ``/_control/embed_status?name=X&code=503``: X's embeds ``/X/ID?embed=1`` answer that
  status (``code=0``: as they should)
- ``/_control/embed_redirect?name=X&to=URL[&meta=1]``: X's embeds redirect to URL (302, or
  with ``meta=1`` a 200 page with a meta refresh; no ``to``: as they should)
- ``/_control/moved?at=P&to=URL``: path P (any route) answers a 302 to URL from now on
  (no ``to``: as it did)
- ``/_control/aimed?name=X&port=P[&hosts=JSON]``: channel X whose pictures are on
  127.0.0.1:P in every spelling (:func:`tests.hostile.aimed_channel`)
- ``/_control/embed_error?name=X&text=Too many requests``: X's embeds answer 200 with
  Telegram's error block saying ``text`` (an empty ``text``: as they should)
- ``/_control/page?at=/s/x&file=REL[&content_type=CT]``: the path ``at`` (any query)
  answers the static file ``REL`` (served as ``CT``; an empty ``file`` forgets the path)
- ``/_control/unreadable?name=X&case=preview_disabled|no_such|no_markup``: X's ``/s/X`` page
  redirects to ``/X`` (a "View in Telegram" or "contact @X" page) or has no channel markup
- ``/_control/latency?name=X&seconds=S[&older=1]``: every page of channel X (with
  ``older=1``: every ``?before=`` page) answers S seconds late (at most 120);
  ``/_control/held?name=X``: the paths of X's pages being held back so right now
- ``/_control/throttle?name=X&count=N``: the next N pages are ``tme_no_messages_found`` (200)
- ``/_control/drop_more?name=X&count=N``: the next N pages lack the older link and rel=prev
- ``/_control/start?name=X&case=no_link|empty|throttled|created``: how X's start shows
  (:data:`chanarchive.demo.site.START_CASES`; ``no_link``, the default: the first post's page
  has no older link, and below it the header without messages)
- ``/_control/get?name=X``: the channel as JSON; ``/_control/reset_stats``,
  ``/_control/reset_counters``; ``/_stats``: the request log as JSON
- ``/status/<code>``, ``/retry-after/<key>?n=N&after=S``, ``/flaky/<key>?n=N&code=503``,
  ``/delay?s=S``, ``/drop``, ``/redirect?to=PATH[&code=302]``, ``/garbage[?n=BYTES&seed=S]``,
  ``/big?mb=N``, ``/changing``, ``/private/...``, ``/static/<path>[?charset=NAME]``
- ``/media/<name>``: media files, with their controls (``tests/media_site.py``)

Requests to ``/_...`` are not logged.
"""

from __future__ import annotations

import argparse
import html
import json
import mimetypes
import random
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from archive.times import utcnow  # noqa: E402 - after the path fix-up
from chanarchive.demo.site import (  # noqa: E402 - after the path fix-up
    DROP,
    Request,
    Response,
    SampleChannel,
    SamplePost,
    SiteServer,
    html_page,
)
from tests import hostile  # noqa: E402 - after the path fix-up
from tests.media_site import MediaFiles  # noqa: E402 - after the path fix-up

DEFAULT_STATIC = Path(__file__).resolve().parent / "fixtures"
GENERATED_START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

_TOPICS = [
    ("天气", "Weather: sunny, 18°C. 今天晴，气温十八度。"),
    ("交通", "Traffic update: line 2 runs every 4 minutes. 地铁二号线每四分钟一班。"),
    ("美食", "Food: a new noodle shop opened downtown. 市中心新开了一家面馆。"),
    ("文化", "Culture: the museum is open late on Friday. 博物馆周五延长开放。"),
    ("体育", "Sports: the city marathon route is published. 城市马拉松路线公布。"),
]


def generated_text(post_id: int) -> str:
    """The text of generated post ``post_id``: unique, deterministic, part Chinese."""
    tag, line = _TOPICS[post_id % len(_TOPICS)]
    text = f"Test post {post_id} — 测试消息第{post_id}条\n{line}\n#{tag}"
    if post_id % 10 == 0:
        text += f"\nhttps://example.com/news/{post_id}"
    return text


#: Where generated posts' photos are when no server is named: a closed loopback port, so a
#: crawl that fetches them fails at once and nothing leaves the machine.
NOWHERE = "http://127.0.0.1:9"


def generated_post(post_id: int, date: str | None = None, base: str = NOWHERE) -> SamplePost:
    """Generated post ``post_id``; every 7th has a photo on ``base``'s ``/media/``."""
    when = date or (GENERATED_START + timedelta(hours=post_id)).isoformat()
    photos = [f"{base}/media/test-{post_id}.jpg"] if post_id % 7 == 0 else []
    return SamplePost(
        id=post_id,
        date=when,
        text=generated_text(post_id),
        views=100 + (post_id * 37) % 5000,
        photos=photos,
        reactions={"👍": post_id * 3, "❤": post_id} if post_id % 6 == 0 else None,
    )


def generated_channel(name: str, count: int, base: str = NOWHERE) -> SampleChannel:
    return SampleChannel(
        name=name,
        title=f"测试频道 {name}",
        description=f"Generated test channel @{name}.\n用于测试的频道。",
        subscribers=1000 + count,
        posts=[generated_post(i, base=base) for i in range(1, count + 1)],
    )


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _json(data: object, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False)
    return Response(status=status, body=body, content_type="application/json; charset=utf-8")


def _int(query: dict[str, str], key: str, default: int | None = None) -> int:
    raw = query.get(key)
    if raw is None or raw == "":
        if default is None:
            raise ControlError(400, f"missing parameter {key!r}")
        return default
    try:
        return int(raw)
    except ValueError:
        raise ControlError(400, f"parameter {key!r} must be an integer, not {raw!r}") from None


def _reactions(spec: str) -> dict[str, int] | None:
    """``👍:5,❤:2`` as ``{"👍": 5, "❤": 2}`` (None for an empty spec)."""
    reactions = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, count = part.rpartition(":")
        if not sep or not key or not count.isdigit():
            raise ControlError(400, f"bad reaction {part!r}: give EMOJI:COUNT")
        reactions[key] = int(count)
    return reactions or None


def _float(query: dict[str, str], key: str, default: float) -> float:
    try:
        return float(query.get(key) or default)
    except ValueError:
        raise ControlError(400, f"parameter {key!r} must be a number") from None


class FaultSite(SiteServer):
    """The sample site plus control, fault and static routes."""

    def __init__(self, static_dir: Path | str = DEFAULT_STATIC) -> None:
        super().__init__()
        self.static_dir = Path(static_dir).resolve()
        self.counters: dict[str, int] = {}
        self.latency: dict[str, float] = {}
        #: Channels whose pages are late only when they are ``?before=`` pages.
        self.latency_older: set[str] = set()
        #: The paths of the channel pages held back by a latency right now.
        self.held: list[str] = []
        self.route("/_control/", self._control)
        self.route("/_stats", self._stats)
        self.route("/status/", self._status)
        self.route("/retry-after/", self._retry_after)
        self.route("/flaky/", self._flaky)
        self.route("/delay", self._delay)
        self.route("/drop", lambda r: DROP if r.path == "/drop" else None)
        self.route("/redirect", self._redirect)
        self.route("/garbage", self._garbage)
        self.route("/big", self._big)
        self.route("/changing", self._changing)
        self.route("/private/", self._private)
        self.route("/static/", self._static)
        self.route("/hostile/", self._hostile)
        self.media = MediaFiles()  # served by _media_route below
        self.embed_redirect: dict[str, tuple[str, bool]] = {}
        self.moved: dict[str, str] = {}
        #: Paths that answer a static file: path -> (file, content type).
        self.pages: dict[str, tuple[Path, str | None]] = {}
        #: Channels whose embeds answer the error block with this text.
        self.embed_errors: dict[str, str] = {}

    def dispatch(self, request: Request) -> Response | object:
        with self.lock:
            target = self.moved.get(request.path)
            page = self.pages.get(request.path)
        if target is not None:
            return html_page("Moved", "<p>moved</p>", 302, headers=[("Location", target)])
        if page is not None:
            path, content_type = page
            kind = content_type or mimetypes.guess_type(path.name)[0] or "text/html"
            return Response(body=path.read_bytes(), content_type=kind)
        return super().dispatch(request)

    # -- control
    def _stats(self, request: Request) -> Response | None:
        if request.path != "/_stats":
            return None
        return _json([list(row) for row in self.requests])

    def _control(self, request: Request) -> Response:
        action = request.path[len("/_control/") :].strip("/")
        try:
            return _json(self._control_action(action, request.query))
        except ControlError as exc:
            return _json({"ok": False, "error": str(exc)}, exc.status)

    def _channel(self, query: dict[str, str]) -> SampleChannel:
        name = query.get("name", "")
        if name not in self.channels:
            raise ControlError(404, f"no channel {name!r}")
        return self.channels[name]

    def _control_action(self, action: str, q: dict[str, str]) -> dict:
        with self.lock:
            if action.startswith("media"):
                answer = self.media.control(self, action, q)
                if answer is not None:
                    return answer
            if action == "channel":
                name = q.get("name", "")
                if not name:
                    raise ControlError(400, "missing parameter 'name'")
                count = _int(q, "posts", 0)
                page_size = q.get("page_size")
                self.set_channel(generated_channel(name, count, base=self.url))
                if page_size:
                    self.page_sizes[name] = _int(q, "page_size")
                else:
                    self.page_sizes.pop(name, None)
                return {"ok": True, "name": name, "posts": count, "url": f"/s/{name}"}
            if action == "aimed":
                name = q.get("name", "")
                if not name:
                    raise ControlError(400, "missing parameter 'name'")
                hosts = json.loads(q.get("hosts") or "{}")
                self.set_channel(
                    hostile.aimed_channel(name, _int(q, "port"), self.url, hosts=hosts)
                )
                return {"ok": True, "url": f"/s/{name}"}
            if action == "moved":
                path = q.get("at", "")
                if not path.startswith("/"):
                    raise ControlError(400, "give at=/PATH and to=URL")
                if q.get("to"):
                    self.moved[path] = q["to"]
                else:
                    self.moved.pop(path, None)
                return {"ok": True}
            if action == "reset_stats":
                self.reset_log()
                return {"ok": True}
            if action == "reset_counters":
                self.counters.clear()
                return {"ok": True}
            if action == "page":
                path, rel = q.get("at", ""), q.get("file", "")
                if not path.startswith("/"):
                    raise ControlError(400, "give at=/PATH and file=REL")
                if not rel:
                    self.pages.pop(path, None)
                    return {"ok": True}
                target = (self.static_dir / rel).resolve()
                if not target.is_relative_to(self.static_dir) or not target.is_file():
                    raise ControlError(404, f"no static file {rel!r}")
                self.pages[path] = (target, q.get("content_type") or None)
                return {"ok": True}
            if action == "embed_error":
                name, text = q.get("name", ""), q.get("text", "")
                if not name:
                    raise ControlError(400, "missing parameter 'name'")
                if text:
                    self.embed_errors[name] = text
                else:
                    self.embed_errors.pop(name, None)
                return {"ok": True}
            if action == "unreadable":
                name, case = q.get("name", ""), q.get("case", "")
                if not name or case not in ("preview_disabled", "no_such", "no_markup", ""):
                    raise ControlError(400, "give name and case=preview_disabled|no_such|no_markup")
                if case:
                    self.unreadable[name] = case
                else:
                    self.unreadable.pop(name, None)
                return {"ok": True}
            channel = self._channel(q)
            if action == "get":
                return {"ok": True, "channel": channel.to_dict()}
            if action in ("edit", "delete", "hide"):
                post_id = _int(q, "id")
                try:
                    if action == "edit":
                        channel.edit(post_id, q.get("text", ""))
                    elif action == "hide":
                        channel.get(post_id).hidden = True
                    else:
                        channel.delete(post_id)
                except KeyError as exc:
                    raise ControlError(404, str(exc.args[0])) from None
                return {"ok": True, "id": post_id}
            if action == "add":
                ids = []
                for _ in range(_int(q, "count", 1)):
                    template = generated_post(channel.next_id, base=self.url)
                    post = channel.add(template.text, views=template.views, photos=template.photos)
                    ids.append(post.id)
                return {"ok": True, "ids": ids}
            if action == "reactions":
                post_id = _int(q, "id")
                try:
                    post = channel.get(post_id)
                except KeyError as exc:
                    raise ControlError(404, str(exc.args[0])) from None
                post.reactions = _reactions(q.get("set", ""))
                return {"ok": True, "id": post_id, "reactions": post.reactions}
            if action == "views":
                channel.grow_views(_float(q, "factor", 2.0))
                return {"ok": True}
            if action == "embed_status":
                code = _int(q, "code", 0)
                if code:
                    self.embed_status[channel.name] = code
                else:
                    self.embed_status.pop(channel.name, None)
                return {"ok": True}
            if action == "embed_redirect":
                if q.get("to"):
                    self.embed_redirect[channel.name] = (q["to"], q.get("meta") == "1")
                else:
                    self.embed_redirect.pop(channel.name, None)
                return {"ok": True}
            if action == "latency":
                self.latency[channel.name] = min(max(_float(q, "seconds", 0.0), 0.0), 120.0)
                if q.get("older") == "1":
                    self.latency_older.add(channel.name)
                else:
                    self.latency_older.discard(channel.name)
                return {"ok": True}
            if action == "held":
                prefix = f"/s/{channel.name}"
                return {"held": [t for t in self.held if t.split("?")[0] == prefix]}
            if action == "throttle":
                self.throttle(channel.name, _int(q, "count", 1))
                return {"ok": True}
            if action == "start":
                try:
                    self.show_start(channel.name, q.get("case") or "no_link")
                except ValueError as exc:
                    raise ControlError(400, str(exc)) from None
                return {"ok": True}
            if action == "drop_more":
                self.drop_more(channel.name, _int(q, "count", 1))
                return {"ok": True}
        raise ControlError(404, f"unknown control {action!r}")

    def _channel_route(self, request: Request) -> Response | None:
        name = request.path[len("/s/") :].strip("/").split("/")[0]
        with self.lock:
            delay = self.latency.get(name)
            if name in self.latency_older and "before" not in request.query:
                delay = None
            if delay:
                self.held.append(request.target)
        if delay:
            try:
                time.sleep(delay)  # outside the lock: other requests go on meanwhile
            finally:
                with self.lock:
                    self.held.remove(request.target)
        response = super()._channel_route(request)
        with self.lock:
            return self.media.signed_page(response) if response is not None else None

    def _media_route(self, request: Request) -> Response | None:
        return self.media.route(request)

    def _tme_route(self, request: Request) -> Response | None:
        parts = request.path.strip("/").split("/")
        with self.lock:
            moved = self.embed_redirect.get(parts[0]) if len(parts) == 2 else None
            text = self.embed_errors.get(parts[0]) if len(parts) == 2 else None
        if text is not None and parts[1].isdigit():
            return html_page(
                "Telegram",
                '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
                f'<div class="tgme_widget_message_error">{html.escape(text)}</div></div>',
            )
        if moved is None or "embed" not in request.query:
            return super()._tme_route(request)
        target, meta = moved
        if meta:
            refresh = f'<meta http-equiv="refresh" content="0;url={html.escape(target)}">'
            return html_page("Moved", refresh + "<p>moved</p>")
        return html_page("Moved", "<p>moved</p>", 302, headers=[("Location", target)])

    # -- faults and behaviours
    def _count(self, key: str) -> int:
        """How many times ``key`` was asked for, this request included."""
        with self.lock:
            self.counters[key] = self.counters.get(key, 0) + 1
            return self.counters[key]

    def _status(self, request: Request) -> Response:
        raw = request.path[len("/status/") :].strip("/")
        if not raw.isdigit() or not 200 <= int(raw) <= 599:
            return html_page("Bad Request", "<p>bad status code</p>", 400)
        code = int(raw)
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Status"
        return html_page(f"{code} {phrase}", f"<h1>{code} {html.escape(phrase)}</h1>", code)

    def _retry_after(self, request: Request) -> Response:
        key = request.path[len("/retry-after/") :]
        n = _query_int(request, "n", 1)
        seen = self._count("retry-after/" + key)
        if seen <= n:
            after = request.query.get("after", "1")
            return html_page(
                "Too Many Requests",
                f"<h1>429 Too Many Requests</h1><p>attempt {seen}</p>",
                429,
                headers=[("Retry-After", after)],
            )
        return html_page(f"OK {key}", f"<h1>OK</h1><p>{html.escape(key)} attempt {seen}</p>")

    def _flaky(self, request: Request) -> Response:
        key = request.path[len("/flaky/") :]
        n = _query_int(request, "n", 1)
        code = _query_int(request, "code", 503)
        seen = self._count("flaky/" + key)
        if seen <= n:
            return html_page("Error", f"<h1>{code}</h1><p>attempt {seen}</p>", code)
        return html_page(f"OK {key}", f"<h1>OK</h1><p>{html.escape(key)} attempt {seen}</p>")

    def _delay(self, request: Request) -> Response | None:
        if request.path != "/delay":
            return None
        try:
            seconds = min(max(float(request.query.get("s", "1")), 0.0), 300.0)
        except ValueError:
            seconds = 1.0
        time.sleep(seconds)
        return html_page("Delayed", f"<p>waited {seconds:g} s</p>")

    def _redirect(self, request: Request) -> Response | None:
        if request.path != "/redirect":
            return None
        target = request.query.get("to", "/")
        code = _query_int(request, "code", 302)
        return html_page(
            "Redirect",
            f'<a href="{html.escape(target)}">moved</a>',
            code,
            headers=[("Location", target)],
        )

    def _garbage(self, request: Request) -> Response | None:
        if request.path != "/garbage":
            return None
        size = _query_int(request, "n", 4096)
        seed = _query_int(request, "seed", 1234)
        return Response(body=random.Random(seed).randbytes(size), content_type="text/html")

    def _big(self, request: Request) -> Response | None:
        if request.path != "/big":
            return None
        try:
            mib = float(request.query.get("mb", "1"))
        except ValueError:
            mib = 1.0
        total = int(mib * 1024 * 1024)
        return Response(body=_big_body(total), length=total)

    def _changing(self, request: Request) -> Response | None:
        if request.path != "/changing":
            return None
        n = self._count("changing")
        stamp = utcnow()
        body = (
            "<article><h1>A page that never stays the same</h1>"
            f"<p>This article has been fetched {n} times; the last fetch was at {stamp}.</p>"
            f"<p>这篇文章已经被访问了{n}次，每次内容都不一样。</p>"
            "<p>The rest of the article is the same on every fetch, so only the counter "
            "and the time above differ between two captures.</p></article>"
        )
        return html_page("Changing article", body)

    def _hostile(self, request: Request) -> Response:
        name = request.path[len("/hostile/") :].strip("/")
        found = hostile.serve(name, request.query)
        if found is None:
            return html_page("Not Found", "<h1>Not Found</h1>", 404)
        status, headers, body = found
        named = dict(headers)
        content_type = named.get("Content-Type", "text/html")
        length = named.get("Content-Length")
        rest = [(k, v) for k, v in headers if k not in ("Content-Type", "Content-Length")]
        return Response(
            status=status,
            body=body,
            content_type=content_type,
            headers=rest,
            length=int(length) if length else None,
        )

    def _private(self, request: Request) -> Response:
        return html_page("Private", "<h1>Private</h1><p>robots.txt disallows this page.</p>")

    def _static(self, request: Request) -> Response:
        rel = request.path[len("/static/") :]
        if "\x00" in rel:
            return html_page("Forbidden", "<h1>Forbidden</h1>", 403)
        target = (self.static_dir / rel).resolve()
        if not target.is_relative_to(self.static_dir):
            return html_page("Forbidden", "<h1>Forbidden</h1>", 403)
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            return html_page("Not Found", "<h1>Not Found</h1>", 404)
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        charset = request.query.get("charset")
        if charset:
            content_type += f"; charset={charset}"
        return Response(body=target.read_bytes(), content_type=content_type)


def _query_int(request: Request, key: str, default: int) -> int:
    try:
        return int(request.query.get(key) or default)
    except ValueError:
        return default


def _big_body(total: int) -> Iterator[bytes]:
    head = (
        b'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>Big page</title></head><body>\n'
    )
    tail = b"</body></html>\n"
    para = b"<p>" + b"A big page, filler text for the download size cap. " * 20 + b"</p>\n"
    sent = 0

    def take(data: bytes) -> bytes:
        nonlocal sent
        piece = data[: max(total - sent, 0)]
        sent += len(piece)
        return piece

    yield take(head)
    room_for_tail = total - len(tail)
    chunk = para * 64
    while sent < room_for_tail:
        yield take(chunk[: room_for_tail - sent])
    if sent < total:
        yield take(tail)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static", default=str(DEFAULT_STATIC), help="folder served at /static/")
    args = parser.parse_args(argv)
    site = FaultSite(args.static).start()
    print(site.url, flush=True)
    try:
        site.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


if __name__ == "__main__":
    main()
