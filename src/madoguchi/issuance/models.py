"""Card records from J-LIS deliveries, their stages, the notices mailed for them, and the policy.

A card's status only changes through `madoguchi.issuance.services` (house rule 6); the allowed
moves are `CARD_TRANSITIONS`. No field here can hold an Individual Number: the import rejects any
file that carries one (ARCHITECTURE.md invariant 2).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.core.transitions import table


class CardStatus(models.TextChoices):
    DELIVERED = "delivered", _("到着")
    INSPECTED = "inspected", _("検品済み")
    DEFECTIVE = "defective", _("不良")
    RETURNED_TO_JLIS = "returned_to_jlis", _("J-LISへ返送")
    SETUP_DONE = "setup_done", _("交付前設定済み")
    NOTICE_ISSUED = "notice_issued", _("交付通知書発送済み")
    BOOKED = "booked", _("予約済み")
    HANDED_OVER = "handed_over", _("交付済み")
    REMINDED = "reminded", _("再通知済み")
    DESTROYED = "destroyed", _("廃棄")


S = CardStatus
CARD_TRANSITIONS = table(
    delivered={S.INSPECTED, S.DEFECTIVE},
    inspected={S.SETUP_DONE, S.DEFECTIVE},
    defective={S.RETURNED_TO_JLIS},
    setup_done={S.NOTICE_ISSUED},
    notice_issued={S.BOOKED, S.REMINDED, S.HANDED_OVER},
    reminded={S.BOOKED, S.DESTROYED, S.HANDED_OVER},
    booked={S.NOTICE_ISSUED, S.REMINDED, S.HANDED_OVER},
)
"""delivered → inspected → setup_done → notice_issued → booked → handed_over; a defect goes back to
J-LIS; an unclaimed card is reminded, then destroyed. Cancelling a booking returns the card to
where it was: notice_issued, or reminded once its reminder letter went out. A resident who comes
with the notice but no booking (or after the reminder) may still be handed the card."""

REMINDER_LETTER_TRANSITIONS = table(notice_issued={S.REMINDED})
"""The moves a reminder letter makes (a part of CARD_TRANSITIONS): only a card nobody booked
gets one — booked → reminded is the cancellation of a reminded card's booking, not a letter."""

BOOKABLE_STATUSES = (S.NOTICE_ISSUED, S.REMINDED, S.BOOKED)
"""Cards a booking site may find by notice number and birth date."""

PAST_BOOKING_STATUSES = (S.HANDED_OVER, S.DESTROYED)
"""Cards that had a notice but will never be booked again: the booking names why."""

OPEN_STATUSES = (S.DELIVERED, S.INSPECTED, S.SETUP_DONE)
"""Cards that arrived and still wait for their notice (the 7/14-day watch)."""


class ApplicationKind(models.TextChoices):
    NEW = "new", _("新規")
    RENEWAL = "renewal", _("更新")
    REISSUE = "reissue", _("再交付")


class IdDocumentClass(models.TextChoices):
    ONE_PHOTO = "one_photo", _("写真付き本人確認書類1点")
    TWO_OTHER = "two_other", _("写真なし本人確認書類2点")


class ProxyReason(models.TextChoices):
    """Accepted reasons for a hand-over to a proxy (docs/domain.md "Proxies"); "busy at work" is not
    one. A fixed list on purpose: no free text that could carry personal data."""

    AGED_75_OR_OLDER = "aged_75", _("75歳以上")
    CHILD_OR_STUDENT = "child_student", _("未就学児・児童・生徒・学生")
    HOSPITAL_OR_CARE = "hospital_care", _("長期入院・介護施設への入所")
    DISABILITY = "disability", _("障害がある")
    PREGNANCY = "pregnancy", _("妊娠中")
    LONG_STAY_ABROAD = "abroad", _("長期の海外滞在")
    OTHER_ACCEPTED = "other", _("その他の認められた理由")


class IdDocument(models.TextChoices):
    """The identity documents the counter may check at hand-over (DOMAIN: one photo ID, or two
    documents without a photo). Which ones count as photo IDs is `PHOTO_ID_DOCUMENTS`."""

    DRIVING_LICENCE = "driving_licence", _("運転免許証・運転経歴証明書")
    PASSPORT = "passport", _("旅券（パスポート）")
    RESIDENCE_CARD = "residence_card", _("在留カード・特別永住者証明書")
    DISABILITY_CERTIFICATE = "disability_certificate", _("身体障害者手帳など（写真付き）")
    OLD_MY_NUMBER_CARD = "old_card", _("マイナンバーカード（更新前のカード）")
    OTHER_PHOTO_ID = "other_photo", _("その他の官公署発行の写真付き証明書")
    HEALTH_INSURANCE = "health_insurance", _("健康保険の資格確認書・被保険者証")
    PENSION = "pension", _("年金手帳・基礎年金番号通知書")
    STUDENT_ID = "student_id", _("学生証・社員証（写真なしの書類として）")
    OTHER_DOCUMENT = "other_document", _("その他の書類（氏名と生年月日または住所のあるもの）")


