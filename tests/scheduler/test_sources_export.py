"""``sources export``: a CSV a spreadsheet cannot run, read back exactly by ``sources import``,
and notification targets never written, but named (masked) on stderr."""

from __future__ import annotations

import csv
import io
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.export.cells import neutralise
from scheduler.sources.files import COLUMNS, read_sources
from tests.export.test_outputs import _is_formula
from tests.helpers import listed, run

FUZZ = settings(
    max_examples=int(os.environ.get("CHANARCHIVE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

SECRET = "json://someone:hunter2secret@127.0.0.1:9/hook"


def _sources(db, *args: str) -> None:
    done = run(db, "sources", *args)
    assert done.exit_code == 0, done.output


def test_export_neutralises_and_import_restores_exactly(tmp_path):
    db, other = tmp_path / "a.db", tmp_path / "b.db"
    _sources(db, "add", "@durov", "--every", "1h", "--follow", "-?[0-9]+")
    _sources(db, "add", "https://example.com/=HYPERLINK(1)", "--every", "2h", "--follow", "@x")
    out = tmp_path / "sources.csv"
    _sources(db, "export", "-o", str(out))
    text = out.read_text()
    for row in csv.reader(io.StringIO(text)):
        assert not any(_is_formula(cell) for cell in row), row
    assert "'@durov" in text and "'-?[0-9]+" in text and "'@x" in text
    _sources(other, "import", str(out))
    assert listed(other) == listed(db)
    # Excel's flavour (a byte-order mark) is read back the same.
    excel = tmp_path / "excel.csv"
    _sources(db, "export", "--excel", "-o", str(excel))
    assert excel.read_bytes().startswith(b"\xef\xbb\xbfsource,")
    third = tmp_path / "c.db"
    _sources(third, "import", str(excel))
    assert listed(third) == listed(db)
    raw = run(db, "sources", "export", "--raw-csv").output
    assert "\n@durov," in raw.replace("\r\n", "\n")


@FUZZ
@given(
    st.lists(
        st.text(st.sampled_from("=+-@'\t \u3000＝ab,\"#")).filter(lambda t: t.strip()),
        min_size=1,
        max_size=4,
    )
)
def test_any_cell_sources_export_writes_reads_back_the_same(follows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for n, follow in enumerate(follows):
        writer.writerow({"source": neutralise(f"@chan{n:03d}"), "follow": neutralise(follow)})
    lines = read_sources("s.csv", buffer.getvalue().encode())
    assert [line.fields["follow"] for line in lines] == follows
    assert [line.source for line in lines] == [f"@chan{n:03d}" for n in range(len(follows))]


def test_notification_targets_are_named_masked_never_written(tmp_path):
    db = tmp_path / "a.db"
    _sources(db, "add", "@durov", "--every", "1h", "--notify", SECRET)
    _sources(db, "add", "@telegram", "--every", "1h", "--notify", "ntfy://ntfy.example/topic")
    _sources(db, "add", "@quiet", "--every", "1h")
    out = tmp_path / "sources.csv"
    for fmt in ("csv", "txt", "opml"):
        done = run(db, "sources", "export", "--format", fmt, "-o", str(out))
        assert done.exit_code == 0
        assert "hunter2secret" not in out.read_text() and "ntfy.example" not in out.read_text()
        assert "hunter2secret" not in done.output
        [line] = [x for x in done.output.splitlines() if "notification" in x]
        assert line.startswith("2 notification targets not exported: ")
        assert "@durov json://someone:****@127.0.0.1:9/hook" in line and "@telegram ntfy://" in line
    quiet = tmp_path / "quiet.db"
    _sources(quiet, "add", "@quiet", "--every", "1h")
    assert "notification" not in run(quiet, "sources", "export").output
