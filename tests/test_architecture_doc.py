"""docs/ARCHITECTURE.md describes the layout as it is: every module its code map names exists
where the map puts it, and every package and module of `src/madoguchi` is named there — a file
moved, renamed or added without the map fails here."""

from __future__ import annotations

import re
from pathlib import Path

import madoguchi

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(madoguchi.__file__).parent
NAMED = re.compile(r"`([^`\s]+)`")
MODULE = re.compile(r"^[\w/]+\.py$")
NOT_MAPPED = {"__init__.py", "apps.py"}  # every package has them; nothing to say


def _doc() -> str:
    return (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def _rows(doc: str) -> list[tuple[list[str], list[str]]]:
    """The code map: (paths of the first cell, names in the rest) per row."""
    rows = []
    for line in doc.splitlines():
        if not line.startswith("| `"):
            continue
        first, rest = line[1:].split("|", 1)
        rows.append((NAMED.findall(first), NAMED.findall(rest)))
    return rows


def misplaced(doc: str, package: Path = PACKAGE) -> list[str]:
    """Modules a code-map row names that are not in that row's place (its first cell's
    folders) nor, written as a path, under the package or the repository."""
    wrong = []
    for heads, names in _rows(doc):
        bases = {package / (h if h.endswith("/") else str(Path(h).parent)) for h in heads}
        for name in [h for h in heads if MODULE.match(h)] + [n for n in names if MODULE.match(n)]:
            if (package / name).is_file() or (package.parents[1] / name).is_file():
                continue
            if not any(p.is_file() for base in bases for p in base.rglob(name)):
                wrong.append(f"{'/'.join(heads)}: {name}")
    return wrong


def unnamed(doc: str, package: Path = PACKAGE) -> list[str]:
    """Packages (as `name/`) and modules (by file name, name or command) the doc never names."""
    missing = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if "migrations" in rel.parts or "formats" in rel.parts or path.name in NOT_MAPPED:
            continue
        stem = path.stem
        said = (stem, stem.replace("_", "-"))
        if not any(re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", doc) for s in said):
            missing.append(rel.as_posix())
    for init in sorted(package.rglob("__init__.py")):
        rel = init.parent.relative_to(package)
        if not rel.parts:
            continue  # the package itself
        quiet = {"migrations", "management", "commands"} & set(rel.parts) or (
            "formats" in rel.parts[:-1]  # one per language, `core/formats/` named
        )
        named = f"{rel.as_posix()}/" in doc or re.search(rf"`(?:[\w/]*/)?{rel.parts[-1]}/", doc)
        if not quiet and not named:
            missing.append(f"{rel.as_posix()}/")
    return missing


def test_every_module_the_map_names_is_where_it_says() -> None:
    doc = _doc()
    assert len(_rows(doc)) > 20  # the code map is read
    assert misplaced(doc) == []


def test_every_package_and_module_is_named() -> None:
    assert unnamed(_doc()) == []


def test_the_checks_find_a_moved_and_an_unnamed_module(tmp_path: Path) -> None:
    app = tmp_path / "src" / "pkg" / "app"
    app.mkdir(parents=True)
    for name in ("__init__.py", "here.py", "quiet.py"):
        (app / name).write_text("")
    doc = "| `app/` | `here.py` and `gone.py` |\n| `app/here.py` | x |\n"
    assert misplaced(doc, tmp_path / "src" / "pkg") == ["app/: gone.py"]
    assert unnamed(doc, tmp_path / "src" / "pkg") == ["app/quiet.py"]
