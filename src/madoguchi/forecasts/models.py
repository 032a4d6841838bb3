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

from madoguchi.offices.models import Translatable

CARD_WORK_ENDS_AT = dt.time(20, 0)
"""The national system closes at 20:00: no card session may end later."""


class RegisterRecord(models.Model):
    """One resident's card and certificate dates, under a local pseudonymous key."""

    municipality = models.ForeignKey(
        "offices.Municipality",
        on_delete=models.CASCADE,
        related_name="register_records",
        verbose_name="自治体",
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
        "offices.Municipality",
        on_delete=models.CASCADE,
        related_name="register_snapshots",
        verbose_name="自治体",
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
        RegisterSnapshot,
        on_delete=models.CASCADE,
        related_name="expiry_counts",
        verbose_name="住民台帳の取込",
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
        RegisterSnapshot,
        on_delete=models.CASCADE,
        related_name="holdings",
        verbose_name="住民台帳の取込",
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


def _default_open_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4, 5]  # Monday to Saturday


def _minutes_field(label: str, default: int) -> models.SmallIntegerField:  # type: ignore[type-arg]
    # signed, so a negative value reaches clean() and is refused with a Japanese message
    return models.SmallIntegerField(label, default=default)


def _yen_field(label: str, default: int) -> models.IntegerField:  # type: ignore[type-arg]
    return models.IntegerField(label, default=default)


COUNTER_WORK_KINDS: tuple[tuple[str, str, bool], ...] = (
    ("card_pickup", "カードの交付（交付時来庁）", True),
    ("cert_renewal", "電子証明書の更新", True),
    ("application", "申請の受付（交付時来庁：カードは後日窓口で交付）", True),
    ("application_in_person", "申請の受付（申請時来庁：本人確認をしてカードは郵送）", True),
    ("pin_reset", "暗証番号の再設定・初期化", True),
    ("other_visit", "その他の来庁（住所変更の券面記載、問い合わせなど）", True),
    ("setup", "届いたカードの検品と交付前設定（1枚あたり）", False),
    ("notice", "交付通知書の作成と発送・申請時来庁のカードの郵送（1枚あたり）", False),
)
"""Every kind of work the demand model counts: (field prefix, label, done at the counter —
else back-office work). Each has `<prefix>_minutes` and `<prefix>_needs_terminal` below."""

SESSION_KINDS: tuple[tuple[str, str], ...] = (
    ("weekday", "平日日中"),
    ("evening", "平日夜間"),
    ("saturday", "土曜"),
    ("sunday", "日曜・祝日"),
)
EMPLOYMENTS: tuple[tuple[str, str], ...] = (("official", "職員"), ("contractor", "委託事業者"))


