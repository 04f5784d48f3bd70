"""Site profiles: small TOML files that tune extraction for one mirror site.

``--profile NAME`` names a profile. NAME is a path to a ``.toml`` file, or
the stem of a file found in, in this order: the folders of
``$CHANARCHIVE_PROFILES`` (separated like ``PATH``), ``./profiles/``, and
the profiles shipped in ``archive/clean/profiles/``. A profile overrides only the
settings it sets (see :mod:`archive.clean.options` and ``docs/extraction.md``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import BadInput
from .options import ExtractOptions, apply_toml, default_options, shared_defaults

PROFILES_ENV = "CHANARCHIVE_PROFILES"


@dataclass
class Profile:
    """A loaded profile: its name, where it came from, and the options it makes."""

    name: str
    source: str
    options: ExtractOptions


def profile_dirs() -> list[Path]:
    """The folders searched for ``NAME.toml``, first match wins."""
    dirs = [Path(p) for p in os.environ.get(PROFILES_ENV, "").split(os.pathsep) if p]
    dirs.append(Path.cwd() / "profiles")
    return dirs


def _builtin(name: str) -> str | None:
    entry = resources.files("archive.clean").joinpath("profiles", f"{name}.toml")
    return entry.read_text(encoding="utf-8") if entry.is_file() else None


def available_profiles() -> list[str]:
    """The names ``--profile`` accepts (besides a path to a file)."""
    names = set()
    for folder in profile_dirs():
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.toml"))
    builtin = resources.files("archive.clean").joinpath("profiles")
    if builtin.is_dir():
        names.update(e.name[:-5] for e in builtin.iterdir() if e.name.endswith(".toml"))
    return sorted(names)


def _find(name: str) -> tuple[str, str]:
    """(TOML text, where it came from) of profile ``name``, or BadInput naming the choices."""
    candidate = Path(name).expanduser()
    if name.endswith(".toml") or os.sep in name:
        if not candidate.is_file():
            raise BadInput(f"no profile file {name}")
        return candidate.read_text(encoding="utf-8"), str(candidate)
    for folder in profile_dirs():
        path = folder / f"{name}.toml"
        if path.is_file():
            return path.read_text(encoding="utf-8"), str(path)
    text = _builtin(name)
    if text is not None:
        return text, f"built-in profile {name}"
    choices = ", ".join(available_profiles()) or "none"
    raise BadInput(
        f"unknown profile {name!r} (available: {choices}; or give a path to a .toml file)"
    )


def load_profile(name: str) -> Profile:
    """Load and check profile ``name``; BadInput (exit 2 at the CLI) when it is unknown or wrong."""
    if not name or not name.strip():
        raise BadInput("empty profile name")
    text, source = _find(name.strip())
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{source}: not valid TOML: {exc}") from exc
    options = apply_toml(default_options(), data, source=source)
    profile_name = data.get("name") or Path(name).stem
    options.profile = profile_name
    return Profile(name=profile_name, source=source, options=options)


def load_options(profile: str | None = None) -> ExtractOptions:
    """The options for ``profile`` (None: the shipped defaults)."""
    return load_profile(profile).options if profile else shared_defaults()
