"""No page may send a referrer policy that makes the browser send `Origin: null` with its own
forms' POSTs — Django's CSRF check refuses those (403), which once broke taking a walk-in ticket,
cancelling it and the language switch in every browser (docs/decisions/0013).

Under the Fetch standard a browser serialises a POST's Origin as `null` when the request's
referrer policy is `no-referrer` (and, for the other policies, only for cross-origin or
downgraded requests, which a page's own forms are not). So `no-referrer` must appear nowhere:
not in settings, not in a response header set by a view, not in a template's `<meta>` or
`referrerpolicy` attribute.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

SRC = Path(__file__).resolve().parent.parent / "src" / "madoguchi"
ORIGIN_NULLING = re.compile(r"no-referrer(?!-when-downgrade)", re.IGNORECASE)


def _files(*suffixes: str) -> list[Path]:
    return [p for p in SRC.rglob("*") if p.suffix in suffixes and p.is_file()]


def test_the_site_wide_policy_keeps_the_origin_of_same_origin_posts() -> None:
    assert settings.SECURE_REFERRER_POLICY == "same-origin"


def test_no_template_or_view_sets_an_origin_nulling_referrer_policy() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in _files(".html", ".py", ".txt", ".js")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ORIGIN_NULLING.search(line)
    ]
    assert offenders == []


def test_the_scan_finds_the_policy_where_it_would_break_forms() -> None:
    """The scan's own negative control: the three ways the policy was ever set are found."""
    for line in (
        '<meta name="referrer" content="no-referrer">',
        'response["Referrer-Policy"] = "no-referrer"',
        '<a href="x" referrerpolicy="NO-REFERRER">',
    ):
        assert ORIGIN_NULLING.search(line)
    assert not ORIGIN_NULLING.search('content="no-referrer-when-downgrade"')
