"""A worker keeps each crawl to its own private origin (issue 19), through real CLI processes.

Two crawls share one worker: crawl A of a channel on the *target* server (a
private origin its user named), and crawl B of a channel on the *site* whose
pictures aim at A's origin in every spelling. The worker knows each
request's crawl from its metadata: A's own pictures are fetched, B's never
reach the target; ``--allow-private-hosts``, carried in B's job, lets them.
"""

from __future__ import annotations

import json

import pytest

from tests.cluster import Cluster
from tests.crawling import query
from tests.media_site import media_requests, serve_media_channel

pytestmark = pytest.mark.slow

HINT = "not a public one (--allow-private-hosts allows it)"


@pytest.fixture
def cluster(tmp_path, redis_url):
    cluster = Cluster(tmp_path / "distributed.db", redis_url)
    yield cluster
    cluster.stop()


def test_a_crawl_cannot_reach_another_crawls_private_origin(make_site, cluster):
    site, target = make_site(), make_site()
    port = int(target.url.rsplit(":", 1)[1])
    home = serve_media_channel(target, "home", posts=2)
    site.control("aimed", name="aimed", port=port, hosts=json.dumps({}))
    cluster.ingester()
    cluster.worker()

    out = cluster.finish(cluster.crawl(home, f"{site.url}/s/aimed"))
    assert "Traceback" not in out
    assert sorted(media_requests(target)) == ["/media/home-1.jpg", "/media/home-2.jpg"]
    assert not [path for _, path, _ in target.stats() if "aimed" in path]
    reasons = dict(
        query(cluster.db, "SELECT url, reason FROM media_urls WHERE url LIKE '%aimed-%'")
    )
    assert reasons[f"http://0x7f000001:{port}/media/aimed-hex.jpg"] == (
        f"refused: 0x7f000001 is 127.0.0.1, a loopback address, {HINT}"
    )
    assert reasons[f"http://localhost:{port}/media/aimed-name.jpg"] == (
        f"refused: localhost resolves to 127.0.0.1, a loopback address, {HINT}"
    )
    own = [url for url, reason in reasons.items() if reason is None]
    assert own == [f"{site.url}/media/aimed-own.jpg"]
    assert all(reason.startswith("refused: ") for url, reason in reasons.items() if url not in own)

    # Opted in, the same pictures reach it (the option travels with the crawl's job).
    site.control("aimed", name="optin", port=port, hosts=json.dumps({}))
    cluster.finish(cluster.crawl(f"{site.url}/s/optin", "--allow-private-hosts"))
    reached = {path for _, path, status in target.stats() if status == 200}
    assert {
        "/media/optin-hex.jpg",
        "/media/optin-name.jpg",
        "/media/optin-redirected.jpg",
    } <= reached


def test_a_worker_reaches_no_private_address_unless_its_own_operator_allows_it(make_site, cluster):
    """Anyone who can write to Redis names the sources and the options: a worker started without
    --allow-private-hosts fetches nothing on a private address, whatever a job asks."""
    target = make_site()
    home = serve_media_channel(target, "inside", posts=2)
    cluster.ingester()
    cluster.worker(private=False)
    crawl = cluster.crawl(home, "--allow-private-hosts")
    assert crawl.wait(timeout=180) == 1
    out = cluster.output(crawl)
    assert "Traceback" not in out and "127.0.0.1 is a loopback address" in out, out
    assert [path for _, path, _ in target.stats()] == []  # not even robots.txt
    [(status, reason)] = query(cluster.db, "SELECT status, reason FROM crawls")
    assert status == "failed" and "loopback address" in reason, reason
