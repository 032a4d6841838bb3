from django.apps import AppConfig


class OfficesConfig(AppConfig):
    name = "madoguchi.offices"
    label = "offices"
    verbose_name = "庁舎・窓口"
