"""Property-based: a sources file or a ``sources`` row, whatever it holds, is a checked source or
a named refusal; never another exception, never a setting outside the politeness list."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.errors import BadInput
from crawler.options import SCHEDULED
from crawler.tunables import STORED, TUNABLES
from scheduler.sources.files import COLUMNS, read_sources
from scheduler.sources.scheduled import source_from_row
from scheduler.sources.specs import Options, specs_from_lines

EXAMPLES = int(os.environ.get("CHANARCHIVE_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_NAMES = [t.name for t in TUNABLES] + ["FEEDS", "LOG_FILE", "TELNETCONSOLE_ENABLED", "X"]
_CELL = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "1h",
            "0",
            "-1",
            "yes",
            "all",
            "none",
            "20M",
            "1e308",
            "nan",
            "*/5 * * * *",
            "@durov",
            "https://t.me/s/x",
            "/etc/passwd",
            "{}",
            "[]",
        ]
    ),  # fmt: skip
    st.builds(
        lambda name, value: f"{name}={value}",
        st.sampled_from(_NAMES),
        st.sampled_from(["0", "2.5", "1e308", "true", "x", '{"t.me": {"delay": 2}}', "[429]"]),
    ),
)


def _csv_line(cells: list[str]) -> str:
    return ",".join('"' + cell.replace('"', '""') + '"' for cell in cells)


@FUZZ
@given(
    header=st.lists(st.sampled_from([*COLUMNS, "notes", "url"]), min_size=1, max_size=8),
    rows=st.lists(st.lists(_CELL, min_size=0, max_size=9), max_size=5),
    fmt=st.sampled_from(["csv", "txt", "auto"]),
)
def test_any_sources_file_is_read_into_checked_sources_or_refused_by_line(header, rows, fmt):
    text = "\n".join([_csv_line(header), *(_csv_line(row) for row in rows)]) + "\n"
    try:
        lines = read_sources("fuzz.csv", text.encode("utf-8"), fmt)
        plan = specs_from_lines("fuzz.csv", lines, Options(every="1h"))
    except BadInput:
        return
    for spec in plan.specs:
        assert set(spec.crawl) <= set(SCHEDULED)
        assert set(spec.crawl.get("settings", {})) <= set(STORED)
        spec.crawl.effective()  # every value a crawl can run with


_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**20), 10**20), st.floats(allow_nan=True),
    st.text(max_size=40), st.sampled_from(["@durov", "@Bad_Case", "https://t.me/s/x", "*/5 * * * *"]),
)  # fmt: skip
_OPTIONS = st.one_of(
    st.text(max_size=30),
    st.dictionaries(
        st.sampled_from([*SCHEDULED, "full", "evil"]),
        st.one_of(_VALUE, st.dictionaries(st.sampled_from(_NAMES), _VALUE, max_size=3)),
        max_size=4,
    ).map(json.dumps),
)


@FUZZ
@given(
    key=_VALUE,
    every=_VALUE,
    cron=_VALUE,
    jitter=_VALUE,
    adaptive=_VALUE,
    bounds=st.tuples(_VALUE, _VALUE),
    options=_OPTIONS,
    limit=_VALUE,
    interval=_VALUE,
    stamps=_VALUE,
    match=st.one_of(_VALUE, st.text(st.sampled_from('地铁 "a\x00\x85\t'), max_size=12)),
)
def test_any_stored_row_is_a_checked_source_or_listed_as_refused(
    key, every, cron, jitter, adaptive, bounds, options, limit, interval, stamps, match
):
    row = {
        "key": key, "kind": "telegram", "url": "x", "host": "x", "every_seconds": every,
        "cron": cron, "jitter": jitter, "adaptive": adaptive, "min_seconds": bounds[0],
        "max_seconds": bounds[1], "paused": 0, "options": options, "time_limit": limit,
        "interval_seconds": interval, "interval_reason": stamps, "interval_changed_at": stamps,
        "next_run_at": stamps, "created_at": stamps, "updated_at": stamps,
        "notify_match": match,
    }  # fmt: skip
    source = source_from_row(row)
    if source.problem:
        assert source.paused and source.problem.startswith("its stored row is refused: ")
        return
    assert set(source.crawl.get("settings", {})) <= set(STORED)
    source.crawl.effective()
    assert source.schedule.every or source.schedule.cron
    source.describe_schedule()
    if source.match is not None:  # a query as `search` reads one: terms, no control character
        assert source.match.terms and source.match.found(None, " ".join(source.match.terms))