class PlanningPolicy(models.Model):
    """What the planner may propose and what it assumes, per municipality (edited in the admin,
    audited). A municipality without a row plans with the defaults (`policy_for`).

    Defaults: the values the planner used before they were settings; the counter work's minutes
    from docs/domain.md (15–20 min a card, 10 a certificate); the yen rates and the shares of
    kinds of visits are examples to replace with the municipality's own (docs/planning-policy.md).
    """

    municipality = models.OneToOneField(
        "offices.Municipality",
        on_delete=models.CASCADE,
        related_name="planning_policy",
        verbose_name="自治体",
    )
    # --- the sessions the planner may propose
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
    allow_sundays = models.BooleanField("日曜・祝日の臨時開庁を提案する", default=False)
    sunday_starts_at = models.TimeField("日曜・祝日の開始", default=dt.time(9, 0))
    sunday_ends_at = models.TimeField("日曜・祝日の終了", default=dt.time(12, 0))
    allow_temporary_counters = models.BooleanField(
        "臨時窓口（下の候補）を提案する",
        default=True,
        help_text="候補は「臨時窓口の候補」に日付と費用とともに登録します。",
    )
    allow_post_office = models.BooleanField(
        "郵便局への事務委託（電子証明書の更新・暗証番号の再設定）を提案する", default=False
    )
    post_office_fee_yen = _yen_field("郵便局への委託料（1件あたり、円）", 0)
    post_office_share_percent = models.SmallIntegerField(
        "委託したとき郵便局で受ける電子証明書の更新などの割合（％）", default=10
    )
    # --- staff cost per hour, by employment and session kind (yen)
    official_weekday_yen = _yen_field("職員の1時間あたり費用：平日日中（円）", 3000)
    official_evening_yen = _yen_field("職員の1時間あたり費用：平日夜間（円）", 3750)
    official_saturday_yen = _yen_field("職員の1時間あたり費用：土曜（円）", 4500)
    official_sunday_yen = _yen_field("職員の1時間あたり費用：日曜・祝日（円）", 4500)
    contractor_weekday_yen = _yen_field("委託事業者の1時間あたり費用：平日日中（円）", 2400)
    contractor_evening_yen = _yen_field("委託事業者の1時間あたり費用：平日夜間（円）", 3000)
    contractor_saturday_yen = _yen_field("委託事業者の1時間あたり費用：土曜（円）", 3600)
    contractor_sunday_yen = _yen_field("委託事業者の1時間あたり費用：日曜・祝日（円）", 3600)
    staff_hours_per_week_limit = models.PositiveIntegerField(
        "全窓口で1週間に確保できる窓口の時間の上限（職員と委託の合計、時間）",
        null=True,
        blank=True,
        help_text="人数×1人あたりの時間。空欄なら上限なし。窓口の配置計画がこの範囲で組まれます。",
    )
    contractor_share_percent = models.SmallIntegerField(
        "窓口・事務の時間のうち委託事業者が担う割合（％）",
        default=0,
        help_text="本人確認の判断、交付の決定、代理人の可否は職員が行います。",
    )
    # --- assumptions
    take_up_percent = models.PositiveSmallIntegerField("更新する人の割合（％）", default=90)
    notice_delay_weeks = models.PositiveSmallIntegerField(
        "カード到着から交付通知書の発送までの週数", default=1
    )
    setup_deadline_days = models.PositiveSmallIntegerField(
        "カード到着から検品・交付前設定を終えるまでの日数",
        default=7,
        help_text="窓口の配置計画は、この日数の範囲で交付前設定を後に回せます"
        "（1週間に届くカードは7日に均等に届くものとして数えます）。"
        "0なら到着した週に行います。通知書の作成・発送は上の週数の範囲で回せます。",
    )
    service_level_percent = models.PositiveSmallIntegerField(
        "サービス水準: 目標時間内に呼ばれる来庁者の割合（％）", default=80
    )
    target_wait_minutes = models.PositiveSmallIntegerField(
        "サービス水準: 目標の待ち時間（分）", default=20
    )
    patience_minutes = _minutes_field(
        "来庁者があきらめて帰るまでの平均の待ち時間（分、0=帰らない）", 0
    )
    # --- the counter work: minutes of each kind and whether it needs an integrated terminal
    card_pickup_minutes = _minutes_field("カードの交付（分）", 20)
    card_pickup_needs_terminal = models.BooleanField("カードの交付に端末が必要", default=True)
    cert_renewal_minutes = _minutes_field("電子証明書の更新（分）", 10)
    cert_renewal_needs_terminal = models.BooleanField("電子証明書の更新に端末が必要", default=True)
    application_minutes = _minutes_field("申請の受付・交付時来庁（分）", 15)
    application_needs_terminal = models.BooleanField(
        "申請の受付（交付時来庁）に端末が必要", default=False
    )
    application_in_person_minutes = _minutes_field("申請の受付・申請時来庁（分）", 20)
    application_in_person_needs_terminal = models.BooleanField(
        "申請の受付（申請時来庁）に端末が必要", default=False
    )
    pin_reset_minutes = _minutes_field("暗証番号の再設定（分）", 10)
    pin_reset_needs_terminal = models.BooleanField("暗証番号の再設定に端末が必要", default=True)
    other_visit_minutes = _minutes_field("その他の来庁（分）", 10)
    other_visit_needs_terminal = models.BooleanField("その他の来庁に端末が必要", default=False)
    setup_minutes = _minutes_field("検品と交付前設定（1枚あたり分）", 5)
    setup_needs_terminal = models.BooleanField("交付前設定に端末が必要", default=True)
    notice_minutes = _minutes_field("通知書の作成・発送（1枚あたり分）", 2)
    notice_needs_terminal = models.BooleanField("通知書の作成に端末が必要", default=False)
    # --- how many of each
    counter_application_percent = models.SmallIntegerField(
        "窓口で申請する人の割合（％、新規・更新とも。ほかはスマホ・郵送など）", default=20
    )
    apply_in_person_percent = models.SmallIntegerField(
        "窓口で申請する人のうち申請時来庁（カードを郵送）の割合（％）", default=10
    )
    new_cards_per_1000_per_year = models.DecimalField(
        "新規の申請（住民1,000人あたり年間）",
        max_digits=5,
        decimal_places=1,
        default=Decimal("38.7"),
        help_text="既定値は全国の見込み 480万件（2025年度）÷ 人口 約1億2,400万人。",
    )
    pin_resets_per_1000_per_month = models.DecimalField(
        "暗証番号の再設定の来庁（住民1,000人あたり月間）",
        max_digits=5,
        decimal_places=1,
        default=Decimal("1.0"),
    )
    other_visits_per_1000_per_month = models.DecimalField(
        "その他の来庁（住民1,000人あたり月間）",
        max_digits=5,
        decimal_places=1,
        default=Decimal("1.0"),
    )

    class Meta:
        verbose_name = "計画の前提"
        verbose_name_plural = "計画の前提"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(evening_ends_at__gt=models.F("evening_starts_at"))
                & models.Q(evening_ends_at__lte=CARD_WORK_ENDS_AT)
                & models.Q(saturday_ends_at__gt=models.F("saturday_starts_at"))
                & models.Q(saturday_ends_at__lte=CARD_WORK_ENDS_AT)
                & models.Q(sunday_ends_at__gt=models.F("sunday_starts_at"))
                & models.Q(sunday_ends_at__lte=CARD_WORK_ENDS_AT),
                name="policy_sessions_end_after_start_by_20",
                violation_error_message="開庁時間は開始より後、20:00までに終わるようにしてください。",
            ),
            models.CheckConstraint(
                condition=models.Q(take_up_percent__lte=100)
                & models.Q(official_weekday_yen__gte=0)
                & models.Q(official_evening_yen__gte=0)
                & models.Q(official_saturday_yen__gte=0)
                & models.Q(official_sunday_yen__gte=0)
                & models.Q(contractor_weekday_yen__gte=0)
                & models.Q(contractor_evening_yen__gte=0)
                & models.Q(contractor_saturday_yen__gte=0)
                & models.Q(contractor_sunday_yen__gte=0)
                & models.Q(post_office_fee_yen__gte=0),
                name="policy_costs_and_take_up_in_range",
                violation_error_message="費用は0以上、更新する人の割合は100％以下にしてください。",
            ),
            models.CheckConstraint(
                condition=models.Q(card_pickup_minutes__gte=0)
                & models.Q(cert_renewal_minutes__gte=0)
                & models.Q(application_minutes__gte=0)
                & models.Q(application_in_person_minutes__gte=0)
                & models.Q(pin_reset_minutes__gte=0)
                & models.Q(other_visit_minutes__gte=0)
                & models.Q(setup_minutes__gte=0)
                & models.Q(notice_minutes__gte=0)
                & models.Q(patience_minutes__gte=0),
                name="policy_minutes_not_negative",
                violation_error_message="時間（分）は0以上にしてください。",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.municipality}: 計画の前提"

    @property
    def take_up(self) -> float:
        """The share of residents who renew (`take_up_percent` as a fraction): the take-up the
        planning computations use unless the page tries another."""
        return self.take_up_percent / 100

    def clean(self) -> None:
        """Refuse values the planner cannot use, with a Japanese message per field."""
        errors: dict[str, list[str]] = {}
        for kind, starts, ends in (
            ("evening", self.evening_starts_at, self.evening_ends_at),
            ("saturday", self.saturday_starts_at, self.saturday_ends_at),
            ("sunday", self.sunday_starts_at, self.sunday_ends_at),
        ):
            errors.update(_session_errors(f"{kind}_ends_at", starts, ends))
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
        for name in (*self.rate_fields(), "post_office_fee_yen"):
            value = getattr(self, name)
            if value is not None and value < 0:
                errors.setdefault(name, []).append("費用は0以上にしてください。")
            elif value is not None and value > 1_000_000:
                errors.setdefault(name, []).append("費用は100万円以下で入力してください。")
        for prefix, _label, _at_counter in COUNTER_WORK_KINDS:
            name = f"{prefix}_minutes"
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 240:
                errors.setdefault(name, []).append(
                    "所要時間は0〜240分で入力してください（負の値は使えません）。"
                )
        if self.patience_minutes is not None and not 0 <= self.patience_minutes <= 480:
            errors.setdefault("patience_minutes", []).append(
                "あきらめるまでの時間は0〜480分で入力してください（0はあきらめない）。"
            )
        for name in (
            "take_up_percent",
            "contractor_share_percent",
            "counter_application_percent",
            "apply_in_person_percent",
            "post_office_share_percent",
        ):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 100:
                errors.setdefault(name, []).append("割合は0〜100％で入力してください。")
        if self.take_up_percent is not None and self.take_up_percent > 100:
            errors["take_up_percent"] = ["更新する人の割合は0〜100％で入力してください。"]
        for name in (
            "new_cards_per_1000_per_year",
            "pin_resets_per_1000_per_month",
            "other_visits_per_1000_per_month",
        ):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1000:
                errors.setdefault(name, []).append(
                    "住民1,000人あたりの件数は0〜1,000で入力してください。"
                )
        if self.service_level_percent is not None and not 1 <= self.service_level_percent <= 99:
            errors.setdefault("service_level_percent", []).append(
                "サービス水準は1〜99％で入力してください。"
            )
        if self.target_wait_minutes is not None and self.target_wait_minutes > 240:
            errors.setdefault("target_wait_minutes", []).append(
                "目標の待ち時間は0〜240分で入力してください。"
            )
        if self.staff_hours_per_week_limit is not None and not (
            0 <= self.staff_hours_per_week_limit <= 100_000
        ):
            errors.setdefault("staff_hours_per_week_limit", []).append(
                "1週間の時間の上限は0〜100,000時間で入力してください（空欄なら上限なし）。"
            )
        if self.notice_delay_weeks is not None and self.notice_delay_weeks > 8:
            errors.setdefault("notice_delay_weeks", []).append(
                "通知書の発送までの週数は0〜8週で入力してください（目安は1週、遅くとも2週）。"
            )
        if self.setup_deadline_days is not None and self.setup_deadline_days > 56:
            errors.setdefault("setup_deadline_days", []).append(
                "交付前設定を終えるまでの日数は0〜56日で入力してください。"
            )
        elif (
            self.setup_deadline_days is not None
            and self.notice_delay_weeks is not None
            and self.setup_deadline_days > 7 * self.notice_delay_weeks
        ):
            errors.setdefault("setup_deadline_days", []).append(
                "交付前設定は通知書の発送までに終える必要があります。"
                "日数を通知書の発送までの週数×7日以下にしてください。"
            )
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def rate_fields() -> tuple[str, ...]:
        return tuple(f"{who}_{kind}_yen" for who, _ in EMPLOYMENTS for kind, _ in SESSION_KINDS)

    def hourly_rate_yen(self, employment: str, session_kind: str) -> int:
        """Staff cost of one hour (yen): `employment` official|contractor, `session_kind`
        weekday|evening|saturday|sunday (the staffing plan's "weekend" is Saturday)."""
        kind = "saturday" if session_kind == "weekend" else session_kind
        return int(getattr(self, f"{employment}_{kind}_yen"))

    def blended_rate_yen(self, session_kind: str) -> float:
        """One counter-hour of `session_kind` at the municipality's mix of officials and
        contractors (`contractor_share_percent`)."""
        share = self.contractor_share_percent / 100
        return (1 - share) * self.hourly_rate_yen("official", session_kind) + (
            share * self.hourly_rate_yen("contractor", session_kind)
        )

    @property
    def evening_cost_weight(self) -> Decimal:
        """An evening hour's cost relative to a weekday hour (from the yen rates)."""
        return _ratio(self.blended_rate_yen("evening"), self.blended_rate_yen("weekday"))

    @property
    def weekend_cost_weight(self) -> Decimal:
        """A Saturday hour's cost relative to a weekday hour (from the yen rates)."""
        return _ratio(self.blended_rate_yen("saturday"), self.blended_rate_yen("weekday"))

    @property
    def evening_minutes(self) -> int:
        return _minutes(self.evening_starts_at, self.evening_ends_at)

    @property
    def saturday_minutes(self) -> int:
        return _minutes(self.saturday_starts_at, self.saturday_ends_at)

    @property
    def sunday_minutes(self) -> int:
        return _minutes(self.sunday_starts_at, self.sunday_ends_at)


