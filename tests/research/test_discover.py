"""``sources discover`` through the real command line, on channels crawled from the loopback site.

Two channels are served and crawled: ``hub_news`` forwards from, mentions and
links to other channels (and to t.me's own paths, invites and malformed
names, which must not count), ``side_notes`` points to some of the same.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil

import pytest

from archive.query.discover import mentions, references, telegram_name, text_links
from chanarchive.demo.site import SampleChannel, SamplePost, SiteServer
from tests.crawling import crawl, query
from tests.helpers import listed, run
from tests.sample_archive import file_state

pytestmark = pytest.mark.slow

#: Everything in one post that names no channel a study could add.
HOSTILE = (
    "Join https://t.me/joinchat/AAAAAEkK, https://t.me/+AbCdEf12, "
    "https://t.me/share/url?url=x, https://t.me/addstickers/SomePack, "
    "https://t.me/addlist/folder1, https://t.me/proxy?server=a&port=1, "
    "https://t.me/iv?url=x&rhash=1, https://t.me/c/1234/5, https://t.me/s/ , "
    "t.me/s/joinchat, t.me/bad-name, t.me/averyveryveryverylongname_over_32_chars, "
    "@ab, @9lives, write to desk@example.com, https://medium.com/@writer_x, "
    "our own @hub_news and https://t.me/hub_news/1, and @side_notes"
)


def post(post_id: int, day: str, text: str, forwarded: str | None = None) -> SamplePost:
    fwd = {"name": "A forwarder", "url": forwarded} if forwarded else None
    return SamplePost(id=post_id, date=f"2026-{day}T10:00:00+00:00", text=text,
                      views=10, forwarded_from=fwd)  # fmt: skip


def channels() -> list[SampleChannel]:
    hub = [
        post(1, "01-01", "Morning digest.", forwarded="https://t.me/alpha_src/10"),
        post(2, "01-02", "Read @alpha_src and @Beta_Chan today."),
        post(3, "01-03", "Full story: https://t.me/s/gamma_feed and https://t.me/alpha_src/77"),
        post(
            4,
            "01-04",
            "More at telegram.me/gamma_feed/12 (also t.me/delta_room).",
            forwarded="https://t.me/beta_chan/5",
        ),
        post(5, "01-05", HOSTILE),
        post(6, "01-06", "关注@alpha_src again"),
        post(7, "01-07", "Nothing to follow here."),
    ]
    side = [
        post(1, "02-01", "fwd", forwarded="https://t.me/alpha_src/11"),
        post(2, "02-02", "Thanks @hub_news and @beta_chan"),
        post(3, "02-03", "Only epsilon here: https://t.me/epsilon_ch"),
    ]
    return [
        SampleChannel("hub_news", "Hub", "", 10, hub),
        SampleChannel("side_notes", "Side", "", 10, side),
    ]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    """Both channels archived; side_notes scheduled by its loopback URL, @gamma_feed by name."""
    db = tmp_path_factory.mktemp("discover") / "archive.db"
    with SiteServer({c.name: c for c in channels()}) as server:
        for name in ("hub_news", "side_notes"):
            done = crawl(db, f"{server.url}/s/{name}")
            assert done.returncode == 0, done.stderr
        side_url = f"{server.url}/s/side_notes"
    for source, every in ((side_url, "1h"), ("@gamma_feed", "1d")):
        assert run(db, "sources", "add", source, "--every", every).exit_code == 0
    return db


@pytest.fixture
def archive(crawled, tmp_path):
    """A copy of the crawled archive that a test may change."""
    db = tmp_path / "archive.db"
    for suffix in ("", "-wal"):
        if (src := crawled.parent / f"archive.db{suffix}").exists():
            shutil.copy(src, tmp_path / f"archive.db{suffix}")
    return db


def unchanged(db, before) -> bool:
    """The archive's bytes as ``before`` (a reader may leave an empty -wal, nothing in it)."""
    after = file_state(db)
    empty = hashlib.sha256(b"").hexdigest()
    return after["db"] == before["db"] and after["-wal"] in (before["-wal"], empty)


