"""The crawl options: one checked type, its defaults written once, one way in and out per transport."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from archive.errors import BadInput
from chanarchive.cli import cli
from crawler.options import DEFAULTS, OPTIONS, SCHEDULED, CrawlOptions, GivenOptions


def test_the_defaults_are_the_table_s_and_a_record_round_trips():
    assert {spec.name: spec.default for spec in OPTIONS} == DEFAULTS.to_record()
    options = CrawlOptions(
        full=True, max_pages=7, depth=2, follow="/post/", media="all", media_max_size=1024,
        deletion_checks=0, settings={"DOWNLOAD_DELAY": "0"},
    )  # fmt: skip
    record = json.loads(json.dumps(options.to_record()))
    assert CrawlOptions.from_record(record) == options
    assert CrawlOptions.from_record({}) == DEFAULTS == CrawlOptions.from_record(None)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"max_pages": 0}, "max_pages must be at least 1"),
        ({"max_pages": "5"}, "max_pages must be a whole number"),
        ({"depth": True}, "depth must be a whole number"),
        ({"full": "yes"}, "full must be true or false"),
        ({"media": "videos"}, "media must be one of none, photos, all"),
        ({"media_max_size": 0}, "media_max_size must be at least one byte"),
        ({"deletion_checks": -1}, "deletion_checks must be 0 or more"),
        ({"follow": "("}, "is not a regular expression"),
        ({"profile": "no_such_profile"}, "no_such_profile"),
        ({"settings": {"lower": "1"}}, "bad setting name"),
        ({"settings": {"DOWNLOAD_DELAY": "soon"}}, "DOWNLOAD_DELAY takes a number"),
        ({"settings": {"CHANARCHIVE_DB": "/tmp/x"}}, "chanarchive sets it"),
        ({"settings": ["DOWNLOAD_DELAY"]}, "settings must be an object"),
        ({"speed": "fast"}, "unknown crawl option 'speed'"),
    ],
)
def test_a_record_with_a_bad_value_is_refused_naming_it(record, message):
    with pytest.raises(BadInput, match=message):
        CrawlOptions.from_record(record)


def test_the_options_cannot_change_once_made():
    with pytest.raises(AttributeError):
        DEFAULTS.media = "none"
    assert DEFAULTS.changed(media="none").media == "none" and DEFAULTS.media == "photos"


def test_a_source_keeps_only_the_options_it_sets_and_runs_with_the_defaults_for_the_rest():
    given = GivenOptions.check({"media": "all", "depth": None, "settings": {}})
    assert given == {"media": "all"}
    assert given.effective() == DEFAULTS.changed(media="all")
    assert given.arguments() == ["--media", "all"]
    text = given.to_text()
    assert list(text) == list(SCHEDULED) and text["media"] == "all" and text["depth"] == ""
    assert GivenOptions.from_text(text) == given
    assert given.listing()["max_pages"] is None
    with pytest.raises(BadInput, match="--full is not an option of a scheduled source"):
        GivenOptions.check({"full": True})


def test_every_option_is_a_flag_of_crawl_and_the_scheduled_ones_of_sources_add():
    runner = CliRunner()
    crawl_help = runner.invoke(cli, ["crawl", "--help"]).output
    add_help = runner.invoke(cli, ["sources", "add", "--help"]).output
    for spec in OPTIONS:
        flag = re.compile(rf"^\s+{re.escape(spec.flag)}[ ,]", re.MULTILINE)  # an option's line
        assert flag.search(crawl_help), spec.flag
        assert bool(flag.search(add_help)) is spec.scheduled, spec.flag
