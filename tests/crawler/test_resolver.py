"""The connect-time guard (:class:`crawler.resolver.PublicResolver`), with a scripted system
resolver in place of ``getaddrinfo``: what a connection is handed is what it connects to."""

from __future__ import annotations

import pytest
from twisted.internet.address import IPv4Address, IPv6Address

from crawler.resolver import PublicResolver


class ScriptedSystem:
    """Answers each name from a script: the n-th look-up gets the n-th answer (then the last)."""

    def __init__(self, script: dict[str, list[list[str]]]) -> None:
        self.script = script
        self.asked: dict[str, int] = {}

    def resolveHostName(self, receiver, name, port=0, types=None, semantics="TCP"):
        seen = self.asked.get(name, 0)
        self.asked[name] = seen + 1
        answers = self.script.get(name, [[]])
        receiver.resolutionBegan(None)
        for text in answers[min(seen, len(answers) - 1)]:
            kind = IPv6Address if ":" in text else IPv4Address
            receiver.addressResolved(kind("TCP", text, port))
        receiver.resolutionComplete()


class Reactor:
    def __init__(self, system: ScriptedSystem) -> None:
        self.nameResolver = system

    def installNameResolver(self, resolver) -> None:
        self.nameResolver = resolver


class Connection:
    """What a Twisted endpoint gets: the addresses it would connect to."""

    def __init__(self) -> None:
        self.addresses: list = []
        self.complete = False

    def resolutionBegan(self, resolution) -> None:
        pass

    def addressResolved(self, address) -> None:
        self.addresses.append((address.host, address.port))

    def resolutionComplete(self) -> None:
        self.complete = True


def resolver(script, cache_size: int = 0) -> PublicResolver:
    made = PublicResolver(Reactor(ScriptedSystem(script)), cache_size)
    made.install_on_reactor()
    return made


def connect(resolver: PublicResolver, host: str, port: int = 80) -> list[tuple[str, int]]:
    connection = Connection()
    resolver.resolveHostName(connection, host, port)
    assert connection.complete
    return connection.addresses


def looked_up(resolver: PublicResolver, host: str) -> list[str]:
    found = []
    resolver.lookup(host).addCallback(found.extend)
    return found


def test_only_public_addresses_are_handed_to_a_connection():
    guard = resolver({"mixed.example": [["203.0.113.9", "1.2.3.4", "127.0.0.1", "::1"]]})
    assert connect(guard, "mixed.example", 8080) == [("1.2.3.4", 8080)]
    assert guard.refusal("mixed.example") is None


def test_a_name_with_only_private_addresses_gets_none_and_says_why():
    guard = resolver({"intranet.example": [["10.0.0.7"]], "0x7f000001": [["127.0.0.1"]]})
    assert connect(guard, "intranet.example") == []
    assert guard.refusal("INTRANET.example") == (
        "refused: intranet.example resolved, when connecting, to 10.0.0.7, a private address,"
        " not a public one (--allow-private-hosts allows it)"
    )
    assert connect(guard, "0x7f000001") == []  # an address literal is resolved, and checked, too


def test_a_host_allowed_reaches_its_private_addresses():
    guard = resolver({"127.0.0.1": [["127.0.0.1"]], "mirror.lan": [["192.168.1.5"]]})
    guard.allow("127.0.0.1")
    guard.allow("MIRROR.lan")
    assert connect(guard, "127.0.0.1", 8000) == [("127.0.0.1", 8000)]
    assert connect(guard, "mirror.lan") == [("192.168.1.5", 80)]
    assert guard.refusal("mirror.lan") is None


def test_a_name_checked_public_then_rebound_to_loopback_gets_no_address():
    guard = resolver({"rebind.example": [["1.2.3.4"], ["127.0.0.1"]]})
    assert looked_up(guard, "rebind.example") == ["1.2.3.4"]  # the check before the request
    assert connect(guard, "rebind.example") == []  # the connection: another answer, dropped
    assert "to 127.0.0.1, a loopback address" in guard.refusal("rebind.example")


def test_the_cache_serves_the_check_and_the_connection_alike_and_is_checked_too():
    guard = resolver({"rebind.example": [["1.2.3.4"], ["127.0.0.1"]], "lo.example": [["::1"]]},
                     cache_size=10)  # fmt: skip
    assert looked_up(guard, "rebind.example") == ["1.2.3.4"]
    assert connect(guard, "rebind.example") == [("1.2.3.4", 80)]
    assert looked_up(guard, "lo.example") == ["::1"]  # cached as answered...
    assert connect(guard, "lo.example") == []  # ...and still dropped when connecting


def test_a_name_that_does_not_resolve_completes_with_nothing():
    guard = resolver({})
    assert connect(guard, "nowhere.example") == []
    assert guard.refusal("nowhere.example") is None


