"""The shared state of a distributed crawl in Redis: key names and the atomic steps on them.

Every step that must not be seen half done is one Lua script (Redis runs a
script atomically), so a process killed at any moment leaves Redis in a
state another process can carry on from:

- **enqueue** (the ingester, for a crawl's seed): add a request to the queue
  unless this crawl already asked for it (the per-crawl duplicate filter,
  ``seen:<crawl>``), within the crawl's page budget, and count it as not yet
  written (``pending:<crawl>``).
- **pop** (a worker's scheduler): take the best request and *lease* it to the
  worker (``inflight:<wid>``) in the same step, so a worker that dies never
  takes a request with it.
- **deliver** (a worker's pipeline): enqueue the request's children, then
  push its delivery for the ingester and drop the lease: pushing *is* the
  acknowledgement. A lease already taken back (the worker stalled past its
  heartbeat) delivers nothing: the request's new copy will.
- **continue** (a retry or redirect of a leased request): back to the queue
  under the same lease-free request, bypassing the duplicate filter.
- **reap** (the ingester, every second; a worker for itself on close): the
  leases of workers whose heartbeat deadline passed go back to the queue,
  and the host locks they held are freed.
- **acquire / release / push back**: one request at a time per host, with a
  delay, across every worker (see :mod:`.politeness`).

Times inside scripts are Redis's own (``TIME``), so workers' clocks do not
matter. One Redis server (not a cluster: the scripts touch keys they name
themselves) holds one frontier; use another database number
(``redis://host/1``) for another.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

import redis
from w3lib.url import canonicalize_url

from archive.errors import ChanarchiveError

#: The prefix of every key chanarchive keeps in Redis.
PREFIX = "chanarchive"
#: The oldest Redis with every command the scripts use (LMOVE, ZADD GT, …).
MIN_REDIS = (6, 2)


class QueueUnavailable(ChanarchiveError):
    """Redis cannot be used: unreachable, too old, or the URL is not a Redis URL."""


class BadQueueUrl(QueueUnavailable):
    """The ``--redis`` value is not a Redis URL."""


class QueueLoginRefused(BadQueueUrl):
    """The Redis refused the URL's user name and password (wrong, or missing): like a bad URL,
    the command line's to fix, and no retry mends it."""


def check_url(url: str) -> str:
    """``url`` if it is a Redis URL (``redis://``, ``rediss://``, ``unix://``); else BadQueueUrl."""
    try:
        scheme = urlsplit(url).scheme
    except ValueError:
        scheme = ""
    if scheme not in ("redis", "rediss", "unix"):
        raise BadQueueUrl(
            f"--redis takes a Redis URL such as redis://127.0.0.1:6379/0, not {safe_url(url)!r}"
        )
    return url


def connect(url: str, **params) -> redis.Redis:
    """A client for the Redis at ``url``, checked to answer, to let us in and to be new enough."""
    check_url(url)
    params = {"socket_connect_timeout": 10, "socket_timeout": 60, **params}
    try:
        server = redis.Redis.from_url(url, **params)
        version = server.info("server").get("redis_version", "0")
    except redis.AuthenticationError as exc:
        raise QueueLoginRefused(
            f"Redis at {safe_url(url)} refused the login: a wrong or missing password"
            " (give it as redis://:PASSWORD@host:port/db)"
        ) from exc
    except (redis.RedisError, OSError, ValueError) as exc:
        raise QueueUnavailable(f"cannot use Redis at {safe_url(url)}: {exc}") from exc
    check_version(version, url)
    return server


def check_version(version: str, url: str) -> None:
    numbers = tuple(int(p) for p in str(version).split(".")[:2] if p.isdigit())
    if numbers < MIN_REDIS:
        raise QueueUnavailable(
            f"Redis at {safe_url(url)} is version {version}: chanarchive needs 6.2 or newer"
        )


