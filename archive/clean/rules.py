"""Built-in boilerplate rules, as data.

Every rule group has a name, shown by ``chanarchive extract --explain`` next
to what it removed, and a list of patterns. The code that applies them lives
elsewhere: :mod:`archive.clean` (line rules), :mod:`archive.extract.web` (page
structure). A site profile (:mod:`archive.clean.profiles`) may replace a group,
add groups, or switch groups off; an empty group is refused.

- ``LINE_RULES``: regular expressions matched (case-insensitive, ``search``)
  against each stripped line of a post's text; a matching line is not the
  post's own text. They make the *clean* text: the raw text keeps such lines.
- ``PAGE_LINE_RULES``: the same, for lines of a web page that are page
  furniture (times, counters, copyright lines). They never reach a web
  post's raw text, so a view counter that ticks never makes a new version.
- ``RELATED_MARKERS``: regular expressions that must match the *whole* text of
  a short element (a heading, a bare ``<div>``). From such a marker to the end
  of its block, the page lists other posts: links to follow, never content.
- ``DROP_XPATHS``: page parts that are never a post (navigation, share bars).
- ``POST_URL_IDS``: where a URL carries a post's stable id; the first group
  of the first matching pattern (tried on path, then path + query) is the id.
"""

from __future__ import annotations

# A date such as 2023-02-18, 2023/2/18, 2023.02.18 or 2023年2月18日.
_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
_TIME = r"\d{1,2}:\d{2}(?::\d{2})?"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"  # English month names

#: Lines that are not the post's own text.
LINE_RULES: dict[str, list[str]] = {
    # Search-bot advertising appended by channels and mirror sites.
    "bot-ad": [
        r"^🔍?\s*发送关键词来寻找群组、?频道或视频。?\s*(启动\S*机器人)?$",
        r"^启动\S{0,12}机器人$",
        r"^(🔍\s*)?send (a )?keywords? to (search|find) (for )?(groups|channels|videos)",
    ],
    # "Join / subscribe" calls.
    "join-ad": [
        r"^(👉\s*)?点击加入\S{0,20}$",
        r"^(👉\s*)?join our (telegram )?channel\b.*$",
        r"^(👉\s*)?(subscribe to|follow) our (telegram )?channel\b.{0,60}$",
    ],
    # A cover picture's label, shown as text where the picture is.
    "cover-label": [
        r"^(封面图片|封面图|封面|题图)$",
        r"^(cover (image|photo|picture)|featured image)$",
    ],
}

#: Lines of a web page that are page furniture, not any post's text.
PAGE_LINE_RULES: dict[str, list[str]] = {
    # Lines that only carry a time, a count, or both (post and card metadata).
    "meta-line": [
        rf"^(发布(时间|于)|时间|日期)?[:：]?\s*{_DATE}\s*({_TIME})?\s*(\(\d+\))?$",
        rf"^{_DATE}\s*{_TIME}?\s*[(（]\d+[)）]$",
        rf"^(发布时间|发布日期|发表时间|发表于|更新时间)[:：]\s*{_DATE}\s*({_TIME})?(\s+\S{{1,6}}[:：]\S{{1,30}}){{0,3}}$",
        rf"^(posted|published|updated)?\s*(on\s*)?({_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}})"
        rf"(\s*(at\s*)?{_TIME}\s*([ap]\.?m\.?)?)?$",
        r"^(阅读|浏览|播放|views?)[:：]?\s*[\d,.]+[万kKmM]?\s*(次)?$",
        r"^[\d,.]+[万kKmM]?\s*(次阅读|次浏览|views?)$",
    ],
    # Site footers that end up inside a flat page's text.
    "footer": [
        r"^(©|copyright\b|\(c\)\s*\d{4}).{0,80}$",
        r"^.{0,30}版权所有.{0,40}$",
    ],
}

#: The whole text of an element that opens a block of other posts.
RELATED_MARKERS: list[str] = [
    r"相关(推荐|文章|阅读|帖子|内容|频道)",
    r"推荐(阅读|文章|频道)",
    r"猜你(喜欢|想看)",
    r"(热门|精彩)推荐",
    r"延伸阅读",
    r"你可能(还)?(喜欢|感兴趣)",
    r"related (posts|articles|stories|content)",
    r"you (may|might) also (like|enjoy)",
    r"more (posts|stories) (from|like) (this|the) channel",
    r"recommended (posts|for you|reading)",
]

#: Page parts that are never a post's text (XPath 1.0).
DROP_XPATHS: dict[str, list[str]] = {
    "navigation": [
        "//nav",
        "//*[@role='navigation']",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' breadcrumb ')]",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' breadcrumbs ')]",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' pagination ')]",
    ],
    "share-bar": [
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' share ')]",
        "//*[contains(concat(' ', normalize-space(@class), ' '), ' social-share ')]",
    ],
}

#: Stable post ids in URLs (first group of the first match).
POST_URL_IDS: list[str] = [
    r"[?&](?:id|p|post|post_id|tid|aid)=(\d+)(?:&|$)",
    r"/(?:post|posts|p|article|articles|archives|message|msg)/(\d+)(?:\.s?html?)?/?$",
    r"/([A-Za-z][A-Za-z0-9_]{2,31}/\d+)(?:\.s?html?)?/?$",
    r"/(\d+)(?:\.s?html?)?/?$",
]

#: URLs that look like they carry an id but are listings (day archives, pages).
NOT_POST_URLS: list[str] = [
    r"/\d{4}/\d{1,2}(?:/\d{1,2})?/?$",
    r"^/(?:19|20)\d{2}/?$",
    r"/(?:page|pages|category|categories|tag|tags|label|labels|search|author)/",
]