def day(d: str) -> str:
    return f"2026-{d}T10:00:00+00:00"


def found(channel, posts, chans, fwd, men, lnk, first, last, archived=False, scheduled=False,
          sources=()):  # fmt: skip
    return {
        "channel": channel,
        "url": f"https://t.me/s/{channel}",
        "posts": posts,
        "channels": chans,
        "forwards": fwd,
        "mentions": men,
        "links": lnk,
        "first_seen": day(first),
        "last_seen": day(last),
        "archived": archived,
        "scheduled": scheduled,
        "from": list(sources),
    }


EXPECTED = [
    found("alpha_src", 5, 2, 2, 2, 1, "01-01", "02-01", sources=["hub_news", "side_notes"]),
    found("beta_chan", 3, 2, 1, 2, 0, "01-02", "02-02", sources=["hub_news", "side_notes"]),
    found("gamma_feed", 2, 1, 0, 0, 2, "01-03", "01-04", scheduled=True, sources=["hub_news"]),
    found("delta_room", 1, 1, 0, 0, 1, "01-04", "01-04", sources=["hub_news"]),
    found("epsilon_ch", 1, 1, 0, 0, 1, "02-03", "02-03", sources=["side_notes"]),
    found("hub_news", 1, 1, 0, 1, 0, "02-02", "02-02", archived=True, sources=["side_notes"]),
    found(
        "side_notes",
        1,
        1,
        0,
        1,
        0,
        "01-05",
        "01-05",
        archived=True,
        scheduled=True,
        sources=["hub_news"],
    ),
]


def discover(db, *args: str):
    result = run(db, "sources", "discover", *args)
    assert result.exit_code == 0, result.output
    return result


def test_discover_ranks_forwards_mentions_and_links_exactly(crawled):
    before = file_state(crawled)
    assert json.loads(discover(crawled, "--format", "json").stdout) == EXPECTED
    assert json.loads(discover(crawled, "--format", "json", "--min", "2").stdout) == EXPECTED[:3]
    # the posts of one channel only: side_notes points to three
    only_side = json.loads(discover(crawled, "side_notes", "--format", "json").stdout)
    assert [(r["channel"], r["posts"], r["from"]) for r in only_side] == [
        ("alpha_src", 1, ["side_notes"]),
        ("beta_chan", 1, ["side_notes"]),
        ("epsilon_ch", 1, ["side_notes"]),
        ("hub_news", 1, ["side_notes"]),
    ]
    rows = list(csv.DictReader(io.StringIO(discover(crawled, "--format", "csv").stdout)))
    assert [r["channel"] for r in rows] == [r["channel"] for r in EXPECTED]
    assert rows[0] == {
        **{k: str(v) for k, v in EXPECTED[0].items()},
        "archived": "false",
        "scheduled": "false",
        "from": '["hub_news", "side_notes"]',
    }
    text = discover(crawled, "--limit", "3").stdout.splitlines()
    assert text[0].split() == ["CHANNEL", "POSTS", "CHANNELS", "FORWARDS", "MENTIONS", "LINKS",
                               "FIRST", "SEEN", "LAST", "SEEN", "STATUS"]  # fmt: skip
    assert [line.split()[:6] for line in text[1:]] == [
        ["@alpha_src", "5", "2", "2", "2", "1"],
        ["@beta_chan", "3", "2", "1", "2", "0"],
        ["@gamma_feed", "2", "1", "0", "0", "2"],
    ]
    assert text[3].endswith("scheduled") and text[1].endswith("new")
    assert unchanged(crawled, before)  # a listing writes nothing


