"""A media URL's tries: a failed fetch uses one up, a URL not tried (its host failed too
often in the crawl) none, and both keep their reason."""

from __future__ import annotations

from archive.models import MediaFetch, MediaRef
from archive.store import ingest_page, open_archive
from archive.store.media import MAX_ATTEMPTS, ingest_media, known_media
from tests.store.test_ingest import capture, tg_page

URL = "https://cdn.example/photo.jpg"
REF = MediaRef("news_cn", "1", "0")
NOT_TRIED = "not tried: host cdn.example failed 3 times in this crawl (timed out)"


def failed(reason: str, *, tried: bool = True) -> MediaFetch:
    return MediaFetch(URL, "2026-11-26T10:00:00+00:00", False, reason=reason, tried=tried)


def tries(db) -> tuple:
    url = db.execute("SELECT attempts, reason FROM media_urls WHERE url = ?", [URL]).fetchone()
    slot = db.execute("SELECT attempts, reason FROM post_media").fetchone()
    return url, slot


def test_a_url_not_tried_keeps_its_reason_and_uses_up_no_try(tmp_path):
    db = open_archive(tmp_path / "a.db")
    ingest_page(db, None, capture(), tg_page([1]))
    for _ in range(MAX_ATTEMPTS + 2):  # many crawls, each giving up on the host
        ingest_media(db, URL, [REF], failed(NOT_TRIED, tried=False))
    assert tries(db) == ((0, NOT_TRIED), (0, NOT_TRIED))
    known = known_media(db, "news_cn", ["1"], [URL])
    assert not known.failed and not known.given_up  # a later crawl asks for it again

    for n in range(1, MAX_ATTEMPTS + 1):  # tried and failed: each counts
        ingest_media(db, URL, [REF], failed("timed out: no answer within 10 s"))
        assert tries(db) == ((n, "timed out: no answer within 10 s"),) * 2
    known = known_media(db, "news_cn", ["1"], [URL])
    assert known.failed == {URL} and known.given_up == {("1", "0")}
    db.close()
