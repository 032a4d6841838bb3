"""Walk-in queue tickets (整理券) and the per-site, per-day number sequence behind them.

A ticket's status only changes through `walkins.services` (house rule 6); the transition table
lives there next to the functions that use it.
"""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from madoguchi.offices.models import Counter, Procedure, Site


def new_ticket_token() -> str:
    """An unguessable token for the ticket's public status page (never the number itself)."""
    return secrets.token_urlsafe(18)


class TicketStatus(models.TextChoices):
    WAITING = "waiting", _("お待ちください")
    CALLED = "called", _("お呼び出し中")
    SERVING = "serving", _("対応中")
    DONE = "done", _("完了")
    NO_SHOW = "no_show", _("不在")
    CANCELLED = "cancelled", _("取消")


class TicketPriority(models.IntegerChoices):
    """Who is called first: booked visitors at their time (see `walkins.calling`), then
    walk-ins by number. A booked visitor who checks in after the late grace is a walk-in."""

    APPOINTMENT = 0, _("予約の方")
    WALK_IN = 1, _("予約なしの方")


class TicketChannel(models.TextChoices):
    """Where the ticket was issued."""

    PHONE = "phone", _("スマートフォン")
    KIOSK = "kiosk", _("受付端末（キオスク）")
    STAFF = "staff", _("職員による発券")
    CHECK_IN = "check_in", _("予約の受付")
    API = "api", _("API")


PREFIX_VALIDATOR = RegexValidator(r"^[A-Z]{0,2}$", "英大文字1〜2字で入力してください。")


ACTIVE_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)
AT_COUNTER_STATUSES = (TicketStatus.CALLED, TicketStatus.SERVING)


class QueueDay(models.Model):
    """The number sequence of one site on one business day.

    Ticket numbers are allocated by incrementing `last_number` with one UPDATE inside the
    issuing transaction: the row lock serialises concurrent issuers, so numbers are unique
    and gap-free (docs/decisions/0005-walkin-queue.md).
    """

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="queue_days", verbose_name="窓口（庁舎）"
    )
    business_day = models.DateField("営業日")
    prefix = models.CharField("番号の頭文字", max_length=2, blank=True, default="")
    last_number = models.PositiveIntegerField("最後に発行した番号", default=0)

    class Meta:
        verbose_name = "受付番号の採番"
        verbose_name_plural = "受付番号の採番"
        constraints = (
            models.UniqueConstraint(
                fields=["site", "business_day", "prefix"], name="queue_day_prefix_unique"
            ),
        )

    def __str__(self) -> str:
        return f"{self.site} {self.business_day} {self.prefix}({self.last_number})"


class QueueSettings(models.Model):
    """How one site's queue calls booked visitors and gives up on absent ones.

    A site without a row uses the defaults (`QueueSettings.defaults_for`)."""

    site = models.OneToOneField(
        Site, on_delete=models.CASCADE, related_name="queue_settings", verbose_name="窓口（庁舎）"
    )
    early_minutes = models.PositiveSmallIntegerField(
        "予約時刻より前に優先する分数",
        default=15,
        validators=[MaxValueValidator(120)],
        help_text="予約の方は予約時刻のこの分数前から、予約なしの方より先にお呼びします。",
    )
    late_grace_minutes = models.PositiveSmallIntegerField(
        "予約時刻に遅れても優先する分数",
        default=5,
        validators=[MaxValueValidator(60)],
        help_text="これより遅れて受付した予約の方は、予約なしの方と同じ順番でお呼びします。",
    )
    recalls_before_no_show = models.PositiveSmallIntegerField(
        "不在とするまでの再呼出の回数",
        default=2,
        validators=[MaxValueValidator(10)],
        help_text="この回数だけ再呼出してもお見えにならないとき、次の再呼出で不在になります。",
    )

    class Meta:
        verbose_name = "当日受付の設定"
        verbose_name_plural = "当日受付の設定"

    def __str__(self) -> str:
        return f"{self.site} の当日受付の設定"

    @classmethod
    def defaults_for(cls, site: Site) -> QueueSettings:
        """The site's settings, or the defaults (unsaved) when it has none."""
        found = cls.objects.filter(site=site).first()
        return found if found is not None else cls(site=site)