def test_a_name_that_did_not_resolve_is_asked_once_while_the_cache_is_on(monkeypatch):
    system = ScriptedSystem({"up.example": [[], ["1.2.3.4"]]})
    guard = PublicResolver(Reactor(system), 10)
    guard.install_on_reactor()
    assert looked_up(guard, "dead.example") == []  # the check before the request
    assert connect(guard, "dead.example") == []  # the connection: the failure remembered
    assert connect(guard, "DEAD.example") == []
    assert system.asked == {"dead.example": 1}
    # Remembered for FAILED_NAME_TTL only: then asked again, and an answer replaces it.
    monkeypatch.setattr("crawler.resolver.FAILED_NAME_TTL", 0.0)
    assert connect(guard, "up.example") == []
    assert connect(guard, "up.example") == [("1.2.3.4", 80)]
    assert system.asked["up.example"] == 2
    # Without the cache (DNSCACHE_ENABLED=False) every connection asks.
    plain = resolver({}, cache_size=0)
    connect(plain, "dead.example")
    connect(plain, "dead.example")
    assert plain.system.asked == {"dead.example": 2}


class HeldSystem:
    """Answers each name only when the test says so (a look-up still under way)."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, object]] = []

    def resolveHostName(self, receiver, name, port=0, types=None, semantics="TCP"):
        receiver.resolutionBegan(None)
        self.asked.append((name, receiver))

    def answer(self, addresses: list[str]) -> None:
        for _name, receiver in self.asked:
            for text in addresses:
                receiver.addressResolved(IPv4Address("TCP", text, 0))
            receiver.resolutionComplete()


def test_requests_waiting_for_one_name_share_one_look_up():
    system = HeldSystem()
    guard = PublicResolver(Reactor(system), 10)
    guard.install_on_reactor()
    checks = [[] for _ in range(5)]
    for found in checks:  # five requests checked at once, before any answer
        guard.lookup("slow.example").addCallback(found.extend)
    connection = Connection()
    guard.resolveHostName(connection, "slow.example", 443)
    assert len(system.asked) == 1
    system.answer(["1.2.3.4"])
    assert checks == [["1.2.3.4"]] * 5
    assert connection.complete and connection.addresses == [("1.2.3.4", 443)]


@pytest.mark.parametrize("variable", ["http_proxy", "HTTPS_PROXY"])
def test_the_proxy_the_user_named_may_be_private(monkeypatch, variable):
    monkeypatch.setenv(variable, "http://proxy.corp:3128")
    guard = resolver({"proxy.corp": [["10.1.1.1"]]})
    assert connect(guard, "proxy.corp", 3128) == [("10.1.1.1", 3128)]


# ------------------------------------------------------------------ wired in every crawl

GUARDS = {
    "crawler.downloadermiddlewares.reach.ReachGuard": 30,
    "crawler.downloadermiddlewares.reach.ConnectRefusal": 595,
}


def test_local_crawls_and_workers_have_the_guards_and_only_http_handlers(tmp_path):
    from crawler.distributed.worker.process import worker_settings
    from crawler.local import crawl_settings
    from crawler.options import CrawlOptions

    local = crawl_settings(str(tmp_path / "a.db"), CrawlOptions())
    worker = worker_settings("redis://127.0.0.1:6379/0", {"DOWNLOAD_DELAY": "0"})
    for settings in (local, worker):
        assert settings["TWISTED_DNS_RESOLVER"] == "crawler.resolver.PublicResolver"
        middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
        assert GUARDS.items() <= middlewares.items()
        # The guard comes before every other middleware; its refusals before retry/backoff.
        base = settings.getdict("DOWNLOADER_MIDDLEWARES_BASE")
        order = {name: prio for name, prio in {**base, **middlewares}.items() if prio is not None}
        assert min(order.values()) == 30
        retry = [p for n, p in order.items() if "retry" in n.lower() or "backoff" in n.lower()]
        assert max(retry) < 595
        handlers = {**settings.getdict("DOWNLOAD_HANDLERS_BASE"),
                    **settings.getdict("DOWNLOAD_HANDLERS")}  # fmt: skip
        assert {scheme for scheme, path in handlers.items() if path} == {"http", "https"}


@pytest.mark.parametrize(
    "setting",
    [
        ("DOWNLOADER_MIDDLEWARES", '{"crawler.downloadermiddlewares.reach.ReachGuard": null}'),
        (
            "DOWNLOAD_HANDLERS",
            '{"file": "scrapy.core.downloader.handlers.file.FileDownloadHandler"}',
        ),
        ("DOWNLOAD_HANDLERS_BASE", "{}"),
        ("TWISTED_DNS_RESOLVER", "scrapy.resolver.CachingThreadedResolver"),
        ("DNS_RESOLVER", "scrapy.resolver.CachingThreadedResolver"),
        ("TWISTED_REACTOR_ENABLED", "false"),
    ],
)
def test_the_settings_that_hold_the_guard_cannot_be_overridden(setting):
    from crawler.options import BadOption, CrawlOptions
    from crawler.tunables import check_setting

    name, value = setting
    assert check_setting(name, value).startswith(f"{name} cannot be set with -s")
    with pytest.raises(BadOption):
        CrawlOptions(settings={name: value})
