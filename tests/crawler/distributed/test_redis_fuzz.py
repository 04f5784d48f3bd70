"""Property-based: whatever Redis hands back, each door gives its checked object or its named
refusal, never another exception.

hypothesis makes arbitrary JSON, arbitrary bytes, and good records with one part replaced,
removed or added, and feeds them to :func:`read_delivery`, :func:`read_job` and the queued
request's schema (:func:`read_request`). A fixed number of examples runs in ``make test``
(``CHANARCHIVE_FUZZ_EXAMPLES`` raises it for a longer run).
"""

from __future__ import annotations

import copy
import json
import os
from typing import Any

import pytest
import scrapy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.errors import BadInput, BadRecord
from archive.extract import extract_page
from archive.models import Capture, MediaFetch, MediaRef
from archive.source import parse_source
from chanarchive.demo.site import render_channel_page
from crawler.distributed import serialize
from crawler.distributed.deliveries import Delivered, Delivery, read_delivery, refused_delivery
from crawler.distributed.jobs import Job, job_from_raw, read_job, read_result
from crawler.distributed.published import read_coverage, read_known
from crawler.distributed.requests import (
    BadRequest,
    CrawlContext,
    read_request,
    seed_child,
    side_child,
)
from crawler.distributed.worker.spider import WorkerSpider
from crawler.items import CheckItem, ErrorItem, MediaItem, PageItem
from crawler.options import CrawlOptions
from crawler.plans.checks import check_request
from crawler.plans.media import media_request
from tests.server import generated_channel

EXAMPLES = int(os.environ.get("CHANARCHIVE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
SITE = "http://127.0.0.1:9"
SOURCE = f"{SITE}/s/fuzzed"
CONTEXT = CrawlContext(3, parse_source(SOURCE), CrawlOptions())
SPIDER = WorkerSpider(link=None)

#: Words the records use, so that random objects reach past the first check.
_WORDS = st.sampled_from(
    ["v", "crawl", "rkey", "source", "items", "refused", "type", "page", "error", "media",
     "check", "capture", "url", "body", "status", "posts", "token", "options", "trigger",
     "meta", "callback", "errback", "headers", "method", "_class", "walk", "id", "$b",
     "media_refs", "profile", "settings", "parse", "GET", "manual", SOURCE, "@fuzzed"]
)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | _WORDS
)
JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(max_size=10) | _WORDS, inner, max_size=6)
    ),
    max_leaves=30,
)


def _page_item() -> PageItem:
    body = render_channel_page(generated_channel("fuzzed", 25), page_size=20).encode("utf-8")
    capture = Capture(SOURCE, "2026-12-07T00:00:00+00:00", 200, body,
                      [("Content-Type", "text/html; charset=utf-8")])  # fmt: skip
    return PageItem(SOURCE, capture, extract_page(body, SOURCE, channel="fuzzed"))


def _delivery() -> dict[str, Any]:
    items = [
        _page_item(),
        ErrorItem(SOURCE, SOURCE, "fetch", "timed out"),
        MediaItem(SOURCE, f"{SITE}/m.jpg", [MediaRef("fuzzed", "3", "0")],
                  MediaFetch(f"{SITE}/m.jpg", "2026-12-07T00:00:00+00:00", True, b"\xff")),
        CheckItem(SOURCE, "fuzzed", "4", f"{SITE}/fuzzed/4?embed=1", "alive", 200, "",
                  "2026-12-07T00:00:00+00:00"),
    ]  # fmt: skip
    record = Delivery(3, "a" * 24, 1, SOURCE, None, items=items).to_record()
    return json.loads(json.dumps(record))


def _job() -> dict[str, Any]:
    return Job("abc", parse_source(SOURCE), CrawlOptions(media="all", max_pages=5)).to_record()


def _requests() -> list[dict[str, Any]]:
    media = media_request(SOURCE, f"{SITE}/m.jpg", [MediaRef("fuzzed", "3", "0")], 100)
    check = check_request(SOURCE, SOURCE, "fuzzed", 4)
    children = [seed_child(CONTEXT), side_child(media, CONTEXT), side_child(check, CONTEXT)]
    return [serialize.loads(c.member) for c in children]


GOOD_DELIVERY, GOOD_JOB, GOOD_REQUESTS = _delivery(), _job(), _requests()


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every place in a JSON value: the value itself, each key and index below it."""
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value[:8]):  # a page's posts: the first few will do
            found += _paths(inner, (*path, index))
    return found


@st.composite
def mutated(draw, good: Any) -> Any:
    """``good`` with one place replaced by random JSON, removed, or given a new key."""
    value = copy.deepcopy(good)
    path = draw(st.sampled_from(_paths(value)))
    how = draw(st.sampled_from(["replace", "remove", "add"]))
    if not path:
        return draw(JSON)
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if how == "replace":
        parent[last] = draw(JSON)
    elif how == "remove":
        parent.pop(last)
    elif isinstance(parent[last], dict):
        parent[last][draw(st.text(max_size=10) | _WORDS)] = draw(JSON)
    else:
        parent[last] = [parent[last], draw(JSON)]
    return value


@FUZZ
@given(st.one_of(JSON, mutated(GOOD_DELIVERY)))
def test_a_delivery_is_read_or_refused_by_name(record):
    try:
        delivered = read_delivery(record)
    except BadRecord:
        return
    assert isinstance(delivered, Delivered)
    assert all(item.source == delivered.source for item in delivered.items)


@FUZZ
@given(st.one_of(JSON, mutated(GOOD_JOB)))
def test_a_job_is_read_or_refused_by_name(record):
    try:
        job = read_job(record)
    except BadInput:
        return
    assert isinstance(job, Job) and 1 <= len(job.token) <= 64


@FUZZ
@given(st.one_of(JSON, st.sampled_from(GOOD_REQUESTS).flatmap(mutated)))
def test_a_queued_request_is_built_from_checked_values_or_refused_by_name(data):
    try:
        request = read_request(serialize.dumps(data), SPIDER)
    except BadRequest:
        return
    assert isinstance(request, scrapy.Request) and request.method == "GET"
    assert request.url.startswith(("http://", "https://")) and not request.body
    assert request.callback.__func__ in {getattr(WorkerSpider, n) for n in (
        "parse", "parse_media", "parse_check")}  # fmt: skip
    assert CrawlContext.from_meta(request.meta).source.key == request.meta["source"]


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_bytes_from_redis_are_read_or_refused_by_name(raw):
    for read in (
        lambda: read_request(raw, SPIDER),
        lambda: job_from_raw(raw),
        lambda: read_result(raw),
        lambda: read_coverage(raw),
        lambda: read_known(raw),
    ):
        try:
            read()
        except BadInput:
            pass


@pytest.mark.parametrize("good", [GOOD_DELIVERY, refused_delivery(3, "b" * 24, "why")])
def test_the_good_records_the_mutations_start_from_are_read(good):
    assert read_delivery(good).crawl == 3
    assert read_job(GOOD_JOB).options.max_pages == 5
    for data in GOOD_REQUESTS:
        assert read_request(serialize.dumps(data), SPIDER).meta["crawl"]["id"] == 3
