"""Which missing posts a crawl looks at (crawler.plans.checks.DeletionChecks), without a network."""

from __future__ import annotations

from archive.models import ChannelInfo, Page, Post
from crawler.plans.checks import DeletionChecks


def page(ids, *, before=None, throttled=False, errors=()):
    posts = [Post(channel="news_cn", post_id=str(i), url=None, source_url=None) for i in ids]
    return Page(url="https://t.me/s/news_cn", kind="telegram", page_type="channel",
                channel=ChannelInfo(name="news_cn"), posts=posts, before=before,
                throttled=throttled, errors=list(errors))  # fmt: skip


class Archived:
    """The archive's answers: the live posts ``held``, the undecided ones ``pending``."""

    def __init__(self, held, pending=()):
        self.held, self.pending = list(held), list(pending)

    def live_post_nums(self, channel, lo, hi):
        return [n for n in self.held if lo <= n <= hi]

    def pending_checks(self, channel, limit):
        return self.pending[:limit]


def look(checks, shown):
    """What ``checks`` looks at after the archive judged page ``shown``."""
    return checks.to_check(shown, shown.judged_range())


def test_the_posts_a_page_no_longer_shows_are_looked_at_once_within_the_budget():
    checks = DeletionChecks(3, Archived(range(1, 41)))
    assert look(checks, page([i for i in range(21, 41) if i not in (25, 30)])) == [25, 30]
    # The next page misses 12, 13 and 15: one look is left in the budget.
    assert look(checks, page([i for i in range(1, 21) if i not in (12, 13, 15)], before=21)) == [12]
    assert look(checks, page(range(1, 5))) == []
    assert len(checks.asked) == 3


def test_posts_left_undecided_by_earlier_crawls_come_first():
    checks = DeletionChecks(10, Archived(range(1, 41), [3, 7, 35]))
    # 35 is listed again: no need to look at it.
    assert look(checks, page([i for i in range(21, 41) if i != 30])) == [3, 7, 30]
    assert look(checks, page([i for i in range(21, 41) if i != 30])) == []


def test_no_budget_no_look_and_pages_that_prove_nothing_are_not_judged():
    assert look(DeletionChecks(0, Archived(range(1, 41), [5])), page([1])) == []
    assert page([]).judged_range() is None
    assert page(range(5, 9), throttled=True).judged_range() is None
    assert page(range(5, 9), errors=["a message could not be read"]).judged_range() is None
    assert page(range(5, 9), before=20).judged_range() == (5, 19)
    assert page(range(5, 9)).judged_range() == (5, 2**63 - 1)  # the newest page: and above
    checks = DeletionChecks(5, Archived(range(1, 41)))
    assert look(checks, page(range(5, 9), errors=["odd"])) == []