def safe_url(url: str) -> str:
    """The URL without its password (in the address or a ``password=`` query), for messages
    and logs."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(a URL that cannot be read)"
    if password is not None or "@" in parts.netloc:
        netloc = parts.netloc.rsplit("@", 1)[1]
        user = f"{parts.username}:***@" if parts.username and password is not None else ":***@"
        parts = parts._replace(netloc=user + netloc)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name.lower() == "password" for name, _ in query):
        masked = [(n, "***" if n.lower() == "password" else v) for n, v in query]
        parts = parts._replace(query=urlencode(masked, safe="*"))
    return parts.geturl()


def queue_key(prefix: str = PREFIX) -> str:
    """The sorted set of queued requests (scrapy-redis's ``SCHEDULER_QUEUE_KEY``)."""
    return f"{prefix}:requests"


#: What :func:`request_key` gives: 24 hex digits.
RKEY = re.compile(r"[0-9a-f]{24}", re.ASCII)


def request_key(method: str, url: str) -> str:
    """A request's name within its crawl: the crawl fetches each (method, URL) once."""
    raw = json.dumps([method.upper(), canonicalize_url(url)], separators=(",", ":"))
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()[:24]


_NOW = "local t = redis.call('TIME'); local now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n"

# KEYS: seen, pending, requests.  ARGV: max_pages (0: no cap), then rkey, score, member.
_ENQUEUE = """
local function enqueue(seen, pending, requests, maxp, rkey, score, member)
  if redis.call('SISMEMBER', seen, rkey) == 1 then return 0 end
  if maxp > 0 and redis.call('SCARD', seen) >= maxp then return 0 end
  redis.call('SADD', seen, rkey)
  redis.call('SADD', pending, rkey)
  redis.call('ZADD', requests, score, member)
  return 1
end
"""
ENQUEUE = (
    _ENQUEUE
    + "return enqueue(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[1]), ARGV[2], ARGV[3], ARGV[4])"
)

# KEYS: requests, inflight:<wid>, workers, lease_seq.  ARGV: wid, ttl.
POP = (
    _NOW
    + """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return nil end
redis.call('ZREM', KEYS[1], r[1])
local token = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[2], token, r[2] .. '\\n' .. r[1])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[1])
return {token, r[1]}
"""
)

# KEYS: inflight:<wid>, requests.  ARGV: token, score, member.
CONTINUE = """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

# KEYS: inflight:<wid>, items, requests, seen, pending.
# ARGV: token, delivery, max_pages, then (rkey, score, member) per child.
# Returns -1 when the lease is gone (nothing done), else how many children were new.
DELIVER = (
    _ENQUEUE
    + """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return -1 end
local added = 0
for i = 4, #ARGV, 3 do
  added = added + enqueue(KEYS[4], KEYS[5], KEYS[3], tonumber(ARGV[3]),
                          ARGV[i], ARGV[i + 1], ARGV[i + 2])
end
redis.call('RPUSH', KEYS[2], ARGV[2])
return added
"""
)

# KEYS: workers.  ARGV: wid, ttl.
HEARTBEAT = _NOW + "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1]) return 1"

# KEYS: workers, requests.  ARGV: prefix, [a wid to release now].
# Leases of dead workers (and of ARGV[2]) go back to the queue; their host locks are freed.
REAP = (
    _NOW
    + """
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if ARGV[2] then table.insert(dead, ARGV[2]) end
local n = 0
for _, wid in ipairs(dead) do
  local inflight = ARGV[1] .. ':inflight:' .. wid
  local leases = redis.call('HGETALL', inflight)
  for i = 2, #leases, 2 do
    local v = leases[i]
    local nl = string.find(v, '\\n', 1, true)
    local score = nl and tonumber(string.sub(v, 1, nl - 1))
    if score then  -- a lease as POP wrote it; anything else is dropped
      redis.call('ZADD', KEYS[2], score, string.sub(v, nl + 1))
      n = n + 1
    end
  end
  redis.call('DEL', inflight)
  local held = ARGV[1] .. ':polite:held:' .. wid
  for _, lock in ipairs(redis.call('SMEMBERS', held)) do
    local owner = redis.call('GET', lock)
    if owner and string.sub(owner, 1, #wid + 1) == wid .. ' ' then redis.call('DEL', lock) end
  end
  redis.call('DEL', held)
  redis.call('ZREM', KEYS[1], wid)
end
return n
"""
)

# KEYS: lock, next, held:<wid>.  ARGV: owner ("<wid> <n>"), lock ttl in ms.
# Returns "0" when the lock is taken, else how many seconds to wait before asking again.
ACQUIRE = (
    _NOW
    + """
if redis.call('EXISTS', KEYS[1]) == 1 then return '-1' end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
if now < nxt then return tostring(nxt - now) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[3], KEYS[1])
return '0'
"""
)

# KEYS: lock, next, held:<wid>.  ARGV: owner, delay (s).
RELEASE = (
    _NOW
    + """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[3], KEYS[1])
