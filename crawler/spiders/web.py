"""Which links of a web (mirror) page a crawl follows.

Only same-host links whose URL matches ``--follow`` are followed, up to
``--depth`` hops from the start page; each URL is fetched once per crawl.
"""

from __future__ import annotations

import re
from urllib.parse import urldefrag, urlsplit


class WebWalk:
    def __init__(self, start_url: str, *, depth: int = 1, follow: str | None = None):
        self.host = urlsplit(start_url).netloc.lower()
        self.depth = depth
        self.follow = re.compile(follow) if follow else None
        self.seen: set[str] = {urldefrag(start_url)[0]}

    def claim(self, url: str) -> bool:
        """Mark ``url`` as fetched in this crawl; False when it already was."""
        url = urldefrag(url)[0]
        if url in self.seen:
            return False
        self.seen.add(url)
        return True

    def links_to_follow(self, links: list[str], depth: int) -> list[str]:
        """The links of a page at ``depth`` hops that the crawl should fetch next."""
        if self.follow is None or depth >= self.depth:
            return []
        chosen = []
        for link in links:
            url = urldefrag(link)[0]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.netloc.lower() != self.host:
                continue
            if url in self.seen or not self.follow.search(url):
                continue
            self.seen.add(url)
            chosen.append(url)
        return chosen