PHOTO_ID_DOCUMENTS = frozenset(
    {
        IdDocument.DRIVING_LICENCE,
        IdDocument.PASSPORT,
        IdDocument.RESIDENCE_CARD,
        IdDocument.DISABILITY_CERTIFICATE,
        IdDocument.OLD_MY_NUMBER_CARD,
        IdDocument.OTHER_PHOTO_ID,
    }
)


class OldCard(models.TextChoices):
    COLLECTED_AND_PUNCHED = "punched", _("旧カードを回収し、穴を開けて無効にした")
    NONE = "none", _("旧カードはない（初めてのカード・紛失の届出済み）")


class PinSetting(models.TextChoices):
    SET_BY_HOLDER = "holder", _("ご本人が端末で暗証番号を設定した")
    FROM_INQUIRY_FORM = "inquiry_form", _("代理人が持参した照会書の暗証番号を端末で設定した")
    NONE_FACE_AUTH = "face_auth", _("顔認証マイナンバーカード（暗証番号の設定なし）")


class ECertificates(models.TextChoices):
    BOTH = "both", _("署名用・利用者証明用の電子証明書を発行した")
    USER_AUTH_ONLY = "user_auth", _("利用者証明用の電子証明書だけを発行した")
    NONE = "none", _("電子証明書は発行しなかった（ご本人の申出）")


class ProxyDocument(models.TextChoices):
    """What a proxy must bring (DOMAIN "Proxies"); all four are checked."""

    DELEGATION = "delegation", _("交付通知書の委任欄（ご本人の記入）")
    REASON_PROOF = "reason_proof", _("代理の理由を証明する書類")
    HOLDER_ID = "holder_id", _("ご本人の本人確認書類")
    PROXY_ID = "proxy_id", _("代理人の本人確認書類")


class DefectReason(models.TextChoices):
    """The defects staff pick from on the card page (stored as the label in `defect_reason`)."""

    PRINT = "print", _("券面の印字不良")
    CHIP = "chip", _("ICチップの不良")
    OTHER = "other", _("その他の不良")


class DestroyRule(models.TextChoices):
    AFTER_REMINDER = "after_reminder", _("再通知から一定期間後")
    AFTER_FIRST_NOTICE = "after_first_notice", _("最初の通知から一定期間後")


class IssuancePolicy(models.Model):
    """A municipality's deadlines and pacing settings for card issuance (one per municipality)."""

    municipality = models.OneToOneField(
        "offices.Municipality",
        on_delete=models.CASCADE,
        related_name="issuance_policy",
        verbose_name="自治体",
    )
    notice_target_days = models.PositiveSmallIntegerField(
        "到着から通知書発送までの目標（日）", default=7, validators=[MinValueValidator(1)]
    )
    notice_limit_days = models.PositiveSmallIntegerField(
        "到着から通知書発送までの期限（日）", default=14, validators=[MinValueValidator(1)]
    )
    reminder_after_days = models.PositiveSmallIntegerField(
        "通知書発送から再通知までの目安（日）", default=60, validators=[MinValueValidator(1)]
    )
    destroy_rule = models.CharField(
        "未受領カードを廃棄できる時期",
        max_length=20,
        choices=DestroyRule,
        default=DestroyRule.AFTER_REMINDER,
    )
    destroy_months_after_reminder = models.PositiveSmallIntegerField(
        "再通知から廃棄までの期間（月）", default=3, validators=[MinValueValidator(1)]
    )
    destroy_months_after_first_notice = models.PositiveSmallIntegerField(
        "最初の通知から廃棄までの期間（月）", default=12, validators=[MinValueValidator(1)]
    )
    pacing_horizon_weeks = models.PositiveSmallIntegerField(
        "通知の発送数を決めるときに見る予約枠（週）",
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(26)],
    )
    typical_production_lag_days = models.PositiveSmallIntegerField(
        "申請からカード到着までの標準日数（申請日が不明なとき）", default=30
    )

    class Meta:
        verbose_name = "交付の設定"
        verbose_name_plural = "交付の設定"
        constraints = [
            models.CheckConstraint(
                condition=Q(notice_limit_days__gte=models.F("notice_target_days")),
                name="issuance_limit_not_before_target",
            )
        ]

    def __str__(self) -> str:
        return f"交付の設定（{self.municipality_id}）"


