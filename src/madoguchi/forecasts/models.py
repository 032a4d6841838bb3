"""The municipality's register extract that forecasts read (pseudonymous; no Individual Number)."""

from __future__ import annotations

from django.db import models


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
