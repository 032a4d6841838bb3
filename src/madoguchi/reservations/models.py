"""Slots (bookable seats at a site for one procedure) and reservations.

Capacity rule (invariant 1, docs/ARCHITECTURE.md): `Slot.booked` counts the slot's reservations
that are not cancelled (booked, checked in, served, no-show) and a booking changes it only by one
conditional UPDATE (`… SET booked = booked + n WHERE booked + n <= capacity AND is_offered`: the
booking statement's claim, `reservations/fastpath.py`, or `services._claim_seats`); a
cancellation or a reschedule gives a seat back. The CHECK constraints below are the database's
last word, so no code path can oversell a slot.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from madoguchi.core.languages import validate_offered_language
from madoguchi.offices.models import Procedure, Site


class Slot(models.Model):
    """`capacity` seats for `procedure` at `site` from `starts_at` to `ends_at`.

    `is_offered` is False for a slot that no longer fits the calendar after a regeneration; it is
    kept (never deleted) while reservations point at it, and listed as a conflict while it still
    holds active bookings.
    """

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="slots", verbose_name="窓口（庁舎）"
    )
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="slots", verbose_name="手続き"
    )
    starts_at = models.DateTimeField("開始")
    ends_at = models.DateTimeField("終了")
    capacity = models.PositiveIntegerField("定員")
    booked = models.PositiveIntegerField("予約数", default=0)
    is_offered = models.BooleanField("受付中", default=True)
    conflict_reason = models.CharField("要対応の理由", max_length=200, blank=True)

    class Meta:
        ordering = ["site", "starts_at", "procedure"]
        verbose_name = "予約枠"
        verbose_name_plural = "予約枠"
        constraints = [
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="slot_not_overbooked"
            ),
            models.CheckConstraint(condition=Q(booked__gte=0), name="slot_booked_not_negative"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="slot_ends_after_it_starts"
            ),
            models.UniqueConstraint(
                fields=["site", "procedure", "starts_at"], name="slot_unique_start"
            ),
        ]
        indexes = [models.Index(fields=["procedure", "starts_at"], name="slot_procedure_start")]

    def __str__(self) -> str:
        return f"{self.site} {self.starts_at:%Y-%m-%d %H:%M} {self.procedure.code}"

    @property
    def remaining(self) -> int:
        return max(0, self.capacity - self.booked) if self.is_offered else 0


class ReservationStatus(models.TextChoices):
    BOOKED = "booked", _("予約済み")
    CHECKED_IN = "checked_in", _("受付済み")
    SERVED = "served", _("完了")
    NO_SHOW = "no_show", _("来庁なし")
    CANCELLED = "cancelled", _("取消")


ACTIVE_STATUSES = (ReservationStatus.BOOKED, ReservationStatus.CHECKED_IN)
"""Statuses that hold a seat and count as "the person's booking" for the one-per-procedure rule."""


class Channel(models.TextChoices):
    WEB = "web", _("インターネット")
    API = "api", _("API")
    PHONE = "phone", _("電話")
    COUNTER = "counter", _("窓口")


class Reservation(models.Model):
    """One person's booking of one seat. Family bookings share a `group_code`.

    `person_key` identifies the person for the one-active-booking-per-procedure rule: the notice
    number for a card pick-up, otherwise kana name + birth date (never an Individual Number).
    `revision` counts the changes a resident's calendar entry shows — a new time or place, a
    cancellation (`services`) —: the SEQUENCE of the booking's .ics (RFC 5545 3.8.7.4).
    """

    # Unique and indexed through Meta, not `unique=True` / `db_index=True`: those add a second
    # LIKE-pattern index on PostgreSQL that no query uses, and every booking writes each index.
    code = models.CharField("予約コード", max_length=16)
    group_code = models.CharField("同時予約の番号", max_length=16)
    # db_index=False: the (slot, status) index below starts with the slot and serves its lookups.
    slot = models.ForeignKey(
        Slot,
        on_delete=models.PROTECT,
        related_name="reservations",
        db_index=False,
        verbose_name="予約枠",
    )
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="reservations", verbose_name="手続き"
    )
    status = models.CharField(
        "状態", max_length=12, choices=ReservationStatus.choices, default=ReservationStatus.BOOKED
    )
    channel = models.CharField(
        "受付経路", max_length=10, choices=Channel.choices, default=Channel.WEB
    )
    person_key = models.CharField("本人の識別", max_length=120)
    birth_date = models.DateField("生年月日")
    family_name_kana = models.CharField("姓（カナ）", max_length=60, blank=True)
    given_name_kana = models.CharField("名（カナ）", max_length=60, blank=True)
    email = models.EmailField("メールアドレス", blank=True)
    phone = models.CharField("電話番号", max_length=20, blank=True)
    notice_number = models.CharField("交付通知書番号", max_length=12, blank=True)
    is_proxy = models.BooleanField("代理人が来庁", default=False)
    created_at = models.DateTimeField("予約日時")
    updated_at = models.DateTimeField("更新日時")
    checked_in_at = models.DateTimeField("受付日時", null=True, blank=True)
    finished_at = models.DateTimeField("完了・来庁なし・取消の日時", null=True, blank=True)
    reminder_sent_for = models.DateField("前日のお知らせを送った来庁日", null=True, blank=True)
    revision = models.PositiveIntegerField(
        "版",
        default=0,
        help_text="日時・場所の変更と取消しのたびに1増える（.ics の SEQUENCE、RFC 5545）。",
    )
    language = models.CharField(
        "言語",
        max_length=16,
        default="ja",
        validators=[validate_offered_language],
        help_text="予約したときの言語（settings.LANGUAGES のコード）。メールと SMS はこの言語。",
    )

    class Meta:
        ordering = ["slot__starts_at", "id"]
        verbose_name = "予約"
        verbose_name_plural = "予約"
        constraints = [
            models.UniqueConstraint(
                fields=["person_key", "procedure"],
                condition=Q(status__in=["booked", "checked_in"]),
                name="one_active_reservation_per_person_and_procedure",
            ),
            models.UniqueConstraint(fields=["code"], name="reservation_code_unique"),
        ]
        indexes = [
            models.Index(fields=["slot", "status"], name="reservation_slot_status"),
            models.Index(fields=["group_code"], name="reservation_group_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code}（{self.get_status_display()}）"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