class DeliveryImport(models.Model):
    """One accepted J-LIS delivery file. Rejected files leave no row (nothing is stored)."""

    municipality = models.ForeignKey(
        "offices.Municipality",
        on_delete=models.PROTECT,
        related_name="delivery_imports",
        verbose_name="自治体",
    )
    file_name = models.CharField("ファイル名", max_length=255)
    file_sha256 = models.CharField("ファイルのSHA-256", max_length=64, db_index=True)
    encoding = models.CharField("文字コード", max_length=20)
    rows = models.PositiveIntegerField("行数", default=0)
    created_rows = models.PositiveIntegerField("新規", default=0)
    unchanged_rows = models.PositiveIntegerField("登録済み（変更なし）", default=0)
    imported_at = models.DateTimeField("取込日時")
    imported_by = models.CharField("取込者", max_length=200)

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = "J-LIS到着リストの取込"
        verbose_name_plural = "J-LIS到着リストの取込"

    def __str__(self) -> str:
        return f"{self.file_name}（{self.created_rows}件）"


class BatchKind(models.TextChoices):
    NOTICE = "notice", _("交付通知書")
    REMINDER = "reminder", _("再通知")


class NoticeBatch(models.Model):
    """One run of notices or of reminder letters: which cards, how the number was paced, who
    ran it."""

    municipality = models.ForeignKey(
        "offices.Municipality",
        on_delete=models.PROTECT,
        related_name="notice_batches",
        verbose_name="自治体",
    )
    kind = models.CharField("種類", max_length=10, choices=BatchKind, default=BatchKind.NOTICE)
    created_at = models.DateTimeField("作成日時")
    created_by = models.CharField("作成者", max_length=200)
    cards = models.PositiveIntegerField("枚数", default=0)
    pacing = models.JSONField("発送数の計算", default=dict)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "交付通知書の発送"
        verbose_name_plural = "交付通知書の発送"

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}（{self.cards}件）"


class ApplicationCount(models.Model):
    """How many card applications a municipality's residents made in one week (for the expected
    arrivals). `week` is that week's Monday."""

    municipality = models.ForeignKey(
        "offices.Municipality",
        on_delete=models.CASCADE,
        related_name="application_counts",
        verbose_name="自治体",
    )
    week = models.DateField("週（月曜日）")
    applications = models.PositiveIntegerField("申請件数")
    updated_at = models.DateTimeField("更新日時")

    class Meta:
        ordering = ["municipality", "week"]
        verbose_name = "週ごとの申請件数"
        verbose_name_plural = "週ごとの申請件数"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "week"], name="one_application_count_per_week"
            )
        ]

    def __str__(self) -> str:
        return f"{self.week:%Y-%m-%d}: {self.applications}件"