local delay = tonumber(ARGV[2])
local nxt = math.max(tonumber(redis.call('GET', KEYS[2]) or '0') or 0, now + delay)
redis.call('SET', KEYS[2], tostring(nxt), 'PX', math.ceil((nxt - now) * 1000) + 60000)
return 1
"""
)

# KEYS: next.  ARGV: seconds.  Nobody starts a request to the host before now + seconds.
PUSH_BACK = (
    _NOW
    + """
local want = now + tonumber(ARGV[1])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if want > nxt then
  redis.call('SET', KEYS[1], tostring(want), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 60000)
end
return 1
"""
)


@dataclass(frozen=True)
class Child:
    """A request to enqueue with a delivery: its key in the crawl, score and serialized form."""

    rkey: str
    score: float
    member: str


class Frontier:
    """The Redis side of a distributed crawl, shared by workers, the ingester and submitters."""

    def __init__(self, server: redis.Redis, prefix: str = PREFIX) -> None:
        self.server = server
        self.prefix = prefix
        p = prefix
        self.requests = queue_key(p)
        self.workers = f"{p}:workers"
        self.lease_seq = f"{p}:lease_seq"
        self.items = f"{p}:items"
        self.items_processing = f"{p}:items:processing"
        self.jobs = f"{p}:jobs"
        self.jobs_processing = f"{p}:jobs:processing"
        self.coverage_key = f"{p}:coverage"
        self.known_key = f"{p}:known"
        self.ingester_lock = f"{p}:ingester"
        #: Which archive the ingester writes: ``{"host", "path"}`` (see :mod:`.archives`).
        self.ingester_archive = f"{p}:ingester:archive"
        self._enqueue = server.register_script(ENQUEUE)
        self._pop = server.register_script(POP)
        self._continue = server.register_script(CONTINUE)
        self._deliver = server.register_script(DELIVER)
        self._heartbeat = server.register_script(HEARTBEAT)
        self._reap = server.register_script(REAP)
        self._acquire = server.register_script(ACQUIRE)
        self._release = server.register_script(RELEASE)
        self._push_back = server.register_script(PUSH_BACK)

    # -- key names
    def inflight(self, wid: str) -> str:
        return f"{self.prefix}:inflight:{wid}"

    def seen(self, crawl: int) -> str:
        return f"{self.prefix}:seen:{crawl}"

    def pending(self, crawl: int) -> str:
        return f"{self.prefix}:pending:{crawl}"

    def side_seen(self, crawl: int) -> str:
        """The side requests (media files, deletion checks) a crawl asked for: apart from
        ``seen``, so none counts as a page of its budget."""
        return f"{self.prefix}:sseen:{crawl}"

    def crawl_keys(self, crawl: int) -> list[str]:
        """Every key a crawl keeps while it runs: dropped when it ends."""
        return [self.seen(crawl), self.pending(crawl), self.side_seen(crawl)]

    def result(self, token: str) -> str:
        return f"{self.prefix}:result:{token}"

    def host_lock(self, host: str) -> str:
        return f"{self.prefix}:polite:lock:{host}"

    def host_next(self, host: str) -> str:
        return f"{self.prefix}:polite:next:{host}"

    def held(self, wid: str) -> str:
        return f"{self.prefix}:polite:held:{wid}"

    # -- requests
    def enqueue(self, crawl: int, child: Child, max_pages: int | None = None) -> bool:
        """Queue a request of ``crawl`` unless the crawl asked for it already or is out of pages."""
        keys = [self.seen(crawl), self.pending(crawl), self.requests]
        args = [max_pages or 0, child.rkey, child.score, child.member]
        return bool(self._enqueue(keys=keys, args=args))

    def enqueue_side(self, crawl: int, child: Child) -> bool:
        """Queue a side request of ``crawl`` (a media file, a deletion check) unless the
        crawl asked for it already.

        It is pending like a page (the crawl ends once it is written), but it is
        no page of the crawl's budget.
        """
        keys = [self.side_seen(crawl), self.pending(crawl), self.requests]
        return bool(self._enqueue(keys=keys, args=[0, child.rkey, child.score, child.member]))

    def pop(self, wid: str, ttl: float) -> tuple[int, str | bytes] | None:
        """Lease the best queued request to worker ``wid``: (lease token, serialized request;
        left as bytes when it is not even UTF-8, for the reader to refuse)."""
        found = self._pop(keys=[self.requests, self.inflight(wid), self.workers, self.lease_seq],
                          args=[wid, ttl])  # fmt: skip
        if not found:
            return None
        token, member = found
        if isinstance(member, bytes):
            try:
                member = member.decode("utf-8")
            except UnicodeDecodeError:
                pass
        return int(token), member

    def drop(self, wid: str, token: int) -> bool:
        """End a lease without a delivery (its request could not be read): nothing comes back."""
        return bool(self.server.hdel(self.inflight(wid), token))

    def continue_(self, wid: str, token: int, score: float, member: str) -> bool:
        """Give a lease back with the request to fetch instead (a retry, a redirect)."""
        return bool(
            self._continue(keys=[self.inflight(wid), self.requests], args=[token, score, member])
        )

    def deliver(
        self,
        wid: str,
        token: int,
        crawl: int,
        delivery: str,
        children: list[Child],
        max_pages: int | None = None,
    ) -> int:
        """Enqueue ``children``, push ``delivery`` and drop the lease, at once.

        Returns how many children were new to the crawl, or -1 when the lease
        was already taken back (then nothing is done).
        """
        keys = [self.inflight(wid), self.items, self.requests, self.seen(crawl),
                self.pending(crawl)]  # fmt: skip
        args: list = [token, delivery, max_pages or 0]
        for child in children:
            args += [child.rkey, child.score, child.member]
        return int(self._deliver(keys=keys, args=args))

    # -- workers
    def heartbeat(self, wid: str, ttl: float) -> None:
        self._heartbeat(keys=[self.workers], args=[wid, ttl])

    def reap(self, wid: str | None = None) -> int:
        """Re-queue the leases of dead workers (and of ``wid``); returns how many."""
        args = [self.prefix] + ([wid] if wid else [])
        return int(self._reap(keys=[self.workers, self.requests], args=args))

    # -- politeness
    def acquire_host(self, wid: str, host: str, owner: str, ttl: float) -> float:
        """0 when this request may go to ``host`` now; else seconds to wait (-1: it is busy)."""
        keys = [self.host_lock(host), self.host_next(host), self.held(wid)]
        return float(self._acquire(keys=keys, args=[owner, int(ttl * 1000)]))

    def release_host(self, wid: str, host: str, owner: str, delay: float) -> bool:
        keys = [self.host_lock(host), self.host_next(host), self.held(wid)]
        return bool(self._release(keys=keys, args=[owner, delay]))

    def push_back_host(self, host: str, seconds: float) -> None:
        self._push_back(keys=[self.host_next(host)], args=[max(0.0, seconds)])
