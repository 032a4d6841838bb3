from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The synthetic demo city and its `madoguchi demo` command (no models of its own)."""

    name = "madoguchi.demo"
    label = "demo"
    verbose_name = "デモ"