class QueuePrefix(models.Model):
    """The letter a procedure's numbers carry at one site (A for card work, B for certificates…).

    Procedures with the same letter form one group with one number sequence (A1, A2, …); a
    procedure without a row is numbered without a letter."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="queue_prefixes", verbose_name="窓口（庁舎）"
    )
    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="queue_prefixes", verbose_name="手続き"
    )
    prefix = models.CharField(
        "番号の頭文字", max_length=2, validators=[PREFIX_VALIDATOR], help_text="例: A、B"
    )

    class Meta:
        verbose_name = "受付番号の頭文字"
        verbose_name_plural = "受付番号の頭文字"
        constraints = (
            models.UniqueConstraint(
                fields=["site", "procedure"], name="queue_prefix_one_per_procedure"
            ),
            models.CheckConstraint(
                condition=Q(prefix__regex=r"^[A-Z]{1,2}$"), name="queue_prefix_letters"
            ),
        )

    def __str__(self) -> str:
        return f"{self.site} {self.procedure}: {self.prefix}"


class QueueTicket(models.Model):
    """One visitor's place in a site's queue on one business day: a walk-in's numbered ticket,
    or the ticket a booked visitor gets on checking in (`reservation` set, called first)."""

    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="queue_tickets", verbose_name="窓口（庁舎）"
    )
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="queue_tickets", verbose_name="手続き"
    )
    business_day = models.DateField("営業日")
    prefix = models.CharField("番号の頭文字", max_length=2, blank=True, default="")
    number = models.PositiveIntegerField("受付番号")
    token = models.CharField(
        "確認用トークン", max_length=32, unique=True, default=new_ticket_token, editable=False
    )
    status = models.CharField(
        "状態", max_length=10, choices=TicketStatus.choices, default=TicketStatus.WAITING
    )
    counter = models.ForeignKey(
        Counter,
        on_delete=models.PROTECT,
        related_name="queue_tickets",
        null=True,
        blank=True,
        verbose_name="窓口（受付台）",
    )
    priority = models.PositiveSmallIntegerField(
        "呼出の優先度", choices=TicketPriority.choices, default=TicketPriority.WALK_IN
    )
    reservation = models.OneToOneField(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        related_name="queue_ticket",
        null=True,
        blank=True,
        verbose_name="予約",
    )
    channel = models.CharField(
        "発券の経路", max_length=10, choices=TicketChannel.choices, default=TicketChannel.PHONE
    )
    appointment_at = models.DateTimeField("予約時刻", null=True, blank=True)
    transfer_counter = models.ForeignKey(
        Counter,
        on_delete=models.PROTECT,
        related_name="transferred_tickets",
        null=True,
        blank=True,
        verbose_name="回付先の窓口",
    )
    recall_count = models.PositiveSmallIntegerField("再呼出の回数", default=0)
    estimated_wait_minutes = models.PositiveIntegerField(
        "発券時の待ち時間の目安（分）", null=True, blank=True
    )
    issued_at = models.DateTimeField("発券日時")
    called_at = models.DateTimeField("呼出日時", null=True, blank=True)
    recalled_at = models.DateTimeField("最後の再呼出の日時", null=True, blank=True)
    served_at = models.DateTimeField("対応開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)
    language = models.CharField(
        "言語",
        max_length=16,
        blank=True,
        default="",
        help_text="整理券を受け取ったときの言語（settings.LANGUAGES のコード）。整理券のページと"
        "状況の API はこの言語。空欄（窓口で発行）は閲覧する端末の言語。",
    )

    class Meta:
        ordering = ("site", "business_day", "number")
        verbose_name = "整理券"
        verbose_name_plural = "整理券"
        constraints = (
            models.UniqueConstraint(
                fields=["site", "business_day", "prefix", "number"],
                name="queue_ticket_number_unique_per_prefix",
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="queue_ticket_number_positive"),
            # Only a booked visitor's ticket is called before the walk-ins (one who came after
            # the late grace is in the walk-in order, priority 1, reservation kept).
            models.CheckConstraint(
                condition=Q(priority=0, reservation__isnull=False, appointment_at__isnull=False)
                | Q(priority=1),
                name="queue_ticket_priority_needs_appointment",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["waiting", "cancelled"]) | Q(counter__isnull=False),
                name="queue_ticket_called_has_counter",
            ),
            # One counter serves one visitor at a time.
            models.UniqueConstraint(
                fields=["counter"],
                condition=Q(status__in=["called", "serving"]),
                name="queue_ticket_one_per_counter",
            ),
        )
        indexes = (
            models.Index(
                fields=["site", "business_day", "status", "priority", "number"],
                name="queue_ticket_calling_order",
            ),
        )

    def __str__(self) -> str:
        return f"{self.site} {self.business_day} {self.label}番"

    @property
    def label(self) -> str:
        """The number as shown and called: prefix and number, e.g. A12."""
        return f"{self.prefix}{self.number}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class KioskDevice(models.Model):
    """A tablet registered as a site's entrance kiosk (整理券発行機).

    Only a registered tablet gets tickets from the kiosk page: it holds a signed cookie with
    its device id and a secret key, of which only the SHA-256 is stored here
    (`walkins.kiosks`). A manager registers a kiosk on the staff page, which gives a one-time
    activation link (valid for a short time) to open on the tablet; revoking a kiosk makes its
    key worthless at once."""

    site = models.ForeignKey(
        Site, on_delete=models.CASCADE, related_name="kiosks", verbose_name="窓口（庁舎）"
    )
    name = models.CharField("名称", max_length=50)
    key_hash = models.CharField("端末キーのハッシュ", max_length=64, blank=True, editable=False)
    activation_hash = models.CharField(
        "有効化リンクのハッシュ", max_length=64, blank=True, editable=False
    )
    activation_expires_at = models.DateTimeField(
        "有効化リンクの期限", null=True, blank=True, editable=False
    )
    registered_at = models.DateTimeField("登録日時")
    registered_by = models.CharField("登録した人", max_length=100)
    activated_at = models.DateTimeField("端末での有効化", null=True, blank=True)
    revoked_at = models.DateTimeField("登録の取消", null=True, blank=True)

    class Meta:
        ordering = ["site", "name", "pk"]
        verbose_name = "整理券発行機（登録端末）"
        verbose_name_plural = "整理券発行機（登録端末）"
        constraints = (
            models.UniqueConstraint(
                fields=["site", "name"],
                condition=Q(revoked_at__isnull=True),
                name="kiosk_name_unique_while_registered",
            ),
        )

    def __str__(self) -> str:
        return f"{self.site} {self.name}"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.activated_at is not None
