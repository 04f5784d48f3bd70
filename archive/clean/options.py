"""One object for every extraction setting: :class:`ExtractOptions`.

The defaults ship with the package (``archive/clean/defaults.toml`` for settings,
:mod:`archive.clean.rules` for the rule groups). A site profile is a small TOML
file that overrides only what it sets (:func:`apply_toml`); every value is
checked when it is loaded, so a typo, a bad regular expression, a bad
selector or an empty rule group is one clear :class:`~archive.errors.BadInput`
before any page is read.
"""

from __future__ import annotations

import copy
import functools
import re
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

from lxml import etree

from ..errors import BadInput
from ..source import is_web_channel_name
from . import rules

#: Settings read from ``[section] key`` of a TOML file, with their attribute and type.
_SETTINGS: dict[tuple[str, str], tuple[str, type]] = {
    ("extract", "favor_recall"): ("favor_recall", bool),
    ("extract", "include_tables"): ("include_tables", bool),
    ("extract", "timezone"): ("timezone", str),
    ("listing", "min_cards"): ("min_cards", int),
    ("listing", "card_share"): ("card_share", float),
    ("listing", "card_share_on_post_page"): ("card_share_on_post_page", float),
    ("learn", "enabled"): ("learn", bool),
    ("learn", "min_posts"): ("learn_min_posts", int),
    ("learn", "min_share"): ("learn_min_share", float),
    ("learn", "tail_lines"): ("learn_tail_lines", int),
    ("learn", "head_lines"): ("learn_head_lines", int),
    ("learn", "min_chars"): ("learn_min_chars", int),
    ("selectors", "post"): ("post_selector", str),
    ("selectors", "card"): ("card_selector", str),
    ("selectors", "title"): ("title_selector", str),
    ("selectors", "time"): ("time_selector", str),
    ("selectors", "post_id"): ("post_id_pattern", str),
}
_TOP_LEVEL = {"name", "description", "channel"}
_RULE_KEYS = {
    "line",
    "page_line",
    "drop",
    "related_markers",
    "post_url_ids",
    "not_post_urls",
    "disable",
}
_OFFSET = re.compile(r"^(?:Z|UTC|[+-]\d{2}:\d{2})$")


@dataclass
class ExtractOptions:
    """Every setting of extraction; build with :func:`default_options` or a profile."""

    profile: str | None = None  # the profile these options came from
    channel: str | None = None  # web channel name (default: the site's host[:port])
    favor_recall: bool = False
    include_tables: bool = True
    timezone: str = "+00:00"
    min_cards: int = 2
    card_share: float = 0.5
    card_share_on_post_page: float = 0.85
    learn: bool = True
    learn_min_posts: int = 3
    learn_min_share: float = 0.05
    learn_tail_lines: int = 3
    learn_head_lines: int = 2
    learn_min_chars: int = 4
    post_selector: str | None = None
    card_selector: str | None = None
    title_selector: str | None = None
    time_selector: str | None = None
    post_id_pattern: str | None = None
    line_rules: dict[str, list[str]] = field(
        default_factory=lambda: copy.deepcopy(rules.LINE_RULES)
    )
    page_line_rules: dict[str, list[str]] = field(
        default_factory=lambda: copy.deepcopy(rules.PAGE_LINE_RULES)
    )
    drop: dict[str, list[str]] = field(default_factory=lambda: copy.deepcopy(rules.DROP_XPATHS))
    related_markers: list[str] = field(default_factory=lambda: list(rules.RELATED_MARKERS))
    post_url_ids: list[str] = field(default_factory=lambda: list(rules.POST_URL_IDS))
    not_post_urls: list[str] = field(default_factory=lambda: list(rules.NOT_POST_URLS))

    # -- compiled forms (built once per options object)

    @cached_property
    def line_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        return [
            (name, re.compile(p, re.IGNORECASE)) for name, ps in self.line_rules.items() for p in ps
        ]

    @cached_property
    def page_line_patterns(self) -> list[tuple[str, re.Pattern[str]]]:
        return [
            (name, re.compile(p, re.IGNORECASE))
            for name, ps in self.page_line_rules.items()
            for p in ps
        ]

    @cached_property
    def marker_pattern(self) -> re.Pattern[str]:
        body = "|".join(f"(?:{p})" for p in self.related_markers)
        return re.compile(rf"^[\W_]*(?:{body})[\W_]*(?:更多|more|»|›)?[\W_]*$", re.IGNORECASE)

    @cached_property
    def drop_xpaths(self) -> list[tuple[str, etree.XPath]]:
        return [(name, compile_selector(s)) for name, ss in self.drop.items() for s in ss]

    @cached_property
    def url_id_patterns(self) -> list[re.Pattern[str]]:
        patterns = [self.post_id_pattern] if self.post_id_pattern else []
        return [re.compile(p) for p in [*patterns, *self.post_url_ids]]

    @cached_property
    def not_post_url_patterns(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.not_post_urls]

    def selector(self, name: str) -> etree.XPath | None:
        """The compiled ``post`` / ``card`` / ``title`` / ``time`` selector, if the profile set one."""
        source = getattr(self, f"{name}_selector")
        return _compiled_selector(source) if source else None


