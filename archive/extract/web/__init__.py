"""Web (mirror and aggregator) pages: which posts a page holds, and each post's own text.

Holds: the page's context, ids and times (:mod:`.context`), listing cards
(:mod:`.cards`), the one post of a post page (:mod:`.post`), the main-text
run found with trafilatura (:mod:`.text`), and the page as a whole, listing
or post page (:mod:`.page`).

May import: the rest of :mod:`archive.extract` (its HTML toolkit, dates),
:mod:`archive.clean`, :mod:`archive.models`, :mod:`archive.source` (a
site's channel name). Never SQLite.
"""

from ...source import site_channel_name
from .context import url_hash_id, url_post_id
from .page import parse_web_page

__all__ = ["parse_web_page", "site_channel_name", "url_hash_id", "url_post_id"]