def _ratio(value: float, base: float) -> Decimal:
    return Decimal(str(round(value / base, 2))) if base > 0 else Decimal("1")


def _session_errors(
    field: str, starts: dt.time | None, ends: dt.time | None
) -> dict[str, list[str]]:
    if starts is None or ends is None:
        return {}
    messages = []
    if ends <= starts:
        messages.append("終了は開始より後にしてください（時間がゼロや負になります）。")
    if ends > CARD_WORK_ENDS_AT:
        messages.append("カードの事務は20:00までです。終了を20:00以前にしてください。")
    return {field: messages} if messages else {}


class TemporaryCounterOption(Translatable):
    """A temporary counter the planner may propose (a station, a mall, a public hall): its dates,
    hours, counters and what it costs besides the staff (edited in the admin, audited). Its name
    in other languages (decision 0029) goes to the site `open_temporary_counter` opens."""

    TRANSLATED_FIELDS = ("name",)

    municipality = models.ForeignKey(
        "offices.Municipality",
        on_delete=models.CASCADE,
        related_name="temporary_counter_options",
        verbose_name="自治体",
    )
    name = models.CharField("名称・場所", max_length=100)
    opens_on = models.DateField("開設日")
    closes_on = models.DateField("最終日")
    weekdays = models.JSONField(
        "開く曜日（0=月曜〜6=日曜）",
        default=_default_open_weekdays,
        blank=True,
        help_text="例: [0, 1, 2, 3, 4, 5]",
    )
    starts_at = models.TimeField("開始", default=dt.time(10, 0))
    ends_at = models.TimeField("終了", default=dt.time(19, 0))
    counters = models.SmallIntegerField("窓口の数", default=2)
    terminals = models.SmallIntegerField("端末の数", default=2)
    setup_cost_yen = _yen_field("開設・撤去の費用（円）", 0)
    monthly_cost_yen = _yen_field("会場費など月ごとの費用（円）", 0)
    site = models.OneToOneField(
        "offices.Site",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="temporary_option",
        verbose_name="開設した臨時窓口",
        help_text="この候補を臨時窓口として開設したら選びます。開設・撤去の費用と月ごとの費用が"
        "配置計画の費用と補助金の申請の内訳に入ります。",
    )

    class Meta:
        verbose_name = "臨時窓口の候補"
        verbose_name_plural = "臨時窓口の候補"
        ordering = ("opens_on", "name")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_on__gte=models.F("opens_on"))
                & models.Q(ends_at__gt=models.F("starts_at"))
                & models.Q(ends_at__lte=CARD_WORK_ENDS_AT)
                & models.Q(counters__gte=1)
                & models.Q(terminals__gte=0)
                & models.Q(setup_cost_yen__gte=0)
                & models.Q(monthly_cost_yen__gte=0),
                name="temporary_option_in_range",
                violation_error_message=(
                    "日付・時間・窓口の数・費用を確かめてください（終了は20:00まで、費用は0以上）。"
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.opens_on}〜{self.closes_on}）"

    def clean(self) -> None:
        self.clean_translations()
        errors: dict[str, list[str]] = {}
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            errors["closes_on"] = ["最終日は開設日以降にしてください。"]
        errors.update(_session_errors("ends_at", self.starts_at, self.ends_at))
        weekdays = self.weekdays
        if not (
            isinstance(weekdays, list)
            and weekdays
            and all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays
            )
            and len(set(weekdays)) == len(weekdays)
        ):
            errors["weekdays"] = [
                "曜日は 0（月曜）〜6（日曜）の数字を重ならないように並べてください。例: [0, 1, 2]"
            ]
        if self.counters is not None and not 1 <= self.counters <= 50:
            errors["counters"] = ["窓口の数は1〜50で入力してください。"]
        if self.terminals is not None and not 0 <= self.terminals <= 50:
            errors["terminals"] = ["端末の数は0〜50で入力してください。"]
        for name in ("setup_cost_yen", "monthly_cost_yen"):
            value = getattr(self, name)
            if value is not None and value < 0:
                errors[name] = ["費用は0以上にしてください。"]
        if self.site_id is not None:
            from madoguchi.offices.models import SiteKind

            site = self.site
            if site is not None and (
                site.kind != SiteKind.TEMPORARY or site.municipality_id != self.municipality_id
            ):
                errors["site"] = [
                    "同じ自治体の臨時窓口（種類が「臨時窓口」の窓口）を選んでください。"
                ]
        if errors:
            raise ValidationError(errors)

    @property
    def minutes_per_day(self) -> int:
        return _minutes(self.starts_at, self.ends_at)


