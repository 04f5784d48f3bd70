"""A page cannot aim the crawler at the user's own network (issue 19), through the real CLI.

Two loopback servers: the *site*, crawled as the source (a private origin the
user named: allowed), and the *target*, another loopback origin that pages
on the site aim at, in every spelling of its address, through redirects,
deletion-check embeds and followed links. The target's request log must stay
empty, nothing of it may be stored, and the crawl must say why each request
was refused. ``--allow-private-hosts`` lets the same requests through.

Names that resolve to loopback: ``localhost`` (every machine's hosts file),
and names invented for the test (``tests/fakedns``: the CLI child's
``getaddrinfo`` answers them, with no DNS server and no change to the crawler),
among them a name that answers a public address at the check and loopback
at the connection. The same child runs behind a fence that refuses, and
writes down, any connection off loopback, so no test can reach the internet.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SiteProcess
from tests.crawling import FAST, crawl, export, made_archive, query, run_cli
from tests.fakedns import environment
from tests.hostile import LOOPBACK_SPELLINGS
from tests.media_site import media_sha256
from tests.paths import FIXTURES

pytestmark = pytest.mark.slow

HINT = "not a public one (--allow-private-hosts allows it)"


def port_of(site: SiteProcess) -> int:
    return int(site.url.rsplit(":", 1)[1])


def aimed(site: SiteProcess, target: SiteProcess, name: str = "aimed", **hosts: str) -> str:
    """Have ``site`` serve channel NAME, its pictures aimed at ``target``; its URL."""
    site.control("aimed", name=name, port=port_of(target), hosts=json.dumps(hosts))
    return f"{site.url}/s/{name}"


def media_reasons(db: Path) -> dict[str, str | None]:
    """Each media URL's file name and its failure's reason (None: fetched)."""
    rows = query(db, "SELECT url, reason FROM media_urls")
    return {url.rsplit("/", 1)[-1]: reason for url, reason in rows}


def crawl_errors(db: Path) -> list[tuple[str, str]]:
    return query(db, "SELECT url, message FROM crawl_errors ORDER BY id")


def refused(host: str, address: str = "127.0.0.1", why: str = "a loopback address") -> str:
    return f"refused: {host} is {address}, {why}, {HINT}"


def test_pictures_aimed_at_loopback_in_any_spelling_are_refused_unsent(make_site, tmp_path):
    site, target = make_site(), make_site()
    db = tmp_path / "archive.db"
    port = port_of(target)
    done = crawl(db, aimed(site, target), "--media", "all")
    assert done.returncode == 0, done.stderr
    assert "13 new" in done.stdout and "0 errors (ok)" in done.stdout
    assert "Traceback" not in done.stderr

    assert target.stats() == []  # not even its robots.txt
    reasons = media_reasons(db)
    assert reasons == {
        "aimed-dotted.jpg": f"refused: 127.0.0.1 is a loopback address, {HINT}",
        "aimed-short.jpg": refused("127.1"),
        "aimed-hex.jpg": refused("0x7f000001"),
        "aimed-decimal.jpg": refused("2130706433"),
        "aimed-octal.jpg": refused("017700000001"),
        "aimed-ipv6.jpg": f"refused: ::1 is a loopback address, {HINT}",
        "aimed-mapped.jpg": (
            f"refused: ::ffff:127.0.0.1 is a form of 127.0.0.1, a loopback address, {HINT}"
        ),
        "aimed-name.jpg": f"refused: localhost resolves to 127.0.0.1, a loopback address, {HINT}",
        "aimed-preview.jpg": refused("127.1"),
        "aimed-video.mp4": refused("0x7f.1"),
        "aimed-thumb.jpg": refused("0x7f.1"),
        # A redirect from the source's own host: the hop is checked like any request.
        "aimed-redirected.jpg": (
            f"refused: redirected to http://127.0.0.1:{port}/media/aimed-redirected.jpg,"
            f" where 127.0.0.1 is a loopback address, {HINT}"
        ),
        # The source's own origin may be private: its picture is kept.
        "aimed-own.jpg": None,
    }
    # Nothing of the target is stored, served or exported; the page and its own picture are.
    assert query(db, "SELECT sha256 FROM media_files") == [(media_sha256("aimed-own.jpg"),)]
    assert query(db, "SELECT url FROM snapshots") == [(f"{site.url}/s/aimed",)]
    folder = tmp_path / "media"
    export_done = run_cli(db, "export", "--format", "jsonl", "-o", str(tmp_path / "e.jsonl"),
                          "--media-dir", str(folder))  # fmt: skip
    assert export_done.returncode == 0, export_done.stderr
    assert [p.name for p in folder.iterdir()] == [media_sha256("aimed-own.jpg") + ".jpg"]
    shown = {r["post_id"]: r["media"] for r in export(db)}
    assert all("sha256" not in m for post, media in shown.items() if post != "13" for m in media)
    # No file:// URL is ever asked for, nor is one kept as a media URL.
    assert not any("passwd" in url for url in reasons)


def test_allow_private_hosts_lets_them_through(make_site, tmp_path):
    site, target = make_site(), make_site()
    db = tmp_path / "archive.db"
    done = crawl(db, aimed(site, target), "--media", "all", "--allow-private-hosts")
    assert done.returncode == 0, done.stderr
    fetched = {path for _, path, status in target.stats() if status == 200}
    # Every spelling reached it but [::1] (the target listens on IPv4 only).
    wanted = {f"/media/aimed-{key}.jpg" for key in LOOPBACK_SPELLINGS if key != "ipv6"}
    wanted |= {"/media/aimed-preview.jpg", "/media/aimed-thumb.jpg", "/media/aimed-video.mp4",
               "/media/aimed-redirected.jpg"}  # fmt: skip
    assert wanted <= fetched
    reasons = media_reasons(db)
    assert [name for name, reason in reasons.items() if reason is not None] == ["aimed-ipv6.jpg"]
    assert reasons["aimed-ipv6.jpg"].startswith("connection refused")  # nothing listens there
    assert query(db, "SELECT COUNT(*) FROM media_files")[0][0] == 12


def test_a_source_page_redirected_to_a_private_address_is_not_fetched(make_site, tmp_path):
    site, target = make_site(), make_site()
    target.control("channel", name="inside", posts=3)
    db = made_archive(tmp_path / "archive.db")
    moved = f"http://127.0.0.1:{port_of(target)}/s/inside"
    done = crawl(db, f"{site.url}/redirect?to={moved}")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert target.stats() == []
    assert crawl_errors(db) == [
        (moved, f"refused: redirected to {moved}, where 127.0.0.1 is a loopback address, {HINT}")
    ]
    assert query(db, "SELECT COUNT(*) FROM snapshots") == [(0,)]
    # Allowed, the hop is fetched, and the page is still not archived: it is another host's.
    again = crawl(db, f"{site.url}/redirect?to={moved}", "--allow-private-hosts")
    assert again.returncode == 1
    assert ["GET", "/s/inside", 200] in target.stats()
    assert "redirected to another host" in crawl_errors(db)[-1][1]
    assert query(db, "SELECT COUNT(*) FROM snapshots") == [(0,)]


@pytest.mark.parametrize("meta", [False, True], ids=["302", "meta-refresh"])
def test_an_embed_check_redirected_to_loopback_is_not_followed(make_site, tmp_path, meta):
    site, target = make_site(), make_site()
    db = tmp_path / "archive.db"
    site.control("channel", name="checked", posts=10, page_size=20)
    url = f"{site.url}/s/checked"
    assert crawl(db, url).returncode == 0
    site.control("delete", name="checked", id=8)
    moved = f"http://127.0.0.1:{port_of(target)}/checked/8?embed=1"
    site.control("embed_redirect", name="checked", to=moved, meta=int(meta))
    done = crawl(db, url)
    assert done.returncode == 0, done.stderr
    assert "0 deleted" in done.stdout
    assert target.stats() == []
    [(outcome, reason)] = query(
        db, "SELECT outcome, reason FROM deletion_checks d JOIN posts p ON p.id = d.post"
    )
    assert outcome == "failed"  # undecided: the post stays missing, looked at again later
    if meta:  # Scrapy follows a meta refresh even here: the hop is refused
        assert reason == (
            f"refused: redirected to {moved}, where 127.0.0.1 is a loopback address, {HINT}"
        )
    else:  # a check keeps its answer, a redirect too: never followed
        assert reason == "HTTP 302"
    assert query(db, "SELECT deleted_at FROM posts WHERE post_id = '8'") == [(None,)]


def test_links_and_their_redirects_stay_on_the_source_origin(make_site, tmp_path):
    target = make_site()
    elsewhere = f"http://127.0.0.1:{port_of(target)}/static/post/1.html"
    root = tmp_path / "static"
    (root / "post").mkdir(parents=True)
    article = "<article><h1>{0}</h1><p>" + "A post long enough to be read as one. " * 8 + "</p>"
    (root / "post" / "1.html").write_text(article.format("Post one"))
    (root / "list.html").write_text(
        "<html><body><h1>Listing</h1><ul>"
        '<li><a href="/static/post/1.html">Post one</a></li>'
        f'<li><a href="/redirect?to={elsewhere}&post=2">Post two</a></li>'
        f'<li><a href="{elsewhere}?post=3">Post three</a></li>'
        "</ul></body></html>"
    )
    site = make_site(static=root)
    db = tmp_path / "archive.db"
    done = crawl(db, f"{site.url}/static/list.html", "--follow", "post", "--depth", "2")
    assert target.stats() == []
    assert ["GET", "/static/post/1.html", 200] in site.stats()
    errors = crawl_errors(db)
    assert errors == [
        (
            elsewhere,
            f"refused: redirected to {elsewhere}, where 127.0.0.1 is a loopback address, {HINT}",
        )
    ], done.stderr


def test_a_web_post_looked_at_again_cannot_be_moved_to_loopback(make_site, tmp_path):
    """Post 101 leaves the mirror's listing, so its page is fetched again: it now redirects
    to another origin on loopback."""
    target = make_site()
    root = tmp_path / "static"
    shutil.copytree(FIXTURES / "mirror" / "site", root / "site")
    site = make_site(static=root)
    db = tmp_path / "archive.db"
    start = f"{site.url}/static/site/channel/"
    assert crawl(db, start, "--follow", "/post/").returncode == 0
    shutil.copytree(FIXTURES / "mirror" / "site_v2", root / "site", dirs_exist_ok=True)
    moved = f"http://127.0.0.1:{port_of(target)}/static/site/post/101.html"
    site.control("moved", at="/static/site/post/101.html", to=moved)
    site.reset_stats()
    done = crawl(db, start, "--follow", "/post/")
    assert ["GET", "/static/site/post/101.html", 302] in site.stats()  # the look again
    assert target.stats() == []
    assert crawl_errors(db) == [
        (moved, f"refused: redirected to {moved}, where 127.0.0.1 is a loopback address, {HINT}")
    ], done.stderr
    assert query(db, "SELECT deleted_at FROM posts WHERE post_id = '101'") == [(None,)]


def test_names_that_resolve_to_loopback_are_refused_at_the_check_and_at_connect(
    make_site, tmp_path
):
    """``intranet.test`` always answers loopback, ``mixed.test`` a public address and
    loopback, ``rebind.test`` a public address at the check and loopback after it (the DNS
    cache off, so the connection asks again): none reaches the target, nothing goes off
    loopback."""
    site, target = make_site(), make_site()
    db, fence = tmp_path / "archive.db", tmp_path / "fence.log"
    names = {
        "intranet.test": [["127.0.0.1"]],
        "mixed.test": [["1.2.3.4", "127.0.0.1"]],
        "rebind.test": [["1.2.3.4"], ["127.0.0.1"]],
    }
    hosts = {"intranet": "intranet.test", "mixed": "mixed.test", "rebind": "rebind.test"}
    url = aimed(site, target, **hosts)
    done = run_cli(db, "crawl", url, *FAST, "-s", "DNSCACHE_ENABLED=false",
                   env=environment(fence, names))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert target.stats() == []
    assert not fence.exists(), fence.read_text()
    reasons = media_reasons(db)
    resolves = "resolves to 127.0.0.1, a loopback address"
    assert reasons["aimed-intranet.jpg"] == f"refused: intranet.test {resolves}, {HINT}"
    assert reasons["aimed-mixed.jpg"] == f"refused: mixed.test {resolves}, {HINT}"
    assert reasons["aimed-rebind.jpg"] == (
        f"refused: rebind.test resolved, when connecting, to 127.0.0.1, a loopback address, {HINT}"
    )
    assert query(db, "SELECT COUNT(*) FROM media_files") == [(1,)]  # the site's own picture


def test_a_name_of_a_source_may_be_private(make_site, tmp_path):
    """A source the user names by a name that resolves to loopback is crawled; its pages'
    pictures on that origin too."""
    site = make_site()
    site.control("media_channel", name="named", posts=2)
    db = tmp_path / "archive.db"
    done = crawl(db, f"http://localhost:{port_of(site)}/s/named")
    assert done.returncode == 0, done.stderr
    assert "2 new" in done.stdout and "(ok)" in done.stdout
    # The channel's pictures name 127.0.0.1, not the origin the user named: refused.
    assert set(media_reasons(db).values()) == {f"refused: 127.0.0.1 is a loopback address, {HINT}"}


SCRAPY_FILE = """
import json, sys
import scrapy
from crawler.local import crawl_settings
from crawler.options import CrawlOptions
from scrapy.crawler import CrawlerProcess

