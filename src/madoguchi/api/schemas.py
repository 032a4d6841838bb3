"""Request and response shapes of the public JSON API (CONTRACT.md)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

# Plain pydantic models, not ninja's `Schema`: that one reads every field through a Python-level
# getter meant for ORM objects, and these are built from dicts and keywords only (decision 0010).
# The OpenAPI document is the same either way.

MAX_ID = 2**62
"""Ids above this are refused by validation (they could never exist, and overflow bigint)."""


class ErrorOut(BaseModel):
    error: str = Field(description="stable machine code, e.g. slot_full, not_found, invalid")
    message: str = Field(description="a sentence for the resident (Japanese)")


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


class MemberIn(BaseModel):
    """Another family member booked into the same slot (optional; all or none)."""

    birth_date: dt.date
    notice_number: str | None = Field(default=None, max_length=40)
    family_name_kana: str | None = Field(default=None, max_length=60)
    given_name_kana: str | None = Field(default=None, max_length=60)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)
    is_proxy: bool = False


class ReservationIn(MemberIn):
    slot_id: int = Field(ge=1, le=MAX_ID)
    procedure: str = Field(min_length=1, max_length=40, pattern=r"^[a-z0-9_]+$")
    family_members: list[MemberIn] = Field(default=[], max_length=5)


class ReservationCreatedOut(BaseModel):
    code: str
    slot_id: int
    site_id: int
    procedure: str
    starts_at: dt.datetime
    group_code: str
    member_codes: list[str]


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
    self_service_changes_until: dt.date = Field(
        description="last date the resident may cancel or reschedule online"
    )


class BirthDateIn(BaseModel):
    birth_date: dt.date


class RescheduleIn(BirthDateIn):
    slot_id: int = Field(ge=1, le=MAX_ID)
