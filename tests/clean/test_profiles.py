"""Options and site profiles: defaults from a file, overrides of only what is set, checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from archive.clean import rules
from archive.clean.options import default_options
from archive.clean.profiles import available_profiles, load_options, load_profile
from archive.errors import BadInput
from archive.extract import extract_page
from chanarchive.cli import cli
from tests.paths import FIXTURES as FIXTURES_DIR

FIXTURES = FIXTURES_DIR / "mirror"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_come_from_the_shipped_file_and_rules_module():
    options = default_options()
    assert options.favor_recall is False and options.timezone == "+00:00"
    assert options.line_rules == rules.LINE_RULES
    assert options.related_markers == rules.RELATED_MARKERS
    assert load_options(None).learn_min_posts == 3


def test_a_profile_overrides_only_what_it_sets(tmp_path, monkeypatch):
    write(
        tmp_path / "profiles" / "mysite.toml",
        '[extract]\ntimezone = "+08:00"\n[rules]\nline.sign = ["^本站转载$"]\ndisable = ["footer"]\n',
    )
    monkeypatch.setenv("CHANARCHIVE_PROFILES", str(tmp_path / "profiles"))
    profile = load_profile("mysite")
    options = profile.options
    assert profile.name == "mysite" and options.profile == "mysite"
    assert options.timezone == "+08:00"
    assert options.line_rules["sign"] == ["^本站转载$"]
    assert options.line_rules["bot-ad"] == rules.LINE_RULES["bot-ad"]  # untouched
    assert "footer" not in options.page_line_rules and "meta-line" in options.page_line_rules
    assert options.favor_recall is False and options.learn_min_share == 0.05
    assert "mysite" in available_profiles()


def test_the_profile_changes_extraction(tmp_path):
    path = write(
        tmp_path / "mirror.toml",
        'channel = "linjiang-mirror"\n[rules]\nline.hashtags = ["^#"]\n'
        '[extract]\ntimezone = "+08:00"\n',
    )
    options = load_options(str(path))
    page = extract_page(
        (FIXTURES / "flat_post.html").read_bytes(), "http://m.test/x", options=options
    )
    (post,) = page.posts
    assert post.channel == "linjiang-mirror"
    assert "#地铁" not in post.text and "#地铁 #交通" in post.raw_text
    assert ("hashtags", "#地铁 #交通") in post.removed
    assert post.published_at == "2023-02-18T15:01:39+08:00"


def test_profile_selectors_pick_the_post(tmp_path):
    path = write(tmp_path / "p.toml", '[selectors]\npost = "div.text"\ntitle = "div.title"\n')
    page = extract_page(
        (FIXTURES / "en_post.html").read_bytes(),
        "http://m.test/p/1",
        options=load_options(str(path)),
    )
    (post,) = page.posts
    assert post.title == "Night market moves to the east gate"
    assert post.raw_text.startswith("The Stone Bridge night market")


def test_the_built_in_example_profile_loads():
    profile = load_profile("example")
    assert profile.options.post_selector == "div.item[data-post]"
    assert "mirror-signature" in profile.options.line_rules


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[rules]\nline.empty = []\n", "empty rule group"),
        ('[rules]\nline.bad = ["(unclosed"]\n', "bad regular expression"),
        ('[selectors]\npost = "div[["\n', "selectors.post"),
        ("[extract]\nfavour_recall = true\n", "unknown setting [extract] favour_recall"),
        ('[extract]\ntimezone = "Beijing"\n', "timezone"),
        ('[rules]\ndisable = ["no-such-group"]\n', "names no rule group"),
        ("not toml = = 1", "not valid TOML"),
    ],
)
def test_a_wrong_profile_is_one_clear_error(tmp_path, text, message):
    path = write(tmp_path / "wrong.toml", text)
    with pytest.raises(BadInput, match=message.replace("[", r"\[")):
        load_profile(str(path))


def test_unknown_profile_exits_2_before_anything_is_written(tmp_path):
    db = tmp_path / "archive.db"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--db", str(db), "crawl", "http://127.0.0.1:9/x", "--profile", "no-such-profile"]
    )
    assert result.exit_code == 2
    assert "unknown profile 'no-such-profile'" in result.output and "example" in result.output
    assert not db.exists()
    result = runner.invoke(cli, ["extract", str(FIXTURES / "en_post.html"), "--profile", "nope"])
    assert result.exit_code == 2 and "unknown profile 'nope'" in result.output


def test_extract_with_a_profile_file(tmp_path):
    path = write(tmp_path / "strip-tags.toml", '[rules]\nline.tags = ["^#food"]\n')
    result = CliRunner().invoke(
        cli, ["extract", str(FIXTURES / "en_post.html"), "--profile", str(path), "--explain"]
    )
    assert result.exit_code == 0
    assert "6 pm.\n[explain]" in result.output  # the text now ends before the tags
    assert "[explain]   tags: #food #weekend" in result.output
