"""The municipality's register extract and the aggregates the planning pages read.

`RegisterRecord` holds the current snapshot's rows (pseudonymous; no Individual Number).
`import_register` (register_import.py) replaces them in one transaction and, in the same pass,
prepares what the pages read instead of the rows: a `RegisterSnapshot` (date, counts, file
digest — earlier snapshots stay, for comparison), its expiry cube per area, kind and age band
(`RegisterExpiryCount`) and its holders per area and age band (`RegisterHolding`).
"""

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
