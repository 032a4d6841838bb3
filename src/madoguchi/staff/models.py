"""Staff accounts: Django auth plus a role and the sites a person may work at.

What a role may do where is decided in one place, `staff.access` (docs/access.md).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    OFFICIAL = "official", "職員"
    CONTRACTOR = "contractor", "委託事業者"
    MANAGER = "manager", "管理職"
    AUDITOR = "auditor", "監査担当"
    ADMINISTRATOR = "administrator", "システム管理者"
    ROLLUP = "rollup", "集計担当（都道府県・運用者）"


class StaffUser(AbstractUser):
    """A person who works on the staff side. Residents never have accounts."""

    role = models.CharField("役割", max_length=20, choices=Role.choices, default=Role.OFFICIAL)
    municipality = models.ForeignKey(
        "offices.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name="所属自治体",
    )
    sites = models.ManyToManyField(
        "offices.Site",
        blank=True,
        related_name="staff",
        verbose_name="担当窓口",
        help_text="空のときは所属自治体のすべての窓口（管理職・監査担当・システム管理者）",
    )

    class Meta:
        verbose_name = "職員アカウント"
        verbose_name_plural = "職員アカウント"
