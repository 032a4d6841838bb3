"""The municipality's register extract and the aggregates the planning pages read.

`RegisterRecord` holds the current snapshot's rows (pseudonymous; no Individual Number).
`import_register` (register_import.py) replaces them in one transaction and, in the same pass,
prepares what the pages read instead of the rows: a `RegisterSnapshot` (date, counts, file
digest — earlier snapshots stay, for comparison), its expiry cube per area, kind and age band
(`RegisterExpiryCount`) and its holders per area and age band (`RegisterHolding`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models

CARD_WORK_ENDS_AT = dt.time(20, 0)
"""The national system closes at 20:00: no card session may end later."""


class RegisterRecord(models.Model):
    """One resident's card and certificate dates, under a local pseudonymous key."""

    municipality = models.ForeignKey(
        "offices.Municipality", on_delete=models.CASCADE, related_name="register_records"
    )
    person_id = models.CharField("住民キー（仮名）", max_length=40)
    birth_date = models.DateField("生年月日")
    card_issued_on = models.DateField("カード発行日", null=True, blank=True)
    card_expires_on = models.DateField("カード有効期限", null=True, blank=True)
    cert_issued_on = models.DateField("電子証明書発行日", null=True, blank=True)
    cert_expires_on = models.DateField("電子証明書有効期限", null=True, blank=True)
    area = models.CharField("地区", max_length=40, blank=True, default="")

    class Meta:
        verbose_name = "住民台帳（抜粋）"
        verbose_name_plural = "住民台帳（抜粋）"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "person_id"], name="register_person_unique"
            )
        ]

    def __str__(self) -> str:
        return self.person_id


class RegisterSnapshot(models.Model):
    """One imported register: when it was taken, what it held. The newest is the current one."""

    municipality = models.ForeignKey(
        "offices.Municipality", on_delete=models.CASCADE, related_name="register_snapshots"
    )
    taken_on = models.DateField("台帳の基準日")
    imported_at = models.DateTimeField("取込日時")
    imported_by = models.CharField("取込者", max_length=150)
    file_name = models.CharField("ファイル名", max_length=255)
    file_sha256 = models.CharField("ファイルのSHA-256", max_length=64)
    rows = models.PositiveIntegerField("住民数")
    card_holders = models.PositiveIntegerField("カード保有者数")
    cert_holders = models.PositiveIntegerField("電子証明書保有者数")
    cube_first_on = models.DateField("有効期限の集計の初日")
    cube_days = models.PositiveIntegerField("有効期限の集計の日数")

    class Meta:
        verbose_name = "住民台帳の取込"
        verbose_name_plural = "住民台帳の取込"
        ordering = ("-pk",)

    def __str__(self) -> str:
        return f"{self.taken_on} {self.file_name}"


class RegisterExpiryCount(models.Model):
    """Expiries per day of one area, kind and age band: ``counts`` holds ``cube_days``
    little-endian int32 day counts from the snapshot's ``cube_first_on`` (one row instead of
    thousands; the cube of a municipality is the sum of its rows)."""

    CARD, CERT = 0, 1

    snapshot = models.ForeignKey(
        RegisterSnapshot, on_delete=models.CASCADE, related_name="expiry_counts"
    )
    area = models.CharField("地区", max_length=40, blank=True)
    kind = models.PositiveSmallIntegerField("種類", choices=[(0, "カード"), (1, "電子証明書")])
    age_band = models.PositiveSmallIntegerField("年齢階級（5歳ごと）")
    total = models.PositiveIntegerField("件数の合計")
    counts = models.BinaryField("日ごとの件数")

    class Meta:
        verbose_name = "有効期限の集計"
        verbose_name_plural = "有効期限の集計"
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "area", "kind", "age_band"], name="expiry_count_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.kind} {self.age_band}: {self.total}"


class RegisterHolding(models.Model):
    """Residents and holders of a valid card / certificate on the snapshot's date."""

    snapshot = models.ForeignKey(
        RegisterSnapshot, on_delete=models.CASCADE, related_name="holdings"
    )
    area = models.CharField("地区", max_length=40, blank=True)
    age_band = models.PositiveSmallIntegerField("年齢階級（5歳ごと）")
    residents = models.PositiveIntegerField("住民数")
    card_holders = models.PositiveIntegerField("カード保有者数")
    cert_holders = models.PositiveIntegerField("電子証明書保有者数")

    class Meta:
        verbose_name = "カード保有状況"
        verbose_name_plural = "カード保有状況"
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "area", "age_band"], name="holding_unique")
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.age_band}: {self.card_holders}/{self.residents}"


def _default_evening_weekdays() -> list[int]:
    return [1, 3]  # Tuesday, Thursday


