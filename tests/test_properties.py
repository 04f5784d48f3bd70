"""Property-based tests: arbitrary input never raises, and what is read stays bounded by it.

hypothesis generates the pages, bytes, times, SOURCE arguments and SQL; a
fixed number of examples runs in ``make test`` (``CHANARCHIVE_FUZZ_EXAMPLES``
raises it for a longer run).
"""

from __future__ import annotations

import os
import re
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.errors import BadInput, BadSource, NotAPage
from archive.extract import MAX_POSTS_PER_PAGE, extract_page
from archive.extract.dates import find_time
from archive.extract.encoding import decode_html
from archive.extract.telegram import MAX_COUNT, parse_telegram_page, parse_views
from archive.query import BadQuery, QueryRefused, check_statement, run_query
from archive.source import is_channel_name, parse_source
from archive.store import connect_readonly
from archive.times import parse_time
from tests.safety import unchanged
from tests.sample_archive import build_sample_archive

EXAMPLES = int(os.environ.get("CHANARCHIVE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# --------------------------------------------------------------------------- pages

_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from("<>&\"'/=#@\n\x00"),
    max_size=40,
)
_CLASSES = st.sampled_from(
    [
        "tgme_widget_message",
        "tgme_widget_message_text",
        "tgme_widget_message_views",
        "tgme_widget_message_date",
        "tgme_widget_message_photo_wrap",
        "tgme_widget_message_reply",
        "tgme_widget_message_link_preview",
        "tgme_channel_info_header_username",
        "tgme_widget_message_poll",
        "tme_messages_more",
        "tgme_widget_message_service",
        "x",
    ]
)
_DATA_POST = st.one_of(
    st.builds(
        lambda c, n: f"{c}/{n}",
        st.sampled_from(["chan_one", "chan_two", "../x", "", "a/b"]),
        st.one_of(st.integers(-5, 2**70).map(str), _TEXT),
    ),
    _TEXT,
)


@st.composite
def markup(draw, depth: int = 0) -> str:
    """Telegram-like markup: nested elements with the classes the parsers look at."""
    parts = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 3 if depth < 4 else 1))
        if kind == 0:
            parts.append(draw(_TEXT).replace("<", "&lt;"))
        elif kind == 1:
            parts.append(draw(st.sampled_from(["<br>", "<img alt='🔥'>", "</div>", "<p>"])))
        else:
            tag = draw(st.sampled_from(["div", "a", "span", "time", "i", "pre"]))
            attrs = f' class="{draw(_CLASSES)}"'
            if draw(st.booleans()):
                attrs += f' data-post="{draw(_DATA_POST)}"'
            if draw(st.booleans()):
                attrs += (
                    f' datetime="{draw(_TEXT)}" style="background-image:url(\'{draw(_TEXT)}\')"'
                )
            parts.append(f"<{tag}{attrs}>{draw(markup(depth + 1))}</{tag}>")
    return "".join(parts)


@FUZZ
@given(body=markup(), before=st.one_of(st.none(), st.integers(-10, 2**40)))
def test_telegram_parser_takes_any_markup(body, before):
    page = parse_telegram_page(body, "https://t.me/s/chan_one", before=before)
    assert page.channel is None or is_channel_name(page.channel.name)
    assert len(page.posts) <= body.count("data-post")
    ids = [p.post_id for p in page.posts]
    assert len(ids) == len(set(ids))
    for post in page.posts:
        assert re.fullmatch(r"[1-9][0-9]{0,17}", post.post_id)
        assert post.channel == page.channel.name
        assert len(post.raw_text) <= len(body)
        assert post.views is None or 0 <= post.views < MAX_COUNT


@FUZZ
@given(body=st.binary(max_size=3000), content_type=st.one_of(st.none(), _TEXT))
def test_extraction_takes_any_bytes(body, content_type):
    try:
        page = extract_page(body, "http://127.0.0.1:8000/page", content_type=content_type)
    except NotAPage:
        return
    assert len(page.posts) <= MAX_POSTS_PER_PAGE
    for post in page.posts:
        assert len(post.raw_text) <= len(body)
        assert len(post.text or "") <= len(post.raw_text)


