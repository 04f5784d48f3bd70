"""The command line's contract: help everywhere, clear errors, exit statuses."""

from __future__ import annotations

import hashlib
import json

import click
import pytest
from click.testing import CliRunner

from chanarchive.cli import cli
from tests.helpers import run
from tests.paths import FIXTURES as FIXTURES_DIR
from tests.paths import ROOT, SHARED

REALDATA = SHARED / "realdata" / "telegram"
FIXTURES = FIXTURES_DIR / "telegram"


def all_commands(group: click.Group = cli, prefix: str = "") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix}{name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(all_commands(command, path + " "))
    return found


@pytest.mark.parametrize(
    "path, command", all_commands(), ids=lambda x: x if isinstance(x, str) else ""
)
def test_every_command_has_help_with_an_example(path, command):
    result = run(None, *path.split(), "--help")
    assert result.exit_code == 0
    assert command.help and command.help.strip(), f"{path} has no help text"
    if not isinstance(command, click.Group):
        assert "Example:" in result.output, f"`chanarchive {path} --help` shows no example"


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [path for path, _ in all_commands() if f"chanarchive {path}" not in readme and
               not any(f"chanarchive {path}" in line for line in readme.splitlines())]  # fmt: skip
    # Commands are written with options between, e.g. `chanarchive --db x crawl`: accept those.
    missing = [p for p in missing if f" {p.split()[-1]} " not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


@pytest.mark.skipif(not REALDATA.exists(), reason="../shared/realdata is not here")
def test_extract_real_telegram_page_as_json():
    result = run(None, "extract", str(REALDATA / "channel_page_ru.html"), "--format", "json")
    assert result.exit_code == 0
    records = json.loads(result.output)
    ids = [70989, 70990, 70992, 70995, 70996, 70997, 70998, 70999, 71000, 71006, 71007, 71008]
    assert [r["post_id"] for r in records] == [str(i) for i in ids]
    assert {r["channel"] for r in records} == {"topwar_official"}
    assert all(r["source_url"] == str(REALDATA / "channel_page_ru.html") for r in records)
    assert sum(1 for r in records if r["forwarded_from"]) == 5


def test_extract_formats_and_several_files():
    page = str(FIXTURES / "zh_channel_local.html")
    other = str(FIXTURES / "en_no_header.html")
    jsonl = run(None, "extract", page, other, "--format", "jsonl")
    assert jsonl.exit_code == 0
    lines = [json.loads(line) for line in jsonl.output.splitlines()]
    assert {r["source_url"] for r in lines} == {page, other}
    assert set(lines[0]) >= {"channel", "post_id", "text", "raw_text", "links", "media", "views"}
    text = run(None, "extract", page)
    assert text.exit_code == 0
    assert "shanhai_notes/201" in text.output
    # The bot-ad line is boilerplate: out of the clean text, kept in the raw text.
    ad = "发送关键词来寻找群组"
    assert ad not in text.output
    assert any(ad in r["raw_text"] and ad not in r["text"] for r in lines)


def test_extract_missing_file_is_bad_input():
    result = run(None, "extract", "no/such/page.html")
    assert result.exit_code == 2
    assert result.output.strip() == "Error: no such file: no/such/page.html"


def test_export_without_an_archive_is_bad_input(tmp_path):
    result = run(tmp_path / "missing.db", "export", "--format", "jsonl")
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: no archive at {tmp_path / 'missing.db'}"
    assert not (tmp_path / "missing.db").exists()


def test_unreadable_archive_is_bad_input_and_left_unchanged(tmp_path):
    bogus = tmp_path / "notes.db"
    bogus.write_bytes(b"these are my notes, not a database\n" * 100)
    digest = hashlib.sha256(bogus.read_bytes()).hexdigest()
    result = run(bogus, "export", "--format", "jsonl")
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: cannot open archive {bogus}: file is not a database")
    assert len(result.output.strip().splitlines()) == 1
    assert hashlib.sha256(bogus.read_bytes()).hexdigest() == digest


def test_bad_crawl_options_exit_2(tmp_path):
    db = tmp_path / "a.db"
    for args in (
        ["crawl", "@some_channel", "--max-pages", "0"],
        ["crawl", "@some_channel", "-s", "not-a-setting"],
        ["crawl", "@some_channel", "--follow", "("],
        ["crawl", "not a source"],
    ):
        result = run(db, *args)
        assert result.exit_code == 2, args
        assert not db.exists()


def test_db_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CHANARCHIVE_DB", str(tmp_path / "env.db"))
    result = run(None, "export", "--format", "jsonl")
    assert result.exit_code == 2
    assert str(tmp_path / "env.db") in result.output


def test_extract_says_when_a_page_gives_no_post(tmp_path):
    """A page where nothing is found is said so, with --explain too; no post at all is exit 1."""
    blank = tmp_path / "blank.html"
    blank.write_text("<html><head><title>x</title></head><body></body></html>")
    alone = CliRunner().invoke(cli, ["extract", str(blank), "--explain"])
    assert alone.exit_code == 1
    assert f"{blank}: no posts found: no main text or post cards" in alone.stderr
    assert f"[explain] page {blank}: nothing cut" in alone.stderr
    assert "Error: no posts found on the page" in alone.stderr
    empty = FIXTURES_DIR / "telegram" / "empty_before.html"
    both = CliRunner().invoke(
        cli, ["extract", str(empty), str(FIXTURES_DIR / "telegram" / "zh_channel_local.html")]
    )
    assert both.exit_code == 0, both.stderr
    assert f"{empty}: no posts found: Telegram answered its empty page" in both.stderr
    assert both.stdout.strip()  # the other page's posts
