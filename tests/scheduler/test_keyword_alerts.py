"""Keyword alerts: ``sources add --notify URL --match QUERY`` and ``changes --match QUERY``.

A scheduled crawl through the real command line, its notifications sent by apprise to a
``json://`` webhook on 127.0.0.1; what a post should match is worked out from the test
site's own texts, never written down here.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3

import pytest

from archive.query.changes import EDITED, NEW, iter_changes
from archive.query.search import MAX_QUERY, BadQuery, parse_query
from archive.store import connect_readonly
from tests.crawling import FAST, query, run_cli
from tests.sample_archive import file_state
from tests.scheduler.test_notify import EDITED_TEXT, run_again, sources, webhook  # noqa: F401
from tests.scheduler.test_service import once
from tests.server import generated_text

CJK = "地铁"
LATIN = 'TRAFFIC "line 2"'
METRO_EDIT = "今晚地铁5号线延长运营至午夜。"


def _holds(text: str, words: list[str]) -> bool:
    return all(word.lower() in text.lower() for word in words)


def _listed(body: str) -> list[str]:
    """The posts a message names (``- channel/id  url`` lines)."""
    return re.findall(r"^- (\S+)", body, re.MULTILINE)


@pytest.mark.slow
def test_a_scheduled_crawl_with_match_tells_of_the_matching_posts_only(site, tmp_path, webhook):  # noqa: F811
    db = tmp_path / "archive.db"
    cjk_hook, latin_hook = webhook(), webhook()
    site.control("channel", name="metro", posts=5)
    site.control("channel", name="roads", posts=5)
    metro, roads = f"{site.url}/s/metro", f"{site.url}/s/roads"
    added = sources(
        db, "add", metro, "--every", "1h", "--notify", cjk_hook.url, "--match", CJK, *FAST
    )
    assert added.exit_code == 0, added.output
    assert f"matching {CJK}" in added.output
    added = sources(
        db, "add", roads, "--every", "1h", "--notify", latin_hook.url, "--match", LATIN, *FAST
    )
    assert added.exit_code == 0, added.output
    listed = sources(db, "list").output
    assert f"{metro}: notifies only of new and edited posts matching {CJK}" in listed
    as_json = {
        r["source"]: r["match"] for r in json.loads(sources(db, "list", "--format", "json").output)
    }
    assert as_json == {metro: CJK, roads: LATIN}

    first = once(db)
    assert first.returncode == 0, first.stderr
    cjk_new = [i for i in range(1, 6) if CJK in generated_text(i)]
    latin_new = [i for i in range(1, 6) if _holds(generated_text(i), ["traffic", "line 2"])]
    # Some posts match and some do not: the silence below can fail.
    assert 0 < len(cjk_new) < 5 and 0 < len(latin_new) < 5
    [message] = [m["json"] for m in cjk_hook.received]
    assert message["title"] == f"chanarchive: {metro}: {len(cjk_new)} new matching {CJK}"
    assert _listed(message["message"]) == [f"metro/{i}" for i in reversed(cjk_new)]
    assert message["message"].count(f"  matched: {CJK}\n") == len(cjk_new)
    [message] = [m["json"] for m in latin_hook.received]
    assert _listed(message["message"]) == [f"roads/{i}" for i in reversed(latin_new)]
    # Each term as the post spells it, in the order of the query.
    assert message["message"].count("  matched: Traffic · line 2\n") == len(latin_new)

    # An edit that brings the word, an edit without it, new posts with and without it.
    unmatched = next(i for i in range(1, 6) if i not in cjk_new)
    other = next(i for i in range(1, 6) if i not in cjk_new and i != unmatched)
    site.control("edit", name="metro", id=unmatched, text=METRO_EDIT)
    site.control("edit", name="metro", id=other, text=EDITED_TEXT)
    new_ids = site.control("add", name="metro", count=2)["ids"]
    new_matching = [i for i in new_ids if CJK in generated_text(i)]
    assert CJK not in EDITED_TEXT and len(new_matching) < len(new_ids)
    run_again(db, metro)
    assert len(cjk_hook.received) == 2, "one message for the run"
    message = cjk_hook.received[1]["json"]
    body = message["message"]
    assert _listed(body) == [f"metro/{unmatched}", *(f"metro/{i}" for i in reversed(new_matching))]
    assert f"metro/{other}" not in body
    assert message["title"].startswith(f"chanarchive: {metro}: 1 edited")
    # The edit's words, each CJK character a word, as every message shows them.
    added_line = next(line for line in body.splitlines() if line.startswith("  added: "))
    assert "地" in added_line and "午" in added_line

    # A run that changed only posts without the word sends nothing.
    site.control("edit", name="metro", id=other, text=EDITED_TEXT + " (updated)")
    run_again(db, metro)
    assert len(cjk_hook.received) == 2
    assert query(db, "SELECT COUNT(*) FROM notifications WHERE source = ?", [metro]) == [(2,)]
    assert len(latin_hook.received) == 1

    # `changes --match` lists exactly the new and edited posts holding the word.
    conn = connect_readonly(db)
    try:
        expected = [
            (c.kind, c.name, c.version)
            for c in iter_changes(conn)
            if c.kind in (NEW, EDITED) and CJK in f"{c.title or ''}\n{c.text}"
        ]
    finally:
        conn.close()
    done = run_cli(db, "changes", "--match", CJK, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    got = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["kind"], f"{r['channel']}/{r['post_id']}", r["version"]) for r in got] == expected
    assert {tuple(r["matched"]) for r in got} == {(CJK,)}
    assert f"metro/{other}" not in done.stdout and len(expected) < len(
        [line for line in run_cli(db, "changes", "--format", "jsonl").stdout.splitlines()]
    )
    feed = run_cli(db, "changes", "--match", CJK, "--format", "atom")
    assert feed.returncode == 0 and feed.stdout.count("<entry>") == len(expected)
    text = run_cli(db, "changes", "--match", CJK, "--limit", "1")
    assert text.stdout.count("\n") == 1 and text.stdout.rstrip().endswith(f"(matched: {CJK})")


BAD = [
    ("   ", "nothing to search for"),  # (a blank cell of a file leaves the query as it is)
    (f"{CJK}\x07", "control character"),
    ("x" * (MAX_QUERY + 1), f"longer than {MAX_QUERY} characters"),
    (" ".join(f"w{i}" for i in range(30)), "at most"),
]


@pytest.mark.parametrize(("text", "why"), BAD)
def test_a_bad_query_is_refused_and_nothing_is_stored(tmp_path, text, why):
    db = tmp_path / "archive.db"
    hook = "json://127.0.0.1:9/hook"
    refused = sources(db, "add", "@metro", "--every", "1h", "--notify", hook, "--match", text)
    assert refused.exit_code == 2
    assert len(refused.output.strip().splitlines()) == 1 and why in refused.output
    assert refused.output.startswith("Error: --match ")
    assert not db.exists()  # a new archive is not even created

    assert sources(db, "add", "@metro", "--every", "1h", "--notify", hook).exit_code == 0
    before = file_state(db)
    again = sources(db, "add", "@metro", "--every", "2h", "--match", text)
    assert again.exit_code == 2 and why in again.output
    if text.strip():
        file = tmp_path / "s.csv"
        with file.open("w", newline="") as out:
            csv.writer(out).writerows([["source", "every", "match"], ["@metro", "1h", CJK],
                                       ["@other", "1h", text]])  # fmt: skip
        imported = sources(db, "import", str(file))
        assert imported.exit_code == 2 and f"{file} line 3: --match" in imported.output
    listed = run_cli(db, "changes", "--match", text)
    assert listed.returncode == 2 and why in listed.stderr
    assert file_state(db) == before


def test_a_stored_query_is_checked_on_read_kept_replaced_and_cleared(tmp_path):
    db = tmp_path / "archive.db"
    assert sources(db, "add", "@metro", "--every", "1h", "--match", CJK).exit_code == 0
    stored = lambda: query(db, "SELECT notify_match FROM sources")  # noqa: E731
    assert stored() == [(CJK,)]
    assert sources(db, "add", "@metro", "--every", "2h").exit_code == 0  # kept
    assert stored() == [(CJK,)]
    assert sources(db, "add", "@metro", "--every", "2h", "--match", LATIN).exit_code == 0
    assert stored() == [(LATIN,)]
    both = sources(db, "add", "@metro", "--every", "2h", "--match", CJK, "--no-match")
    assert both.exit_code == 2 and stored() == [(LATIN,)]

    # A sources file carries it both ways, through the same check.
    out = tmp_path / "s.csv"
    assert sources(db, "export", "-o", str(out)).exit_code == 0
    other = tmp_path / "other.db"
    assert sources(other, "import", str(out)).exit_code == 0
    assert query(other, "SELECT notify_match FROM sources") == [(LATIN,)]

    assert sources(db, "add", "@metro", "--every", "2h", "--no-match").exit_code == 0
    assert stored() == [(None,)]

    # A shared archive may hold anything: a bad stored query refuses the row, listed with why.
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE sources SET notify_match = ?", ["\x00"])
    conn.close()
    listed = sources(db, "list")
    assert "refused" in listed.output
    assert "its stored row is refused: its --match" in listed.output
    assert "control character" in listed.output


def test_a_query_matches_every_term_in_any_case_and_names_the_words():
    found = parse_query('地铁 "Line 2"').found
    assert found("标题", "地铁 runs on LINE 2 today") == ("地铁", "LINE 2")
    assert found(None, "地铁 runs on line 3") == ()
    assert found("Line 2 in the title", "地铁 in the text") == ("地铁", "Line 2")  # query order
    assert parse_query("  两字  ").terms == ("两字",)
    with pytest.raises(BadQuery):
        parse_query("\t ")
