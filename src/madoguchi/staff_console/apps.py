from django.apps import AppConfig


class StaffConsoleConfig(AppConfig):
    """Every staff page (the counter, the card pipeline, the walk-in queue, planning): an
    interface app without models over the domain apps, as `resident_site` is for residents."""

    name = "madoguchi.staff_console"
    label = "staff_console"
    verbose_name = "職員画面"
