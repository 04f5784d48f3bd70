"""The baseline of ``bench/crawl_speed.py``: a bare Scrapy spider that only follows pagination.

It fetches ``/s/NAME`` and then every ``?before=N`` page its "older" link
names, with the same settings as the chanarchive crawl it is compared with,
and does nothing with the pages. Usage: ``python _bare_spider.py URL``.
"""

from __future__ import annotations

import re
import sys

import scrapy
from scrapy.crawler import CrawlerProcess

_OLDER = re.compile(rb'tme_messages_more[^>]*data-before="(\d+)"')


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, url: str, **kwargs):
        super().__init__(**kwargs)
        self.url = url

    async def start(self):
        yield scrapy.Request(self.url, dont_filter=True)

    def parse(self, response):
        found = _OLDER.search(response.body)
        if found:
            base = self.url.split("?", 1)[0]
            yield scrapy.Request(f"{base}?before={found.group(1).decode()}", dont_filter=True)


def main() -> None:
    settings = {
        "ROBOTSTXT_OBEY": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "USER_AGENT": "chanarchive-bench (bare spider)",
    }
    process = CrawlerProcess(settings)
    process.crawl(BareSpider, url=sys.argv[1])
    process.start()


if __name__ == "__main__":
    main()
