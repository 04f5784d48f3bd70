"""The door of a queued request: what the queue holds is read only into a checked GET.

Everything a worker takes from Redis is built here from checked values; a member that does
not fit is :class:`BadRequest`, never built, never fetched, never imported.
"""

from __future__ import annotations

import copy
import json
import sys

import pytest
import scrapy

from archive.errors import BadInput
from archive.models import MediaRef
from archive.source import parse_source
from crawler.distributed import serialize
from crawler.distributed.requests import (
    BadRequest,
    CrawlContext,
    Refusal,
    child,
    read_request,
    refusal_of,
    seed_child,
    side_child,
)
from crawler.distributed.worker.spider import WorkerSpider
from crawler.options import CrawlOptions
from crawler.plans.checks import check_request
from crawler.plans.media import media_request

SITE = "http://127.0.0.1:9"
CONTEXT = CrawlContext(7, parse_source(f"{SITE}/s/schema"), CrawlOptions(media="all"))
MARKER_MODULE = "chanarchive_test_marker_never_imported"


@pytest.fixture(scope="module")
def spider() -> WorkerSpider:
    return WorkerSpider(link=None)


def seed() -> dict:
    return serialize.loads(seed_child(CONTEXT).member)


def member(data: dict) -> str:
    return serialize.dumps(data)


def test_every_request_the_crawl_queues_reads_back_as_it_was(spider):
    source = CONTEXT.source.key
    media = side_child(
        media_request(source, f"{SITE}/media/a.jpg", [MediaRef("schema", "3", "0")], 1024),
        CONTEXT,
    )
    check = side_child(check_request(source, f"{SITE}/s/schema", "schema", 12), CONTEXT)
    page = scrapy.Request(
        f"{SITE}/s/schema?before=20", meta={"source": source, "before": 20, "depth": 1}
    )
    walked = child(page, CONTEXT, callback="parse", errback="on_error", channel="schema",
                   walk=[[21, 40]])  # fmt: skip
    for queued, callback in ((seed_child(CONTEXT), "parse"), (media, "parse_media"),
                             (check, "parse_check"), (walked, "parse")):  # fmt: skip
        request = read_request(queued.member, spider)
        data = serialize.loads(queued.member)
        assert request.url == data["url"] and request.callback.__name__ == callback
        assert request.meta == data["meta"] and request.priority == data["priority"]
        assert CrawlContext.from_meta(request.meta) == CONTEXT
        assert request.meta["rkey"] == queued.rkey
    assert read_request(walked.member, spider).meta["walk"] == [[21, 40]]


def _with(change) -> dict:
    data = seed()
    change(data)
    return data


def _meta(**values) -> dict:
    def change(data):
        data["meta"].update(values)

    return _with(change)


def _options(**values) -> dict:
    def change(data):
        data["meta"]["crawl"]["options"].update(values)

    return _with(change)


