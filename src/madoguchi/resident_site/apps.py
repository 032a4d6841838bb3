from django.apps import AppConfig


class ResidentSiteConfig(AppConfig):
    name = "madoguchi.resident_site"
    label = "resident_site"
    verbose_name = "住民向けサイト"