def _minutes(starts: dt.time, ends: dt.time) -> int:
    return (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)


def policy_for(municipality_id: int) -> PlanningPolicy:
    """The municipality's planning policy, or the defaults (unsaved) when it has none."""
    policy = PlanningPolicy.objects.filter(municipality_id=municipality_id).first()
    return policy or PlanningPolicy(municipality_id=municipality_id)


class KeptResult(models.Model):
    """Something a page would otherwise compute on every view, kept with ``inputs_digest``, the
    SHA-256 of everything it was built from: a view whose current digest matches reads it, any
    other computes it again (`forecasts.kept`)."""

    inputs_digest = models.CharField("入力のSHA-256", max_length=64)

    class Meta:
        abstract = True


class PickledResult(KeptResult):
    """A kept result pickled with the code version that computed it (`kept.pickled`); one that
    does not unpickle, or was written by another version, reads as not kept (`kept.unpickled`)."""

    payload = models.BinaryField("計算結果")

    class Meta:
        abstract = True


class BuiltResult(KeptResult):
    """A kept result with when it was built and how long that took (`kept.kept_or_built` and
    `report_cache` write both)."""

    built_at = models.DateTimeField("作成日時")
    build_seconds = models.FloatField("作成時間（秒）")

    class Meta:
        abstract = True