def test_add_schedules_the_chosen_once_through_sources_add(archive):
    result = discover(archive, "--min", "2", "--add", "--every", "6h")
    assert result.stdout.splitlines()[-1] == (
        "scheduled 2 channels (every 6h): @alpha_src, @beta_chan; "
        "1 already scheduled, left as they are"
    )
    sources = listed(archive)
    by_name = sorted(sources)
    assert by_name[:3] == ["@alpha_src", "@beta_chan", "@gamma_feed"]
    assert len(by_name) == 4 and by_name[3].endswith("/s/side_notes")
    for key in ("@alpha_src", "@beta_chan"):
        assert sources[key]["schedule"] == "every 6h" and sources[key]["kind"] == "telegram"
    assert query(archive, "SELECT url FROM sources WHERE key LIKE '@%' ORDER BY key") == [
        ("https://t.me/s/alpha_src",),
        ("https://t.me/s/beta_chan",),
        ("https://t.me/s/gamma_feed",),
    ]
    assert sources["@gamma_feed"]["schedule"] == "every 1d"  # already scheduled: left alone
    stored = query(archive, "SELECT * FROM sources ORDER BY key")

    again = discover(archive, "--min", "2", "--add", "--every", "6h", "--format", "json")
    assert again.stderr.strip() == "scheduled 0 channels; 3 already scheduled, left as they are"
    assert [r["scheduled"] for r in json.loads(again.stdout)] == [True, True, True]
    assert query(archive, "SELECT * FROM sources ORDER BY key") == stored


@pytest.mark.parametrize(
    "args",
    [
        ["--min", "0"],
        ["--min", "many"],
        ["--limit", "0"],
        ["--format", "xml"],
        ["--every", "6h"],
        ["--add"],
        ["--add", "--every", "6x"],
        ["--add", "--every", "6h", "--cron", "0 * * * *"],
        ["--add", "--every", "1h", "--jitter", "2h"],
        ["--add", "--every", "6h", "no_such_channel"],
        ["nosuch"],
    ],
)
def test_bad_flags_say_so_in_one_line_and_store_nothing(archive, args):
    before = file_state(archive)
    result = run(archive, "sources", "discover", *args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""
    assert unchanged(archive, before)


@pytest.mark.parametrize(
    "text",
    [
        "https://t.me/joinchat/AAAAAEkK",
        "https://t.me/+AbCdEf12",
        "https://t.me/share/url?url=https://x.example",
        "https://t.me/addstickers/SomePack",
        "https://t.me/addemoji/SomeSet",
        "https://t.me/proxy?server=1.2.3.4&port=443",
        "https://t.me/socks?server=1.2.3.4",
        "https://t.me/iv?url=https://x.example&rhash=1",
        "https://t.me/c/1234567/89",
        "https://t.me/s/",
        "https://t.me/ab",
        "https://t.me/name%0Aother",
        "https://t.me/" + "a" * 33,
        "https://example.com/alpha_src",
        "javascript:alert(1)",
        "@ab",
        "@1abc",
        "@bad-name",
        "@" + "b" * 33,
    ],
)
def test_hostile_names_are_no_candidates(text):
    assert telegram_name(text) is None
    assert references(text if text.startswith("http") else None, text, [text]) == {}


def test_names_in_text_are_taken_whole_and_only_where_telegram_reads_them():
    assert mentions("cc @Alpha_src, desk@example.com, @@twice, /@writer, 关注@beta_chan。") == {
        "alpha_src",
        "beta_chan",
    }
    assert mentions("@" + "c" * 40) == set()  # never cut down to a valid length
    assert text_links(
        "t.me/s/gamma_feed t.me/delta_room/12 T.ME/Epsilon_Ch telegram.dog/zeta_ch "
        "t.me/joinchat/x t.me/s/share t.me/bad-name xt.me/nope example.com/t.me/nope2 "
        "t.me/" + "d" * 40
    ) == {"gamma_feed", "delta_room", "epsilon_ch", "zeta_ch"}
    # a mention rendered as its link is one mention; a link to a post of it is a link too
    assert references(None, "@alpha_src", ["https://t.me/alpha_src"]) == {"alpha_src": {"mention"}}
    assert references(None, "@alpha_src", ["https://t.me/alpha_src/5"]) == {
        "alpha_src": {"mention", "link"}
    }
    assert references("https://t.me/beta_chan/5", "", []) == {"beta_chan": {"forward"}}
