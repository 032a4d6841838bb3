"""Walk-in queue tickets (整理券) and the per-site, per-day number sequence behind them.

A ticket's status only changes through `walkins.services` (house rule 6); the transition table
lives there next to the functions that use it.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q

from madoguchi.offices.models import Counter, Procedure, Site


def new_ticket_token() -> str:
    """An unguessable token for the ticket's public status page (never the number itself)."""
    return secrets.token_urlsafe(18)


class TicketStatus(models.TextChoices):
    WAITING = "waiting", "お待ちください"
    CALLED = "called", "お呼び出し中"
    SERVING = "serving", "対応中"
    DONE = "done", "完了"
    NO_SHOW = "no_show", "不在"
    CANCELLED = "cancelled", "取消"


class TicketPriority(models.IntegerChoices):
    """Who is called first: booked visitors who have checked in, then walk-ins (each by number)."""

    APPOINTMENT = 0, "予約の方"
    WALK_IN = 1, "予約なしの方"


ACTIVE_STATUSES = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING)
AT_COUNTER_STATUSES = (TicketStatus.CALLED, TicketStatus.SERVING)


class QueueDay(models.Model):
    """The number sequence of one site on one business day.

    Ticket numbers are allocated by incrementing `last_number` with one UPDATE inside the
    issuing transaction: the row lock serialises concurrent issuers, so numbers are unique
    and gap-free (docs/decisions/0005-walkin-queue.md).
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="queue_days")
    business_day = models.DateField("営業日")
    last_number = models.PositiveIntegerField("最後に発行した番号", default=0)

    class Meta:
        verbose_name = "受付番号の採番"
        verbose_name_plural = "受付番号の採番"
        constraints = (
            models.UniqueConstraint(fields=["site", "business_day"], name="queue_day_unique"),
        )

    def __str__(self) -> str:
        return f"{self.site} {self.business_day} ({self.last_number})"


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
    issued_at = models.DateTimeField("発券日時")
    called_at = models.DateTimeField("呼出日時", null=True, blank=True)
    served_at = models.DateTimeField("対応開始日時", null=True, blank=True)
    finished_at = models.DateTimeField("終了日時", null=True, blank=True)

    class Meta:
        ordering = ("site", "business_day", "number")
        verbose_name = "整理券"
        verbose_name_plural = "整理券"
        constraints = (
            models.UniqueConstraint(
                fields=["site", "business_day", "number"], name="queue_ticket_number_unique"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="queue_ticket_number_positive"),
            # A booked visitor's ticket, and only theirs, is called before the walk-ins.
            models.CheckConstraint(
                condition=Q(priority=0, reservation__isnull=False)
                | Q(priority=1, reservation__isnull=True),
                name="queue_ticket_priority_matches_reservation",
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
        return f"{self.site} {self.business_day} {self.number}番"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES
