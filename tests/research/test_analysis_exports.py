"""``export --format parquet`` and ``--format 4cat`` on an archive made by real crawls."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from archive.export import ExportScope, iter_scope
from archive.export.fourcat import FOURCAT_COLUMNS
from archive.export.parquet import read_records, write_parquet
from archive.export.records import FIELDS
from archive.store import connect_readonly
from chanarchive.demo.site import SiteServer, demo_channel
from tests.crawling import crawl, export, run_cli
from tests.sample_archive import file_state

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """The demo channel crawled, changed (an edit, a deletion, new posts) and crawled again."""
    db = tmp_path_factory.mktemp("analysis") / "archive.db"
    first, second = demo_channel(1), demo_channel(2)
    for channel in (first, second):  # reactions on a few posts, as Telegram shows them
        for post in channel.posts[:3]:
            post.reactions = {"👍": 12, "🔥": 3}
    with SiteServer({"chanarchive_demo": first}) as server:
        url = f"{server.url}/s/chanarchive_demo"
        assert crawl(db, url).returncode == 0
        server.set_channel(second)
        assert crawl(db, url).returncode == 0
    return db


@pytest.mark.parametrize(
    "args", [[], ["--all-versions"], ["--no-deleted", "--channel", "chanarchive_demo"]]
)
def test_parquet_read_back_equals_the_jsonl_export_field_for_field(crawled, tmp_path, args):
    before = file_state(crawled)
    target = tmp_path / "out.parquet"
    done = run_cli(crawled, "export", "--format", "parquet", "-o", str(target), *args)
    assert done.returncode == 0, done.stderr
    expected = export(crawled, *args)
    got = read_records(str(target))
    assert pq.read_schema(target).names == FIELDS
    assert len(got) == len(expected) > 40
    for row, record in zip(got, expected, strict=True):
        assert row == record
    # the nested fields are Parquet's own types, not JSON text, and they hold something
    table = pq.read_table(target)
    assert str(table.schema.field("media").type).startswith("list<element: struct<type")
    assert str(table.schema.field("reactions").type).startswith("map<string, int64")
    assert any(r["media"] for r in expected) and any(r["reactions"] for r in expected)
    assert any(m.get("sha256") for r in expected for m in r["media"])
    assert file_state(crawled)["db"] == before["db"]


def test_parquet_is_written_in_row_groups(crawled, tmp_path):
    conn = connect_readonly(crawled)
    try:
        records = list(iter_scope(conn, ExportScope(all_versions=True)))
    finally:
        conn.close()
    target = tmp_path / "groups.parquet"
    with open(target, "wb") as out:
        assert write_parquet(iter(records), out, row_group=7) == len(records)
    assert pq.ParquetFile(target).num_row_groups == -(-len(records) // 7)
    assert read_records(str(target)) == json.loads(json.dumps(records))


def test_4cat_csv_starts_with_the_import_columns(crawled, tmp_path):
    done = run_cli(crawled, "export", "--format", "4cat", "--raw-csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout, newline="")))
    assert rows[0] == FOURCAT_COLUMNS + FIELDS
    records = export(crawled)
    assert len(rows) - 1 == len(records)
    by_id = {}
    for row, record in zip(rows[1:], records, strict=True):
        first, rest = row[:5], dict(zip(FIELDS, row[5:], strict=True))
        assert rest["post_id"] == record["post_id"] and rest["text"] == (record["text"] or "")
        own = f"{record['channel']}/{record['post_id']}"
        assert first[0] == own and first[2] == record["channel"]
        assert first[3] == (record["text"] or "")
        assert len(first[4]) == 19 and first[4][10] == " "  # YYYY-MM-DD HH:MM:SS
        by_id[first[0]] = first
    replies = [r for r in records if r["reply_to"]]
    assert replies
    for record in replies:
        replied = record["reply_to"].rstrip("/").split("/")[-1]
        thread = by_id[f"{record['channel']}/{record['post_id']}"][1]
        assert (
            thread.endswith(f"/{replied}") and thread != f"{record['channel']}/{record['post_id']}"
        )
    assert all(
        row[1] == row[0]
        for row in by_id.values()
        if not any(r["reply_to"] and f"{r['channel']}/{r['post_id']}" == row[0] for r in replies)
    )
    versions = run_cli(crawled, "export", "--format", "4cat", "--all-versions")
    ids = [row[0] for row in csv.reader(io.StringIO(versions.stdout, newline=""))][1:]
    assert len(ids) == len(set(ids)) == len(export(crawled, "--all-versions"))


def test_parquet_refuses_a_terminal_and_other_flags(crawled):
    done = run_cli(crawled, "export", "--format", "parquet", "--excel")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
