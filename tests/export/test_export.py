"""``chanarchive export``: jsonl, csv, WARC and Atom; --since/--until, --as-of, --all-versions."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from archive.export import ExportScope, iter_scope
from archive.export.digest import payload_digest
from archive.export.records import FIELDS
from archive.store import connect_readonly
from chanarchive.cli import cli
from tests.sample_archive import BETWEEN_1_2, T1, T2, T3, build_sample_archive, file_state

WARCIO = Path(sys.executable).with_name("warcio")
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def sample(tmp_path):
    return build_sample_archive(tmp_path / "archive.db")


def export(db, *args) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "export", *args])
    assert result.exit_code == 0, result.output
    return result.output


def jsonl(db, *args) -> list[dict]:
    return [json.loads(line) for line in export(db, "--format", "jsonl", *args).splitlines()]


def warcio_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(WARCIO), "check", "-v", str(path)], capture_output=True, text=True)


def test_default_export_is_the_current_version_of_each_post_deleted_included(sample):
    records = jsonl(sample)
    assert [(r["channel"], r["post_id"], r["version"]) for r in records] == [
        ("mirror_blog", "hello-world", 1),
        *[("news_cn", str(i), 2 if i == 3 else 1) for i in range(1, 8)],
    ]
    by_id = {r["post_id"]: r for r in records}
    assert by_id["5"]["deleted_at"] == T2
    assert by_id["3"]["edited"] is True and by_id["3"]["captured_at"] == T2
    assert by_id["4"]["media"] == [{"type": "photo", "url": "https://cdn.example/4.jpg"}]
    assert by_id["1"]["views"] == 150 and list(by_id["1"]) == FIELDS


def test_csv_carries_every_export_record_column(sample):
    rows = list(csv.DictReader(io.StringIO(export(sample, "--format", "csv", "--all-versions"))))
    records = jsonl(sample, "--all-versions")
    assert len(rows) == len(records) == 9
    assert list(rows[0]) == FIELDS
    for row, record in zip(rows, records, strict=True):
        for name in FIELDS:
            value = record[name]
            if isinstance(value, list):
                assert json.loads(row[name]) == value
            elif isinstance(value, bool):
                assert row[name] == ("true" if value else "false")
            elif value is None:
                assert row[name] == ""
            else:
                assert row[name] == str(value), name


def test_as_of_between_two_crawls_reproduces_the_first(tmp_path, sample):
    first_only = build_sample_archive(tmp_path / "first.db", crawls=1)
    then = jsonl(first_only)
    assert jsonl(sample, "--as-of", BETWEEN_1_2) == then
    assert jsonl(sample, "--as-of", BETWEEN_1_2, "--all-versions") == then
    assert export(sample, "--format", "csv", "--as-of", BETWEEN_1_2) == export(
        first_only, "--format", "csv"
    )
    assert jsonl(sample, "--as-of", "2026-01-01") == []


def test_as_of_applies_deletions_up_to_then_and_the_views_seen_by_then(sample):
    now = {r["post_id"]: r for r in jsonl(sample, "--as-of", T3)}
    assert now["5"]["deleted_at"] == T2  # deleted at T2: present at T3, with its deleted_at
    assert now["3"]["version"] == 2 and now["1"]["views"] == 150
    at_t1 = {r["post_id"]: r for r in jsonl(sample, "--as-of", T1)}
    assert at_t1["5"]["deleted_at"] is None and at_t1["1"]["views"] == 100
    assert "7" not in at_t1  # first seen at T2
    live = {r["post_id"] for r in jsonl(sample, "--as-of", T3, "--no-deleted")}
    assert "5" not in live and {"1", "3", "7"} <= live


def test_as_of_after_the_last_crawl_is_the_plain_export(sample):
    """A plain export and one as of a time after every crawl agree, deleted posts included."""
    assert jsonl(sample, "--as-of", "2030-01-01") == jsonl(sample)
    assert jsonl(sample, "--as-of", "2030-01-01", "--all-versions") == jsonl(
        sample, "--all-versions"
    )
    plain_live = jsonl(sample, "--no-deleted")
    assert plain_live == [r for r in jsonl(sample) if r["deleted_at"] is None]


def test_since_and_until_select_on_capture_time(sample):
    since = jsonl(sample, "--since", "2026-11-27")
    assert [(r["post_id"], r["version"]) for r in since] == [("3", 2), ("7", 1)]
    until = jsonl(sample, "--all-versions", "--until", T2, "--channel", "NEWS_CN")
    assert [(r["post_id"], r["version"]) for r in until] == [(str(i), 1) for i in range(1, 7)]


def test_bad_times_and_unknown_channels_exit_2_and_write_nothing(sample, tmp_path):
    out = tmp_path / "out.jsonl"
    for args in (["--since", "yesterday"], ["--as-of", "2026-13-01"], ["--channel", "nobody"]):
        result = CliRunner().invoke(
            cli, ["--db", str(sample), "export", "--format", "jsonl", "-o", str(out), *args]
        )
        assert result.exit_code == 2, args
        assert result.output.startswith("Error: ")
        assert not out.exists()
    for target in (tmp_path, tmp_path / "missing" / "out.jsonl"):
        result = CliRunner().invoke(
            cli, ["--db", str(sample), "export", "--format", "jsonl", "-o", str(target)]
        )
        assert result.exit_code == 2 and result.output.startswith("Error: ")


def test_export_reads_with_one_lazy_cursor(sample):
    conn = connect_readonly(sample)
    records = iter_scope(conn, ExportScope(all_versions=True))
    first = next(records)
    assert first["channel"] == "mirror_blog"
    records.close()
    conn.close()


# ---------------------------------------------------------------------- WARC


def read_warc(path: Path) -> list:
    with open(path, "rb") as stream:
        return [
            (r.rec_type, r.rec_headers, r.http_headers, r.content_stream().read())
            for r in ArchiveIterator(stream)
        ]


def test_warc_holds_responses_and_a_revisit_for_the_identical_capture(sample, tmp_path):
    path = tmp_path / "captures.warc"
    before = file_state(sample)
    export(sample, "--format", "warc", "-o", str(path))
    assert file_state(sample)["db"] == before["db"]
    records = read_warc(path)
    assert [r[0] for r in records] == ["warcinfo", "response", "response", "response", "revisit"]
    first, revisit = records[3], records[4]
    assert first[1]["WARC-Target-URI"] == revisit[1]["WARC-Target-URI"] == "https://t.me/s/news_cn"
    assert first[1]["WARC-Date"] == "2026-11-27T10:00:00Z"
    assert revisit[1]["WARC-Date"] == "2026-11-28T10:00:00Z"
    sha = hashlib.sha256(b"<html>page two</html>").hexdigest()
    assert (
        first[1]["WARC-Payload-Digest"] == revisit[1]["WARC-Payload-Digest"] == payload_digest(sha)
    )
    assert revisit[1]["WARC-Profile"].endswith("/warc/1.1/revisit/identical-payload-digest")
    assert revisit[1]["WARC-Refers-To"] == first[1]["WARC-Record-ID"]
    assert revisit[1]["WARC-Refers-To-Target-URI"] == "https://t.me/s/news_cn"
    assert revisit[1]["WARC-Refers-To-Date"] == "2026-11-27T10:00:00Z"
    assert first[3] == b"<html>page two</html>" and revisit[3] == b""
    # The body was stored decoded: the headers say so.
    http = first[2]
    assert http.get_header("Content-Length") == str(len(b"<html>page two</html>"))
    assert http.get_header("Content-Encoding") is None
    assert http.get_header("Transfer-Encoding") is None
    assert http.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert http.statusline == "200 OK"
    mirror = records[2]
    assert mirror[3] == "<html>镜像</html>".encode()


def test_warc_passes_warcio_check_and_fails_after_a_flipped_byte(sample, tmp_path):
    plain, packed = tmp_path / "a.warc", tmp_path / "a.warc.gz"
    export(sample, "--format", "warc", "-o", str(plain))
    export(sample, "--format", "warc", "-o", str(packed))
    for path in (plain, packed):
        done = warcio_check(path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "digest pass" in done.stdout
    data = bytearray(plain.read_bytes())
    at = data.index(b"<html>page one</html>") + 7
    data[at] ^= 0x01
    plain.write_bytes(bytes(data))
    failed = warcio_check(plain)
    assert failed.returncode != 0 and "digest" in failed.stdout
    gz = bytearray(packed.read_bytes())
    gz[len(gz) // 2] ^= 0x01
    packed.write_bytes(bytes(gz))
    assert warcio_check(packed).returncode != 0


def test_warc_to_stdout_is_gzipped_and_as_of_keeps_earlier_captures(sample, tmp_path):
    result = CliRunner().invoke(
        cli, ["--db", str(sample), "export", "--format", "warc", "--as-of", BETWEEN_1_2]
    )
    assert result.exit_code == 0
    assert result.stdout_bytes[:2] == b"\x1f\x8b"
    path = tmp_path / "asof.warc.gz"
    path.write_bytes(result.stdout_bytes)
    types = [(r[0], r[1]["WARC-Target-URI"]) for r in read_warc(path)]
    assert types == [
        ("warcinfo", None),
        ("response", "https://t.me/s/news_cn"),
        ("response", "https://mirror.example/hello-world"),
    ]
    since = tmp_path / "since.warc"
    export(sample, "--format", "warc", "--since", T3, "-o", str(since))
    # The earlier identical capture is outside the file: this one carries its body.
    assert [r[0] for r in read_warc(since)] == ["warcinfo", "response"]


# ---------------------------------------------------------------------- Atom


def test_atom_feed_of_new_and_edited_posts_parses(sample):
    text = export(sample, "--format", "atom", "--channel", "news_cn")
    feed = ET.fromstring(text.encode("utf-8"))
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "城市新闻"
    assert feed.findtext(f"{ATOM}updated") == T2
    entries = feed.findall(f"{ATOM}entry")
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert ids == [f"https://t.me/news_cn/{i}" for i in (1, 2, 3, 4, 6, 7)]  # 5 was deleted
    edited = entries[2]
    assert edited.findtext(f"{ATOM}title").endswith("(edited)")
    assert edited.findtext(f"{ATOM}updated") == T2
    assert edited.findtext(f"{ATOM}published") == "2026-11-13T08:00:00+00:00"
    assert edited.find(f"{ATOM}category").get("term") == "edited"
    assert "轻轨3号线" in edited.findtext(f"{ATOM}content")


def test_atom_needs_one_channel_or_a_folder(sample, tmp_path):
    result = CliRunner().invoke(cli, ["--db", str(sample), "export", "--format", "atom"])
    assert result.exit_code == 2 and "--channel" in result.output
    folder = tmp_path / "feeds"
    folder.mkdir()
    export(sample, "--format", "atom", "-o", str(folder))
    assert sorted(p.name for p in folder.iterdir()) == ["mirror_blog.atom", "news_cn.atom"]
    mirror = ET.parse(folder / "mirror_blog.atom").getroot()
    [entry] = mirror.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "镜像站文章"
    assert entry.findtext(f"{ATOM}published") == "2026-11-20T00:00:00+00:00"
    per_version = ET.fromstring(
        export(sample, "--format", "atom", "--channel", "news_cn", "--all-versions").encode()
    )
    assert len(per_version.findall(f"{ATOM}entry")) == 7
