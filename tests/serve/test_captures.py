"""``/-/capture/ID``: a capture shown as fetched, cleaned by rules, under a sandboxing policy.

The cleaner on a page that tries everything (:mod:`tests.serve.capture_archive`),
then the pages over HTTP: the banner with what a capture is, the cleaned page
and its headers, the download, a capture that is not a page, a body that
inflates past the bound, and the demo archive's captures linked from each
version and from the deletion's evidence. What Chromium makes of them is in
``test_pages_browser.py``.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from archive.serve.app import make_datasette
from archive.serve.plugin.captures import MAX_SHOWN, stored_body
from archive.serve.plugin.sanitise import CAPTURE_CSP, clean_page
from archive.store import connect_readonly
from tests.serve.capture_archive import (
    ELSEWHERE,
    HOSTILE_PAGE,
    KEPT_PICTURE,
    T1,
    T2,
    URL,
    capture_archive,
)


def fetch(db: Path, *paths: str):
    """GET each path from an in-process Datasette on ``db``: (status, headers, body bytes)."""
    ds = make_datasette(db)

    async def get_all():
        await ds.invoke_startup()
        out = []
        for path in paths:
            response = await ds.client.get(path)
            out.append((response.status_code, response.headers, response.content))
        return out

    return asyncio.run(get_all())


def text_of(db: Path, path: str) -> str:
    [(status, _, body)] = fetch(db, path)
    assert status == 200, (path, status, body[:500])
    return body.decode()


@pytest.fixture(scope="module")
def captures(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    db = tmp_path_factory.mktemp("captures") / "captures.db"
    return db, capture_archive(db)


# ------------------------------------------------------------------ the rules


def test_the_cleaner_keeps_the_text_and_nothing_that_runs_or_fetches():
    asked: list[set[str]] = []

    def lookup(urls: set[str]) -> dict[str, str]:
        asked.append(urls)
        return {KEPT_PICTURE: "a" * 64}

    cleaned = clean_page(HOSTILE_PAGE, URL, lookup)
    page = cleaned.html
    # One lookup, of every picture the page names, read against the page's own URL.
    assert KEPT_PICTURE in asked[0] and f"{ELSEWHERE}/tracker.png" in asked[0]
    assert f"{ELSEWHERE}/escaped.png" in asked[0]  # \75 rl( is url(
    # Nothing that runs.
    assert "<script" not in page.lower() and "onerror" not in page and "onload" not in page
    assert "onclick" not in page and "onfocus" not in page and "autofocus" not in page
    # Nothing that goes elsewhere: no refresh, base, stylesheet, frame, object, form, SVG.
    for gone in ("<meta http-equiv", "<base", "<link", "<iframe", "<object", "<embed",
                 "<form", "<input", "<svg", "<noscript", "@import", "srcset", "autoplay"):  # fmt: skip
        assert gone not in page.lower(), gone
    assert "203.0.113.9" not in page.replace(f'title="{ELSEWHERE}/elsewhere"', "")
    # The link leads nowhere; where it led is its title.
    assert '<a id="link" title="http://203.0.113.9/elsewhere">a link</a>' in page
    # The archived picture from the archive, the others blank.
    assert f'<img id="kept" src="/-/media/{"a" * 64}" alt="kept">' in page
    assert '<img id="external">' in page and '<img id="broken">' in page
    assert "background-image: none" in page and "background: none" in page
    assert "<video poster" not in page and '<video controls preload="none"></video>' in page
    # Text stays text, styles stay, the page's own title and language are kept.
    assert "Plain text: &lt;script&gt;alert(1)&lt;/script&gt; stays text." in page
    assert "h1 { color: rgb(120, 20, 20) }" in page
    assert "<title>A hostile page</title>" in page and '<html lang="en">' in page
    # A post of the page can be pointed at.
    assert 'data-post="hostile/7" id="post-7"' in page
    assert cleaned.removed["script"] == 1 and cleaned.removed["svg"] == 1  # its script with it
    assert cleaned.removed["meta"] == 1 and cleaned.removed["noscript"] == 1
    assert cleaned.archived == 1 and cleaned.blanked >= 8


def test_the_policy_allows_nothing_but_the_archive_and_inline_styles():
    directives = dict(
        (part.split(" ", 1) + [""])[:2] for part in (p.strip() for p in CAPTURE_CSP.split(";"))
    )
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "'self' data:" and directives["style-src"] == "'unsafe-inline'"
    assert "sandbox" in directives and "script-src" not in directives


def test_a_body_is_read_only_as_far_as_it_may_be_shown(captures):
    db, ids = captures
    conn = connect_readonly(db)
    try:
        sha = conn.execute("SELECT content_sha256 FROM snapshots WHERE id = ?", [ids["big"]])
        body, whole = stored_body(conn, sha.fetchone()[0], MAX_SHOWN)
    finally:
        conn.close()
    assert len(body) == MAX_SHOWN and not whole  # 20 MB inflate; 8 MB read, and no more


# ------------------------------------------------------------------ the pages


def test_a_capture_page_says_what_it_is_and_frames_the_cleaned_page(captures):
    db, ids = captures
    page = text_of(db, f"/-/capture/{ids['first']}")
    banner = page[page.index('<section class="capture-banner"') : page.index("</section>")]
    assert URL in banner and "2026-11-26 10:00:00 UTC" in banner
    assert 'HTTP <span class="http-status">200</span>' in banner
    assert "not the live page" in banner
    assert f'href="/-/capture/{ids["second"]}" rel="next"' in banner  # the same URL, later
    assert "the first capture of this URL" in banner and "2 captures of this URL" in banner
    assert f'href="/-/capture/{ids["first"]}/raw" download' in banner
    frame = re.search(r"<iframe [^>]*>", page).group()
    assert " sandbox " in frame and f'src="/-/capture/{ids["first"]}/view"' in frame
    assert 'referrerpolicy="no-referrer"' in frame
    # The page around the frame carries nothing of the capture but escaped text.
    assert "203.0.113.9" not in page and "<script>document.title" not in page
    later = text_of(db, f"/-/capture/{ids['second']}")
    assert 'HTTP <span class="http-status">404</span>' in later
    assert f'href="/-/capture/{ids["first"]}" rel="prev"' in later
    assert "the latest capture of this URL" in later


def test_the_cleaned_page_is_served_under_its_policy(captures):
    db, ids = captures
    [(status, headers, body)] = fetch(db, f"/-/capture/{ids['first']}/view")
    assert status == 200
    assert headers["content-security-policy"] == CAPTURE_CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert "Hostile page, version one" in page and "<script" not in page
    sha = re.search(r'<img id="kept" src="/-/media/([0-9a-f]{64})"', page).group(1)
    [(media_status, media_headers, picture)] = fetch(db, f"/-/media/{sha}")
    assert media_status == 200 and media_headers["content-type"] == "image/png"
    assert picture.startswith(b"\x89PNG")


def test_the_bytes_as_fetched_are_a_download(captures):
    db, ids = captures
    [(status, headers, body)] = fetch(db, f"/-/capture/{ids['first']}/raw")
    assert status == 200 and body == HOSTILE_PAGE.encode()
    assert headers["content-type"] == "application/octet-stream"
    assert headers["content-disposition"] == f'attachment; filename="capture-{ids["first"]}.html"'
    assert headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in headers["content-security-policy"]


def test_a_capture_that_is_not_a_page_is_offered_as_a_download(captures):
    db, ids = captures
    page = text_of(db, f"/-/capture/{ids['data']}")
    assert "<iframe" not in page and "This capture is not a web page (application/json)" in page
    assert f'href="/-/capture/{ids["data"]}/raw" download' in page
    view = text_of(db, f"/-/capture/{ids['data']}/view")
    assert "not a web page" in view and "<script" not in view
    [(_, headers, body)] = fetch(db, f"/-/capture/{ids['data']}/raw")
    assert body == b'{"a": "<script>alert(1)</script>"}'
    assert headers["content-disposition"].endswith(f'capture-{ids["data"]}.json"')


def test_a_page_too_large_to_show_is_never_inflated_whole(captures):
    db, ids = captures
    # Its row says 100 bytes (a shared archive may say anything): the page frames it, and the
    # frame says, having read 8 MB of the 20 it inflates to, that it is too large.
    page = text_of(db, f"/-/capture/{ids['big']}")
    assert f'href="/-/capture/{ids["big"]}/raw" download' in page
    view = text_of(db, f"/-/capture/{ids['big']}/view")
    assert "too large to be shown here: download it" in view


def test_an_unknown_capture_is_not_found(captures):
    db, _ = captures
    results = fetch(db, "/-/capture/999", "/-/capture/999.json", "/-/capture/999/view")
    assert [status for status, _, _ in results] == [404, 404, 404]
    assert "There is no capture 999 here." in results[0][2].decode()
    assert json.loads(results[1][2]) == {"ok": False, "error": "There is no capture 999 here."}


def test_a_capture_as_json_is_its_metadata_not_its_body(captures):
    db, ids = captures
    [(status, headers, body)] = fetch(db, f"/-/capture/{ids['second']}.json")
    assert status == 200 and headers["content-type"] == "application/json; charset=utf-8"
    data = json.loads(body)
    capture = data["capture"]
    assert capture["id"] == ids["second"] and capture["url"] == URL
    assert capture["fetched_at"] == T2.replace(".000000", "") and capture["http_status"] == 404
    assert capture["content_type"] == "text/html; charset=utf-8" and capture["kept"]
    assert capture["size"] == len(HOSTILE_PAGE.replace("version one", "version two").encode())
    assert data["before"] == {
        "id": ids["first"],
        "fetched_at": T1.replace(".000000", ""),
        "href": f"/-/capture/{ids['first']}",
    }
    assert data["after"] is None and data["shown"] is True
    assert data["view_href"] == f"/-/capture/{ids['second']}/view"
    assert "version two" not in body.decode()  # metadata, not the body


def test_the_demo_archive_links_each_version_and_the_deletion_to_its_capture(demo_archive):
    post = text_of(demo_archive, "/-/post/chanarchive_demo/43")
    links = re.findall(r'<a class="capture" href="(/-/capture/\d+\?post=43)"', post)
    assert len(links) == 2 and links[0] != links[1]  # version 2 (newest first), version 1
    newer = text_of(demo_archive, links[0].replace("&amp;", "&"))
    assert "/s/chanarchive_demo</strong>" in newer and 'src="/-/capture/' in newer
    assert "#post-43" in newer and "The post 43 is outlined" in newer
    gone = text_of(demo_archive, "/-/post/chanarchive_demo/44")
    evidence = re.search(r'<a class="evidence" href="(/-/capture/\d+)">', gone).group(1)
    page = text_of(demo_archive, evidence)
    assert "/chanarchive_demo/44?embed=1</strong>" in page
    assert "The answer to a deletion check of" in page and "outcome-deleted" in page
    answer = text_of(demo_archive, evidence + "/view")
    assert "Post not found" in answer and "<link" not in answer
    # A channel page as captured: its photos from the archive, Telegram's files from nowhere.
    channel = text_of(demo_archive, re.sub(r"\?.*", "", links[1]) + "/view")
    assert channel.count("/-/media/") >= 3
    assert "telegram.org/img" not in channel and "telegram.org/css" not in channel
    assert not re.search(r'(src="|url\()[^"]*//', channel)  # nothing fetched from a host
    assert 'id="post-43"' in channel and "<script" not in channel
