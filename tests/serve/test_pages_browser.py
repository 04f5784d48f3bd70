"""The pages in a real browser: headless Chromium (Debian's) driven by Playwright.

Bare ``datasette demo.db`` serves the demo archive on 127.0.0.1 (the pages
come through the plugin's entry point), ``chanarchive serve`` the hostile
captures; one browser and one tab serve every test of the module. The tests skip when Chromium or Playwright is missing;
``.ci/run`` installs Chromium so that CI always runs them.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import OPENER
from tests.helpers import free_port
from tests.serve.capture_archive import capture_archive

#: Debian's binary first: /usr/bin/chromium is a shell wrapper that adds flags and noise.
CHROMIUM = next(
    (
        path
        for path in ("/usr/lib/chromium/chromium", shutil.which("chromium"))
        if path and Path(path).exists()
    ),
    None,
)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium (apt-get install chromium)")


def _serve(db: Path, *, command: str = "datasette"):
    """``datasette`` (bare) or ``chanarchive serve`` on ``db``, as a real process on
    127.0.0.1: its base URL."""
    port = free_port()
    log = tempfile.TemporaryFile()
    args = (
        ["-m", "datasette", str(db), "--host", "127.0.0.1", "--port", str(port)]
        if command == "datasette"
        else ["-m", "chanarchive", "--db", str(db), "serve", "--port", str(port)]
    )
    proc = subprocess.Popen([sys.executable, *args], stdout=log, stderr=subprocess.STDOUT)
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
    yield base
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="module")
def served(demo_archive):
    """Bare ``datasette`` on the demo archive, as a real process on 127.0.0.1."""
    yield from _serve(demo_archive)


@pytest.fixture(scope="module")
def hostile_captures(tmp_path_factory):
    """``chanarchive serve`` on captures that try everything: (base URL, capture ids)."""
    db = tmp_path_factory.mktemp("captures") / "captures.db"
    ids = capture_archive(db)
    for base in _serve(db, command="chanarchive serve"):
        yield base, ids


@pytest.fixture(scope="module")
def tab():
    """One Chromium tab for the module (launching costs a second; a tab a fraction)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        # Nothing but the local server: a request anywhere else fails the page.
        context.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith("http://127.0.0.1:")
                else route.abort()
            ),
        )
        page = context.new_page()
        yield page
        context.close()
        browser.close()


def test_home_page_leads_with_the_channel(served, tab):
    response = tab.goto(served + "/")
    assert response.status == 200
    headings = tab.locator("h2").all_inner_texts()
    assert headings[:2] == ["Channels", "Latest changes"]
    row = tab.locator("table.channels tbody tr").first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "chanarchive_demo" and cells[1] == "临江城市速递" and cells[2] == "48"
    assert cells[4:] == ["1", "1"]  # edits found, deletions found
    # Above everything else, in the first screen; the internal tables folded away below.
    table = tab.locator("table.channels").bounding_box()
    assert table["y"] + table["height"] < 900
    assert tab.locator("details.internal").bounding_box()["y"] > table["y"]
    assert not tab.locator("details.internal a", has_text="boilerplate").is_visible()
    tab.locator("details.internal summary").click()
    assert tab.locator("details.internal a", has_text="boilerplate").is_visible()


def test_channel_page_draws_its_activity(served, tab):
    tab.goto(served + "/")
    tab.locator("table.channels a", has_text="chanarchive_demo").click()
    tab.wait_for_url("**/-/channel/chanarchive_demo")
    assert tab.locator("h1").inner_text().startswith("临江城市速递")
    chart = tab.locator("svg.activity")
    box = chart.bounding_box()
    assert box["width"] > 500 and box["height"] > 100
    bars = {
        name: chart.locator(f"g.series.{name} rect").count()
        for name in ("posts", "edits", "deletions")
    }
    assert bars["posts"] > 10 and bars["edits"] == 1 and bars["deletions"] == 1
    for name in ("edits", "deletions"):
        bar = chart.locator(f"g.series.{name} rect").bounding_box()
        assert bar["width"] > 0 and bar["height"] > 0
    assert chart.locator("g.series.posts").get_attribute("data-total") == "48"
    edited = tab.locator("ol.changes li.change-edited")
    assert edited.count() == 1 and "chanarchive_demo/43" in edited.inner_text()
    assert tab.locator("table.crawls tbody tr.crawl").count() == 2