class PlanningPolicy(models.Model):
    """What the planner may propose and what it assumes, per municipality (edited in the admin,
    audited). A municipality without a row plans with the defaults (`policy_for`)."""

    municipality = models.OneToOneField(
        "offices.Municipality", on_delete=models.CASCADE, related_name="planning_policy"
    )
    allow_evenings = models.BooleanField("平日夜間の臨時開庁を提案する", default=True)
    evening_weekdays = models.JSONField(
        "平日夜間の曜日（0=月曜〜4=金曜、提案する順）",
        default=_default_evening_weekdays,
        blank=True,  # an empty list reaches clean(), which says what to enter
        help_text="例: [1, 3]（火曜・木曜）",
    )
    evening_starts_at = models.TimeField("平日夜間の開始", default=dt.time(17, 15))
    evening_ends_at = models.TimeField("平日夜間の終了", default=dt.time(19, 0))
    allow_saturdays = models.BooleanField("土曜の臨時開庁を提案する", default=True)
    saturday_starts_at = models.TimeField("土曜の開始", default=dt.time(9, 0))
    saturday_ends_at = models.TimeField("土曜の終了", default=dt.time(12, 0))
    evening_cost_weight = models.DecimalField(
        "平日夜間の1時間あたり費用（平日日中=1）",
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.25"),
    )
    weekend_cost_weight = models.DecimalField(
        "土曜の1時間あたり費用（平日日中=1）",
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.50"),
    )
    take_up_percent = models.PositiveSmallIntegerField("更新する人の割合（％）", default=90)
    notice_delay_weeks = models.PositiveSmallIntegerField(
        "カード到着から交付通知書の発送までの週数", default=1
    )
    service_level_percent = models.PositiveSmallIntegerField(
        "サービス水準: 目標時間内に呼ばれる来庁者の割合（％）", default=80
    )
    target_wait_minutes = models.PositiveSmallIntegerField(
        "サービス水準: 目標の待ち時間（分）", default=20
    )

    class Meta:
        verbose_name = "計画の前提"
        verbose_name_plural = "計画の前提"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(evening_ends_at__gt=models.F("evening_starts_at"))
                & models.Q(evening_ends_at__lte=CARD_WORK_ENDS_AT)
                & models.Q(saturday_ends_at__gt=models.F("saturday_starts_at"))
                & models.Q(saturday_ends_at__lte=CARD_WORK_ENDS_AT),
                name="policy_sessions_end_after_start_by_20",
                violation_error_message="開庁時間は開始より後、20:00までに終わるようにしてください。",
            ),
            models.CheckConstraint(
                condition=models.Q(evening_cost_weight__gte=0)
                & models.Q(weekend_cost_weight__gte=0)
                & models.Q(take_up_percent__lte=100),
                name="policy_costs_and_take_up_in_range",
                violation_error_message="費用は0以上、更新する人の割合は100％以下にしてください。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality}: 計画の前提"

    def clean(self) -> None:
        """Refuse values the planner cannot use, with a Japanese message per field."""
        errors: dict[str, list[str]] = {}
        for kind, starts, ends in (
            ("evening", self.evening_starts_at, self.evening_ends_at),
            ("saturday", self.saturday_starts_at, self.saturday_ends_at),
        ):
            if starts is None or ends is None:
                continue
            if ends <= starts:
                errors.setdefault(f"{kind}_ends_at", []).append(
                    "終了は開始より後にしてください（時間がゼロや負になります）。"
                )
            if ends > CARD_WORK_ENDS_AT:
                errors.setdefault(f"{kind}_ends_at", []).append(
                    "カードの事務は20:00までです。終了を20:00以前にしてください。"
                )
        weekdays = self.evening_weekdays
        if not (
            isinstance(weekdays, list)
            and weekdays
            and all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 4 for d in weekdays
            )
            and len(set(weekdays)) == len(weekdays)
        ):
            errors.setdefault("evening_weekdays", []).append(
                "曜日は 0（月曜）〜4（金曜）の数字を重ならないように並べてください。例: [1, 3]"
            )
        for name in ("evening_cost_weight", "weekend_cost_weight"):
            value = getattr(self, name)
            if value is not None and value < 0:
                errors.setdefault(name, []).append("費用は0以上にしてください。")
        if self.take_up_percent is not None and self.take_up_percent > 100:
            errors.setdefault("take_up_percent", []).append(
                "更新する人の割合は0〜100％で入力してください。"
            )
        if self.service_level_percent is not None and not 1 <= self.service_level_percent <= 99:
            errors.setdefault("service_level_percent", []).append(
                "サービス水準は1〜99％で入力してください。"
            )
        if self.target_wait_minutes is not None and self.target_wait_minutes > 240:
            errors.setdefault("target_wait_minutes", []).append(
                "目標の待ち時間は0〜240分で入力してください。"
            )
        if self.notice_delay_weeks is not None and self.notice_delay_weeks > 8:
            errors.setdefault("notice_delay_weeks", []).append(
                "通知書の発送までの週数は0〜8週で入力してください（目安は1週、遅くとも2週）。"
            )
        if errors:
            raise ValidationError(errors)

    @property
    def evening_minutes(self) -> int:
        return _minutes(self.evening_starts_at, self.evening_ends_at)

    @property
    def saturday_minutes(self) -> int:
        return _minutes(self.saturday_starts_at, self.saturday_ends_at)


def _minutes(starts: dt.time, ends: dt.time) -> int:
    return (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)


def policy_for(municipality_id: int) -> PlanningPolicy:
    """The municipality's planning policy, or the defaults (unsaved) when it has none."""
    policy = PlanningPolicy.objects.filter(municipality_id=municipality_id).first()
    return policy or PlanningPolicy(municipality_id=municipality_id)
