"""What every form of madoguchi shares: no Individual Number gets past any of them.

`RefusesIndividualNumbers` is mixed into every form class (residents', staff, admin — the admin
site adds it to every ModelAdmin's forms, see `core/admin_site.py`): after the usual cleaning it
looks at what was typed into each field (the raw value, before any normaliser could reshape it)
and at the cleaned value, and refuses the field with the one Japanese message. A form with an
error is never saved, so nothing refused reaches the database or the audit log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext_lazy

from madoguchi.core.dates import in_range
from madoguchi.core.individual_number import INDIVIDUAL_NUMBER_REFUSAL, contains_individual_number

DATE_OUT_OF_RANGE = gettext_lazy("日付は1900年1月1日から2199年12月31日までの間で入力してください。")

FormT = TypeVar("FormT", bound=type[forms.BaseForm])


def holds_individual_number(value: Any) -> bool:
    """True when `value` (text, or lists and dicts of them, as forms and JSON give) holds one."""
    if isinstance(value, str):
        return contains_individual_number(value)
    if isinstance(value, Mapping):
        return any(holds_individual_number(v) for v in (*value.keys(), *value.values()))
    if isinstance(value, list | tuple | set | frozenset):
        # never any other iterable: an uploaded file would be read to its end (its contents
        # are the importers' to check, row by row)
        return any(holds_individual_number(v) for v in value)
    return False


@dataclass
class KeptInput:
    """What a form sent after its staff session had ended held (`staff.kept_input`), given back
    while the page it was sent from is shown again after the sign-in: each unbound form of the
    page that most of the kept inputs belong to starts from the kept values (`restoring`)."""

    data: QueryDict
    on_restored: Callable[[], None]
    restored: bool = False


_kept_input: ContextVar[KeptInput | None] = ContextVar("kept_input", default=None)


@contextmanager
def restoring(kept: KeptInput) -> Iterator[KeptInput]:
    """Within this block, unbound forms whose fields match start from `kept`'s values."""
    token = _kept_input.set(kept)
    try:
        yield kept
    finally:
        _kept_input.reset(token)


def _under(input_name: str, prefix: str | None) -> bool:
    """Whether `input_name` is under the form prefix `prefix` ("member1-notice_number"), or
    under none when `prefix` is None (a formset's prefix may hold dashes: "counters-0-name")."""
    return input_name.startswith(f"{prefix}-") if prefix else "-" not in input_name


def kept_value(name: str) -> str | None:
    """The value of input `name` in the input being given back (`restoring`) — what a page needs
    to build its forms as they were sent, such as how many family members a phone booking had;
    None when nothing is given back or it has no such input."""
    kept = _kept_input.get()
    if kept is None:
        return None
    value = kept.data.get(name)
    return None if value is None else str(value)


class RefusesIndividualNumbers(forms.BaseForm):
    """Mixin for any Django form: a field holding an Individual Number is an error. While it
    looks at every field, it also refuses dates outside 1900–2199 (`core.dates`): no form's
    date can overflow the arithmetic behind it. An unbound form shown while a kept input is
    given back (`restoring`) starts from it."""

    refuses_individual_numbers = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kept = _kept_input.get()
        if kept is not None and not self.is_bound:
            self._start_from(kept)

    def _start_from(self, kept: KeptInput) -> None:
        """Start from `kept` when most of its inputs are this form's (a form's own hidden
        inputs — the procedure and day of a phone booking — are not fields; another form of
        the page sharing a field name or two is not taken for it). Counted among the inputs
        under the form's prefix (a family member's), or under none for a form without one."""
        owners: dict[str, str] = {}  # input name → field name (a date's three selects → one)
        for name in self.fields:
            key = self.add_prefix(name)
            for input_name in kept.data:
                if input_name == key or input_name.startswith(f"{key}_"):
                    owners[input_name] = name
        # a prefixed form (a family member's) among the inputs under its prefix, any other
        # among those under none: "<prefix>-<field>" names another form's field
        sent = [n for n in kept.data if _under(n, self.prefix)]
        if not owners or 2 * len(owners) <= len(sent):
            return
        self.initial = {
            **self.initial,
            **{
                name: self.fields[name].widget.value_from_datadict(
                    kept.data, {}, self.add_prefix(name)
                )
                for name in set(owners.values())
            },
        }
        if not kept.restored:
            kept.restored = True
            kept.on_restored()

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or (self.empty_permitted and not self.has_changed()):
            return
        for name, field in self.fields.items():
            if self.has_error(name, code="individual_number"):  # refused by its own clean
                self._forget_input(self.add_prefix(name))
                continue
            raw = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            cleaned = getattr(self, "cleaned_data", {}).get(name)
            if holds_individual_number(raw) or holds_individual_number(cleaned):
                self.add_error(
                    name, ValidationError(INDIVIDUAL_NUMBER_REFUSAL, code="individual_number")
                )
                self._forget_input(self.add_prefix(name))
            elif isinstance(cleaned, dt.date) and not in_range(
                cleaned.date() if isinstance(cleaned, dt.datetime) else cleaned
            ):
                self.add_error(name, ValidationError(DATE_OUT_OF_RANGE, code="date_range"))

    def _forget_input(self, key: str) -> None:
        """The page shown again with the refusal does not write the number back into the
        field (nor, from there, into the browser's form history): the field's inputs are
        emptied; every other input is kept."""
        emptied = [name for name in self.data if name == key or name.startswith(f"{key}_")]
        if not emptied:
            return
        data = self.data.copy() if isinstance(self.data, QueryDict) else dict(self.data)
        for input_name in emptied:
            data[input_name] = ""
        self.data = data


def refusing_individual_numbers(form_class: FormT) -> FormT:
    """`form_class` with `RefusesIndividualNumbers` mixed in (itself when it already is)."""
    if getattr(form_class, "refuses_individual_numbers", False):
        return form_class
    checked = type(form_class.__name__, (RefusesIndividualNumbers, form_class), {})
    checked.__module__ = form_class.__module__
    checked.__qualname__ = form_class.__qualname__
    return checked  # type: ignore[return-value]  # a subclass of form_class
