"""A crawled page's values are checked, not trusted: through the real command line (issue 19).

One test server holds the victim channel (archived first) and serves the
hostile pages beside it, on the same origin, so only the page checks stand
between them: a page asked for at ``/s/attacker`` naming the victim's posts
in every spelling, URLs that are no http(s) URL, dates and counts no page
can show, embeds that answer something else than "Post not found", legacy
encodings declared wrongly or not at all, and SOURCE spellings.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from archive.extract.values import http_url
from tests.conftest import start_site
from tests.crawling import crawl, export, query, run_cli
from tests.hostile import VICTIM, channel_page, message
from tests.safety import integrity

pytestmark = pytest.mark.slow

ATTACKER = "attacker_x"
#: Each page served at /s/attacker_x: the victim's posts claimed in another spelling.
CLAIMS = {
    "no_header": channel_page(None, [message(f"{VICTIM}/5", "POISON no header")]),
    "header_claims": channel_page(VICTIM, [message(f"{VICTIM}/5", "POISON header")]),
    "upper_case": channel_page(ATTACKER, [message(f"{VICTIM.upper()}/5", "POISON upper")]),
    "spaces": channel_page(ATTACKER, [message(f" {VICTIM} /5", "POISON spaces")]),
    "leading_zero": channel_page(VICTIM, [message(f"{VICTIM}/05", "POISON zero")]),
    "mixed": channel_page(
        ATTACKER,
        [message(f"{ATTACKER}/1", "own post"), message(f"{VICTIM}/5", "POISON mixed")],
    ),
    "range": channel_page(
        VICTIM, [message(f"{VICTIM}/{i}", f"POISON {i}") for i in (1, 12)]
    ),  # a range that would make the victim's posts 2..11 missing
}


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pages")
    for name, text in CLAIMS.items():
        (folder / f"{name}.html").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def site(pages):
    server = start_site(pages)
    server.control("channel", name=VICTIM, posts=12)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def victim_archive(site, tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("victim") / "archive.db"
    done = crawl(db, f"{site.url}/s/{VICTIM}", "--full")
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


@pytest.fixture
def archive(victim_archive, tmp_path) -> Path:
    db = tmp_path / "archive.db"
    shutil.copy(victim_archive, db)
    return db


def victim_rows(db: Path) -> list[tuple]:
    return query(
        db,
        "SELECT p.post_id, p.url, p.deleted_at, p.missing_since, v.version, v.raw_text"
        " FROM posts p JOIN channels c ON c.id = p.channel_id JOIN post_versions v"
        " ON v.post = p.id WHERE c.name = ? ORDER BY p.post_num, v.version",
        [VICTIM],
    )


def last_errors(db: Path) -> list[str]:
    return [
        row[0]
        for row in query(
            db, "SELECT message FROM crawl_errors WHERE crawl_id = (SELECT MAX(id) FROM crawls)"
        )
    ]


def posts_of(db: Path, channel: str) -> list[tuple]:
    return query(
        db,
        "SELECT p.post_id, p.url, p.published_at, p.views FROM posts p"
        " JOIN channels c ON c.id = p.channel_id WHERE c.name = ? ORDER BY p.post_num",
        [channel],
    )


# --------------------------------------------------------------------------- another channel's posts


@pytest.mark.parametrize("case", sorted(CLAIMS))
def test_a_page_at_s_attacker_writes_only_the_attackers_posts(archive, site, case):
    before = victim_rows(archive)
    site.control("page", at=f"/s/{ATTACKER}", file=f"{case}.html")
    done = crawl(archive, f"{site.url}/s/{ATTACKER}", "--max-pages", "1")
    assert "Traceback" not in done.stderr and done.returncode in (0, 1), done.stderr
    assert integrity(archive) == "ok"
    assert victim_rows(archive) == before, "the victim's posts changed"
    assert query(archive, "SELECT COUNT(*) FROM post_versions WHERE raw_text LIKE 'POISON%'") == [
        (0,)
    ]
    assert {row[0] for row in query(archive, "SELECT name FROM channels")} <= {VICTIM, ATTACKER}
    assert last_errors(archive), "what was left out is said"
    history = run_cli(archive, "history", f"{VICTIM}/5")
    assert history.returncode == 0 and "POISON" not in history.stdout
    if case == "mixed":
        assert [row[0] for row in posts_of(archive, ATTACKER)] == ["1"]


# --------------------------------------------------------------------------- URLs


def all_urls(db: Path) -> list[str]:
    """Every URL the archive holds for posts and channels."""
    found = []
    for row in query(
        db,
        "SELECT p.url, v.source_url, v.reply_to, v.forwarded_from, v.links, v.media,"
        " v.link_preview FROM posts p JOIN post_versions v ON v.post = p.id",
    ):
        url, source_url, reply_to, forwarded, links, media, preview = row
        found += [url, source_url, reply_to, forwarded, *json.loads(links)]
        found += [item.get(k) for item in json.loads(media) for k in ("url", "href", "thumb")]
        found += [json.loads(preview).get(k) for k in ("url", "image")] if preview else []
    for row in query(db, "SELECT source_url, image FROM channels"):
        found += list(row)
    found += [row[0] for row in query(db, "SELECT url FROM post_media")]
    return [u for u in found if u is not None]


BAD_SCHEMES = ("javascript:", "data:", "file:", "vbscript:", "tg:", "mailto:")


def test_only_http_urls_are_stored_and_exported(archive, site, tmp_path):
    done = crawl(archive, f"{site.url}/hostile/schemes", "--max-pages", "1", "--media", "all")
    assert "Traceback" not in done.stderr and done.returncode == 0, done.stderr
    ((post_id, url, _, _),) = posts_of(archive, "schemes_chan")
    assert url == "https://t.me/schemes_chan/1"
    assert all(http_url(u) == u for u in all_urls(archive)), all_urls(archive)
    (links,) = query(archive, "SELECT links FROM post_versions v JOIN posts p ON p.id = v.post"
                              " WHERE p.url = ?", [url])[0]  # fmt: skip
    assert json.loads(links) == ["https://ok.example/page"]
    (source_url,) = query(archive, "SELECT source_url FROM channels WHERE name = 'schemes_chan'")[0]
    assert source_url == f"{site.url}/hostile/schemes"
    for fmt in ("jsonl", "csv", "atom"):
        out = run_cli(archive, "export", "--format", fmt, "--channel", "schemes_chan")
        assert out.returncode == 0, out.stderr
        lowered = out.stdout.lower()
        assert not any(scheme in lowered for scheme in BAD_SCHEMES), (fmt, out.stdout)
    (record,) = export(archive, "--channel", "schemes_chan")
    assert record["url"] == url and record["reply_to"] is None
    assert record["forwarded_from"] is None and record["links"] == ["https://ok.example/page"]
    rows = list(csv.DictReader(io.StringIO(run_cli(archive, "export", "--format", "csv",
                                                   "--channel", "schemes_chan").stdout)))  # fmt: skip
    assert rows[0]["url"] == url
    assert not any(path.startswith("/media/") for _, path, _ in site.stats() if "schemes" in path)


# --------------------------------------------------------------------------- dates and counts


def test_dates_and_counts_out_of_range_are_dropped_and_the_posts_kept(archive, site):
    done = crawl(archive, f"{site.url}/hostile/values", "--max-pages", "1")
    assert "Traceback" not in done.stderr and done.returncode == 0, done.stderr
    posts = posts_of(archive, "values_chan")
    assert [p[0] for p in posts] == [str(i) for i in range(1, 10)]  # every post kept
    assert [p[3] for p in posts] == [None] * 7 + [12345, 1200]
    assert [p[2] for p in posts] == [None] * 4 + [
        "2026-01-01T09:00:00+00:00", None, "2026-01-02T09:00:00+00:00",
        "2026-01-03T09:00:00+00:00", "2026-01-04T09:00:00+00:00",
    ]  # fmt: skip
    assert query(archive, "SELECT subscribers FROM channels WHERE name = 'values_chan'") == [
        (None,)
    ]
    reactions = query(
        archive,
        "SELECT DISTINCT r.reactions FROM post_reactions r JOIN posts p ON p.id = r.post"
        " JOIN channels c ON c.id = p.channel_id WHERE c.name = 'values_chan'",
    )
    assert [json.loads(r[0]) for r in reactions] == [{"👍": 12}]
    assert query(archive, "SELECT status FROM crawls ORDER BY id DESC LIMIT 1") == [("ok",)]


# --------------------------------------------------------------------------- deletions


@pytest.mark.parametrize("said", ["Too many requests", "Channel not found", "Please wait a moment"])
def test_only_post_not_found_confirms_a_deletion(archive, site, said):
    hidden = [2, 3, 4, 5, 6, 8, 9, 10]
    for post_id in hidden:
        site.control("hide", name=VICTIM, id=post_id)
    site.control("embed_error", name=VICTIM, text=said)
    try:
        done = crawl(archive, f"{site.url}/s/{VICTIM}", "--deletion-checks", "20")
        assert "Traceback" not in done.stderr and done.returncode == 0, done.stderr
        assert query(archive, "SELECT COUNT(*) FROM posts WHERE deleted_at IS NOT NULL") == [(0,)]
        checks = query(
            archive,
            "SELECT p.post_num, d.outcome, d.reason FROM deletion_checks d"
            " JOIN posts p ON p.id = d.post ORDER BY p.post_num",
        )
        assert [c[0] for c in checks] == hidden
        assert {c[1] for c in checks} == {"failed"}
        assert all(said in c[2] for c in checks), checks
        missing = query(archive, "SELECT COUNT(*) FROM posts WHERE missing_since IS NOT NULL")
        assert missing == [(8,)]
        # Telegram's own words then confirm them.
        site.control("embed_error", name=VICTIM, text="Post not found")
        done = crawl(archive, f"{site.url}/s/{VICTIM}", "--deletion-checks", "20")
        assert done.returncode == 0, done.stderr
        deleted = query(archive, "SELECT post_num FROM posts WHERE deleted_at IS NOT NULL"
                                 " ORDER BY post_num")  # fmt: skip
        assert [row[0] for row in deleted] == hidden
    finally:
        site.control("embed_error", name=VICTIM, text="")
        site.control("channel", name=VICTIM, posts=12)  # every post visible again


# --------------------------------------------------------------------------- encodings

ZH_SHORT = "中文内容，编码测试"
ZH_LONG = "【美食】冬季限定：老城区几家糖水铺开始供应桂圆红枣炖蛋，暖胃又暖心。"
LEGACY = [
    ("gbk", ZH_SHORT), ("gbk", ZH_LONG), ("gb18030", ZH_SHORT), ("gb18030", ZH_LONG + "📢"),
    ("big5", "中文內容，編碼測試"), ("shift_jis", "日本語のテキストです"),
    ("cp1251", "Привет, мир"), ("cp1251", "Новости дня: курс рубля вырос на два процента"),
]  # fmt: skip


def mirror_post(text: str, head: str = "") -> str:
    return (
        f"<html><head>{head}<title>Post</title></head><body><article><h1>Post</h1>"
        f"<p>{text}</p></article></body></html>"
    )


@pytest.fixture(scope="module")
def encoded_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("encoded")
    for i, (codec, text) in enumerate(LEGACY):
        (folder / f"{i}-none.html").write_bytes(mirror_post(text).encode(codec))
        meta = '<meta charset="utf-8">'
        (folder / f"{i}-meta.html").write_bytes(mirror_post(text, meta).encode(codec))
    (folder / "one.html").write_bytes(mirror_post("展").encode("gbk"))
    server = start_site(folder)
    yield server
    server.stop()


@pytest.mark.parametrize("index", range(len(LEGACY)), ids=[f"{c}-{len(t)}" for c, t in LEGACY])
def test_wrongly_declared_pages_read_right_or_fail_with_a_reason(encoded_site, tmp_path, index):
    codec, text = LEGACY[index]
    for name, charset in (("none", ""), ("none", "utf-8"), ("meta", ""), ("none", "iso-8859-1")):
        url = f"{encoded_site.url}/static/{index}-{name}.html"
        if charset:
            url += f"?charset={charset}"
        done = run_cli(tmp_path / "unused.db", "extract", url, "--format", "json")
        assert "Traceback" not in done.stderr
        if done.returncode == 0 and json.loads(done.stdout):
            assert any(text in r["raw_text"] for r in json.loads(done.stdout)), done.stdout
        else:
            assert "encoding cannot be told" in done.stderr, done.stderr


def test_a_crawl_stores_legacy_text_right_or_says_why_not(encoded_site, tmp_path):
    db = tmp_path / "archive.db"
    done = crawl(db, f"{encoded_site.url}/static/0-meta.html?charset=utf-8", "--max-pages", "1")
    assert done.returncode == 0, done.stderr
    texts = [row[0] for row in query(db, "SELECT raw_text FROM post_versions")]
    assert texts == [ZH_SHORT]
    assert query(db, "SELECT status FROM crawls") == [("ok",)]
    other = tmp_path / "other.db"
    done = crawl(other, f"{encoded_site.url}/static/one.html?charset=utf-8", "--max-pages", "1")
    assert "Traceback" not in done.stderr
    assert query(other, "SELECT COUNT(*) FROM posts") == [(0,)]
    (status,) = query(other, "SELECT status FROM crawls")[0]
    assert status != "ok"
    assert any("encoding cannot be told" in m for m in last_errors(other)), last_errors(other)


# --------------------------------------------------------------------------- SOURCE spellings


def test_every_spelling_of_a_channel_is_one_scheduled_source(tmp_path):
    db = tmp_path / "archive.db"
    spellings = ["HTTP://T.ME/S/DUROV_X", "t.me/durov_x/123", "https://telegram.me/s/Durov_X/",
                 "https://t.me/s/durov_x?before=50", "tg://resolve?domain=DUROV_X"]  # fmt: skip
    for every, spelling in zip(("1h", "2h", "3h", "4h", "5h"), spellings, strict=True):
        done = run_cli(db, "sources", "add", spelling, "--every", every)
        assert done.returncode == 0, done.stderr
    done = run_cli(db, "sources", "list", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [r["source"] for r in json.loads(done.stdout)] == ["@durov_x"]
    done = run_cli(db, "sources", "remove", "HTTPS://T.ME/DUROV_X")
    assert done.returncode == 0, done.stderr
    assert json.loads(run_cli(db, "sources", "list", "--format", "json").stdout) == []


# --------------------------------------------------------------------------- refused pages


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    server = start_site(folder)
    photo = (
        '<a class="tgme_widget_message_photo_wrap" href="https://t.me/x/5"'
        f" style=\"background-image:url('{server.url}/media/poison.jpg')\"></a>"
    )
    claim = message(f"{VICTIM}/5", "POISON with a picture").replace(
        '<div class="tgme_widget_message_text', photo + '<div class="tgme_widget_message_text'
    )
    (folder / "claim.html").write_text(channel_page(VICTIM, [claim]), encoding="utf-8")
    server.control("page", at="/mirror/victim", file="claim.html")
    yield server
    server.stop()


def test_a_page_refused_whole_asks_for_nothing(archive, hostile_site):
    before = query(archive, "SELECT post, slot, url FROM post_media ORDER BY post, slot")
    hostile_site.reset_stats()
    done = crawl(archive, f"{hostile_site.url}/mirror/victim", "--max-pages", "1")
    assert "Traceback" not in done.stderr, done.stderr
    assert any("not written" in m for m in last_errors(archive))
    assert query(archive, "SELECT post, slot, url FROM post_media ORDER BY post, slot") == before
    assert [path for _, path, _ in hostile_site.stats()] == ["/robots.txt", "/mirror/victim"]


def test_a_page_refused_whole_stops_its_source_there(archive, hostile_site):
    """A channel archived from one origin, served whole by another: that page is kept as a
    capture only, and the older page it points at is not fetched."""
    hostile_site.control("channel", name=VICTIM, posts=30, page_size=20)
    hostile_site.reset_stats()
    done = crawl(archive, f"{hostile_site.url}/s/{VICTIM}", "--full")
    assert "Traceback" not in done.stderr, done.stderr
    assert [path for _, path, _ in hostile_site.stats()] == ["/robots.txt", f"/s/{VICTIM}"]
    [(status, pages)] = query(archive, "SELECT status, pages FROM crawls ORDER BY id DESC LIMIT 1")
    assert (status, pages) == ("partial", 1)  # its capture kept, the refusal its error