BAD = {
    "a class to load": _with(lambda d: d.update(_class=f"{MARKER_MODULE}.Request")),
    "the plain class named": _with(lambda d: d.update(_class="scrapy.http.request.Request")),
    "a method of the spider to call": _with(lambda d: d.update(callback="close")),
    "a dunder": _with(lambda d: d.update(callback="__init__", errback="__init__")),
    "a mixed pair": _with(lambda d: d.update(errback="media_failed")),
    "a callback that is a list": _with(lambda d: d.update(callback=["parse"])),
    "a POST": _with(lambda d: d.update(method="POST")),
    "a body": _with(lambda d: d.update(body=b"x=1")),
    "a file URL": _with(lambda d: d.update(url="file:///etc/passwd")),
    "a URL without host": _with(lambda d: d.update(url="http:///x")),
    "a URL with a space": _with(lambda d: d.update(url="http://a.test/x y")),
    "a bad port": _with(lambda d: d.update(url="http://a.test:99999/")),
    "a huge URL": _with(lambda d: d.update(url="http://a.test/" + "x" * 10_000)),
    "an unknown key": _with(lambda d: d.update(pickle="gASVAAAAAAAAAAB9lC4=")),
    "cb_kwargs": _with(lambda d: d.update(cb_kwargs={"a": 1})),
    "another encoding": _with(lambda d: d.update(encoding="utf-7")),
    "a priority out of range": _with(lambda d: d.update(priority=10**12)),
    "a header with a line break": _with(lambda d: d.update(headers={"X": [b"a\r\nHost: b"]})),
    "too many headers": _with(lambda d: d.update(headers={f"X-{i}": [b"v"] for i in range(40)})),
    "a header value too long": _with(lambda d: d.update(headers={"X": [b"v" * 9000]})),
    "cookies as a list": _with(lambda d: d.update(cookies=[{"name": "a", "value": "b"}])),
    "no meta": _with(lambda d: d.pop("meta")),
    "a proxy": _meta(proxy="http://10.0.0.1:3128"),
    "robots.txt ignored": _meta(dont_obey_robotstxt=True),
    "no crawl": _with(lambda d: d["meta"].pop("crawl")),
    "no request key": _with(lambda d: d["meta"].pop("rkey")),
    "a crawl id of text": _meta(crawl={**seed()["meta"]["crawl"], "id": "7"}),
    "a crawl id of zero": _meta(crawl={**seed()["meta"]["crawl"], "id": 0}),
    "a crawl with an unknown key": _meta(crawl={**seed()["meta"]["crawl"], "x": 1}),
    "another source than its crawl's": _meta(source="@durov"),
    "a walk of text": _meta(walk="1-40"),
    "a walk of bad ranges": _meta(walk=[[40, 1]]),
    "a walk of huge ids": _meta(walk=[[1, 2**70]]),
    "a channel that is a path": _meta(channel="../etc"),
    "a depth of text": _meta(depth="1"),
    "a before of zero": _meta(before=0),
    "a flag of text": _meta(recheck="yes"),
    "a size of a float": _meta(download_maxsize=1.5),
    "a timeout of zero": _meta(download_timeout=0),
    "redirects to a file": _meta(redirect_urls=["file:///etc/passwd"]),
    "a profile file": _options(profile="/etc/passwd"),
    "a profile TOML beside": _options(profile="mine.toml"),
    "an unknown option": _options(threads=99),
    "a fixed setting": _options(settings={"ITEM_PIPELINES": "x"}),
    "media without refs": _with(
        lambda d: (
            d.update(callback="parse_media", errback="media_failed")
            or d["meta"].update(media_url=f"{SITE}/m.jpg")
        )
    ),
    "a check without its post": _with(
        lambda d: d.update(callback="parse_check", errback="check_failed")
    ),  # fmt: skip
    "a check of no post number": _with(
        lambda d: (
            d.update(callback="parse_check", errback="check_failed")
            or d["meta"].update(check=["schema", "1 OR 1=1"])
        )
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_request_that_does_not_fit_is_refused_saying_why(case, spider, tmp_path):
    with pytest.raises(BadRequest) as refused:
        read_request(member(BAD[case]), spider)
    assert len(str(refused.value)) <= 300
    assert MARKER_MODULE not in sys.modules


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[]", b'"x"', b"5", b"null", b"[" * 100_000, b"\xff\xfe",
     b'{"url": NaN}', b'{"$b": 5}', b'{"body": {"$b": "%%%"}}', b"{}" + b" " * (5 * 2**20)],
)  # fmt: skip
def test_a_member_that_is_not_a_request_record_is_refused(raw, spider):
    with pytest.raises(BadRequest):
        read_request(raw, spider)


def test_a_refused_request_still_tells_its_crawl_and_key_when_it_can():
    data = copy.deepcopy(BAD["a class to load"])
    assert refusal_of(member(data)) == Refusal(7, data["meta"]["rkey"])
    data["meta"]["rkey"] = "not a key"
    assert refusal_of(member(data)) == Refusal(7, None)
    assert refusal_of(b"[" * 100_000) == Refusal(None, None)
    assert refusal_of(json.dumps({"meta": {"crawl": {"id": True}}})) == Refusal(None, None)


def test_a_queued_crawl_names_its_profile_never_a_file():
    assert CrawlOptions.from_queue({"profile": "example"}).profile == "example"
    for path in ("/etc/passwd", "../x", "x.toml", "~/.config/p", "a/b"):
        with pytest.raises(BadInput, match="names its profile, not a file"):
            CrawlOptions.from_queue({"profile": path})
