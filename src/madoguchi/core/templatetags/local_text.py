"""Punctuation that differs by language, for templates (`{% load local_text %}`).

Japanese writes a time range as 9:00〜12:00, separates list items with 「、」 and brackets with
（）; English and the other residents' languages do not. Each form is a translatable message
with a context, so every catalogue says how its language writes it:

- `{% from_to start end %}` — a range of times of day or of formatted dates;
- `{% list_separator %}` — between items of an inline list;
- `{% in_brackets text %}` — a parenthetical note after a word;
- `{% label_colon %}` — between a label and its value.

(Inside `{% blocktranslate %}` no tag may be used: the punctuation there is the message's own
and each translation writes its language's.)
"""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.dateformat import time_format
from django.utils.translation import pgettext

register = template.Library()


def _time(value: dt.datetime | dt.time | str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).time() if timezone.is_aware(value) else value.time()
    return time_format(value, "H:i")


@register.simple_tag
def from_to(start: dt.datetime | dt.time | str, end: dt.datetime | dt.time | str) -> str:
    """A range: two times of day (datetimes shown as H:i in the current time zone) or two
    already formatted values (dates through `|date:"DATE_FORMAT"`)."""
    return pgettext("range", "%(start)s〜%(end)s") % {"start": _time(start), "end": _time(end)}


@register.simple_tag
def list_separator() -> str:
    return pgettext("list separator", "、")


@register.simple_tag
def in_brackets(text: object) -> str:
    return pgettext("parenthetical note", "（%(text)s）") % {"text": text}


@register.simple_tag
def label_colon() -> str:
    """Between a label and its value (状態：予約済み, Status: Booked)."""
    return pgettext("label separator", "：")
