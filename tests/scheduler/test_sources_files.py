"""`sources import` / `sources export` / `sources list` paged: many sources at once, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path

from archive.store import begin_crawl, finish_crawl, open_archive, write_transaction
from tests.helpers import digest, listed, run


def test_a_text_file_imports_one_source_a_line_and_importing_again_updates(tmp_path):
    db = tmp_path / "archive.db"
    channels = tmp_path / "channels.txt"
    channels.write_text(
        "# channels to watch\n"
        "@durov\n"
        "t.me/telegram   # the official one\n"
        "\n"
        "https://t.me/s/Durov\n"  # the same source as line 2: merged
        "http://127.0.0.1:9/feed#top\n"
    )
    result = run(db, "sources", "import", str(channels), "--every", "1h", "-s", "DOWNLOAD_DELAY=0")
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"imported 3 sources from {channels}: 3 new, 0 updated; 1 repeated lines merged\n"
    )
    sources = listed(db)
    # a #fragment names no other page: the source is the URL without it
    assert sorted(sources) == ["@durov", "@telegram", "http://127.0.0.1:9/feed"]
    assert {r["every_seconds"] for r in sources.values()} == {3600}
    assert sources["@durov"]["crawl_options"]["settings"] == {"DOWNLOAD_DELAY": "0"}

    again = run(db, "sources", "import", str(channels), "--cron", "0 * * * *")
    assert again.output.startswith(f"imported 3 sources from {channels}: 0 new, 3 updated")
    assert {r["cron"] for r in listed(db).values()} == {"0 * * * *"}


def test_a_bad_line_is_reported_at_its_line_and_nothing_is_imported(tmp_path):
    fresh = tmp_path / "new.db"
    bad = tmp_path / "bad.txt"
    bad.write_text("@durov\n\n# a comment\nnot a source\n@telegram\n")
    result = run(fresh, "sources", "import", str(bad), "--every", "1h")
    assert result.exit_code == 2
    assert result.output.strip() == (
        f"Error: {bad} line 4: unknown source 'not a source': "
        "give @name, t.me/name, https://t.me/s/name or an http(s) URL"
    )
    assert not fresh.exists()

    db = tmp_path / "archive.db"
    assert run(db, "sources", "add", "@kept", "--every", "2h").exit_code == 0
    before = digest(db)
    unscheduled = tmp_path / "unscheduled.txt"
    unscheduled.write_text("@a_channel\n")  # no schedule in the file nor on the command line
    conflict = tmp_path / "conflict.csv"
    conflict.write_text("source,every\n@alpha_ch,1h\n@beta_ch,2h\nt.me/alpha_ch,3h\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n")
    for args, message in [
        ([str(unscheduled)], f"{unscheduled} line 1: give exactly one of --every"),
        ([str(conflict)], f"{conflict} line 4: @alpha_ch is on line 2 too, with another schedule"),
        ([str(empty), "--every", "1h"], f"no sources in {empty}"),
        ([str(tmp_path / "none.txt"), "--every", "1h"], "no file"),
        ([str(bad), "--every", "1h", "--max-pages", "0"], "Invalid value for '--max-pages'"),
    ]:
        result = run(db, "sources", "import", *args)
        assert result.exit_code == 2, result.output
        assert message in result.output
    assert digest(db) == before
    assert [*listed(db)] == ["@kept"]


def test_a_csv_file_gives_each_line_its_own_schedule_and_options(tmp_path):
    db = tmp_path / "archive.db"
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "Source,every,cron,paused,max_pages,settings,notes,media,media_max_size,deletion_checks\n"
        "@daily_ch,,0 6 * * *,,,,morning digest,,,\n"
        "@busy_ch,10m,,no,5,DOWNLOAD_DELAY=2 RETRY_TIMES=1,,all,50M,0\n"
        '@quiet_ch,,,yes,,"{""DOWNLOAD_DELAY"": ""3""}",,none,,200\n'
    )
    result = run(db, "sources", "import", str(sheet), "--every", "1d", "--max-pages", "2")
    assert result.exit_code == 0, result.output
    got = listed(db)
    assert got["@daily_ch"]["cron"] == "0 6 * * *" and got["@daily_ch"]["every_seconds"] is None
    assert got["@busy_ch"]["every_seconds"] == 600
    assert got["@busy_ch"]["crawl_options"]["max_pages"] == 5
    assert got["@busy_ch"]["crawl_options"]["settings"] == {
        "DOWNLOAD_DELAY": "2",
        "RETRY_TIMES": "1",
    }
    assert got["@quiet_ch"]["every_seconds"] == 86400  # the command line's
    assert got["@quiet_ch"]["crawl_options"]["max_pages"] == 2
    assert got["@quiet_ch"]["paused"] is True and got["@busy_ch"]["paused"] is False
    # What each run captures beside the pages: the line's own, else the crawl's defaults.
    capture = ("media", "media_max_size", "deletion_checks")
    assert [got["@busy_ch"]["crawl_options"][k] for k in capture] == ["all", 50 * 1024**2, 0]
    assert [got["@quiet_ch"]["crawl_options"][k] for k in capture] == ["none", None, 200]
    assert [got["@daily_ch"]["crawl_options"][k] for k in capture] == [None, None, None]

    for text, message in [
        ("name,every\n@x_channel,1h\n", "line 1: a CSV file needs a 'source' column"),
        ("source,every\n@x_channel,1h\n@y_channel,soon\n", "line 3: bad interval 'soon'"),
        ("source,max_pages\n@x_channel,0\n", "line 2: max_pages must be at least 1"),
        ("source,paused\n@x_channel,maybe\n", "line 2: paused must be yes or no"),
        ("source,profile\n@x_channel,nope\n", "line 2: "),
        ("source,media\n@x_channel,videos\n", "line 2: media must be one of none, photos, all"),
        ("source,media_max_size\n@x_channel,big\n", "line 2: media_max_size: not a size"),
        ("source,media_max_size\n@x_channel,0\n", "line 2: media_max_size must be at least"),
        ("source,deletion_checks\n@x_channel,-1\n", "line 2: deletion_checks must be 0 or more"),
        ("source,deletion_checks\n@x_channel,many\n", "line 2: deletion_checks must be a whole"),
    ]:
        path = tmp_path / "bad.csv"
        path.write_text(text)
        result = run(db, "sources", "import", str(path), "--every", "1h")
        assert result.exit_code == 2, result.output
        assert f"{path} {message}" in result.output


def test_opml_outlines_are_sources(tmp_path):
    db = tmp_path / "archive.db"
    feeds = tmp_path / "feeds.opml"
    feeds.write_text(
        '<?xml version="1.0"?>\n<opml version="2.0"><head><title>feeds</title></head><body>\n'
        '<outline text="Telegram">\n'
        '  <outline text="Durov" type="rss" xmlUrl="https://rsshub.app/telegram/channel/durov"/>\n'
        '  <outline text="News" htmlUrl="https://t.me/s/news_channel" xmlUrl="https://x/feed"/>\n'
        "</outline>\n"
        '<outline text="Mirror" htmlUrl="https://mirror.example/c/foo" every="2h"/>\n'
        "</body></opml>\n"
    )
    result = run(db, "sources", "import", str(feeds), "--every", "1h")
    assert result.exit_code == 0, result.output
    got = listed(db)
    assert sorted(got) == ["@durov", "@news_channel", "https://mirror.example/c/foo"]
    assert got["https://mirror.example/c/foo"]["every_seconds"] == 7200
    broken = tmp_path / "broken.opml"
    broken.write_text('<?xml version="1.0"?>\n<opml>\n<body>\n<outline text="x"\n</opml>\n')
    result = run(db, "sources", "import", str(broken), "--every", "1h")
    assert (
        result.exit_code == 2 and f"{broken} line " in result.output and "not OPML" in result.output
    )


def test_export_writes_what_import_reads_back(tmp_path):
    db = tmp_path / "archive.db"
    run(db, "sources", "add", "@durov", "--every", "30m", "--jitter", "1m", "--time-limit", "10m")
    run(db, "sources", "add", "@busy_ch", "--adaptive", "--min", "5m", "--max", "6h")
    run(db, "sources", "add", "t.me/night_ch", "--cron", "0 3 * * 1-5", "--max-pages", "3")
    run(db, "sources", "add", "@pics_ch", "--every", "6h", "--media", "all", "--media-max-size",
        "50M", "--deletion-checks", "0")  # fmt: skip
    run(db, "sources", "add", "https://mirror.example/c/foo", "--every", "1h", "--follow", "/post/",
        "--depth", "2", "-s", "DOWNLOAD_DELAY=5")  # fmt: skip
    run(db, "sources", "pause", "@durov")
    wanted = {k: _schedule(v) for k, v in listed(db).items()}

    for fmt in ("csv", "opml"):
        out = tmp_path / f"sources.{fmt}"
        result = run(db, "sources", "export", "--format", fmt, "-o", str(out))
        assert result.exit_code == 0, result.output
        copy = tmp_path / f"copy-{fmt}.db"
        imported = run(copy, "sources", "import", str(out))
        assert imported.exit_code == 0, imported.output
        assert {k: _schedule(v) for k, v in listed(copy).items()} == wanted
    stdout = run(db, "sources", "export", "--format", "txt")
    assert stdout.output.splitlines()[1:] == sorted(wanted)
    copy = tmp_path / "copy-txt.db"
    assert run(copy, "sources", "import", "-", "--every", "1h", stdin=stdout.output).exit_code == 0
    assert sorted(listed(copy)) == sorted(wanted)

    before = digest(db)
    for target in (db, Path(f"{db}-wal"), copy):
        refused = run(db, "sources", "export", "-o", str(target))
        assert refused.exit_code == 2, refused.output
    assert digest(db) == before


def _schedule(record: dict) -> tuple:
    return (record["schedule"], record["paused"], record["time_limit"],
            json.dumps(record["crawl_options"], sort_keys=True), json.dumps(record["adaptive"]))  # fmt: skip


def test_list_pages_and_filters_ten_thousand_sources(tmp_path):
    db = tmp_path / "archive.db"
    names = [f"@channel_{i:05d}" for i in range(10_000)]
    big = tmp_path / "big.txt"
    big.write_text("\n".join(names) + "\n")
    result = run(db, "sources", "import", str(big), "--every", "1h")
    assert result.output == f"imported 10,000 sources from {big}: 10,000 new, 0 updated\n"

    archive = open_archive(db)
    with write_transaction(archive):
        archive.execute("UPDATE sources SET paused = 1 WHERE key LIKE '%7'")  # 1,000 paused
        archive.execute(  # 5,000 ran an hour ago or less: not due; the others never ran
            "UPDATE sources SET next_run_at = '2999-01-01T00:00:00+00:00' WHERE key LIKE '%0'"
            " OR key LIKE '%2' OR key LIKE '%4' OR key LIKE '%6' OR key LIKE '%8'"
        )
    for i, status in [(3, "failed"), (13, "ok"), (13, "failed"), (23, "failed"), (23, "ok")]:
        crawl_id = begin_crawl(archive, names[i], trigger="scheduled")
        finish_crawl(archive, crawl_id, status=status, reason="it was " + status)
    archive.close()

    page = run(db, "sources", "list", "--limit", "3", "--offset", "10")
    lines = page.output.splitlines()
    assert [line.split()[0] for line in lines[1:4]] == names[10:13]
    assert lines[-1] == "11-13 of 10,000 sources; next page: --offset 13"
    assert [*listed(db, "--state", "failing")] == [names[3], names[13]]
    assert len(listed(db, "--state", "paused")) == 1_000
    assert len(listed(db, "--state", "active")) == 9_000
    # Due: odd, not paused, and not the three crawled a moment ago (every 1h).
    due = listed(db, "--state", "due")
    assert sorted(due) == [n for n in names if n[-1] in "1359" and n not in names[3:24:10]]
    last = run(db, "sources", "list", "--state", "due", "--limit", "50", "--offset", "3990")
    assert last.output.splitlines()[-1] == "3,991-3,997 of 3,997 due sources"
    assert run(db, "sources", "list", "--state", "failing", "--offset", "5").output == (
        "no sources after the first 5 (2 in all)\n"
    )
