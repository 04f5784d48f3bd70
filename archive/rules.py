"""Built-in boilerplate rules, as data.

Each rule group has a name (shown by ``--explain``) and a list of regular
expressions matched against whole lines of a post's text. The code that
applies them lives in :mod:`archive.clean`.
"""

from __future__ import annotations

#: Lines that are advertising for search bots and join links, not post content.
AD_LINES: dict[str, list[str]] = {
    "bot-ad": [
        r"^🔍?\s*发送关键词来寻找群组、?频道或视频。?\s*(启动\S*机器人)?$",
        r"^启动\S{0,12}机器人$",
    ],
    "join-ad": [
        r"^(👉\s*)?点击加入\S{0,20}$",
        r"^(👉\s*)?join our channel\b.*$",
    ],
}
