"""The two halves joined, over HTTP: every page as JSON, search in both, change lists, cells.

- every chanarchive page has a ``.json`` form with the page's data
  (``/-/index.json`` for the home page);
- ``/-/search`` ranks as ``chanarchive search`` does, and Datasette's own
  search box on ``posts`` finds the same posts, two-character Chinese words
  included;
- change lists choose kinds (``?kinds=``), page on (``/-/changes?before=``)
  and offer their Atom feed;
- Datasette's cells of posts, channels and captures link to the pages.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import sqlite_utils

from archive.query.search import search_posts
from archive.serve.app import make_datasette
from archive.serve.plugin import routes
from archive.serve.plugin.paths import channel_path, escaped, from_path, post_path
from archive.store import connect_readonly
from archive.store.fts import register_functions
from tests.sample_archive import T1, T2, build_sample_archive

ATOM = "{http://www.w3.org/2005/Atom}"


def fetch(*dbs: Path, paths: tuple[str, ...]) -> list[tuple[int, dict, str]]:
    """GET each path from an in-process Datasette on ``dbs``: (status, headers, text)."""
    ds = make_datasette(dbs[0]) if len(dbs) == 1 else _many(dbs)

    async def get_all():
        await ds.invoke_startup()
        out = []
        for path in paths:
            response = await ds.client.get(path)
            out.append((response.status_code, response.headers, response.text))
        return out

    return asyncio.run(get_all())


def _many(dbs):
    from datasette.app import Datasette

    from archive.serve.app import ensure_plugin

    ensure_plugin()
    return Datasette([str(db) for db in dbs])


def get(db: Path, path: str) -> str:
    [(status, _, text)] = fetch(db, paths=(path,))
    assert status == 200, (path, status, text[:500])
    return text


def get_json(db: Path, path: str):
    [(status, headers, text)] = fetch(db, paths=(path,))
    assert status == 200, (path, status, text[:500])
    assert headers["content-type"] == "application/json; charset=utf-8"
    return json.loads(text)


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return build_sample_archive(tmp_path_factory.mktemp("browse") / "archive.db")


# ------------------------------------------------------------------ JSON


def test_the_home_page_as_json(sample):
    data = get_json(sample, "/-/index.json")
    [archive] = data["archives"]
    assert archive["name"] == "archive"
    channels = {c["name"]: c for c in archive["channels"]}
    assert channels["news_cn"]["posts"] == 7 and channels["news_cn"]["href"] == "/-/channel/news_cn"
    assert channels["news_cn"]["edits"] == 1 and channels["news_cn"]["deletions"] == 1
    items = archive["changes"]["items"]
    assert [(i["kind"], i["name"]) for i in items] == [
        ("new", "news_cn/7"),
        ("deleted", "news_cn/5"),
        ("edited", "news_cn/3"),
        ("archived", "news_cn"),
        ("archived", "mirror_blog"),
    ]
    assert items[0]["at"] == "2026-11-27T10:00:00+00:00" and items[3]["posts"] == 6
    assert archive["changes"]["feed"] == "/-/changes.atom"
    # The page shows the same items.
    page = get(sample, "/")
    assert re.findall(r'<li class="change change-(\w+)">', page) == [i["kind"] for i in items]


def test_a_channel_page_as_json(sample):
    data = get_json(sample, "/-/channel/news_cn.json")
    assert data["channel"]["name"] == "news_cn" and data["channel"]["posts"] == 7
    assert data["channel"]["first_seen"] == "2026-11-26T10:00:00+00:00"
    assert "activity_svg" not in data and data["undated_posts"] == 0
    assert [c["status"] for c in data["crawls"]] == ["partial", "ok", "ok"]
    assert data["crawls"][0]["error_list"][0]["message"] == "HTTP 503 Service Unavailable"
    assert [i["name"] for i in data["changes"]["items"]] == [
        "news_cn/7", "news_cn/5", "news_cn/3", "news_cn"
    ]  # fmt: skip
    page = get(sample, "/-/channel/news_cn")
    hrefs = re.findall(
        r'<li class="change change-\w+">\s*<span[^>]*>\w+</span>\s*<a href="([^"]+)"', page
    )
    assert hrefs == [i["href"] for i in data["changes"]["items"]]


def test_a_post_page_as_json(sample):
    data = get_json(sample, "/-/post/news_cn/3.json")
    assert data["post"]["name"] == "news_cn/3" and data["post"]["current_version"] == 2
    v1, v2 = data["versions"]
    assert v1["version"] == 1 and v2["captured_at"] == "2026-11-27T10:00:00+00:00"
    assert {"kind": "removed", "text": "地铁"} in v2["segments"]
    assert v2["capture_href"] == f"/-/capture/{v2['capture']}?post=3"
    assert [p["views"] for p in data["views"]] == [300, 450]
    assert not any(key.endswith("_svg") for key in data)
    gone = get_json(sample, "/-/post/news_cn/5.json")
    assert gone["post"]["deleted_at"] == "2026-11-27T10:00:00+00:00"
    # The sample's check kept no answer: a deletion without evidence says so (None).
    assert gone["deletions"] == [
        {"deleted_at": "2026-11-27T10:00:00+00:00", "restored_at": None,
         "evidence": None, "evidence_href": None}
    ]  # fmt: skip


def test_unknown_pages_as_json_are_404(sample):
    results = fetch(
        sample,
        paths=("/-/channel/nobody.json", "/-/post/news_cn/999.json", "/-/changes.json?channel=x"),
    )
    assert [status for status, _, _ in results] == [404, 404, 404]
    assert json.loads(results[1][2]) == {
        "ok": False,
        "error": "The channel news_cn has no post 999 in this archive.",
    }


def test_a_name_ending_in_json_keeps_its_page_apart_from_its_json(sample, tmp_path):
    assert escaped("report.json") == "report%2Ejson" and escaped("x.atom") == "x%2Eatom"
    assert from_path(escaped("report.json")) == "report.json"
    assert post_path("news_cn", "a/b.json") == "/-/post/news_cn/a%2Fb%2Ejson"
    assert channel_path("127.0.0.1:8080") == "/-/channel/127.0.0.1%3A8080"
    db = tmp_path / "archive.db"
    db.write_bytes(sample.read_bytes())
    conn = sqlite3.connect(db)
    register_functions(conn)
    conn.execute(
        "INSERT INTO posts (channel_id, post_id, url, first_seen, last_seen, current_version,"
        " text) SELECT id, 'report.json', 'https://t.me/news_cn/report', ?, ?, 1, 'x'"
        " FROM channels WHERE name = 'news_cn'",
        [T1, T1],
    )
    conn.commit()
    conn.close()
    page = get(db, post_path("news_cn", "report.json"))
    assert "<h1>news_cn / report.json</h1>" in page
    data = get_json(db, post_path("news_cn", "report.json") + ".json")
    assert data["post"]["post_id"] == "report.json"


def test_two_archives_served_keep_their_captures_apart(sample, tmp_path):
    other = build_sample_archive(tmp_path / "other.db", crawls=1)
    results = fetch(sample, other, paths=("/-/post/news_cn/3", "/-/capture/1?db=other"))
    assert [status for status, _, _ in results] == [200, 200]
    assert "/-/capture/" in results[0][2] and "db=archive" in results[0][2]
    assert "crawl 1" in results[1][2] and "/other/crawls/1" in results[1][2]


# ------------------------------------------------------------------ search


def test_the_search_page_ranks_as_the_command_line_does(demo_archive):
    conn = connect_readonly(demo_archive)
    try:
        ranked = [hit.ref for hit in search_posts(conn, "地铁")]
    finally:
        conn.close()
    assert len(ranked) == 5
    page = get(demo_archive, "/-/search?q=%E5%9C%B0%E9%93%81")
    links = re.findall(r'<a class="post" href="/-/post/([^"]+)">', page)
    assert links == ranked
    assert "<mark>地铁</mark>" in page and "5 posts" in page
    data = get_json(demo_archive, "/-/search.json?q=%E5%9C%B0%E9%93%81")
    [archive] = data["archives"]
    assert [f"{h['channel']}/{h['post_id']}" for h in archive["hits"]] == ranked
    assert {"text": "地铁", "match": True} in archive["hits"][0]["snippet"]
    assert archive["hits"][0]["href"] == f"/-/post/{ranked[0]}"
    # One channel, a phrase, nothing to search for.
    one = get_json(demo_archive, "/-/search.json?q=%E5%9C%B0%E9%93%81&channel=nobody")
    assert one["archives"][0]["hits"] == []
    empty = get(demo_archive, "/-/search?q=")
    assert 'name="q" value=""' in empty and "No posts found" not in empty
    assert 'action="/-/search"' in get(demo_archive, "/")
    assert 'name="channel" value="chanarchive_demo"' in get(
        demo_archive, "/-/channel/chanarchive_demo"
    )


@pytest.mark.parametrize("query", ["地铁", "铁", "南湖隧道", "隧道 通行", "Channel"])
def test_datasettes_search_box_finds_what_chanarchive_search_finds(demo_archive, query):
    conn = connect_readonly(demo_archive)
    try:
        expected = {hit.post_id for hit in search_posts(conn, query, limit=1000)}
    finally:
        conn.close()
    assert expected
    from urllib.parse import quote

    rows = get_json(demo_archive, f"/demo/posts.json?_shape=array&_size=max&_search={quote(query)}")
    assert {row["post_id"] for row in rows} == expected
    page = get(demo_archive, f"/demo/posts?_search={quote(query)}")
    assert f'value="{query}"' in page and f"search matches &#34;{query}&#34;" in page


def test_datasettes_raw_search_and_other_databases_stay_datasettes(demo_archive, tmp_path):
    # FTS syntax typed by hand goes to the trigram index as Datasette sends it.
    raw = get_json(demo_archive, "/demo/posts.json?_shape=array&_searchmode=raw&_search=%22%E5%8D%97%E6%B9%96%E9%9A%A7%E9%81%93%22")  # fmt: skip
    assert len(raw) == 3
    short = get_json(demo_archive, "/demo/posts.json?_shape=array&_searchmode=raw&_search=%E5%9C%B0%E9%93%81")  # fmt: skip
    assert short == []  # Datasette's own: a trigram index holds no two-character word
    # A database that is not an archive, with its own posts and index: Datasette's search.
    plain = tmp_path / "plain.db"
    db = sqlite_utils.Database(plain)
    db["posts"].insert_all([{"id": 1, "text": "hello world"}, {"id": 2, "text": "bye"}], pk="id")
    db["posts"].enable_fts(["text"])
    db.close()
    [(status, _, text)] = fetch(
        demo_archive, plain, paths=("/plain/posts.json?_shape=array&_search=hello",)
    )
    assert status == 200 and [r["id"] for r in json.loads(text)] == [1]


# ------------------------------------------------------------------ change lists


def test_change_lists_choose_kinds(sample):
    page = get(sample, "/?kinds=edited")
    assert re.findall(r'<li class="change change-(\w+)">', page) == ["edited"]
    assert "<strong>edited</strong>" in page and '<a href="/?kinds=deleted">deleted</a>' in page
    channel = get(sample, "/-/channel/news_cn?kinds=deleted,new")
    assert re.findall(r'<li class="change change-(\w+)">', channel) == [
        "new",
        "deleted",
        "archived",
    ]
    assert '<a href="/-/channel/news_cn?kinds=edited">edited</a>' in channel
    data = get_json(sample, "/-/changes.json?channel=news_cn&kinds=edited")
    [archive] = data["archives"]
    assert [i["name"] for i in archive["changes"]["items"]] == ["news_cn/3"]
    assert data["kinds"] == ["edited"]
    # An unknown kind is left out; none known: every kind.
    assert get_json(sample, "/-/changes.json?kinds=bogus")["kinds"] == [
        "new", "edited", "deleted", "undeleted"
    ]  # fmt: skip


def test_a_change_list_pages_through_older_events(sample, monkeypatch):
    everything = get_json(sample, "/-/changes.json")["archives"][0]["changes"]
    assert everything["more"] is None
    whole = [(i["kind"], i["name"]) for i in everything["items"]]
    monkeypatch.setattr(routes, "PAGE_CHANGES", 2)
    seen, path = [], "/-/changes.json"
    for _ in range(10):
        changes = get_json(sample, path)["archives"][0]["changes"]
        seen += [(i["kind"], i["name"]) for i in changes["items"]]
        if changes["more"] is None:
            break
        assert changes["more"].startswith("/-/changes?before=")
        path = changes["more"].replace("/-/changes?", "/-/changes.json?")
    assert seen == whole
    page = get(sample, "/-/changes")
    more = re.search(r'<a class="more" href="([^"]+)">Older changes', page).group(1)
    assert more == f"/-/changes?before={T2[:19]}.000000%2B00%3A00~2".replace(":", "%3A", 2)
    # A cursor that is not one starts at the newest.
    assert get_json(sample, "/-/changes.json?before=garbage")["archives"][0]["changes"]["items"]


def test_each_change_list_offers_its_atom_feed(sample):
    channel = get(sample, "/-/channel/news_cn?kinds=edited")
    link = '<link rel="alternate" type="application/atom+xml" title="Changes in news_cn"'
    assert f'{link} href="/-/changes.atom?channel=news_cn&amp;kinds=edited">' in channel
    assert '<a class="feed" href="/-/changes.atom?channel=news_cn&amp;kinds=edited"' in channel
    home = get(sample, "/")
    assert 'type="application/atom+xml" title="Changes" href="/-/changes.atom">' in home
    [(status, headers, feed)] = fetch(
        sample, paths=("/-/changes.atom?channel=news_cn&kinds=edited",)
    )
    assert status == 200 and headers["content-type"] == "application/atom+xml; charset=utf-8"
    entries = ET.fromstring(feed).findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}category").get("term") for e in entries] == ["edited"]
    assert "<del>地铁</del><ins>轻轨</ins>" in entries[0].find(f"{ATOM}content").text
    # The feed keeps every event: the first crawl's posts one by one.
    every = ET.fromstring(get(sample, "/-/changes.atom?channel=news_cn"))
    terms = [e.find(f"{ATOM}category").get("term") for e in every.findall(f"{ATOM}entry")]
    assert terms.count("new") == 7 and len(terms) == 9
    assert every.find(f"{ATOM}updated").text == T2
    [(missing, _, _)] = fetch(sample, paths=("/-/changes.atom?channel=nobody",))
    assert missing == 404


# ------------------------------------------------------------------ cells


def test_datasettes_cells_link_to_the_pages(sample):
    posts = get(sample, "/archive/posts?_sort=id")
    assert '<td class="col-post_id type-str"><a href="/-/post/news_cn/1">1</a></td>' in posts
    assert '<a href="/-/post/news_cn/1">https://t.me/news_cn/1</a>' in posts
    assert '<a href="/-/post/mirror_blog/hello-world">hello-world</a>' in posts
    row = get(sample, "/archive/posts/3")
    assert '<a href="/-/post/news_cn/3">3</a>' in row
    channels = get(sample, "/archive/channels")
    assert '<a href="/-/channel/news_cn">news_cn</a>' in channels
    snapshots = get(sample, "/archive/snapshots")
    assert '<a href="/-/capture/1">https://t.me/s/news_cn</a>' in snapshots
    assert '<td class="col-id type-int"><a href="/-/capture/1">1</a></td>' in get(
        sample, "/archive/snapshots/1"
    )
    versions = get(sample, "/archive/post_versions")
    assert re.search(
        r'<td class="col-snapshot[^"]*"><a href="/-/capture/\d+">\d+</a></td>', versions
    )
    current = get(sample, "/archive/current_posts")
    assert '<a href="/-/post/news_cn/7">7</a>' in current
    # Other tables and columns as Datasette draws them.
    assert '<td class="col-text type-str">' in posts and "/-/post/" not in get(
        sample, "/archive/crawls"
    )
    # The same values in JSON, as stored.
    [first] = get_json(sample, "/archive/posts.json?_shape=array&_size=1&_sort=id")
    assert first["post_id"] == "1" and first["url"] == "https://t.me/news_cn/1"
    assert T1 in get(sample, "/archive/snapshots/1")
