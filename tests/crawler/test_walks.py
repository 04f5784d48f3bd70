"""The Telegram pagination decisions, without a network."""

from archive.models import Page, Post
from crawler.plans.walks import TelegramWalk, merge_ranges


def page(ids, before=None, older=None, throttled=False, created=None):
    posts = [Post(channel="c", post_id=str(i), url="", source_url="") for i in ids]
    for post in posts:
        if post.post_id == str(created):  # the "Channel created" service message
            post.service, post.raw_text = True, "Channel created"
    return Page(url="", kind="telegram", page_type="channel", posts=posts, before=before,
                older=older, throttled=throttled)  # fmt: skip


def test_merge_ranges():
    assert merge_ranges([(5, 9), (1, 3), (4, 4), (20, 30), (25, 26)]) == [(1, 9), (20, 30)]


def test_full_walk_follows_older_link_then_lowest_id():
    walk = TelegramWalk(full=True)
    assert walk.next_before(page(range(41, 61), older=41)) == 41
    # The older link is missing (t.me drops it under load): continue from the lowest id.
    assert walk.next_before(page(range(21, 41), before=41)) == 21
    assert walk.next_before(page(range(1, 21), before=21)) is None
    assert walk.reached_start


def test_empty_page_that_is_not_throttled_ends_the_walk():
    walk = TelegramWalk(full=True)
    assert walk.next_before(page([], before=7)) is None
    assert walk.reached_start


def test_throttled_page_stops_without_claiming_the_start():
    walk = TelegramWalk(full=True)
    assert walk.next_before(page([], before=300, throttled=True)) is None
    assert not walk.reached_start


def test_incremental_walk_stops_at_archived_posts():
    walk = TelegramWalk([(1, 60)])
    assert walk.next_before(page(range(44, 64))) is None


def test_incremental_walk_fetches_every_new_page_then_stops():
    walk = TelegramWalk([(1, 100)])
    assert walk.next_before(page(range(126, 146))) == 126
    assert walk.next_before(page(range(106, 126), before=126)) == 106
    # 101..105 are still missing: one more page, then it reaches the archive.
    assert walk.next_before(page(range(86, 106), before=106)) is None


def test_incremental_walk_jumps_over_an_archived_range_to_a_gap():
    # An earlier crawl was killed after the newest pages: 1..40 never archived.
    walk = TelegramWalk([(41, 100)])
    assert walk.next_before(page(range(96, 116))) == 41
    assert walk.next_before(page(range(21, 41), before=41)) == 21


def test_full_walk_ignores_the_archive():
    walk = TelegramWalk([(1, 100)], full=True)
    assert walk.next_before(page(range(81, 101))) == 81


def test_a_server_that_ignores_before_does_not_loop():
    walk = TelegramWalk(full=True)
    assert walk.next_before(page(range(201, 206), older=201)) == 201
    assert walk.next_before(page(range(201, 206), before=201, older=201)) is None
    assert walk.stalled and not walk.reached_start


def test_the_start_is_proved_only_below_a_short_page_without_its_older_link():
    # A short page without the link, then nothing but throttling: the channel starts here.
    walk = TelegramWalk(full=True)
    assert walk.next_before(page(range(41, 61), older=41)) == 41
    assert walk.next_before(page(range(30, 41), before=41)) == 30  # short, no older link
    probe = page([], before=30, throttled=True)
    assert walk.next_before(probe) is None
    assert walk.start_page and walk.reached_start and probe.covered_range(start=True) == (1, 29)
    # Under load t.me drops the link from a full page too; throttling below it proves nothing.
    walk = TelegramWalk(full=True)
    assert walk.next_before(page(range(41, 61), older=41)) == 41
    assert walk.next_before(page(range(21, 41), before=41)) == 21  # full, link dropped
    probe = page([], before=21, throttled=True)
    assert walk.next_before(probe) is None
    assert not walk.start_page and not walk.reached_start
    assert probe.covered_range(start=walk.start_page) is None


def test_the_message_with_id_1_is_the_start():
    walk = TelegramWalk(full=True)
    assert walk.next_before(page(range(21, 41), older=21)) == 21
    assert not walk.start_page
    first = page(range(1, 21), before=21, older=1)  # its older link shown all the same
    assert walk.next_before(first) is None
    assert walk.start_page and walk.reached_start
    assert first.covered_range(start=True) == (1, 20)


def test_the_channel_created_message_is_the_start_whatever_its_id():
    walk = TelegramWalk(full=True)
    assert walk.next_before(page(range(21, 41), older=21)) == 21
    created = page(range(5, 21), before=21, older=5, created=5)
    assert walk.next_before(created) is None
    assert walk.start_page and walk.reached_start
    assert created.covered_range(start=True) == (1, 20)
    assert walk.covered == [(1, 40)]
    # A post that only says the words is no service message: the walk goes on.
    walk = TelegramWalk(full=True)
    quoting = page(range(5, 21), before=21, older=5)
    quoting.posts[0].raw_text = "Channel created"
    assert walk.next_before(quoting) == 5 and not walk.start_page


def test_the_empty_page_below_the_first_post_is_the_start_and_says_so_once():
    walk = TelegramWalk(full=True)
    assert walk.next_before(page(range(5, 25), older=5)) == 5
    assert walk.next_before(page([], before=5)) is None
    assert walk.start_page and walk.reached_start
    # The newest page of a later crawl proves nothing by itself.
    walk = TelegramWalk([(1, 24)])
    assert walk.next_before(page(range(5, 25))) is None
    assert not walk.start_page