class SolvedStaffingPlan(PickledResult):
    """A staffing plan solved outside the page (`madoguchi solve-staffing` or the 再計算 button),
    kept per municipality and set of choices (``choices_key``: the form's values, or "" for the
    policy's defaults). ``inputs_digest`` is the SHA-256 of everything the plan was built from
    (policy, temporary-counter options, register snapshot, sites, counters, terminals, sessions,
    closures, procedures, choices and the first week); the page compares it with the current one
    to say whether the plan is stale (`forecasts.staffing_cache`)."""

    municipality = models.ForeignKey(
        "offices.Municipality",
        on_delete=models.CASCADE,
        related_name="solved_staffing_plans",
        verbose_name="自治体",
    )
    choices_key = models.CharField("条件", max_length=64, blank=True)
    choices = models.JSONField("条件の値", default=dict, blank=True)
    solved_at = models.DateTimeField("計算日時")
    solve_seconds = models.FloatField("計算時間（秒）")
    payload = models.BinaryField("計画")

    class Meta:
        verbose_name = "計算済みの配置計画"
        verbose_name_plural = "計算済みの配置計画"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "choices_key"], name="solved_staffing_plan_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.choices_key or 'policy'} {self.solved_at}"


class KeptReport(BuiltResult):
    """A local municipality's report, kept for the roll-up (`forecasts.report_cache`).

    ``inputs_digest`` is the SHA-256 of everything the report is built from (the day, the
    municipality's own fields, the staffing plan's inputs, the register's snapshots, the cards,
    the slots, the application counts, the contractors); the roll-up rebuilds the report only
    when the current digest differs, so a view reads the kept ones."""

    municipality = models.OneToOneField(
        "offices.Municipality",
        on_delete=models.CASCADE,
        related_name="kept_report",
        verbose_name="自治体",
    )
    report = models.JSONField("報告")

    class Meta:
        verbose_name = "作成済みの自治体の報告"
        verbose_name_plural = "作成済みの自治体の報告"

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.built_at}"


