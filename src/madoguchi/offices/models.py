"""Municipality, sites, counters, terminals, procedures and the business calendar's data.

Rules that a database can hold are constraints; rules that need a sentence for the person at the
admin screen live in `clean()` (the admin calls it before saving, so nothing invalid is stored).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from madoguchi.core.validators import validate_municipality_code, validate_phone_number

CARD_SYSTEM_CLOSES_AT = dt.time(20, 0)
"""The national card system closes at 20:00: no card work is scheduled after it."""

DEFAULT_OFFICIAL_STEPS = ["identity_judgement", "handover_decision", "proxy_eligibility"]


def _default_official_steps() -> list[str]:
    return list(DEFAULT_OFFICIAL_STEPS)


def _translation_languages() -> list[str]:
    """The languages a name or free text may be entered in besides Japanese (settings.LANGUAGES)."""
    return [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


class _LocalizedFields:
    """`obj.local.<field>`: the field in the active language (templates read it this way)."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Translatable) -> None:
        self._obj = obj

    def __getattr__(self, field: str) -> str:
        return self._obj.localized(field)


class Translatable(models.Model):
    """Names and free texts that residents read, entered in the admin per language.

    The model's own field (`name`, `address`, …) holds the Japanese value; `translations` holds
    the others as ``{language code: {field: text}}`` with codes from settings.LANGUAGES.
    `localized(field)` (or ``obj.local.<field>`` in templates) gives the active language's text,
    falling back to the Japanese value when none was entered (docs/languages.md).
    """

    TRANSLATED_FIELDS: tuple[str, ...] = ()

    translations = models.JSONField(
        "他の言語での表記",
        default=dict,
        blank=True,
        help_text="言語コードごとの名称・案内文。空のときは日本語で表示します。",
    )

    class Meta:
        abstract = True

    def localized(self, field: str, language: str | None = None) -> str:
        """`field` in `language` (default: the active language), else the Japanese value."""
        if field not in self.TRANSLATED_FIELDS:
            raise AttributeError(field)
        japanese = str(getattr(self, field) or "")
        code = (language or translation.get_language() or settings.LANGUAGE_CODE).lower()
        entries = self.translations if isinstance(self.translations, dict) else {}
        for candidate in (code, code.split("-")[0]):
            value = (entries.get(candidate) or {}).get(field)
            if isinstance(value, str) and value.strip():
                return value
        return japanese

    @property
    def local(self) -> _LocalizedFields:
        return _LocalizedFields(self)

    def clean(self) -> None:
        self.clean_translations()

    def clean_translations(self) -> None:
        """Refuses language codes not in settings.LANGUAGES, unknown fields and non-text values."""
        entries = self.translations
        if entries in (None, ""):
            self.translations = {}
            return
        if not isinstance(entries, dict):
            raise ValidationError(
                {"translations": "言語コードごとの表記の形式が正しくありません。"}
            )
        allowed = set(_translation_languages())
        unknown = sorted(str(code) for code in entries if code not in allowed)
        if unknown:
            raise ValidationError({"translations": f"使えない言語コードです: {', '.join(unknown)}"})
        for code, values in entries.items():
            if not isinstance(values, dict) or any(
                key not in self.TRANSLATED_FIELDS or not isinstance(text, str)
                for key, text in values.items()
            ):
                raise ValidationError({"translations": f"{code} の表記の形式が正しくありません。"})


class MunicipalityClass(models.TextChoices):
    """The classes the national deck reports implementation rates by (configuration)."""

    DESIGNATED_CITY = "designated_city", "政令指定都市"
    CORE_CITY = "core_city", "中核市"
    SPECIAL_WARD = "special_ward", "特別区"
    OTHER = "other", "その他の市町村"


class NoticeLayout(models.TextChoices):
    A4 = "a4", _("A4（封書・窓あき封筒）")
    POSTCARD = "postcard", _("はがき（表：宛名、裏：通知）")


