from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "madoguchi.staff"
    label = "staff"
    verbose_name = "職員"

    def ready(self) -> None:
        from madoguchi.staff import login  # noqa: F401 — connects the sign-in audit signals