def compile_selector(selector: str) -> etree.XPath:
    """An XPath (starts with ``/``, ``./`` or ``(``) or a CSS selector, compiled to XPath."""
    return _compiled_selector(selector)


_SELECTOR_CACHE: dict[str, etree.XPath] = {}


def _compiled_selector(selector: str) -> etree.XPath:
    cached = _SELECTOR_CACHE.get(selector)
    if cached is not None:
        return cached
    text = selector.strip()
    try:
        if text.startswith(("/", "./", "(")):
            compiled = etree.XPath(text)
        else:
            from cssselect import GenericTranslator, SelectorError

            try:
                compiled = etree.XPath(GenericTranslator().css_to_xpath(text))
            except SelectorError as exc:
                raise BadInput(f"not a CSS selector: {selector!r} ({exc})") from exc
    except etree.XPathSyntaxError as exc:
        raise BadInput(f"not an XPath expression: {selector!r} ({exc})") from exc
    _SELECTOR_CACHE[selector] = compiled
    return compiled


def _defaults_toml() -> dict[str, Any]:
    text = resources.files("archive.clean").joinpath("defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def default_options() -> ExtractOptions:
    """The shipped defaults: ``archive/clean/defaults.toml`` over the dataclass, rules from rules.py."""
    return apply_toml(ExtractOptions(), _defaults_toml(), source="archive/clean/defaults.toml")


@functools.lru_cache(maxsize=1)
def shared_defaults() -> ExtractOptions:
    """One default options object for the whole process (compiled once); do not modify it."""
    return default_options()


def apply_toml(options: ExtractOptions, data: dict[str, Any], *, source: str) -> ExtractOptions:
    """A copy of ``options`` with what ``data`` (a parsed TOML file) sets; checked, or BadInput."""
    result = copy.deepcopy(options)
    for cached in (
        "line_patterns",
        "page_line_patterns",
        "marker_pattern",
        "drop_xpaths",
        "url_id_patterns",
        "not_post_url_patterns",
    ):
        result.__dict__.pop(cached, None)
    for key, value in data.items():
        if key in _TOP_LEVEL:
            if not isinstance(value, str) or not value.strip():
                raise BadInput(f"{source}: {key} must be a non-empty string")
            if key == "channel":
                result.channel = value.strip().lower()
                if not is_web_channel_name(result.channel):
                    raise BadInput(
                        f"{source}: channel {value!r} is not a channel name"
                        " (letters, digits, '.', '-' and '_', like a host name)"
                    )
        elif key == "rules":
            _apply_rules(result, value, source)
        elif isinstance(value, dict) and any(section == key for section, _ in _SETTINGS):
            for name, setting in value.items():
                if (key, name) not in _SETTINGS:
                    raise BadInput(f"{source}: unknown setting [{key}] {name}")
                attr, kind = _SETTINGS[(key, name)]
                setattr(result, attr, _typed(setting, kind, f"{source}: [{key}] {name}"))
        else:
            raise BadInput(f"{source}: unknown key {key!r}")
    _check(result, source)
    return result


def _typed(value: Any, kind: type, where: str) -> Any:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if kind is not bool and isinstance(value, bool) or not isinstance(value, kind):
        raise BadInput(f"{where} must be a {kind.__name__}, not {value!r}")
    return value


def _pattern_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadInput(f"{where} must be a list of strings")
    if not value:
        raise BadInput(
            f"{where} is an empty rule group: give it patterns, or list it in rules.disable"
        )
    return list(value)


def _apply_rules(options: ExtractOptions, value: Any, source: str) -> None:
    if not isinstance(value, dict):
        raise BadInput(f"{source}: [rules] must be a table")
    unknown = set(value) - _RULE_KEYS
    if unknown:
        raise BadInput(f"{source}: unknown rules key(s): {', '.join(sorted(unknown))}")
    targets = {
        "line": options.line_rules,
        "page_line": options.page_line_rules,
        "drop": options.drop,
    }
    for kind, target in targets.items():
        groups = value.get(kind, {})
        if not isinstance(groups, dict):
            raise BadInput(f"{source}: [rules.{kind}] must be a table of named pattern lists")
        for name, patterns in groups.items():
            target[name] = _pattern_list(patterns, f"{source}: rules.{kind}.{name}")
    for key in ("related_markers", "post_url_ids", "not_post_urls"):
        if key in value:
            setattr(options, key, _pattern_list(value[key], f"{source}: rules.{key}"))
    disable = value.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(v, str) for v in disable):
        raise BadInput(f"{source}: rules.disable must be a list of rule group names")
    for name in disable:
        if name in options.line_rules:
            del options.line_rules[name]
        elif name in options.page_line_rules:
            del options.page_line_rules[name]
        elif name in options.drop:
            del options.drop[name]
        elif name == "related_markers":
            options.related_markers = []
        else:
            raise BadInput(f"{source}: rules.disable names no rule group: {name!r}")


