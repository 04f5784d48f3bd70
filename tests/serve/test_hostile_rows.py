"""Pages survive any one row: hostile values put straight into an archive with SQLite.

A shared archive may hold anything, whatever chanarchive's own write path
would have checked: a post of megabytes, a date in the year 9999, a view
count that is text, JSON that is not, a web channel keyed with a port, a
media file whose stored content type names HTML. Each page that shows
such a row must answer 200 without a traceback — the chanarchive pages and
Datasette's own tables, read over HTTP from bare ``datasette`` and in real
Chromium — long values shortened with the whole value a click away, bad
values shown as absent, links that round-trip, and media served inline
only as exactly one picture, video or audio type.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
from pathlib import Path

import pytest

from archive.serve.plugin.pages import channel_path, from_path, post_path
from tests.conftest import OPENER
from tests.helpers import free_port
from tests.hostile_archive import HTML, HUGE, MEDIA_TYPES, WEB, WEB_POSTS, hostile_archive
from tests.safety import file_bytes

#: Datasette's own pages of the tables that hold the hostile rows.
TABLE_PAGES = (
    "/archive",
    "/archive/posts",
    "/archive/posts.json",
    "/archive/posts?_search=" + urllib.parse.quote("长文"),
    "/archive/post_versions",
    "/archive/post_versions.json?_shape=array",
    "/archive/channels",
    "/archive/crawls",
    "/archive/crawl_errors",
    "/archive/post_views",
    "/archive/post_reactions",
    "/archive/posts?_facet=channel_id&_facet_date=published_at",
)

#: The chanarchive pages that show them (and their JSON, search, change lists, captures).
OWN_PAGES = (
    "/",
    channel_path("news_cn"),
    channel_path(WEB),
    *(post_path("news_cn", str(i)) for i in range(1, 8)),
    *(post_path(WEB, post_id) for post_id in WEB_POSTS),
    "/-/index.json",
    channel_path(WEB) + ".json",
    post_path("news_cn", "1") + ".json",
    *(post_path(WEB, post_id) + ".json" for post_id in WEB_POSTS),
    "/-/search?q=" + urllib.parse.quote("长文"),
    "/-/search.json?q=" + urllib.parse.quote("长文 END"),
    "/-/changes",
    "/-/changes.json?kinds=edited,new",
    "/-/changes.atom",
    "/-/capture/1",
    "/-/capture/1.json",
    "/-/capture/1/view",
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    db = tmp_path_factory.mktemp("hostile") / "archive.db"
    media = hostile_archive(db)
    return db, media


@pytest.fixture(scope="module")
def served(hostile):
    """Bare ``datasette`` on the hostile archive, a real process on 127.0.0.1."""
    db, _ = hostile
    before = file_bytes(db)
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "datasette", str(db), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with OPENER.open(base + "/-/versions.json", timeout=2) as resp:
                resp.read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.seek(0)
                raise RuntimeError(log.read().decode()) from None
            time.sleep(0.1)
    yield base, log
    proc.terminate()
    proc.wait(timeout=10)
    log.close()
    assert file_bytes(db) == before, "serving changed the archive"


def get(base: str, path: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with OPENER.open(base + path, timeout=60) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


def assert_whole(status: int, body: bytes, path: str) -> str:
    text = body.decode("utf-8", "replace")
    assert status == 200, (path, status, text[:500])
    assert "Traceback" not in text and "Error 500" not in text, path
    return text


def test_every_page_and_table_answers_over_http(served):
    base, log = served
    for path in OWN_PAGES + TABLE_PAGES:
        status, _headers, body = get(base, path)
        assert_whole(status, body, path)
    log.seek(0)
    assert b"Traceback" not in log.read()


def test_long_values_are_shortened_and_the_whole_value_is_a_click_away(served):
    base, _ = served
    status, _, body = get(base, post_path("news_cn", "1"))
    page = assert_whole(status, body, "post 1")
    assert len(body) < 2_000_000  # not the megabytes: their start
    assert "Shortened: the first 50,000 of 600,007 characters." in page
    [whole] = set(re.findall(r'href="(/archive/post_versions/\d+)">The whole text', page))
    status, _, row = get(base, whole)
    assert "THE END" in assert_whole(status, row, whole)
    # Datasette's table lists them shortened; their row pages give them whole.
    status, _, table = get(base, "/archive/posts")
    assert "THE END" not in assert_whole(status, table, "posts")
    status, _, huge = get(base, post_path("news_cn", "6"))
    assert f"of {len(HUGE):,} characters" in assert_whole(status, huge, "post 6")


def test_bad_times_and_counts_are_shown_as_absent(served):
    base, _ = served
    status, _, body = get(base, channel_path("news_cn"))
    channel = assert_whole(status, body, "channel")
    assert "9999" not in channel and "lots" not in channel and "yesterday" not in channel
    assert "posts without a readable date from 1970 to 2100 are not drawn" in channel
    svg = channel[channel.index('<svg class="chart activity"') :]
    assert int(re.search(r'data-buckets="(\d+)"', svg).group(1)) < 100
    assert "THE END" not in channel  # the description and the error message, shortened
    status, _, body = get(base, post_path("news_cn", "3"))
    post = assert_whole(status, body, "post 3")
    views = post[post.index('<svg class="chart line views"') :].split("</svg>")[0]
    # Only the count that is a count, at a time that is a time: 99.
    assert 'data-points="1"' in views and "many" not in views and "-7" not in views
    assert "<strong>99</strong> views" in post
    reactions = post[post.index('<svg class="chart line reactions"') :].split("</svg>")[0]
    assert "😢: 3 at" in reactions and "👍" not in reactions
    status, _, body = get(base, post_path("news_cn", "4"))
    four = assert_whole(status, body, "post 4")
    assert "yesterday" not in four and "12345" not in four and "0000-00-00" not in four


def test_web_channel_links_round_trip(served):
    base, _ = served
    status, _, body = get(base, "/")
    home = assert_whole(status, body, "/")
    assert 'href="/-/channel/127.0.0.1%3A8080"' in home
    status, _, body = get(base, channel_path(WEB))
    channel = assert_whole(status, body, WEB)
    assert "Port site" in channel
    links = set(re.findall(r'href="(/-/post/[^"]+)"', channel))
    assert links == {post_path(WEB, post_id) for post_id in WEB_POSTS}
    for link in links:
        status, _, body = get(base, link)
        page = assert_whole(status, body, link)
        name, post_id = link[len("/-/post/") :].split("/", 1)
        assert from_path(name) == WEB and from_path(post_id) in WEB_POSTS
        assert f"<h1>{WEB} / " in page
    # The unescaped spelling reaches the same page.
    status, _, body = get(base, "/-/channel/127.0.0.1:8080")
    assert "Port site" in assert_whole(status, body, "unescaped")


def test_media_are_inline_only_as_exactly_one_picture_video_or_sound_type(served, hostile):
    base, _ = served
    _, media = hostile
    for stored, (served_as, inline) in MEDIA_TYPES.items():
        status, headers, body = get(base, f"/-/media/{media[stored]}")
        assert status == 200, stored
        assert headers["content-type"] == served_as, stored
        assert headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in headers["content-security-policy"]
        disposition = headers.get("content-disposition", "")
        assert disposition.startswith("attachment") != inline, stored
        assert "x-evil" not in headers
        assert body.startswith(HTML)


# ------------------------------------------------------------------ in Chromium

from tests.serve.test_pages_browser import CHROMIUM, tab  # noqa: E402, F401 (a fixture)

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium")


@needs_chromium
def test_every_page_shows_in_chromium(served, tab):  # noqa: F811
    base, _ = served
    for path in OWN_PAGES + TABLE_PAGES[:-1]:
        if path.endswith((".json", ".atom", "/view")) or ".json?" in path:
            continue  # not a page of ours: JSON, a feed, a capture as cleaned
        response = tab.goto(base + path)
        assert response.status == 200, path
        content = tab.content()
        assert "Traceback" not in content and "Error 500" not in content, path
        assert tab.locator("h1").first.is_visible(), path


@needs_chromium
def test_a_person_follows_the_web_channel_links_in_chromium(served, tab):  # noqa: F811
    base, _ = served
    tab.goto(base + "/")
    tab.locator("table.channels a", has_text=WEB).click()
    tab.wait_for_url("**/-/channel/127.0.0.1%3A8080")
    assert tab.locator("h1").inner_text().startswith("Port site")
    for post_id in WEB_POSTS:
        tab.goto(base + channel_path(WEB))
        tab.locator(f'a[href="{post_path(WEB, post_id)}"]').first.click()
        tab.wait_for_load_state()
        assert tab.url == base + post_path(WEB, post_id)
        assert tab.locator("h1").inner_text() == f"{WEB} / {post_id}"


@needs_chromium
def test_chromium_never_renders_a_media_file_as_a_page(served, hostile, tab):  # noqa: F811
    from playwright.sync_api import Error

    base, _ = served
    _, media = hostile
    for stored, (_served_as, inline) in MEDIA_TYPES.items():
        url = f"{base}/-/media/{media[stored]}"
        if inline:
            response = tab.goto(url)
            assert response.status == 200
        else:
            with tab.expect_download() as download:
                with pytest.raises(Error):
                    tab.goto(url)  # a download, not a page
            assert download.value.suggested_filename == media[stored]
        assert tab.title() != "ran", stored
        assert "ran" not in tab.evaluate("document.body ? document.body.innerText : ''"), stored


def test_datasette_csv_downloads_are_neutralised_for_spreadsheets(served):
    base, _ = served
    sql = "SELECT '=HYPERLINK(\"http://evil.example\")' AS a, '-2+3' AS b, -7 AS c, ' @x' AS d"
    for path in (
        "/archive.csv?" + urllib.parse.urlencode({"sql": sql}),
        "/archive.csv?" + urllib.parse.urlencode({"sql": sql, "_dl": "1"}),
    ):
        status, headers, body = get(base, path)
        assert status == 200, path
        assert (
            body.decode()
            == 'a,b,c,d\r\n"\'=HYPERLINK(""http://evil.example"")",\'-2+3,-7,\' @x\r\n'
        )
    status, _, body = get(base, "/archive/posts.csv?_size=max")
    text = assert_whole(status, body, "posts.csv")
    assert "THE END" in text  # the whole values, one mark at most in front of each
    status, _, body = get(base, "/archive/posts.json?_shape=array&_size=1")
    assert status == 200  # the exact values, as JSON
