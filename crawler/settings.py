"""Scrapy settings for chanarchive crawls: polite by default.

Every value here can be overridden for one run with ``chanarchive crawl -s NAME=VALUE``.
"""

import archive

BOT_NAME = "chanarchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = archive.USER_AGENT
ROBOTSTXT_OBEY = True

# One request at a time per host, with a delay between them.
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
# Telegram asks for at least a second between requests, whatever DOWNLOAD_DELAY says.
DOWNLOAD_SLOTS = {
    "t.me": {"concurrency": 1, "delay": 1.5},
    "telegram.me": {"concurrency": 1, "delay": 1.5},
}
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024

# Side fetches (media files, link-preview images, thumbnails, deletion-check embeds,
# robots.txt) never hold a crawl's pages hostage (crawler/handlers/http.py,
# crawler/downloadermiddlewares/breaker.py): a page keeps DOWNLOAD_TIMEOUT.
SIDE_FETCH_TIMEOUT = 10.0  # seconds to resolve, connect and get the answer's headers
SIDE_FETCH_MIN_RATE = 20 * 1024  # bytes a second a body must average after 5 s (0: no floor)
# A host that failed this many times below HTTP (DNS, refused, no answer, too slow) gets no
# more side fetches in the crawl: they are kept as "not tried", for a later crawl (0: never).
HOST_BREAKER_FAILURES = 3

# Retries with backoff on 429 / 5xx / network errors; Retry-After honoured per host. A side
# fetch whose host failed below HTTP, and a name that did not resolve, are not retried.
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
BACKOFF_BASE = 2.0  # seconds; doubled on every retry of a request
BACKOFF_MAX = 300.0  # the longest pause we honour, Retry-After included
# t.me sometimes answers a page with no messages (tme_no_messages_found) when
# it throttles: retry such a page this many times, backing off the host.
TELEGRAM_THROTTLE_RETRIES = 3
TELEGRAM_THROTTLE_DELAY = 10.0

# The failure a request ends with is told once, by whoever keeps it (the crawl's error, the
# media file's reason), not again by the retry middleware at ERROR.
RETRY_GIVE_UP_LOG_LEVEL = "INFO"

# Only http and https: a page's file:///etc/passwd, data:, s3:// or ftp:// is never read.
# Scrapy's HTTP/1.1 handler with a side fetch's time bounded (crawler/handlers/http.py), and
# a downloader and handler that drop what they hold when the crawl is stopped (SIGTERM,
# SIGINT): a stop takes seconds, whatever the delays (crawler/stopping.py).
DOWNLOAD_HANDLERS = {
    "file": None,
    "data": None,
    "s3": None,
    "ftp": None,
    "http": "crawler.stopping.StoppableDownloadHandler",
    "https": "crawler.stopping.StoppableDownloadHandler",
}
DOWNLOADER = "crawler.stopping.StoppableDownloader"
# Every connection goes only to the addresses this resolver hands back: public ones, or
# those of a host the crawl allowed (its sources' own; all with --allow-private-hosts).
TWISTED_DNS_RESOLVER = "crawler.resolver.PublicResolver"

DOWNLOADER_MIDDLEWARES = {
    # Before all others: a request a page chose reaches only public addresses (or its crawl's
    # sources), checked again on every redirect hop and retry.
    "crawler.downloadermiddlewares.reach.ReachGuard": 30,
    # A side fetch to a host that failed HOST_BREAKER_FAILURES times: not sent, at once.
    "crawler.downloadermiddlewares.breaker.HostBreaker": 40,
    "crawler.downloadermiddlewares.backoff.HostBackoffMiddleware": 560,
    # Each source's crawl row closed when it is done or at its time limit.
    "crawler.downloadermiddlewares.lifecycle.SourceLifecycle": 570,
    # A host's failures below HTTP counted for HostBreaker; a side fetch's, a DNS failure's and
    # a robots.txt's are final (not retried, no backoff).
    "crawler.downloadermiddlewares.breaker.HostFailures": 590,
    # A connection whose name resolved only to addresses it may not reach: refused, not retried.
    "crawler.downloadermiddlewares.reach.ConnectRefusal": 595,
}
ITEM_PIPELINES = {
    "crawler.pipelines.archive.ArchivePipeline": 300,
}
# No console, no remote control, no feeds, no job state: a crawl listens on no port and
# writes nothing but the archive (these are never settable with -s: crawler/tunables.py).
EXTENSIONS = {
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.feedexport.FeedExporter": None,
    "scrapy.extensions.spiderstate.SpiderState": None,
    "scrapy.extensions.memdebug.MemoryDebugger": None,
    "crawler.extensions.progress.Progress": 500,
}
REMOTE_CONTROL_ENABLED = False

COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "WARNING"
# Hand-made duplicate filtering is done by the spider (pagination is ordered).
DUPEFILTER_DEBUG = False

# chanarchive's own settings
CHANARCHIVE_DB = None  # the archive path; set by the crawl runner
CHANARCHIVE_PROGRESS = False  # show a progress line on stderr (the CLI sets it on a terminal)

# Distributed crawls (`chanarchive worker`): see crawler/distributed/.
# "cluster": one request at a time per host across all workers, with the delay above;
# "worker": each worker polite on its own (for workers on different addresses).
POLITENESS_SCOPE = "cluster"
WORKER_LEASE_TTL = 15.0  # seconds a silent worker keeps its requests before they are re-queued
WORKER_POLL_INTERVAL = 0.5  # seconds between an idle worker's looks at the queue
