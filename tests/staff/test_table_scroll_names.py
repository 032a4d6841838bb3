"""Every staff table's scroll box is named after its table: `aria-labelledby` its caption, or the
heading right before it when the table has none — one generic name on every box told a screen
reader user nothing about which table the focus had reached. The browser side (the names as
Chromium computes them, distinct on each page) is in tests/browser/test_staff_pages.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "madoguchi"
BOX = re.compile(r'<div class="table-scroll"[^>]*>')
LABELLED_BY = re.compile(r'aria-labelledby="([^"]+)"')
CAPTION = re.compile(r'<caption id="([^"]+)">')
HEADING = re.compile(r'<h[1-6] id="([^"]+)"')


def _templates_with_boxes() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("templates/**/*.html") if BOX.search(p.read_text()))


def _boxes(text: str) -> list[tuple[str, str, str]]:
    """(the box's tag, the template before it, its table up to `</table>`) for each box."""
    return [
        (m.group(0), text[: m.start()], text[m.end() : text.index("</table>", m.end())])
        for m in BOX.finditer(text)
    ]


def test_the_staff_templates_have_scroll_boxes() -> None:
    assert len(_templates_with_boxes()) >= 10


@pytest.mark.parametrize(
    "template", _templates_with_boxes(), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_each_scroll_box_is_named_after_its_table(template: Path) -> None:
    text = template.read_text()
    for tag, before, table in _boxes(text):
        assert "aria-label=" not in tag, f"{template.name}: {tag} has a generic name"
        labelled_by = LABELLED_BY.search(tag)
        assert labelled_by, f"{template.name}: {tag} has no name"
        target = labelled_by.group(1)
        caption = CAPTION.search(table)
        if "<caption" in table:
            assert caption and caption.group(1) == target, (
                f"{template.name}: {tag} is not named by its table's caption"
            )
        else:
            headings = HEADING.findall(before)
            assert headings and headings[-1] == target, (
                f"{template.name}: {tag} is not named by the heading before its table"
            )
        defined = text.count(f'id="{target}"')
        assert defined == 1, f"{template.name}: id {target} is defined {defined} times"


@pytest.mark.parametrize(
    "template", _templates_with_boxes(), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_scroll_box_names_in_a_loop_carry_the_loop_counter(template: Path) -> None:
    """A box inside `{% for %}` repeats: its id must too differ on each turn."""
    text = template.read_text()
    for tag, before, _table in _boxes(text):
        opened = len(re.findall(r"{%\s*for\s", before)) - len(re.findall(r"{%\s*endfor", before))
        if opened > 0:
            assert "forloop.counter" in tag, f"{template.name}: {tag} repeats one id in a loop"
