"""Which missing posts a crawl looks at (crawler.checks.DeletionChecks), without a network."""

from __future__ import annotations

from archive.models import ChannelInfo, Page, Post
from crawler.checks import DeletionChecks, judged_range


def page(ids, *, before=None, throttled=False, errors=()):
    posts = [Post(channel="news_cn", post_id=str(i), url=None, source_url=None) for i in ids]
    return Page(url="https://t.me/s/news_cn", kind="telegram", page_type="channel",
                channel=ChannelInfo(name="news_cn"), posts=posts, before=before,
                throttled=throttled, errors=list(errors))  # fmt: skip


def held_in(archived):
    return lambda name, lo, hi: [n for n in archived if lo <= n <= hi]


def test_the_posts_a_page_no_longer_shows_are_looked_at_once_within_the_budget():
    checks = DeletionChecks(3, held_in(range(1, 41)), lambda name: [])
    assert checks.to_check("@news_cn", page([i for i in range(21, 41) if i not in (25, 30)])) == [
        25,
        30,
    ]
    # The next page misses 12, 13 and 15: one look is left in the budget.
    assert checks.to_check("@news_cn", page([i for i in range(1, 21) if i not in (12, 13, 15)], before=21)) == [12]  # fmt: skip
    assert checks.to_check("@news_cn", page(range(1, 5))) == []
    assert checks.used("@news_cn") == 3


def test_posts_left_undecided_by_earlier_crawls_come_first():
    checks = DeletionChecks(10, held_in(range(1, 41)), lambda name: [3, 7, 35])
    # 35 is listed again: no need to look at it.
    got = checks.to_check("@news_cn", page([i for i in range(21, 41) if i != 30]))
    assert got == [3, 7, 30]
    assert checks.to_check("@news_cn", page([i for i in range(21, 41) if i != 30])) == []


def test_no_budget_no_look_and_pages_that_prove_nothing_are_not_judged():
    assert DeletionChecks(0, held_in(range(1, 41)), lambda n: [5]).to_check("@a", page([1])) == []
    assert judged_range(page([])) is None
    assert judged_range(page(range(5, 9), throttled=True)) is None
    assert judged_range(page(range(5, 9), errors=["a message could not be read"])) is None
    assert judged_range(page(range(5, 9), before=20)) == (5, 19)
    assert judged_range(page(range(5, 9))) == (5, 2**63 - 1)  # the newest page: and above
    checks = DeletionChecks(5, held_in(range(1, 41)), lambda name: [])
    assert checks.to_check("@a", page(range(5, 9), errors=["odd"])) == []
