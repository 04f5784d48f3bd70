"""The pages in a real browser: headless Chromium (Debian's) driven by Playwright.

Bare ``datasette demo.db`` serves the demo archive on 127.0.0.1 (the pages
come through the plugin's entry point); one browser and one tab serve every
test of the module. The tests skip when Chromium or Playwright is missing;
``.ci/run`` installs Chromium so that CI always runs them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import OPENER
from tests.helpers import free_port

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


@pytest.fixture(scope="module")
def served(demo_archive):
    """Bare ``datasette`` on the demo archive, as a real process on 127.0.0.1."""
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "datasette", str(demo_archive), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
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
