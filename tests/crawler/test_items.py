"""Items and their record form: what crosses from a worker to the ingester, checked at the door."""

from __future__ import annotations

import json

import pytest

from archive.errors import BadRecord
from archive.extract import extract_page
from archive.models import Capture, MediaFetch, MediaRef
from chanarchive.demo.site import render_channel_page
from crawler.items import CheckItem, ErrorItem, MediaItem, PageItem, item_from_record
from tests.server import generated_channel

URL = "http://127.0.0.1:9/s/items"


def page_item() -> PageItem:
    body = render_channel_page(generated_channel("items", 5), page_size=20).encode("utf-8")
    capture = Capture(URL, "2026-12-07T00:00:00.000000+00:00", 200, body,
                      [("Content-Type", "text/html; charset=utf-8")])  # fmt: skip
    return PageItem(URL, capture, extract_page(body, URL, channel="items"), start=True)


def wire(item) -> dict:
    """The item's record as it comes out of Redis: through JSON text."""
    return json.loads(json.dumps(item.to_record(), ensure_ascii=False))


def test_every_item_comes_back_from_its_record_as_it_was():
    items = [
        page_item(),
        ErrorItem(URL, URL, "fetch", "timed out"),
        MediaItem(
            URL,
            "http://127.0.0.1:9/m/1.jpg",
            [MediaRef("items", "3", "0")],
            MediaFetch(
                "http://127.0.0.1:9/m/1.jpg",
                "2026-12-07T00:00:00+00:00",
                True,
                b"\xff\xd8\x00",
                "image/jpeg",
                200,
            ),
        ),  # fmt: skip
        CheckItem(
            URL,
            "items",
            "4",
            "http://127.0.0.1:9/items/4?embed=1",
            "deleted",
            200,
            "Post not found",
            "2026-12-07T00:00:00+00:00",
            Capture(
                "http://127.0.0.1:9/items/4?embed=1",
                "2026-12-07T00:00:00+00:00",
                200,
                b"<div class='tgme_widget_message_error'>Post not found</div>",
            ),
        ),
    ]
    for item in items:
        assert item_from_record(wire(item)) == item


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(type="picture"), "unknown item type 'picture'"),
        (lambda r: r["capture"].update(status="200"), "capture.status: must be a whole number"),
        (lambda r: r["capture"].update(body="%%%"), "capture.body: not base64"),
        (
            lambda r: r["capture"].update(headers=[["a"]]),
            r"capture.headers\[0\]: must be a list of 2",
        ),
        (lambda r: r["page"].update(posts={}), "page.posts: must be a list"),
        (lambda r: r["page"]["posts"][0].update(views="many"), r"posts\[0\].views"),
        (lambda r: r["page"]["posts"][0].update(html=None), r"posts\[0\].html: must be text"),
        (lambda r: r["page"].update(profile="x"), "page: unknown field 'profile'"),
        (lambda r: r.pop("capture"), "no 'capture'"),
        (lambda r: r.update(start="yes"), "start: must be true or false"),
    ],
)
def test_a_page_record_of_the_wrong_shape_is_refused_saying_where(change, message):
    record = wire(page_item())
    change(record)
    with pytest.raises(BadRecord, match=message):
        item_from_record(record)


def test_values_an_item_cannot_take_are_refused():
    with pytest.raises(BadRecord, match="unknown kind 'boom'"):
        item_from_record(
            {"type": "error", "source": URL, "url": None, "kind": "boom", "message": ""}
        )
    check = wire(CheckItem(URL, "c", "1", URL, "alive", 200, "", "2026-12-07T00:00:00+00:00"))
    check["outcome"] = "maybe"
    with pytest.raises(BadRecord, match="unknown outcome 'maybe'"):
        item_from_record(check)


def test_a_record_over_the_size_caps_is_refused(monkeypatch):
    import archive.models

    monkeypatch.setattr(archive.models, "MAX_RECORD_TEXT", 1000)
    record = wire(ErrorItem(URL, URL, "fetch", "x" * 1001))
    with pytest.raises(BadRecord, match="message: 1001 characters, more than 1000"):
        item_from_record(record)
    monkeypatch.setattr(archive.models, "MAX_RECORD_ITEMS", 3)
    record = wire(page_item())
    with pytest.raises(BadRecord, match="page.posts: 5 entries, more than 3"):
        item_from_record(record)
