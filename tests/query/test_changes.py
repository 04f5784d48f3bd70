"""Change events (``archive.query.changes``) and ``chanarchive changes``: new, edited, deleted, back."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from archive import store
from archive.errors import BadInput
from archive.query.changelist import ARCHIVED, FirstCrawl, iter_items
from archive.query.changes import (
    DELETED,
    EDITED,
    NEW,
    UNDELETED,
    ChangeScope,
    iter_changes,
    parse_kinds,
)
from archive.store import connect_readonly, open_archive
from tests.helpers import run
from tests.sample_archive import (
    EDITED_3,
    T1,
    T2,
    T3,
    TEXTS,
    _capture,
    _page,
    build_sample_archive,
    file_state,
)

ATOM = "{http://www.w3.org/2005/Atom}"
T4 = "2026-11-29T10:00:00.000000+00:00"


@pytest.fixture
def sample(tmp_path):
    return build_sample_archive(tmp_path / "archive.db")


def changes_of(db, scope=None):
    conn = connect_readonly(db)
    try:
        return list(iter_changes(conn, scope))
    finally:
        conn.close()


def test_every_change_newest_first_with_the_edit_word_by_word(sample):
    found = changes_of(sample)
    assert [(c.kind, c.name) for c in found[:3]] == [
        (NEW, "news_cn/7"),
        (DELETED, "news_cn/5"),
        (EDITED, "news_cn/3"),
    ]
    assert all(c.at == T2 for c in found[:3])
    assert {c.at for c in found[3:]} == {T1}
    assert sorted(c.name for c in found[3:]) == sorted(
        ["mirror_blog/hello-world"] + [f"news_cn/{i}" for i in range(1, 7)]
    )
    assert [c.at for c in found] == sorted((c.at for c in found), reverse=True)

    edit = found[2]
    assert edit.version == 2 and edit.text == EDITED_3
    # Each CJK character is a word: only the changed characters are marked.
    assert edit.removed == ["地铁", "底"]
    assert edit.added == ["轻轨", "明", "春节"]
    assert (
        edit.marked()
        == "[-地铁-]{+轻轨+}3号线南延段今日起试运行，预计{+明+}年[-底-]{+春节+}前开通。"
    )
    assert edit.marked(context=3) == "[-地铁-]{+轻轨+}3号线…，预计{+明+}年[-底-]{+春节+}前开通。"
    # A deletion carries the text the post had when it was found gone.
    assert found[1].text == TEXTS[5] and found[1].removed == []


def test_scopes_by_channel_and_time(sample):
    assert {c.channel for c in changes_of(sample, ChangeScope(channels=("@News_CN",)))} == {
        "news_cn"
    }
    assert [c.name for c in changes_of(sample, ChangeScope(channels=("mirror_blog",)))] == [
        "mirror_blog/hello-world"
    ]
    since = changes_of(sample, ChangeScope(since="2026-11-27"))
    assert [c.kind for c in since] == [NEW, DELETED, EDITED]
    # A watermark: strictly after one time, up to another.
    assert changes_of(sample, ChangeScope(after=T2)) == []
    window = changes_of(sample, ChangeScope(after=T1, until=T2))
    assert [c.name for c in window] == ["news_cn/7", "news_cn/5", "news_cn/3"]
    everything = changes_of(sample)
    for n in range(1, len(everything) + 2):  # the newest n, in the same order, whatever n
        assert changes_of(sample, ChangeScope(limit=n)) == everything[:n]


def test_a_post_that_comes_back_is_an_undeleted_event(sample):
    db = open_archive(sample)
    crawl = store.begin_crawl(db, "@news_cn")
    store.ingest_page(db, crawl, _capture(b"<html>back</html>", T4), _page([5, 6, 7], 200, {}))
    store.finish_crawl(db, crawl)
    db.close()
    newest = changes_of(sample, ChangeScope(since=T3))
    assert [(c.kind, c.name, c.at) for c in newest] == [(UNDELETED, "news_cn/5", T4)]
    # The deletion stays in the record, at its own time.
    assert (DELETED, "news_cn/5") in [(c.kind, c.name) for c in changes_of(sample)]


def test_changes_command_text_jsonl_and_atom(sample):
    before = file_state(sample)
    text = run(sample, "changes", "--since", "2026-11-27")
    assert text.exit_code == 0, text.output
    lines = text.output.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("2026-11-27 10:00:00Z  new") and "news_cn/7" in lines[0]
    assert "deleted" in lines[1] and "news_cn/5" in lines[1] and TEXTS[5] in lines[1]
    assert "edited" in lines[2] and "news_cn/3 v2" in lines[2]
    assert "[-地铁-]{+轻轨+}" in lines[2] and "{+春节+}" in lines[2]

    jsonl = run(sample, "changes", "--format", "jsonl", "--channel", "news_cn")
    assert jsonl.exit_code == 0
    records = [json.loads(line) for line in jsonl.output.splitlines()]
    assert len(records) == 9
    edit = next(r for r in records if r["kind"] == "edited")
    assert edit == {
        "kind": "edited",
        "at": T2,
        "channel": "news_cn",
        "post_id": "3",
        "url": "https://t.me/news_cn/3",
        "version": 2,
        "title": None,
        "text": EDITED_3,
        "removed": ["地铁", "底"],
        "added": ["轻轨", "明", "春节"],
        "diff": "[-地铁-]{+轻轨+}3号线南延段今日起试运行，预计{+明+}年[-底-]{+春节+}前开通。",
    }
    assert records[-1]["kind"] == "new" and records[-1]["removed"] is None

    atom = run(sample, "changes", "--format", "atom", "--since", "2026-11-27")
    assert atom.exit_code == 0
    feed = ET.fromstring(atom.output)
    assert feed.find(f"{ATOM}updated").text == T2
    entries = feed.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}category").get("term") for e in entries] == ["new", "deleted", "edited"]
    assert entries[2].find(f"{ATOM}title").text.startswith("Edited: news_cn/3")
    content = entries[2].find(f"{ATOM}content")
    assert content.get("type") == "html"
    assert "<del>地铁</del><ins>轻轨</ins>" in content.text
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == 3
    assert file_state(sample)["db"] == before["db"]  # read-only: nothing written


def test_changes_command_refuses_bad_input_with_one_line(sample, tmp_path):
    for args, message in [
        (["--channel", "nope"], "no channel 'nope'"),
        (["--since", "yesterday"], "bad --since 'yesterday'"),
        (["--format", "csv"], "Invalid value for '--format'"),
    ]:
        result = run(sample, "changes", *args)
        assert result.exit_code == 2, args
        assert message in result.output
    missing = run(tmp_path / "none.db", "changes")
    assert missing.exit_code == 2 and "no archive" in missing.output
    assert not (tmp_path / "none.db").exists()
    empty = run(sample, "changes", "--since", "2030-01-01")
    assert empty.exit_code == 0 and "no changes since 2030-01-01" in empty.output


def test_hostile_text_stays_text_in_the_atom_feed(tmp_path):
    from archive.models import Capture, ChannelInfo, Page, Post

    db = open_archive(tmp_path / "hostile.db")
    hostile = "<script>alert(1)</script> & ]]> \x07"
    post = Post(
        channel="evil", post_id="1", url="https://t.me/evil/1",
        source_url="https://t.me/s/evil", raw_text=hostile, text=hostile,
    )  # fmt: skip
    page = Page(
        url="https://t.me/s/evil", kind="telegram", page_type="channel",
        channel=ChannelInfo(name="evil", title="<b>evil</b>"), posts=[post],
    )  # fmt: skip
    crawl = store.begin_crawl(db, "@evil")
    store.ingest_page(db, crawl, Capture(page.url, T1, 200, b"x"), page)
    store.finish_crawl(db, crawl)
    db.close()
    atom = run(tmp_path / "hostile.db", "changes", "--format", "atom", "--channel", "evil")
    assert atom.exit_code == 0
    entry = ET.fromstring(atom.output).find(f"{ATOM}entry")
    assert "<script>" in entry.find(f"{ATOM}title").text  # text, as written
    assert "&lt;script&gt;" in entry.find(f"{ATOM}content").text  # escaped inside the HTML


def test_the_demo_archive_lists_its_edit_deletion_and_new_posts(demo_archive):
    text = run(demo_archive, "changes")
    assert text.exit_code == 0
    lines = text.output.splitlines()
    second = [line for line in lines if line.startswith(lines[0][:17])]  # the second crawl
    kinds = {line.split()[2]: line for line in second}
    assert set(kinds) >= {"new", "edited", "deleted"}
    assert "chanarchive_demo/43 v2" in kinds["edited"]
    assert "[-三-]{+五+}" in kinds["edited"] and "{+，可电话预约+}" in kinds["edited"]
    assert "chanarchive_demo/44" in kinds["deleted"]

    jsonl = run(demo_archive, "changes", "--format", "jsonl", "--channel", "chanarchive_demo")
    records = [json.loads(line) for line in jsonl.output.splitlines()]
    by_kind: dict[str, list] = {}
    for record in records:
        by_kind.setdefault(record["kind"], []).append(record["post_id"])
    assert by_kind["edited"] == ["43"] and by_kind["deleted"] == ["44"]
    assert {"46", "47", "48"} <= set(by_kind["new"]) and len(by_kind["new"]) == 48
    edit = next(r for r in records if r["kind"] == "edited")
    assert edit["removed"] == ["三"] and edit["added"] == ["五", "，可电话预约"]

    atom = run(demo_archive, "changes", "--format", "atom", "--channel", "chanarchive_demo")
    entries = ET.fromstring(atom.output).findall(f"{ATOM}entry")
    terms = [e.find(f"{ATOM}category").get("term") for e in entries]
    assert terms.count("edited") == 1 and terms.count("deleted") == 1 and terms.count("new") == 48


# ------------------------------------------------------------------ kinds, pages, first crawls


def test_kinds_are_chosen_and_checked(sample):
    edits_and_deletions = changes_of(sample, ChangeScope(kinds=parse_kinds("deleted,edited")))
    assert [(c.kind, c.name) for c in edits_and_deletions] == [
        (DELETED, "news_cn/5"),
        (EDITED, "news_cn/3"),
    ]
    assert parse_kinds("") == parse_kinds(None) == (NEW, EDITED, DELETED, UNDELETED)
    assert parse_kinds(" Undeleted ,new") == (NEW, UNDELETED)
    with pytest.raises(BadInput, match="unknown kind of change 'moved'"):
        parse_kinds("edited,moved")
    text = run(sample, "changes", "--kinds", "edited,deleted")
    assert text.exit_code == 0
    assert [line.split()[2] for line in text.output.splitlines()] == ["deleted", "edited"]
    bad = run(sample, "changes", "--kinds", "edited,moved")
    assert bad.exit_code == 2 and "unknown kind of change 'moved'" in bad.output


def test_a_first_crawl_is_one_line_in_text_and_every_event_in_records(sample):
    text = run(sample, "changes").output.splitlines()
    assert len(text) == 5  # crawl 2's new, deleted, edited; each channel's first crawl
    assert text[3].split()[2:] == ["archived", "news_cn", "6", "posts", "archived", "on",
                                   "2026-11-26", "(the", "channel's", "first", "crawl)"]  # fmt: skip
    assert text[3].startswith("2026-11-26 10:00:00Z")
    assert "mirror_blog" in text[4] and "1 post archived on 2026-11-26" in text[4]
    jsonl = run(sample, "changes", "--format", "jsonl").output.splitlines()
    assert len(jsonl) == 10 and all(json.loads(line)["kind"] != "archived" for line in jsonl)
    # Only "new" is summed up; other kinds ask for no summary.
    assert "archived" not in run(sample, "changes", "--kinds", "edited").output
    new_only = run(sample, "changes", "--kinds", "new").output.splitlines()
    assert [line.split()[2] for line in new_only] == ["new", "archived", "archived"]
    # The library, as pages read it: the first crawl's events left out, its summary apart.
    conn = connect_readonly(sample)
    try:
        items = list(iter_items(conn, ChangeScope(channels=("news_cn",))))
        assert [item.kind for item in items] == [NEW, DELETED, EDITED, ARCHIVED]
        assert isinstance(items[-1], FirstCrawl) and items[-1].posts == 6 and items[-1].at == T1
        left = changes_of(sample, ChangeScope(channels=("news_cn",), first_crawls=False))
        assert [c.kind for c in left] == [NEW, DELETED, EDITED]
    finally:
        conn.close()


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_pages_of_changes_follow_on_without_a_gap_or_a_repeat(sample, fmt):
    """Nine events share one time (the first crawl's page): a page may end among them."""
    whole = run(sample, "changes", "--format", fmt)
    assert whole.exit_code == 0 and "more:" not in whole.stderr
    expected = whole.stdout.splitlines()
    for size in (1, 2, 3, 4):
        seen, before = [], None
        for _ in range(20):
            args = ["changes", "--format", fmt, "--limit", str(size)]
            page = run(sample, *args, *(["--before", before] if before else []))
            assert page.exit_code == 0, page.output
            lines = page.stdout.splitlines()
            assert len(lines) <= size
            seen += lines
            more = re.search(r"^more: --before '([^']+)'$", page.stderr, re.M)
            if more is None:
                break
            before = more.group(1)
        assert seen == expected, size


def test_a_page_starts_before_a_time_or_a_cursor(sample):
    older = run(sample, "changes", "--format", "jsonl", "--before", "2026-11-27")
    kinds = {json.loads(line)["at"] for line in older.stdout.splitlines()}
    assert kinds == {T1}  # strictly before the second crawl
    first = run(sample, "changes", "--format", "jsonl", "--limit", "2")
    cursor = re.search(r"--before '([^']+)'", first.stderr).group(1)
    assert cursor == f"{T2}~2"
    bad = run(sample, "changes", "--before", "yesterday~2")
    assert bad.exit_code == 2 and "bad --before 'yesterday~2'" in bad.output
