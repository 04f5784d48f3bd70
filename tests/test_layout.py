"""The library's layers: every archive module imports only what lies below it (or beside it)."""

from __future__ import annotations

import ast

import pytest

from tests.paths import ROOT

ARCHIVE = ROOT / "archive"

#: The layer of each part of ``archive``: a module may import its own layer and those below.
LAYERS = {
    "archive": 0,
    "archive.models": 0,
    "archive.errors": 0,
    "archive.times": 0,
    "archive.source": 0,
    "archive.clean": 1,
    "archive.extract": 2,
    "archive.store": 3,
    "archive.query": 4,
    "archive.export": 4,
    "archive.serve": 5,
}
OUTSIDE = ("crawler", "scheduler", "chanarchive", "tests", "bench")


def layer(module: str) -> int:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        name = ".".join(parts[:i])
        if name in LAYERS:
            return LAYERS[name]
    raise KeyError(module)


def module_name(path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path, module: str) -> list[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(target)
            found += [f"{target}.{alias.name}" for alias in node.names]
    return found


MODULES = sorted(ARCHIVE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path) -> None:
    module = module_name(path)
    own = layer(module)
    for name in imported(path, module):
        assert not name.startswith(OUTSIDE), f"{module} imports {name}"
        if name.startswith("archive.") or name == "archive":
            try:
                theirs = layer(name)
            except KeyError:
                continue
            assert theirs <= own, f"{module} (layer {own}) imports {name} (layer {theirs})"


def test_few_top_level_modules_and_every_subpackage_says_what_it_may_import() -> None:
    top = sorted(p.name for p in ARCHIVE.glob("*.py"))
    assert top == ["__init__.py", "errors.py", "models.py", "source.py", "times.py"]
    for init in ARCHIVE.glob("*/__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "Holds:" in doc or "holds" in doc.lower(), init
        assert "May import" in doc or "may import" in doc.lower(), init