seen = []

class Probe(scrapy.Spider):
    name = "probe"

    async def start(self):
        for url in sys.argv[1:]:
            yield scrapy.Request(url, callback=self.got, errback=self.failed, dont_filter=True)

    def got(self, response):
        seen.append([response.url, "read", response.body[:20].decode("latin-1")])

    def failed(self, failure):
        seen.append([failure.request.url, type(failure.value).__name__, str(failure.value)])

settings = crawl_settings(sys.argv[0] + ".db", CrawlOptions())
settings.set("ITEM_PIPELINES", {})
settings.set("DOWNLOADER_MIDDLEWARES", {**settings.getdict("DOWNLOADER_MIDDLEWARES"),
             "crawler.downloadermiddlewares.lifecycle.SourceLifecycle": None})
if "--unguarded" in sys.argv[0]:
    settings.set("DOWNLOADER_MIDDLEWARES", {"crawler.downloadermiddlewares.reach.ReachGuard": None})
process = CrawlerProcess(settings)
process.crawl(Probe)
process.start()
print(json.dumps(sorted(seen)))
"""


@pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "no-guard"])
def test_file_and_other_schemes_are_never_read(tmp_path, guarded):
    """Even a request made for ``file:///etc/passwd`` directly is refused by the guard, and
    with the guard taken out there is still no handler to read it."""
    script = tmp_path / ("probe.py" if guarded else "probe--unguarded.py")
    script.write_text(SCRAPY_FILE)
    urls = ["file:///etc/passwd", "data:text/plain,secret", "ftp://127.0.0.1:9/x", "s3://b/k"]
    done = subprocess.run([sys.executable, str(script), *urls], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert [outcome for _url, outcome, _why in seen] == [
        "Refused" if guarded else "NotSupported"
    ] * len(urls), seen
    if guarded:
        assert {why for _, _, why in seen} == {
            f"refused: {scheme}: URLs are never fetched, only http and https"
            for scheme in ("data", "file", "ftp", "s3")
        }
    assert "root:" not in done.stdout
