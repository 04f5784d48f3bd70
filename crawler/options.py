"""The crawl options: every option a crawl takes, its default, its flag and its checks, once.

:data:`OPTIONS` is the table (name, default, flag, help, how a value is
read from text and checked); :class:`CrawlOptions` is the one frozen,
checked object built from it, and the only shape options travel in. Each
transport has one way in and one way out:

- the command line: :func:`cli_flags` makes the flags from the table, and
  :func:`options_from_cli` reads them back (``crawl``; ``sources add`` and
  ``sources import`` keep only the options given, see below);
- records (the batch child's stdin, a Redis job, a request's crawl context,
  the ``crawls.options`` row): :meth:`CrawlOptions.to_record` and
  :meth:`CrawlOptions.from_record`, which refuses unknown names and values
  of the wrong type;
- the ``sources`` table and sources files: a *partial* record, the options a
  source sets (:func:`given_record`, read from a file's text columns by
  :func:`record_from_text`); the ones it does not set take the defaults of
  the day it runs (:meth:`CrawlOptions.from_record` fills them in).

Adding an option means adding a field to :class:`CrawlOptions`, a row to
:data:`OPTIONS`, and the code that uses it. Nothing here imports Scrapy.

Not options: what started a crawl (``trigger``), a source's time limit, and
how the process shows its work (progress, verbosity) belong to the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archive.errors import BadInput
from archive.models import (
    DEFAULT_DELETION_CHECKS,
    MEDIA_MAX_SIZE,
    MEDIA_MODES,
    MEDIA_PHOTOS,
    parse_size,
)
from archive.times import parse_time, to_datetime

from .tunables import check_setting

#: The largest ``--max-pages``, ``--depth`` and ``--deletion-checks`` taken.
MAX_PAGES, MAX_DEPTH, MAX_CHECKS = 10**9, 1000, 100_000
#: A profile as a crawl queued in Redis may name it: a name, never a path.
QUEUED_PROFILE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}", re.ASCII)

_TRUE = {"yes", "y", "true", "1", "on"}
_FALSE = {"no", "n", "false", "0", "off", ""}


class BadOption(BadInput):
    """A crawl option with a value that cannot be used."""


# ---------------------------------------------------------------- checks


def _whole(name: str, lo: int, hi: int | None = None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be a whole number, not {value!r}"
        if value < lo:
            least = "0 or more" if lo == 0 else f"at least {lo}"
            return f"{name} must be {least}, not {value}"
        if hi is not None and value > hi:
            return f"{name} must be at most {hi}, not {value}"
        return None

    return check


def _flag(name: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if isinstance(value, bool) else f"{name} must be true or false, not {value!r}"

    return check


def _switch(name: str) -> tuple[Callable[..., Any], ...]:
    """A true/false option's check, its reading from text and its text (``yes`` or empty)."""
    return _flag(name), lambda text: parse_bool(text, name), lambda value: "yes" if value else ""