def test_the_edited_post_marks_removed_and_added_words(served, tab):
    tab.goto(served + "/-/channel/chanarchive_demo")
    tab.locator("ol.changes li.change-edited a").click()
    tab.wait_for_url("**/-/post/chanarchive_demo/43")
    current = tab.locator("section.version.current")
    assert current.locator("h3").inner_text() == "Version 2 (current)"
    assert current.locator("del").all_inner_texts() == ["三"]
    assert current.locator("ins").all_inner_texts() == ["五", "，可电话预约"]
    # Marked as a person sees it: struck through in red, on green.
    del_style = current.locator("del").evaluate(
        "e => [getComputedStyle(e).textDecorationLine, getComputedStyle(e).backgroundColor]"
    )
    assert del_style[0] == "line-through" and del_style[1] != "rgba(0, 0, 0, 0)"
    assert "每天限量三百份。" in tab.locator("section#v1 .post-text").inner_text()
    views = tab.locator("svg.views")
    assert views.bounding_box()["height"] > 50
    assert views.locator("circle").count() == 2


def test_the_demo_posts_picture_is_decoded_and_drawn(served, demo_archive, tab):
    """The demo's pictures are real images, served from the archive, that Chromium draws."""
    conn = sqlite3.connect(f"file:{demo_archive}?mode=ro", uri=True)
    try:
        [(post_id,)] = conn.execute(
            "SELECT p.post_id FROM posts p JOIN post_media m ON m.post = p.id"
            " JOIN media_files f ON f.sha256 = m.sha256 WHERE f.content_type LIKE 'image/%'"
            " ORDER BY p.id LIMIT 1"
        ).fetchall()
    finally:
        conn.close()
    assert tab.goto(f"{served}/-/post/chanarchive_demo/{post_id}").status == 200
    picture = tab.locator("div.pictures img").first
    picture.scroll_into_view_if_needed()  # the pictures load lazily
    assert picture.get_attribute("src").startswith("/-/media/")
    # decode() settles once the picture is loaded and decoded; it rejects a broken one.
    width, height = picture.evaluate(
        "i => i.decode().then(() => [i.naturalWidth, i.naturalHeight])"
    )
    assert width > 0 and height > 0
    box = picture.bounding_box()
    assert box["width"] > 0 and box["height"] > 0


def test_an_unknown_post_gives_a_clean_not_found_page(served, tab):
    response = tab.goto(served + "/-/post/chanarchive_demo/999")
    assert response.status == 404
    assert tab.locator("h1").inner_text() == "Not found"
    assert "has no post 999" in tab.locator("p.not-found").inner_text()
    tab.locator("a", has_text="Back to the channel chanarchive_demo").click()
    tab.wait_for_url("**/-/channel/chanarchive_demo")
    response = tab.goto(served + "/-/channel/no_such_channel")
    assert response.status == 404
    assert "no channel called" in tab.locator("p.not-found").inner_text()


def test_pages_fetch_nothing_from_elsewhere(served, tab):
    """No CDN: every stylesheet, script and picture the pages use comes from the server itself."""
    asked: list[str] = []

    def record(request) -> None:
        asked.append(request.url)

    tab.on("request", record)
    try:
        for path in ("/", "/-/channel/chanarchive_demo", "/-/post/chanarchive_demo/43"):
            assert tab.goto(served + path).status == 200
            sheets = tab.locator("link[rel=stylesheet]").evaluate_all("ls => ls.map(l => l.href)")
            assert any(s.endswith("/chanarchive.css") for s in sheets)
            assert all(s.startswith(served) for s in sheets), sheets
    finally:
        tab.remove_listener("request", record)
    assert asked and all(url.startswith(served) for url in asked), asked


# ------------------------------------------------------------------ captures, search, cells


def _capture_frame(tab):
    """The frame the capture page shows the cleaned page in, once it has loaded."""
    frame = tab.locator("iframe.capture-frame").element_handle().content_frame()
    frame.wait_for_url("**/-/capture/*/view*", wait_until="load")
    return frame


def test_a_hostile_capture_runs_nothing_and_fetches_only_from_the_archive(hostile_captures, tab):
    base, ids = hostile_captures
    asked: list[str] = []
    said: list[str] = []

    def record(request) -> None:
        asked.append(request.url)

    def listen(message) -> None:
        said.append(message.text)

    tab.on("request", record)
    tab.on("console", listen)
    try:
        assert tab.goto(f"{base}/-/capture/{ids['first']}").status == 200
        frame = _capture_frame(tab)
        # Nothing left that could move the frame: no <meta refresh>, no <base>, no Refresh header.
        assert frame.locator("meta[http-equiv], base").count() == 0
        view = tab.request.get(f"{base}/-/capture/{ids['first']}/view")
        assert "refresh" not in {name.lower() for name in view.headers}
        assert frame.url == f"{base}/-/capture/{ids['first']}/view"
        assert tab.url == f"{base}/-/capture/{ids['first']}"
        # No script ran: not the page's, not an onerror, onload, onfocus or SVG's.
        assert frame.evaluate("document.title") == "A hostile page"
        assert tab.title().startswith("Capture")
        assert frame.locator("#heading").inner_text() == "Hostile page, version one"
        text = frame.locator("#text").inner_text()
        assert text == "Plain text: <script>alert(1)</script> stays text."
        # The archive's picture shows; the one the archive does not hold stays blank.
        assert frame.evaluate("document.getElementById('kept').naturalWidth") == 8
        assert frame.evaluate("document.getElementById('external').getAttribute('src')") is None
        gone = "script, iframe, object, embed, form, input, svg, base, meta:not([charset])"
        assert frame.locator(gone).count() == 0
        assert frame.locator("#link").get_attribute("href") is None
        assert frame.locator("#link").get_attribute("title") == "http://203.0.113.9/elsewhere"
        # The banner, outside the sandbox, says what this is.
        banner = tab.locator("section.capture-banner").inner_text()
        assert "https://hostile.example/page" in banner and "not the live page" in banner
        box = tab.locator("iframe.capture-frame").bounding_box()
        assert box["width"] > 800 and box["height"] > 300
    finally:
        tab.remove_listener("request", record)
        tab.remove_listener("console", listen)
    assert any("/-/media/" in url for url in asked), asked
    assert all(url.startswith(base + "/") for url in asked), [
        u for u in asked if not u.startswith(base)
    ]
    # Nothing was even tried: no policy had to refuse anything.
    assert not [m for m in said if "Content Security Policy" in m or "Blocked" in m], said