@FUZZ
@given(text=markup())
def test_extraction_of_web_like_pages_is_bounded(text):
    body = f"<html><body><article>{text}</article></body></html>".encode()
    try:
        page = extract_page(body, "http://127.0.0.1:8000/post/1")
    except NotAPage:
        return
    for post in page.posts:
        assert len(post.raw_text) <= len(body)


@FUZZ
@given(body=st.binary(max_size=2000), content_type=st.one_of(st.none(), _TEXT))
def test_decoding_takes_any_bytes(body, content_type):
    decoded = decode_html(body, content_type)
    assert isinstance(decoded.text, str)
    if body.isascii():
        assert decoded.text == body.decode("ascii")


@FUZZ
@given(text=st.text(max_size=80))
def test_utf8_text_decodes_to_itself(text):
    assert decode_html(text.encode("utf-8")).text == text


# --------------------------------------------------------------------------- small readers


@FUZZ
@given(text=st.text(max_size=60) | st.from_regex(r"\d{1,6}[-/年.]\d{1,3}[-/月.]\d{1,3}.{0,12}"))
def test_dates_are_iso_with_an_offset_or_nothing(text):
    found = find_time(text)
    if found is not None:
        assert datetime.fromisoformat(found).tzinfo is not None


@FUZZ
@given(text=st.text(max_size=40) | st.from_regex(r"\d{1,30}(\.\d{1,5})?\s?[KMBkmb]?"))
def test_counters_are_bounded(text):
    value = parse_views(text)
    assert value is None or 0 <= value < MAX_COUNT


@FUZZ
@given(text=st.text(max_size=60) | st.from_regex(r"-?\d{1,6}-\d\d-\d\d(T\d\d:\d\d(:\d\d)?)?.{0,8}"))
def test_times_from_the_command_line_are_read_or_refused(text):
    try:
        stamp = parse_time(text)
    except BadInput:
        return
    assert datetime.fromisoformat(stamp).utcoffset().total_seconds() == 0


@FUZZ
@given(text=st.text(max_size=80) | st.from_regex(r"(https?|ftp)://[^\s]{0,40}"))
def test_sources_are_read_or_refused(text):
    try:
        source = parse_source(text)
    except BadSource:
        return
    assert source.url.startswith(("http://", "https://"))
    assert source.name is None or is_channel_name(source.name)


# --------------------------------------------------------------------------- the SQL guard


@FUZZ
@given(sql=st.text(max_size=120))
def test_the_statement_check_takes_any_text(sql):
    try:
        check_statement(sql)
    except QueryRefused:
        pass


_SQL = st.builds(
    lambda head, expr, tail: f"{head} {expr} {tail}",
    st.sampled_from(["SELECT", "WITH x AS (SELECT 1) SELECT", "EXPLAIN SELECT", "select/**/"]),
    st.sampled_from(
        [
            "printf('%.*c', {n}, 'x')",
            "zeroblob({n})",
            "randomblob({n})",
            "hex(randomblob({n}))",
            "replace(printf('%{n}d', 1), ' ', 'ab')",
            "length(printf('%.{n}f', 1.5))",
            "substr(text, {n}) FROM posts",
            "* FROM posts LIMIT {n}",
            "load_extension('x{n}')",
            "1; ATTACH 'x{n}.db' AS x",
        ]
    ),
    st.sampled_from(["", ";", "-- tail", "UNION SELECT 1"]),
).flatmap(lambda sql: st.integers(-(2**40), 2**40).map(lambda n: sql.replace("{n}", str(n))))


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return build_sample_archive(tmp_path_factory.mktemp("fuzz") / "archive.db")


@FUZZ
@given(sql=_SQL | st.text(max_size=80).map(lambda t: "SELECT " + t))
def test_any_query_is_answered_or_refused_and_writes_nothing(sample, sql):
    with unchanged(sample):
        conn = connect_readonly(sample)
        try:
            result = run_query(conn, sql, time_limit_ms=200, max_rows=50)
        except (BadQuery, QueryRefused):
            return
        finally:
            conn.close()
    assert len(result.rows) <= 50