class Municipality(Translatable):
    """A city, town or village: the unit that owns sites, cards and booking rules."""

    TRANSLATED_FIELDS = ("name",)

    code = models.CharField(
        "地方公共団体コード",
        max_length=6,
        unique=True,
        validators=[validate_municipality_code],
        help_text="6桁（検査数字を含む）",
    )
    name = models.CharField("名称", max_length=100)
    year_end_closure = models.BooleanField("年末年始（12月29日〜1月3日）は閉庁", default=True)
    closes_sunday_after_third_saturday = models.BooleanField(
        "第3土曜日の翌日曜日はカード事務を行わない（システム保守）", default=False
    )
    booking_window_min_days = models.PositiveSmallIntegerField(
        "予約受付：何日後から", default=3, validators=[MaxValueValidator(60)]
    )
    booking_window_max_days = models.PositiveSmallIntegerField(
        "予約受付：何日後まで",
        default=45,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    cancellation_cutoff_days = models.PositiveSmallIntegerField(
        "本人による取消・変更の締切（何日前まで）", default=2, validators=[MaxValueValidator(30)]
    )
    walkin_share_percent = models.PositiveSmallIntegerField(
        "当日来庁者のために残す枠（％）", default=20, validators=[MaxValueValidator(100)]
    )
    official_required_steps = models.JSONField(
        "職員が行う判断・決定",
        default=_default_official_steps,
        help_text="委託事業者に任せられない手順（本人確認の判断、交付の決定、代理人の可否）",
    )
    contact_name = models.CharField(
        "問い合わせ先（担当）",
        max_length=100,
        blank=True,
        help_text="交付通知書などに印刷します（例：市民課 マイナンバーカード担当）",
    )
    contact_phone = models.CharField(
        "問い合わせ先の電話番号",
        max_length=20,
        blank=True,
        validators=[validate_phone_number],
        help_text="例：03-1234-5678。空のときは通知書に電話での予約を案内しません。",
    )
    contact_hours = models.CharField(
        "電話の受付時間", max_length=100, blank=True, help_text="例：平日 8:30〜17:15"
    )
    contact_address = models.CharField("問い合わせ先の住所", max_length=200, blank=True)
    notice_layout = models.CharField(
        "交付通知書の様式",
        max_length=10,
        choices=NoticeLayout.choices,
        default=NoticeLayout.A4,
    )
    municipality_class = models.CharField(
        "区分（集計用）",
        max_length=20,
        choices=MunicipalityClass.choices,
        default=MunicipalityClass.OTHER,
        help_text="都道府県・全国の集計で、実施率を区分別に示すために使います。",
    )
    population = models.PositiveIntegerField(
        "人口（集計用）",
        null=True,
        blank=True,
        help_text="住民基本台帳の人口。空のときは、取り込んだ住民台帳の住民数を使います。",
    )

    class Meta:
        verbose_name = "自治体"
        verbose_name_plural = "自治体"

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    def clean(self) -> None:
        super().clean()
        if self.booking_window_min_days >= self.booking_window_max_days:
            raise ValidationError(
                {"booking_window_max_days": "予約受付の終わりは始まりより後の日にしてください。"}
            )


class SiteKind(models.TextChoices):
    MAIN_OFFICE = "main_office", _("本庁舎")
    BRANCH_OFFICE = "branch_office", _("支所・出張所")
    TEMPORARY = "temporary", _("臨時窓口")
    POST_OFFICE = "post_office", _("郵便局")
    OUTREACH = "outreach", _("出張受付")


IN_PERSON_ONLY_SITE_KINDS = frozenset({SiteKind.POST_OFFICE})
"""Site kinds that serve the holder in person only: no proxy bookings (post offices)."""


class ProcedureCode(models.TextChoices):
    """The procedures the code itself relies on, by their `Procedure.code` (a municipality may
    add others in the admin; these have rules of their own: a card pick-up needs its notice
    number and moves the card, the forecasts plan card pick-ups and renewals)."""

    CARD_PICKUP = "card_pickup", _("マイナンバーカードの受け取り")
    CERT_RENEWAL = "cert_renewal", _("電子証明書の更新")
    CARD_APPLICATION = "card_application", _("マイナンバーカードの申請")
    PIN_RESET = "pin_reset", _("暗証番号の再設定")


class Procedure(Translatable):
    """A kind of counter visit (card hand-over, e-certificate renewal, …) and what it needs."""

    TRANSLATED_FIELDS = ("name", "documents", "proxy_documents")

    code = models.SlugField("コード", max_length=40, unique=True)
    name = models.CharField("名称", max_length=100)
    duration_minutes = models.PositiveSmallIntegerField(
        "所要時間（分）", validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    needs_terminal = models.BooleanField("カード端末が必要", default=True)
    needs_card_system = models.BooleanField("国のシステムが必要（20:00まで）", default=True)
    allowed_site_kinds = models.JSONField(
        "取り扱える窓口の種類", default=list, blank=True, help_text="空のときはすべての種類"
    )
    proxy_allowed = models.BooleanField("代理人による手続きが可能", default=False)
    documents = models.TextField("持ち物（本人）", blank=True)
    proxy_documents = models.TextField("持ち物（代理人）", blank=True)
    sort_order = models.PositiveSmallIntegerField("表示順", default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = "手続き"
        verbose_name_plural = "手続き"

    def __str__(self) -> str:
        return self.name

    @property
    def is_card_pickup(self) -> bool:
        """A card pick-up: needs its notice number and moves the card (templates ask this)."""
        return self.code == ProcedureCode.CARD_PICKUP

    def allowed_at(self, kind: str) -> bool:
        """Whether a site of `kind` may offer this procedure at all."""
        return not self.allowed_site_kinds or kind in self.allowed_site_kinds

    def clean(self) -> None:
        super().clean()
        unknown = set(self.allowed_site_kinds or []) - set(SiteKind.values)
        if unknown:
            raise ValidationError(
                {"allowed_site_kinds": f"不明な窓口の種類です: {', '.join(sorted(unknown))}"}
            )


class Site(Translatable):
    """A place where residents are served: main office, branch, temporary counter, post office."""

    TRANSLATED_FIELDS = ("name", "address", "access_notes")

    municipality = models.ForeignKey(
        Municipality, on_delete=models.PROTECT, related_name="sites", verbose_name="自治体"
    )
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("種類", max_length=20, choices=SiteKind.choices)
    postal_code = models.CharField("郵便番号", max_length=8, blank=True)
    address = models.CharField("所在地", max_length=200)
    access_notes = models.TextField("交通・案内", blank=True)
    open_from = models.DateField("開設日", null=True, blank=True)
    open_until = models.DateField("閉設日", null=True, blank=True)
    procedures = models.ManyToManyField(
        Procedure, blank=True, related_name="sites", verbose_name="取り扱う手続き"
    )
    is_active = models.BooleanField("運用中", default=True)

    class Meta:
        ordering = ["municipality", "kind", "name"]
        verbose_name = "窓口（庁舎）"
        verbose_name_plural = "窓口（庁舎）"
        constraints = [
            models.CheckConstraint(
                condition=Q(open_until__isnull=True)
                | Q(open_from__isnull=True)
                | Q(open_until__gte=models.F("open_from")),
                name="site_closes_after_it_opens",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.kind == SiteKind.TEMPORARY and (self.open_from is None or self.open_until is None):
            errors["open_until"] = "臨時窓口には開設日と閉設日の両方を入力してください。"
        if self.open_from and self.open_until and self.open_until < self.open_from:
            errors["open_until"] = "閉設日が開設日より前になっています。"
        if errors:
            raise ValidationError(errors)

    @property
    def takes_proxies(self) -> bool:
        """Whether a proxy (代理人) may come here for a resident: a post office serves the holder
        in person only (`IN_PERSON_ONLY_SITE_KINDS`)."""
        return self.kind not in IN_PERSON_ONLY_SITE_KINDS

    def is_open_on_date(self, day: dt.date) -> bool:
        """Whether `day` lies inside the site's opening period (temporary counters)."""
        if self.open_from and day < self.open_from:
            return False
        return not (self.open_until and day > self.open_until)


class Counter(Translatable):
    """One service position at a site."""

    TRANSLATED_FIELDS = ("name",)

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="counters", verbose_name="窓口（庁舎）"
    )
    name = models.CharField("名称", max_length=50)
    is_active = models.BooleanField("使用中", default=True)
    has_terminal = models.BooleanField(
        "カード端末あり",
        default=True,
        help_text="カード端末が必要な手続き（カードの交付・申請など）は、端末のある窓口だけが呼び出します。",
    )
    procedures = models.ManyToManyField(
        Procedure,
        blank=True,
        related_name="counters",
        verbose_name="扱う手続き",
        help_text="空欄のときは、庁舎で扱うすべての手続き（端末の条件は上のとおり）。",
    )

    class Meta:
        ordering = ["site", "name"]
        verbose_name = "窓口（受付台）"
        verbose_name_plural = "窓口（受付台）"
        constraints = [models.UniqueConstraint(fields=["site", "name"], name="counter_name_unique")]

    def __str__(self) -> str:
        return f"{self.site} {self.name}"

    def can_serve(self, procedure: Procedure, skills: set[int] | None = None) -> bool:
        """Whether this counter takes visitors for `procedure` (its skills, see the fields).

        `skills` is the counter's own procedure ids when the caller already has them."""
        if procedure.needs_terminal and not self.has_terminal:
            return False
        own = skills if skills is not None else {p.pk for p in self.procedures.all()}
        return not own or procedure.pk in own


class Terminal(models.Model):
    """A card terminal (交付端末) at a site; hand-over, PIN setting and certificates need one."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="terminals", verbose_name="窓口（庁舎）"
    )
    name = models.CharField("名称", max_length=50)
    is_active = models.BooleanField("使用中", default=True)

    class Meta:
        ordering = ["site", "name"]
        verbose_name = "カード端末"
        verbose_name_plural = "カード端末"
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="terminal_name_unique")
        ]

    def __str__(self) -> str:
        return f"{self.site} {self.name}"


class SessionKind(models.TextChoices):
    WEEKDAY = "weekday", _("平日")
    EVENING = "evening", _("夜間")
    WEEKEND = "weekend", _("休日")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("月曜日")
    TUESDAY = 1, _("火曜日")
    WEDNESDAY = 2, _("水曜日")
    THURSDAY = 3, _("木曜日")
    FRIDAY = 4, _("金曜日")
    SATURDAY = 5, _("土曜日")
    SUNDAY = 6, _("日曜日")


def _check_times(starts: dt.time | None, ends: dt.time | None, field: str) -> dict[str, str]:
    if starts is None or ends is None:
        return {}
    if ends <= starts:
        return {field: "終了時刻は開始時刻より後にしてください。"}
    if ends > CARD_SYSTEM_CLOSES_AT:
        return {
            field: "マイナンバーカードの事務は国のシステムが20:00に終了するため、"
            "20:00より後までは設定できません。"
        }
    return {}


class OpeningSession(models.Model):
    """A weekly opening: e.g. every Thursday 17:15–19:00 (evening) with 2 counters."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="opening_sessions", verbose_name="窓口（庁舎）"
    )
    weekday = models.PositiveSmallIntegerField("曜日", choices=Weekday.choices)
    kind = models.CharField("区分", max_length=10, choices=SessionKind.choices)
    starts_at_time = models.TimeField("開始")
    ends_at_time = models.TimeField("終了")
    counters_open = models.PositiveSmallIntegerField(
        "開く窓口数", default=1, validators=[MinValueValidator(1)]
    )
    valid_from = models.DateField("適用開始日", null=True, blank=True)
    valid_until = models.DateField("適用終了日", null=True, blank=True)

    class Meta:
        ordering = ["site", "weekday", "starts_at_time"]
        verbose_name = "開庁時間（毎週）"
        verbose_name_plural = "開庁時間（毎週）"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at_time__gt=models.F("starts_at_time")),
                name="session_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(ends_at_time__lte=CARD_SYSTEM_CLOSES_AT),
                name="session_ends_by_20",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.starts_at_time:%H:%M}–{self.ends_at_time:%H:%M}"

    def applies_on(self, day: dt.date) -> bool:
        if day.weekday() != self.weekday:
            return False
        if self.valid_from and day < self.valid_from:
            return False
        return not (self.valid_until and day > self.valid_until)

    def clean(self) -> None:
        errors = _check_times(self.starts_at_time, self.ends_at_time, "ends_at_time")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            errors["valid_until"] = "適用終了日が適用開始日より前になっています。"
        if self.weekday is not None and self.kind:
            is_weekend_day = self.weekday >= Weekday.SATURDAY
            if is_weekend_day != (self.kind == SessionKind.WEEKEND):
                errors["kind"] = (
                    "土曜日・日曜日は「休日」、平日は「平日」か「夜間」を選んでください。"
                )
        if not errors and self.site_id is not None:
            errors.update(self._overlap_errors())
        if not errors and self.site_id is not None:
            counters = Counter.objects.filter(site_id=self.site_id, is_active=True).count()
            if self.counters_open > counters:
                errors["counters_open"] = (
                    f"この庁舎の使用中の窓口は {counters} か所です。それを超えて開けません。"
                )
        if errors:
            raise ValidationError(errors)

    def _overlap_errors(self) -> dict[str, str]:
        others = OpeningSession.objects.filter(
            site_id=self.site_id,
            weekday=self.weekday,
            starts_at_time__lt=self.ends_at_time,
            ends_at_time__gt=self.starts_at_time,
        ).exclude(pk=self.pk)
        for other in others:
            if _periods_overlap(
                self.valid_from, self.valid_until, other.valid_from, other.valid_until
            ):
                return {"starts_at_time": f"同じ曜日の開庁時間（{other}）と重なっています。"}
        return {}


def _periods_overlap(
    a_from: dt.date | None, a_until: dt.date | None, b_from: dt.date | None, b_until: dt.date | None
) -> bool:
    low = max(a_from or dt.date.min, b_from or dt.date.min)
    high = min(a_until or dt.date.max, b_until or dt.date.max)
    return low <= high


class ClosureKind(models.TextChoices):
    LOCAL_HOLIDAY = "local_holiday", _("地域の休日")
    SYSTEM_OUTAGE = "system_outage", _("J-LISシステム停止")
    OTHER = "other", _("その他")


class Closure(Translatable):
    """A day (or run of days) when a site, or every site of the municipality, is closed."""

    TRANSLATED_FIELDS = ("reason",)

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="closures", verbose_name="自治体"
    )
    site = models.ForeignKey(
        Site,
        on_delete=models.CASCADE,
        related_name="closures",
        null=True,
        blank=True,
        verbose_name="窓口",
        help_text="空のときは自治体のすべての窓口",
    )
    kind = models.CharField("種類", max_length=20, choices=ClosureKind.choices)
    first_day = models.DateField("開始日")
    last_day = models.DateField("終了日", null=True, blank=True, help_text="空のときは1日だけ")
    recurs_yearly = models.BooleanField("毎年（同じ月日）", default=False)
    reason = models.CharField("理由", max_length=200)

    class Meta:
        ordering = ["first_day"]
        verbose_name = "休業日"
        verbose_name_plural = "休業日"
        constraints = [
            models.CheckConstraint(
                condition=Q(last_day__isnull=True) | Q(last_day__gte=models.F("first_day")),
                name="closure_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_day} {self.reason}"

    def clean(self) -> None:
        super().clean()
        if self.last_day and self.first_day and self.last_day < self.first_day:
            raise ValidationError({"last_day": "終了日が開始日より前になっています。"})
        site = self.site if self.site_id is not None else None
        if (
            site is not None
            and self.municipality_id is not None
            and site.municipality_id != self.municipality_id
        ):
            raise ValidationError({"site": "この自治体の窓口を選んでください。"})

    def covers(self, day: dt.date) -> bool:
        last = self.last_day or self.first_day
        if not self.recurs_yearly:
            return self.first_day <= day <= last
        key = (day.month, day.day)
        start, end = (self.first_day.month, self.first_day.day), (last.month, last.day)
        return start <= key <= end if start <= end else (key >= start or key <= end)


class SpecialOpening(models.Model):
    """Hours on one date that override any closure (a holiday Sunday opening, say)."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="special_openings", verbose_name="窓口（庁舎）"
    )
    day = models.DateField("日付")
    starts_at_time = models.TimeField("開始")
    ends_at_time = models.TimeField("終了")
    counters_open = models.PositiveSmallIntegerField(
        "開く窓口数", default=1, validators=[MinValueValidator(1)]
    )
    reason = models.CharField("理由", max_length=200, blank=True)

    class Meta:
        ordering = ["day", "starts_at_time"]
        verbose_name = "臨時開庁"
        verbose_name_plural = "臨時開庁"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at_time__gt=models.F("starts_at_time")),
                name="special_opening_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(ends_at_time__lte=CARD_SYSTEM_CLOSES_AT),
                name="special_opening_ends_by_20",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.starts_at_time:%H:%M}–{self.ends_at_time:%H:%M}"

    def clean(self) -> None:
        errors = _check_times(self.starts_at_time, self.ends_at_time, "ends_at_time")
        if not errors and self.site_id is not None and self.day is not None:
            if not self.site.is_open_on_date(self.day):
                errors["day"] = "この窓口の開設期間外の日付です。"
            overlapping = SpecialOpening.objects.filter(
                site_id=self.site_id,
                day=self.day,
                starts_at_time__lt=self.ends_at_time,
                ends_at_time__gt=self.starts_at_time,
            ).exclude(pk=self.pk)
            if overlapping.exists():
                errors["starts_at_time"] = "同じ日の臨時開庁と時間が重なっています。"
        if errors:
            raise ValidationError(errors)

    def as_audit(self) -> dict[str, Any]:
        return {
            "site": self.site_id,
            "day": self.day.isoformat(),
            "starts": self.starts_at_time.isoformat(),
            "ends": self.ends_at_time.isoformat(),
            "counters": self.counters_open,
        }
