"""What every server process needs, done once at start-up instead of in its first request.

`madoguchi.wsgi` calls `warm_up()` after Django is set up; with gunicorn `--preload` (`madoguchi
serve`) that runs once, before the workers are forked, so every worker starts with it done.
Without it the first request of each worker paid for (measured with cProfile,
`bench/bench_first_request.py`): the URL configuration's reverse tables (built per language on
the first `reverse()` — every staff request reverses the sign-in pages), the templates (compiled
on first use, ~70 of them, and Django's form widget templates in the form renderer's own engine),
the gettext catalogues of each language, the national holidays of
the years calendars ask about (`jpholiday` takes ~0.3 s a year; kept per process) and the SHA-256
of the code that keys the kept dashboard figures. None of it opens the database: a connection
opened before the fork would be shared by every worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import django.forms
from django.conf import settings
from django.forms.renderers import get_default_renderer
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils import translation

from madoguchi.core import clock
from madoguchi.core.code_version import code_digest
from madoguchi.core.holidays import national_holiday_name

logger = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parents[1]
HOLIDAY_YEARS = range(-1, 4)
"""The years around this one whose holidays are computed (the planning pages look up to three
years ahead, the booking window and the history less)."""
URLCONFS = (None, "madoguchi.public_urls")
"""The project's URL configuration and the public one every zone reverses links with."""


def template_names(package: Path = PACKAGE_DIR) -> list[str]:
    """The names of a package's templates (the project's: its folder and its apps'
    `templates/`)."""
    names: set[str] = set()
    for folder in package.rglob("templates"):
        if folder.is_dir():
            names.update(
                path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
            )
    return sorted(names)


def warm_up() -> dict[str, int]:
    """Build the reverse tables and load the catalogues of every offered language, compile the
    project's templates, compute the holidays of the years around this one and take the code
    digest; returns how many of each were done."""
    languages = [code for code, _ in settings.LANGUAGES]
    resolvers = [get_resolver(urlconf) for urlconf in URLCONFS]
    for code in languages:
        with translation.override(code):
            translation.gettext("予約")  # loads the language's catalogues
            for resolver in resolvers:
                resolver.reverse_dict  # noqa: B018 — built per language on first use
                resolver.namespace_dict  # noqa: B018
                resolver.app_dict  # noqa: B018
    compiled = 0
    renderer = get_default_renderer()
    for engine, names in (
        (engines["django"], template_names()),
        (renderer, template_names(Path(django.forms.__file__).parent)),
    ):
        for name in names:
            try:
                engine.get_template(name)  # the cached loader keeps the compiled template
            except TemplateSyntaxError:
                logger.exception("template %s does not compile; its page will fail", name)
                continue
            compiled += 1
    year = clock.today().year
    for offset in HOLIDAY_YEARS:
        national_holiday_name(dt.date(year + offset, 1, 1))
    code_digest()
    return {"languages": len(languages), "templates": compiled, "years": len(HOLIDAY_YEARS)}