def _follow(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"follow must be a regular expression, not {value!r}"
    try:
        re.compile(value)
    except re.error as exc:
        return f"follow {value!r} is not a regular expression: {exc}"
    return None


def _profile(value: Any) -> str | None:
    from archive.clean.profiles import load_profile

    if not isinstance(value, str):
        return f"profile must be a profile name, not {value!r}"
    try:
        load_profile(value)
    except BadInput as exc:
        return str(exc)
    return None


def _since(value: Any) -> str | None:
    if not isinstance(value, str) or to_datetime(value) is None:
        return f"since must be a time (ISO 8601, e.g. 2026-01-01), not {value!r}"[:200]
    return None


def _since_text(text: str) -> str:
    try:
        return parse_time(text, option="since")
    except BadInput as exc:
        raise BadOption(str(exc)) from None


def _media(value: Any) -> str | None:
    if value not in MEDIA_MODES:
        return f"media must be one of {', '.join(MEDIA_MODES)}, not {value!r}"
    return None


def _size(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"media_max_size must be a number of bytes, not {value!r}"
    if value < 1:
        return f"media_max_size must be at least one byte, not {value}"
    return None


def _settings(value: Any) -> str | None:
    if not isinstance(value, Mapping):
        return f"settings must be an object of NAME: VALUE, not {value!r}"[:200]
    for name, setting in value.items():
        problem = check_setting(name, setting)
        if problem:
            return problem
    return None


# ------------------------------------------------------------ text forms


def parse_bool(text: str, what: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadOption(f"{what} must be yes or no, not {text!r}")


def parse_settings(text: str) -> dict[str, str]:
    """Scrapy settings as text gives them: a JSON object, or ``NAME=VALUE`` words."""
    text = text.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadOption(f"settings is not a JSON object: {exc.msg}") from None
        if not isinstance(data, dict):
            raise BadOption("settings must be a JSON object of NAME: VALUE")
        return {str(k): str(v) for k, v in data.items()}
    settings = {}
    for word in text.split():
        name, sep, value = word.partition("=")
        if not sep:
            raise BadOption(f"bad setting {word!r}: expected NAME=VALUE")
        settings[name] = value
    return settings


def _int_text(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return int(text.strip())
        except ValueError:
            raise BadOption(f"{name} must be a whole number, not {text!r}") from None

    return parse


def _size_text(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise BadOption(f"media_max_size: {exc}") from None


def _size_string(value: int) -> str:
    return str(value)


# ------------------------------------------------------------- the table


@dataclass(frozen=True)
class Option:
    """One crawl option: its record name, default, command-line flag, and how it is read."""

    name: str
    default: Any
    flag: str  # the command-line flag (``--max-pages``); ``-s`` for settings
    help: str  # ``{scope}`` is replaced by what the option applies to
    check: Callable[[Any], str | None]
    parse: Callable[[str], Any]  # from a file's column or an outline's attribute
    text: Callable[[Any], str] = str  # back to that text
    metavar: str | None = None
    choices: tuple[str, ...] | None = None  # the only values it takes, when they are few
    scheduled: bool = True  # offered to scheduled sources (``sources add``, sources files)


OPTIONS: tuple[Option, ...] = (
    Option(
        "full", False, "--full",
        "Walk the whole history, not only what is new. When the host may take several"
        " requests at once (-s CONCURRENT_REQUESTS_PER_DOMAIN=4; for t.me its DOWNLOAD_SLOTS"
        " entry), several older pages are fetched at a time. Example: --full -s"
        " CONCURRENT_REQUESTS_PER_DOMAIN=4",
        *_switch("full"), scheduled=False,
    ),
    Option(
        "fill_gaps", False, "--fill-gaps",
        "Telegram: fetch only the pages that cover the channel's holes (the id ranges no crawl"
        " has walked, as `chanarchive gaps` lists them), starting at each hole's ?before= page;"
        " nothing else. Example: --fill-gaps --max-pages 100",
        *_switch("fill_gaps"), scheduled=False,
    ),
    Option(
        "max_pages", None, "--max-pages", "Fetch at most N pages per source, {scope}.",
        _whole("max_pages", 1, MAX_PAGES), _int_text("max_pages"), metavar="N",
    ),
    Option(
        "depth", 1, "--depth", "Web sources: how many link hops to follow from the start page.",
        _whole("depth", 0, MAX_DEPTH), _int_text("depth"), metavar="N",
    ),
    Option(
        "follow", None, "--follow", "Web sources: follow same-host links matching REGEX.",
        _follow, str, metavar="REGEX",
    ),
    Option(
        "profile", None, "--profile", "Web sources: the site profile to extract with.",
        _profile, str, metavar="NAME",
    ),
    Option(
        "since", None, "--since",
        "Telegram: walk back no further than posts published before T (ISO 8601: 2026-01-01,"
        " or with a time and offset); the pages reached are archived whole. Example:"
        " --full --since 2026-01-01",
        _since, _since_text, metavar="T",
    ),
    Option(
        "media", MEDIA_PHOTOS, "--media",
        "Media files to archive at first sight: photos (with the thumbnails of videos and link"
        " previews), all (also videos, voice, round videos, audio, documents), or none."
        " Example: --media all --media-max-size 50M",
        _media, lambda text: text.strip().lower(), choices=MEDIA_MODES,
    ),
    Option(
        "media_max_size", MEDIA_MAX_SIZE, "--media-max-size",
        "Keep no media file larger than this (bytes, or with K, M, G: 500K, 20M).",
        _size, _size_text, _size_string, metavar="BYTES",
    ),
    Option(
        "deletion_checks", DEFAULT_DELETION_CHECKS, "--deletion-checks",
        "Telegram: look at up to N posts per source that left the listing, each through its"
        " own embed (/NAME/ID?embed=1); only its 'Post not found' makes a post deleted. The"
        " rest stay missing until a later crawl; 0 looks at none. Example: --deletion-checks 200",
        _whole("deletion_checks", 0, MAX_CHECKS), _int_text("deletion_checks"), metavar="N",
    ),
    Option(
        "allow_private_hosts", False, "--allow-private-hosts",
        "Let the fetches a page chooses (media, link previews, redirects, followed links,"
        " deletion checks) reach loopback and private addresses too. Without it only the"
        " origin of a SOURCE you name may be such an address.",
        *_switch("allow_private_hosts"), scheduled=False,
    ),
    Option(
        "settings", {}, "-s", "Override a Scrapy setting, {scope} (repeatable).",
        _settings, parse_settings,
        lambda value: json.dumps(dict(value), sort_keys=True) if value else "",
        metavar="NAME=VALUE",
    ),
)  # fmt: skip
BY_NAME: dict[str, Option] = {option.name: option for option in OPTIONS}
#: The options a scheduled source may set (the columns of a sources file, in order).
SCHEDULED: tuple[str, ...] = tuple(option.name for option in OPTIONS if option.scheduled)


def _frozen_settings(value: Any) -> tuple[tuple[str, str], ...]:
    """Settings as sorted (NAME, VALUE) pairs, from a mapping or pairs already."""
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return value
    if not isinstance(value, Mapping):
        raise BadOption(f"settings must be an object of NAME: VALUE, not {value!r}"[:200])
    return tuple(sorted(value.items()))


@dataclass(frozen=True)
class CrawlOptions:
    """How a crawl runs: checked when made, never changed after."""

    full: bool = False
    #: ``--fill-gaps``: walk only the holes of the archived id ranges.
    fill_gaps: bool = False
    max_pages: int | None = None
    depth: int = 1
    follow: str | None = None
    profile: str | None = None
    since: str | None = None
    media: str = MEDIA_PHOTOS
    media_max_size: int = MEDIA_MAX_SIZE
    deletion_checks: int = DEFAULT_DELETION_CHECKS
    allow_private_hosts: bool = False
    #: Scrapy settings given with ``-s``, as sorted (NAME, VALUE) pairs.
    settings: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "settings", _frozen_settings(self.settings))
        for spec in OPTIONS:
            value = getattr(self, spec.name)
            if value is None and spec.default is None:
                continue
            if spec.name == "settings":
                value = dict(value)
            problem = spec.check(value)
            if problem:
                raise BadOption(problem)
        if self.fill_gaps and self.full:
            raise BadOption("--fill-gaps and --full do not go together: choose one walk")

    @property
    def scrapy_settings(self) -> dict[str, str]:
        """The ``-s`` settings as a dict."""
        return dict(self.settings)

    def to_record(self) -> dict[str, Any]:
        """Every option, JSON-ready: what a crawl row keeps and a job or a batch carries."""
        record = {spec.name: getattr(self, spec.name) for spec in OPTIONS}
        record["settings"] = self.scrapy_settings
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any] | None) -> CrawlOptions:
        """The options a record names, the others at their defaults; :class:`BadOption` when
        a name is unknown or a value has the wrong type."""
        if record is None:
            return cls()
        if not isinstance(record, Mapping):
            raise BadOption(f"crawl options must be an object, not {type(record).__name__}")
        unknown = sorted(str(name) for name in record if name not in BY_NAME)
        if unknown:
            raise BadOption(f"unknown crawl option {unknown[0]!r}")
        given = {name: value for name, value in record.items() if value is not None}
        return cls(**given)

    @classmethod
    def from_queue(cls, record: Mapping[str, Any] | None) -> CrawlOptions:
        """The options of a crawl queued in Redis (a job, a queued request's crawl), as
        :meth:`from_record`; and its profile only by name, never a file: a path would be
        read on whichever machine takes the crawl, named by whoever wrote to Redis."""
        profile = record.get("profile") if isinstance(record, Mapping) else None
        if profile is not None and not (
            isinstance(profile, str)
            and QUEUED_PROFILE.fullmatch(profile)
            and not profile.lower().endswith(".toml")
        ):
            raise BadOption(
                f"a queued crawl names its profile, not a file: {profile!r} (put the file in"
                " the profiles folder of the machines that run it)"[:300]
            )
        return cls.from_record(record)

    def changed(self, **values: Any) -> CrawlOptions:
        """A copy with ``values`` replaced (checked again)."""
        record = self.to_record()
        record.update(values)
        return CrawlOptions.from_record(record)


#: The defaults, as a crawl with no option given runs.
DEFAULTS = CrawlOptions()


class GivenOptions(dict):
    """The options a scheduled source sets: a partial record, the unset ones left out.

    A source's runs take the default of the day for an option it does not
    set (:meth:`effective`). Made only through :meth:`check`, which refuses
    what :meth:`CrawlOptions.from_record` refuses.
    """

    @classmethod
    def check(cls, values: Mapping[str, Any] | None) -> GivenOptions:
        """``values`` without the unset ones (None, an empty ``settings``), every value checked."""
        if values is not None and not isinstance(values, Mapping):
            raise BadOption(f"crawl options must be an object, not {type(values).__name__}")
        given = {
            name: value
            for name, value in (values or {}).items()
            if value is not None and not (name == "settings" and not value)
        }
        for name in given:
            if name in BY_NAME and not BY_NAME[name].scheduled:
                raise BadOption(f"{BY_NAME[name].flag} is not an option of a scheduled source")
        settings = given.get("settings")
        if isinstance(settings, Mapping):  # a source keeps politeness settings only
            for name, value in settings.items():
                problem = check_setting(name, value, stored=True)
                if problem:
                    raise BadOption(problem)
        CrawlOptions.from_record(given)  # every name and value checked
        if "settings" in given:
            given["settings"] = dict(sorted(dict(given["settings"]).items()))
        return cls(sorted(given.items()))

    @classmethod
    def from_text(cls, columns: Mapping[str, str | None]) -> GivenOptions:
        """A file's option columns (text; blank: not set), each value read and checked."""
        record: dict[str, Any] = {}
        for name, text in columns.items():
            spec = BY_NAME.get(name)
            if spec is None or not spec.scheduled or text is None or not text.strip():
                continue
            record[name] = spec.parse(text)
        return cls.check(record)

    def to_text(self) -> dict[str, str]:
        """As a file's columns, every scheduled option present (blank: not set)."""
        return {
            name: "" if self.get(name) is None else BY_NAME[name].text(self[name])
            for name in SCHEDULED
        }

    def listing(self) -> dict[str, Any]:
        """Every scheduled option named (None: not set; settings: {}), for listings."""
        return {name: self.get(name) for name in SCHEDULED} | {
            "settings": dict(self.get("settings") or {})
        }

    def effective(self) -> CrawlOptions:
        """The options a run of the source has today: these, and the defaults for the rest."""
        return CrawlOptions.from_record(self)

    def arguments(self) -> list[str]:
        """The ``chanarchive crawl`` arguments these options stand for, in table order."""
        args: list[str] = []
        for spec in OPTIONS:
            value = self.get(spec.name)
            if value is None:
                continue
            if spec.name == "settings":
                for name, setting in dict(value).items():
                    args += ["-s", f"{name}={setting}"]
            elif isinstance(value, bool):
                args += [spec.flag] if value else []
            else:
                args += [spec.flag, spec.text(value)]
        return args


def signature(options: CrawlOptions) -> str:
    """A text that is equal for equal options (crawls sharing a process must share it)."""
    return json.dumps(options.to_record(), sort_keys=True)
