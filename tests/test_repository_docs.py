"""The repository explains itself: no file of the project points at documents a clone lacks."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE = re.compile(r"CONTRACT\.md|DOMAIN\.md|DESIGN\.md|STYLE\.md|\.\./shared")


def test_no_project_file_refers_to_documents_outside_the_repository() -> None:
    places = [ROOT / "README.md", ROOT / ".env.example", ROOT / "Makefile", ROOT / "pyproject.toml"]
    for folder in ("src", "docs", "bench", ".ci", "tests"):
        places += [p for p in (ROOT / folder).rglob("*") if p.is_file()]
    text_files = [p for p in places if p.suffix not in {".mo", ".ttf", ".png", ".pdf", ".pyc"}]
    assert len(text_files) > 50  # the scan sees the project
    found = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in text_files
        for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert found == []


def test_the_documents_the_code_cites_are_in_the_repository() -> None:
    for name in ("contract.md", "domain.md", "ARCHITECTURE.md", "glossary.md"):
        assert (ROOT / "docs" / name).is_file(), name
    assert (ROOT / "LICENSE").is_file()


def test_the_licence_file_is_the_licence_pyproject_declares() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text


DECISIONS = ROOT / "docs" / "decisions"
CITED_DECISION = re.compile(r"\b[Dd]ecisions? (\d{4})\b")


def test_each_decision_has_a_number_of_its_own() -> None:
    numbers = [p.name[:4] for p in DECISIONS.glob("*.md")]
    assert len(numbers) > 30
    assert sorted(n for n in set(numbers) if numbers.count(n) > 1) == []
    for path in DECISIONS.glob("*.md"):
        stated = re.match(r"# (?:ADR[- ])?(\d{4})\D", path.read_text(encoding="utf-8"))
        assert stated is None or stated.group(1) == path.name[:4], path.name


def test_every_decision_cited_exists() -> None:
    numbers = {p.name[:4] for p in DECISIONS.glob("*.md")}
    places = [ROOT / "README.md", ROOT / "bench" / "README.md"]
    for folder in ("src", "docs", "tests"):
        places += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md", ".html"}]
    cited = {
        f"{p.relative_to(ROOT)}: {n}"
        for p in places
        for n in CITED_DECISION.findall(p.read_text(encoding="utf-8"))
        if n not in numbers
    }
    assert sorted(cited) == []


# A command named in backquotes anywhere, or — in the pages and the catalogues, where prose says
# "madoguchi contributors" — a hyphenated (or underscored) name after "madoguchi ".
NAMED_COMMAND = re.compile(r"`madoguchi ([a-z][a-z0-9_-]*)")
NAMED_COMMAND_IN_TEXT = re.compile(r"(?<![\w.])madoguchi ([a-z][a-z0-9]*(?:[-_][a-z0-9]+)+)")


def test_every_command_named_is_one_the_cli_runs_spelt_as_run() -> None:
    """`madoguchi solve-staffing` is how docs/contract.md names it and how the CLI is run (the CLI
    turns hyphens into the management command's underscores); a page that says
    `madoguchi solve_staffing` tells the manager another spelling than the documents."""
    from django.core.management import get_commands

    commands = set(get_commands())
    places = [ROOT / "README.md"]
    for folder in ("src", "docs"):
        places += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md"}]
    text_places = [
        p for p in (ROOT / "src").rglob("*") if p.suffix in {".html", ".txt", ".po"} and p.is_file()
    ]
    named: dict[str, set[str]] = {}
    for path in places + text_places:
        text = path.read_text(encoding="utf-8")
        found = NAMED_COMMAND.findall(text)
        if path in text_places:
            found += NAMED_COMMAND_IN_TEXT.findall(text)
        for name in found:
            named.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert "solve-staffing" in named  # the scan sees the staffing page and the contract
    unknown = {n: sorted(w) for n, w in named.items() if n.replace("-", "_") not in commands}
    assert unknown == {}
    underscored = {n: sorted(w) for n, w in named.items() if "_" in n}
    assert underscored == {}