def _check(options: ExtractOptions, source: str) -> None:
    """Compile everything once, so a bad pattern fails at load time with its name."""
    if not _OFFSET.match(options.timezone):
        raise BadInput(f"{source}: timezone must be Z, UTC or ±HH:MM, not {options.timezone!r}")
    if options.min_cards < 2:
        raise BadInput(f"{source}: [listing] min_cards must be at least 2")
    for name in ("card_share", "card_share_on_post_page", "learn_min_share"):
        if not 0.0 <= getattr(options, name) <= 1.0:
            raise BadInput(f"{source}: {name} must be between 0 and 1")
    if options.learn_min_posts < 2:
        raise BadInput(f"{source}: [learn] min_posts must be at least 2")
    for group, patterns in [
        *((f"rules.line.{n}", p) for n, p in options.line_rules.items()),
        *((f"rules.page_line.{n}", p) for n, p in options.page_line_rules.items()),
        ("rules.related_markers", options.related_markers),
        ("rules.post_url_ids", options.post_url_ids),
        ("rules.not_post_urls", options.not_post_urls),
        ("selectors.post_id", [options.post_id_pattern] if options.post_id_pattern else []),
    ]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise BadInput(
                    f"{source}: {group}: bad regular expression {pattern!r}: {exc}"
                ) from exc
    for name, selectors in options.drop.items():
        for selector in selectors:
            try:
                compile_selector(selector)
            except BadInput as exc:
                raise BadInput(f"{source}: rules.drop.{name}: {exc}") from exc
    for name in ("post", "card", "title", "time"):
        selector = getattr(options, f"{name}_selector")
        if selector:
            try:
                compile_selector(selector)
            except BadInput as exc:
                raise BadInput(f"{source}: selectors.{name}: {exc}") from exc
