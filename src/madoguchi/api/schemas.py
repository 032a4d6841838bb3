"""Request and response shapes of the public JSON API (docs/contract.md)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from madoguchi.core.dates import EARLIEST_DATE, LATEST_DATE
from madoguchi.core.forms import holds_individual_number
from madoguchi.core.individual_number import INDIVIDUAL_NUMBER_REFUSAL

# Plain pydantic models, not ninja's `Schema`: that one reads every field through a Python-level
# getter meant for ORM objects, and these are built from dicts and keywords only (decision 0010).
# The OpenAPI document is the same either way.

MAX_ID = 2**62
"""Ids above this are refused by validation (they could never exist, and overflow bigint)."""


_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _date_text(value: Any) -> Any:
    """A date comes as text, `YYYY-MM-DD`, and only so: a number — or a number as text, as every
    query parameter is — is refused, not read as seconds since 1970 (pydantic's default would
    book 86400 or "86400" as 2 January 1970), and so is a datetime, even at midnight."""
    if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
        raise PydanticCustomError("date_type", "Input should be a date as text, YYYY-MM-DD")
    return value


Date = Annotated[dt.date, BeforeValidator(_date_text), Field(ge=EARLIEST_DATE, le=LATEST_DATE)]
"""Every date the API accepts: text, 1900-01-01 … 2199-12-31 (a 422 outside: no date
arithmetic at the calendar's ends, 0001-01-01 or 9999-12-31, can overflow)."""


class Input(BaseModel):
    """Base of every request shape (body, query, path): no value may hold an Individual Number.

    Checked before any field is parsed and before the view runs, so a refused request changes
    nothing and reaches neither the database nor the audit log; the answer is 422
    `individual_number` (see `api/urls.py`)."""

    @model_validator(mode="before")
    @classmethod
    def _refuse_individual_numbers(cls, data: Any) -> Any:
        if holds_individual_number(data if isinstance(data, dict | list | str) else _items(data)):
            raise PydanticCustomError("individual_number", str(INDIVIDUAL_NUMBER_REFUSAL))
        return data


def _items(data: Any) -> list[Any]:
    """Values of a query dict or another mapping-like input (ninja passes QueryDicts)."""
    lists = getattr(data, "lists", None)
    return [list(pair) for pair in lists()] if callable(lists) else []


class ErrorOut(BaseModel):
    error: str = Field(description="stable machine code, e.g. slot_full, not_found, invalid")
    message: str = Field(
        description="a sentence for the resident, in the booking's or the request's language"
    )


class FieldErrorOut(BaseModel):
    field: str
    message: str


class ValidationErrorOut(ErrorOut):
    details: list[FieldErrorOut] = []


class ProcedureOut(BaseModel):
    code: str
    name: str
    duration_minutes: int


class SiteOut(BaseModel):
    id: int
    name: str
    kind: str
    procedures: list[str]


class SlotOut(BaseModel):
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    remaining: int


class SlotFullOut(ErrorOut):
    alternatives: list[SlotOut] = Field(default=[], description="nearest free slots")


class MemberIn(Input):
    """Another family member booked into the same slot (optional; all or none)."""

    birth_date: Date
    notice_number: str | None = Field(default=None, max_length=40)
    family_name_kana: str | None = Field(default=None, max_length=60)
    given_name_kana: str | None = Field(default=None, max_length=60)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)
    is_proxy: bool = Field(default=False, strict=True)


class ReservationIn(MemberIn):
    slot_id: int = Field(ge=1, le=MAX_ID, strict=True)
    procedure: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    family_members: list[MemberIn] = Field(default=[], max_length=5)
    language: str = Field(default="ja", min_length=1, max_length=20)
    """The language of the confirmation and the reminder (a code of `settings.LANGUAGES`);
    the booking service refuses any other (422 `invalid_language`)."""


class ReservationCreatedOut(BaseModel):
    code: str
    slot_id: int
    site_id: int
    procedure: str
    starts_at: dt.datetime
    group_code: str
    member_codes: list[str]
    language: str = Field(description="the booking's language: its answers, mails and SMS")
    site_name: str = Field(description="in the booking's language (Japanese where none entered)")
    procedure_name: str = Field(description="in the booking's language")


class ReservationOut(BaseModel):
    code: str
    status: str
    slot_id: int
    site_id: int
    site_name: str
    procedure: str
    procedure_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    is_proxy: bool
    group_code: str
    language: str = Field(description="the booking's language (this answer is in it)")
    self_service_changes_until: dt.date = Field(
        description="last date the resident may cancel or reschedule online"
    )


class BirthDateIn(Input):
    birth_date: Date
    language: str | None = Field(default=None, min_length=1, max_length=20)
    """The language of an error before the booking is found (Japanese when absent; 422
    `invalid_language` for a code not offered); a found booking answers in its own."""


class RescheduleIn(BirthDateIn):
    slot_id: int = Field(ge=1, le=MAX_ID, strict=True)