class KeptDashboard(PickledResult, BuiltResult):
    """The planning dashboard's figures, kept per municipality and set of choices
    (`forecasts.dashboard_cache`): ``choices_key`` is the SHA-256 of the page's choices (months,
    take-up, what-if, language, the month it starts), ``inputs_digest`` the kept report's digest
    of everything the figures are built from (`report_cache.report_inputs_digest`). A view whose
    digest matches reads the figures instead of computing them; ``payload`` is pickled by the
    same code version that reads it (anything else reads as not kept)."""

    municipality = models.ForeignKey(
        "offices.Municipality",
        on_delete=models.CASCADE,
        related_name="kept_dashboards",
        verbose_name="自治体",
    )
    choices_key = models.CharField("条件", max_length=64)

    class Meta:
        verbose_name = "計算済みの計画画面"
        verbose_name_plural = "計算済みの計画画面"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "choices_key"], name="kept_dashboard_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.municipality_id} {self.choices_key[:8]} {self.built_at}"


class TrustedReportKey(models.Model):
    """A public key the roll-up trusts for a municipality's signed reports, added on the trusted
    keys screen (`forecasts.report_keys`, `/staff/planning/rollup/keys/`). Revoked keys stay,
    with who revoked them and when; only keys not revoked are trusted. The operators' file
    (`MADOGUCHI_REPORT_TRUSTED_KEYS`) is read as well (`report_signing.trusted_keys`)."""

    municipality_code = models.CharField("地方公共団体コード", max_length=6)
    public_key = models.CharField("公開鍵（base64）", max_length=64)
    note = models.CharField("確かめた方法", max_length=200, blank=True)
    added_at = models.DateTimeField("登録日時")
    added_by = models.ForeignKey(
        "staff.StaffUser",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="登録した職員",
    )
    revoked_at = models.DateTimeField("取消日時", null=True, blank=True)
    revoked_by = models.ForeignKey(
        "staff.StaffUser",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="取り消した職員",
    )

    class Meta:
        ordering = ["municipality_code", "added_at"]
        verbose_name = "信頼する報告書の公開鍵"
        verbose_name_plural = "信頼する報告書の公開鍵"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality_code", "public_key"],
                condition=models.Q(revoked_at__isnull=True),
                name="trusted_report_key_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.municipality_code} {self.public_key}"


