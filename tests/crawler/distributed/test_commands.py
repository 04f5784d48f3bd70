"""The distributed commands' contract: clear one-line errors, exit statuses, --no-wait."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import redis
from click.testing import CliRunner

from chanarchive.cli import cli
from crawler.distributed.frontier import Frontier
from crawler.distributed.ingest import Ingester
from tests.crawling import cli_argv


def run(tmp_path, *args: str):
    return CliRunner().invoke(cli, ["--db", str(tmp_path / "a.db"), *args])


def test_a_bad_redis_url_is_bad_usage(tmp_path):
    for command in (["crawl", "@durov"], ["worker"], ["ingest"], ["scheduler", "run"]):
        result = run(tmp_path, *command, "--redis", "http://127.0.0.1:6379")
        assert result.exit_code == 2, (command, result.output)
        assert "--redis takes a Redis URL" in result.output
    assert not (tmp_path / "a.db").exists()


def test_an_unreachable_redis_fails_the_work(tmp_path):
    result = run(tmp_path, "crawl", "@durov", "--redis", "redis://127.0.0.1:1/0")
    assert result.exit_code == 1
    assert "cannot use Redis at redis://127.0.0.1:1/0" in result.output


def test_a_queued_crawl_names_its_profile_never_a_file(tmp_path, redis_url):
    profile = tmp_path / "mine.toml"
    profile.write_text('name = "mine"\n')
    result = run(tmp_path, "crawl", "@durov", "--profile", str(profile), "--redis", redis_url,
                 "--no-wait")  # fmt: skip
    assert result.exit_code == 2 and "names its profile, not a file" in result.output
    assert redis.Redis.from_url(redis_url).llen("chanarchive:jobs") == 0


def test_no_wait_needs_redis(tmp_path):
    result = run(tmp_path, "crawl", "@durov", "--no-wait")
    assert result.exit_code == 2 and "--no-wait goes with --redis" in result.output


def test_crawl_no_wait_queues_one_job_per_source(tmp_path, redis_url):
    result = run(tmp_path, "crawl", "@durov", "t.me/telegram", "--max-pages", "5", "--redis",
                 redis_url, "--no-wait")  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(" (job ")[0] for line in lines] == ["queued @durov", "queued @telegram"]
    f = Frontier(redis.Redis.from_url(redis_url))
    jobs = [json.loads(raw) for raw in f.server.lrange(f.jobs, 0, -1)]
    assert [(j["source"], j["options"]["max_pages"], j["trigger"]) for j in jobs] == [
        ("@durov", 5, "manual"),
        ("@telegram", 5, "manual"),
    ]
    assert not (tmp_path / "a.db").exists()  # queuing needs no archive


def test_worker_settings_are_checked(tmp_path):
    scope = run(
        tmp_path, "worker", "--redis", "redis://127.0.0.1:1/0", "-s", "POLITENESS_SCOPE=all"
    )
    assert scope.exit_code == 2 and "POLITENESS_SCOPE takes cluster or worker" in scope.output
    ttl = run(tmp_path, "worker", "--redis", "redis://127.0.0.1:1/0", "-s", "WORKER_LEASE_TTL=x")
    assert ttl.exit_code == 2 and "WORKER_LEASE_TTL takes a number" in ttl.output


def test_one_ingester_per_redis(tmp_path, redis_url):
    first = Ingester(str(tmp_path / "a.db"), redis_url)
    first.start()
    try:
        result = run(tmp_path, "ingest", "--redis", redis_url)
        assert result.exit_code == 1
        assert "another ingester" in result.output
    finally:
        first.close()


def test_a_crawl_stopped_while_waiting_takes_back_what_no_ingester_began(tmp_path, redis_url):
    f = Frontier(redis.Redis.from_url(redis_url))
    proc = subprocess.Popen(
        cli_argv(tmp_path / "a.db", "crawl", "@durov", "--redis", redis_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while f.server.llen(f.jobs) == 0:  # queued: now it waits for an ingester
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)  # as the scheduler stops a run
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert "1 of 1 crawls taken back from the queue" in err
    assert f.server.llen(f.jobs) == 0


def test_a_worker_says_what_it_does_and_nothing_misleading(tmp_path, redis_url):
    worker = subprocess.Popen(
        cli_argv(tmp_path / "a.db", "worker", "--redis", redis_url),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        first = worker.stderr.readline()
        assert first.startswith("worker ") and f"fetching the crawls queued on {redis_url}" in first
        time.sleep(2)  # what Scrapy logs as it opens its components
    finally:
        worker.send_signal(signal.SIGTERM)
        _out, rest = worker.communicate(timeout=60)
    assert "Disabled" not in rest and "CHANARCHIVE_DB" not in rest, rest
    assert not (tmp_path / "a.db").exists()  # a worker keeps no archive


def test_a_crawl_queued_for_another_archive_than_the_ingester_s_is_refused(tmp_path, redis_url):
    written = tmp_path / "written.db"
    ingester = Ingester(str(written), redis_url)
    ingester.start()  # says which archive it writes
    try:
        other = tmp_path / "other.db"
        refused = CliRunner().invoke(
            cli, ["--db", str(other), "crawl", "@durov", "--redis", redis_url, "--no-wait"]
        )
        assert refused.exit_code == 2
        assert f"the ingester on this Redis writes {written}, not {other}" in refused.output
        assert not other.exists()
        assert redis.Redis.from_url(redis_url).llen("chanarchive:jobs") == 0  # nothing queued
        scheduler = CliRunner().invoke(
            cli, ["--db", str(other), "scheduler", "run", "--once", "--redis", redis_url]
        )
        assert scheduler.exit_code == 2 and f"writes {written}" in scheduler.output
        same = CliRunner().invoke(
            cli, ["--db", str(written), "crawl", "@durov", "--redis", redis_url, "--no-wait"]
        )
        assert same.exit_code == 0, same.output
    finally:
        ingester.close()
    assert redis.Redis.from_url(redis_url).get("chanarchive:ingester:archive") is None


def test_a_waiting_crawl_says_what_it_waits_for(tmp_path, redis_url):
    def first_line(*args: str) -> str:
        """The first thing a waiting ``crawl --redis`` says (it is stopped then)."""
        proc = subprocess.Popen(
            cli_argv(tmp_path / "a.db", "crawl", "@durov", "--redis", redis_url, *args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            return proc.stderr.readline()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)

    assert first_line().startswith("no ingester is running on this Redis")
    ingester = subprocess.Popen(
        cli_argv(tmp_path / "a.db", "ingest", "--redis", redis_url),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not redis.Redis.from_url(redis_url).exists("chanarchive:ingester"):
            assert time.monotonic() < deadline, "the ingester did not start"
            time.sleep(0.1)
        started = time.monotonic()
        line = first_line()  # the ingester takes the job; no worker ever fetches it
        assert line.startswith("no worker is fetching for this Redis"), line
        assert time.monotonic() - started < 30
    finally:
        ingester.send_signal(signal.SIGTERM)
        ingester.wait(timeout=60)