class CardRecord(models.Model):
    """One card delivered by J-LIS, from its arrival to hand-over (or return, or destruction)."""

    # Indexes are kept to what the pages query (an import inserts into every one of them):
    # (municipality, status, delivered_on) serves the watch lists, so the single-column
    # indexes it covers are left out.
    municipality = models.ForeignKey(
        "offices.Municipality",
        on_delete=models.PROTECT,
        related_name="cards",
        db_index=False,
        verbose_name="自治体",
    )
    application_id = models.CharField("申請書ID", max_length=23, unique=True)
    family_name = models.CharField("氏", max_length=100)
    given_name = models.CharField("名", max_length=100, blank=True)
    family_name_kana = models.CharField("氏（カナ）", max_length=100)
    given_name_kana = models.CharField("名（カナ）", max_length=100, blank=True)
    birth_date = models.DateField("生年月日")
    postal_code = models.CharField("郵便番号", max_length=8)
    address = models.CharField("住所", max_length=200)
    application_kind = models.CharField("申請の種類", max_length=10, choices=ApplicationKind)
    applied_on = models.DateField("申請日", null=True, blank=True)
    previous_card_expires_on = models.DateField(
        "今のカード・証明書の有効期限", null=True, blank=True
    )
    delivered_on = models.DateField("到着日")
    delivery_import = models.ForeignKey(
        DeliveryImport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cards",
        verbose_name="J-LIS到着リストの取込",
    )

    status = models.CharField(
        "状態", max_length=20, choices=CardStatus, default=CardStatus.DELIVERED
    )
    notice_number = models.CharField("交付通知書番号", max_length=9, null=True, blank=True)
    notice_batch = models.ForeignKey(
        NoticeBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="card_records",
        verbose_name="交付通知書の発送",
    )
    reminder_batch = models.ForeignKey(
        NoticeBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminded_cards",
        verbose_name="再通知の発送",
        db_index=False,
    )
    reservation_code = models.CharField("予約コード", max_length=40, blank=True)
    defect_reason = models.CharField("不良の内容", max_length=200, blank=True)
    setup_terminal = models.ForeignKey(
        "offices.Terminal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="交付前設定の端末",
        db_index=False,
    )
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="交付した職員",
        db_index=False,
    )
    destroyed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="廃棄した職員",
        db_index=False,
    )
    is_proxy = models.BooleanField("代理人への交付", null=True, blank=True)
    id_document_class = models.CharField(
        "本人確認書類", max_length=10, choices=IdDocumentClass, blank=True
    )

    created_at = models.DateTimeField("登録日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)
    inspected_at = models.DateTimeField("検品日時", null=True, blank=True)
    defective_at = models.DateTimeField("不良判定日時", null=True, blank=True)
    returned_at = models.DateTimeField("返送日時", null=True, blank=True)
    setup_done_at = models.DateTimeField("交付前設定日時", null=True, blank=True)
    notice_issued_at = models.DateTimeField("通知書発送日時", null=True, blank=True)
    first_notice_issued_at = models.DateTimeField("最初の通知日時", null=True, blank=True)
    booked_at = models.DateTimeField("予約日時", null=True, blank=True)
    reminded_at = models.DateTimeField("再通知日時", null=True, blank=True)
    handed_over_at = models.DateTimeField("交付日時", null=True, blank=True)
    destroyed_at = models.DateTimeField("廃棄日時", null=True, blank=True)

    class Meta:
        ordering = ["delivered_on", "application_id"]
        verbose_name = "カード"
        verbose_name_plural = "カード"
        indexes = [models.Index(fields=["municipality", "status", "delivered_on"])]
        constraints = [
            # A constraint, not unique=True: exact look-ups only, so no LIKE index beside it.
            models.UniqueConstraint(fields=["notice_number"], name="card_notice_number_unique"),
            models.CheckConstraint(
                condition=Q(application_id__regex=r"^[0-9]{23}$"),
                name="card_application_id_23_digits",
            ),
            models.CheckConstraint(
                condition=Q(notice_number__isnull=True)
                | Q(notice_number__regex=r"^[2-9A-HJ-NP-Z]{3}[0-9]{6}$"),
                name="card_notice_number_shape",
            ),
            models.CheckConstraint(
                condition=~Q(status="handed_over")
                | (Q(handed_over_at__isnull=False) & Q(is_proxy__isnull=False)),
                name="card_handover_recorded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name}（{self.application_id}）"

    @property
    def full_name(self) -> str:
        return f"{self.family_name}　{self.given_name}".strip("　")

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana}　{self.given_name_kana}".strip("　")

    @property
    def notice_number_display(self) -> str:
        """The booking number as printed: `K7Q-482913`."""
        number = self.notice_number or ""
        return f"{number[:3]}-{number[3:]}" if number else ""


class CardHandOver(models.Model):
    """What the counter checked when it handed a card over: the identity documents, the old
    card, the PINs, the e-certificates, and for a proxy the reason and their documents.

    Written once, with the card's move to handed_over (`issuance.services.hand_over_card`), in
    the same transaction and audit event; never changed afterwards.
    """

    card = models.OneToOneField(
        CardRecord, on_delete=models.PROTECT, related_name="hand_over", verbose_name="カード"
    )
    reservation_code = models.CharField("予約コード", max_length=40, blank=True)
    handed_over_at = models.DateTimeField("交付日時")
    handed_over_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="交付した職員",
    )
    is_proxy = models.BooleanField("代理人への交付")
    proxy_reason = models.CharField(
        "代理の理由", max_length=20, choices=ProxyReason.choices, blank=True
    )
    proxy_documents = models.JSONField("代理人の書類", default=list)
    id_documents = models.JSONField("確認した本人確認書類", default=list)
    id_document_class = models.CharField(
        "本人確認書類の区分", max_length=10, choices=IdDocumentClass.choices
    )
    old_card = models.CharField("旧カード", max_length=10, choices=OldCard.choices)
    pin_setting = models.CharField("暗証番号", max_length=15, choices=PinSetting.choices)
    e_certificates = models.CharField("電子証明書", max_length=10, choices=ECertificates.choices)

    class Meta:
        verbose_name = "交付の記録"
        verbose_name_plural = "交付の記録"
        constraints = [
            models.CheckConstraint(
                condition=Q(is_proxy=False, proxy_reason="")
                | Q(is_proxy=True) & ~Q(proxy_reason=""),
                name="card_hand_over_proxy_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card}: {self.handed_over_at:%Y-%m-%d %H:%M}"

    @property
    def id_document_labels(self) -> list[str]:
        return [str(IdDocument(value).label) for value in self.id_documents]

    @property
    def proxy_document_labels(self) -> list[str]:
        return [str(ProxyDocument(value).label) for value in self.proxy_documents]
