"""Shared models: the append-only, hash-chained audit log."""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

from django.db import models


class AppendOnlyError(Exception):
    """Somebody tried to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    """One change of state: who did what to which record, from what to what, and when.

    Rows are written only by `core.audit.record_audit_events`, unsealed (`seq` empty) with
    `mac`, the application's keyed seal of their content; the sealer then gives each row whose
    `mac` it can verify its place in the chain (`seq`) and the keyed hash of the previous one,
    so any edit or removal shows up in `madoguchi audit-verify` (decisions 0008, 0016). A row
    it cannot vouch for gets a negative `seq` instead (kept out of the chain, reported). The
    database refuses every other change: sealing, once, is the only update it lets through.
    """

    at = models.DateTimeField("日時")
    actor = models.CharField("操作者", max_length=150)
    action = models.CharField("操作", max_length=80)
    subject_type = models.CharField("対象の種類", max_length=80)
    subject_id = models.CharField("対象", max_length=80)
    before = models.JSONField("変更前", null=True, blank=True)
    after = models.JSONField("変更後", null=True, blank=True)
    seq = models.BigIntegerField("チェーン上の順番", null=True, blank=True, unique=True)
    previous_hash = models.CharField("前の記録のハッシュ", max_length=64, blank=True, default="")
    hash = models.CharField("ハッシュ", max_length=64, blank=True, default="")
    mac = models.CharField("記録時の署名", max_length=96, blank=True, default="", db_default="")

    objects: ClassVar[AuditEventQuerySet] = AuditEventQuerySet.as_manager()  # type: ignore[assignment]  # a manager built from the queryset is the manager

    class Meta:
        ordering = ["id"]
        verbose_name = "監査ログ"
        verbose_name_plural = "監査ログ"
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(
                fields=["id"], condition=models.Q(seq__isnull=True), name="core_audit_unsealed"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")


class RateCounter(models.Model):
    """One fixed-window rate-limit counter: requests seen for a hashed key in one window."""

    key = models.CharField("キー", max_length=80, unique=True)
    window_ends_at = models.DateTimeField("期間の終わり", db_index=True)
    count = models.PositiveIntegerField("回数", default=0)

    class Meta:
        verbose_name = "アクセス回数（制限用）"
        verbose_name_plural = "アクセス回数（制限用）"

    def __str__(self) -> str:
        return f"{self.key} {self.count}"