def test_the_demo_archives_captures_from_a_version_and_from_a_deletions_evidence(served, tab):
    asked: list[str] = []

    def record(request) -> None:
        asked.append(request.url)

    tab.on("request", record)
    try:
        tab.goto(served + "/-/post/chanarchive_demo/43")
        tab.locator("section.version.current a.capture").click()
        tab.wait_for_url("**/-/capture/*?post=43")
        banner = tab.locator("section.capture-banner").inner_text()
        assert "/s/chanarchive_demo" in banner and "HTTP 200" in banner
        frame = _capture_frame(tab)
        # The post is the frame's target (its fragment), outlined. Whether the browser also
        # scrolls the sandboxed frame to it is the browser's call: Chromium does not always.
        assert frame.url.endswith("#post-43")
        assert frame.evaluate("document.querySelector(':target').id") == "post-43"
        outline = frame.evaluate(
            "getComputedStyle(document.getElementById('post-43')).outlineStyle"
        )
        assert outline == "solid"
        assert "每天限量五百份" in frame.locator("#post-43").inner_text()
        # The capture of the same URL before it (the first crawl's): version 1's text.
        tab.locator("a.capture-before").click()
        tab.wait_for_url("**/-/capture/*")
        earlier = _capture_frame(tab)
        assert "每天限量三百份" in earlier.locator("body").inner_text()
        assert tab.locator("a.capture-after").count() == 1
        # A deletion's evidence: the embed that said "Post not found".
        tab.goto(served + "/-/post/chanarchive_demo/44")
        tab.locator("a.evidence").click()
        tab.wait_for_url("**/-/capture/*")
        assert "deletion check" in tab.locator("p.capture-check").inner_text()
        assert "Post not found" in _capture_frame(tab).locator("body").inner_text()
    finally:
        tab.remove_listener("request", record)
    assert any("/-/media/" in url for url in asked)
    assert all(url.startswith(served + "/") for url in asked), asked


def test_a_two_character_word_is_found_in_both_halves(served, tab):
    # chanarchive's search, from the home page's box.
    tab.goto(served + "/")
    tab.locator("form.search input[name=q]").fill("地铁")
    tab.locator("form.search input[name=q]").press("Enter")
    tab.wait_for_url("**/-/search?q=*")
    found = tab.locator("ol.results a.post").all_inner_texts()
    assert len(found) == 5 and all(name.startswith("chanarchive_demo/") for name in found)
    assert tab.locator("ol.results mark").first.inner_text() == "地铁"
    # Datasette's own search box on posts: the same five posts.
    tab.goto(served + "/demo/posts")
    tab.locator("#_search").fill("地铁")
    tab.locator("#_search").press("Enter")
    tab.wait_for_url("**/demo/posts?*_search=*")
    cells = tab.locator("table.rows-and-columns tbody td.col-post_id").all_inner_texts()
    assert sorted(cells) == sorted(name.split("/")[1] for name in found)
    assert tab.locator("#_search").input_value() == "地铁"


def test_a_datasette_row_links_to_its_post_page(served, tab):
    tab.goto(served + "/demo/posts?_sort=id")
    cell = tab.locator("table.rows-and-columns tbody td.col-post_id a").first
    post_id = cell.inner_text()
    cell.click()
    tab.wait_for_url(f"**/-/post/chanarchive_demo/{post_id}")
    assert tab.locator("h1").inner_text() == f"chanarchive_demo / {post_id}"
    tab.goto(served + "/demo/channels")
    tab.locator("td.col-name a", has_text="chanarchive_demo").click()
    tab.wait_for_url("**/-/channel/chanarchive_demo")
