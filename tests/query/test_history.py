"""``chanarchive history`` / ``diff``: every version of a post and what changed between two."""

from __future__ import annotations

import json

import pytest

from archive.query.history import UnknownPost, find_post, tokens, word_diff
from archive.store import connect_readonly
from tests.helpers import run
from tests.sample_archive import EDITED_3, T1, T2, TEXTS, build_sample_archive


@pytest.fixture
def sample(tmp_path):
    return build_sample_archive(tmp_path / "archive.db")


@pytest.mark.parametrize(
    "ref",
    [
        "https://t.me/news_cn/3",
        "https://t.me/s/news_cn/3",
        "t.me/news_cn/3",
        "t.me/s/news_cn/3",
        "https://telegram.me/News_CN/3?single",
        "news_cn/3",
        "@news_cn/3",
    ],
)
def test_a_post_is_found_by_any_of_its_names(sample, ref):
    conn = connect_readonly(sample)
    post = find_post(conn, ref)
    assert (post.channel, post.post_id, post.current_version) == ("news_cn", "3", 2)
    conn.close()


def test_a_mirror_post_is_found_by_its_url(sample):
    conn = connect_readonly(sample)
    post = find_post(conn, "https://mirror.example/hello-world")
    assert post.name == "mirror_blog/hello-world"
    for unknown in ("news_cn/99", "https://t.me/nobody/1", "https://mirror.example/other", ""):
        with pytest.raises(UnknownPost):
            find_post(conn, unknown)
    conn.close()


def test_history_lists_every_version_with_its_capture_time(sample):
    result = run(sample, "history", "https://t.me/news_cn/3")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "news_cn/3  https://t.me/news_cn/3  (2 versions, current v2)"
    # each version says when it was captured and from which page (issue 9)
    assert f"v1  captured {T1}  from https://t.me/s/news_cn" in lines
    assert f"v2  captured {T2}  from https://t.me/s/news_cn" in lines
    assert f"    {TEXTS[3]}" in lines and f"    {EDITED_3}" in lines
    deleted = run(sample, "history", "news_cn/5")
    assert "deleted_at 2026-11-27T10:00:00.000000+00:00" in deleted.output.splitlines()[0]


def test_history_as_json_gives_export_records(sample):
    result = run(sample, "history", "news_cn/3", "--format", "json")
    records = json.loads(result.output)
    assert [(r["version"], r["captured_at"], r["text"]) for r in records] == [
        (1, T1, TEXTS[3]),
        (2, T2, EDITED_3),
    ]
    assert records[1]["edited"] is True


def test_unknown_post_exits_2(sample):
    for command in ("history", "diff"):
        result = run(sample, command, "news_cn/404")
        assert result.exit_code == 2
        assert "no post 'news_cn/404'" in result.output


def test_diff_defaults_to_the_last_two_versions(sample):
    result = run(sample, "diff", "t.me/s/news_cn/3")
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"--- news_cn/3 v1 ({T1})",
        f"+++ news_cn/3 v2 ({T2})",
        "@@ -1 +1 @@",
        f"-{TEXTS[3]}",
        f"+{EDITED_3}",
    ]
    assert run(sample, "diff", "news_cn/3", "1", "2").output == result.output
    assert run(sample, "diff", "news_cn/3", "2", "2").output == ""


def test_word_diff_marks_changed_cjk_characters(sample):
    result = run(sample, "diff", "news_cn/3", "--words")
    assert result.output.splitlines()[2] == (
        "[-地铁-]{+轻轨+}3号线南延段今日起试运行，预计{+明+}年[-底-]{+春节+}前开通。"
    )
    raw = run(sample, "diff", "news_cn/3", "--raw")
    assert "🔍 发送关键词" in raw.output  # the raw text keeps the ad; the lines around it match


def test_diff_refuses_what_it_cannot_compare(sample):
    one = run(sample, "diff", "news_cn/1")
    assert one.exit_code == 2 and "only one version" in one.output
    missing = run(sample, "diff", "news_cn/3", "1", "5")
    assert missing.exit_code == 2 and "no version 5" in missing.output
    half = run(sample, "diff", "news_cn/3", "1")
    assert half.exit_code == 2


def test_word_tokens_and_diff():
    assert tokens("Line 2 runs 每四分钟") == "Line| |2| |runs| |每|四|分|钟".split("|")
    assert word_diff("the old text", "the new text") == "the [-old-]{+new+} text"
    assert word_diff("同样", "同样") == "同样"