class KeptRollup(PickledResult, BuiltResult):
    """The roll-up as last built (`forecasts.rollup.kept_rollup`), one row per deployment.

    ``inputs_digest`` is the SHA-256 of what it was built from: ``quick_digest`` (the day, the
    code version, the imported reports' ids and SHA-256, the count of changes to the inputs that
    are not bookings, `rollup_inputs`) and every local municipality's report input digest
    (`report_cache.report_inputs_digests`), taken at ``checked_at``. A view whose quick digest
    matches, at most `rollup.FIGURES_MAX_AGE` after ``checked_at``, reads ``payload`` (the roll-up
    pickled by the same code version) without taking the municipalities' digests."""

    scope = models.CharField("範囲", max_length=20, unique=True)
    quick_digest = models.CharField("予約以外の入力のSHA-256", max_length=64, default="")
    checked_at = models.DateTimeField("各自治体の入力を確かめた日時", null=True, blank=True)

    class Meta:
        verbose_name = "作成済みの集計"
        verbose_name_plural = "作成済みの集計"

    def __str__(self) -> str:
        return f"{self.scope} {self.built_at}"


class RollupInputsChanges(models.Model):
    """How many times the roll-up's inputs that are not bookings changed (`rollup_inputs`): one
    row per deployment, counted up after each such write commits. A booking writes nothing
    here."""

    scope = models.CharField("範囲", max_length=20, unique=True)
    count = models.BigIntegerField("変更回数", default=0)

    class Meta:
        verbose_name = "集計の入力の変更回数"
        verbose_name_plural = "集計の入力の変更回数"

    def __str__(self) -> str:
        return f"{self.scope} {self.count}"


class ImportedReport(models.Model):
    """A municipality's signed report, imported for the roll-up (`forecasts.report_import`).

    Only aggregates (the report's schema has no field about a person); the report as signed,
    with its signature, so anyone can verify it again. The same report twice is one row."""

    municipality_code = models.CharField("地方公共団体コード", max_length=6)
    municipality_name = models.CharField("自治体名", max_length=100)
    municipality_class = models.CharField("区分", max_length=20)
    population = models.PositiveIntegerField("人口", null=True, blank=True)
    as_of = models.DateField("報告の基準日")
    schema_version = models.PositiveSmallIntegerField("様式の版")
    report = models.JSONField("報告（署名された内容）")
    public_key = models.CharField("公開鍵（base64）", max_length=64)
    signature = models.CharField("署名（base64）", max_length=100)
    sha256 = models.CharField("内容のSHA-256", max_length=64, unique=True)
    file_name = models.CharField("ファイル名", max_length=255, blank=True)
    imported_at = models.DateTimeField("取込日時")

    class Meta:
        ordering = ["municipality_code", "-as_of", "-imported_at"]
        verbose_name = "取り込んだ自治体の報告"
        verbose_name_plural = "取り込んだ自治体の報告"

    def __str__(self) -> str:
        return f"{self.municipality_name}（{self.municipality_code}） {self.as_of}"
