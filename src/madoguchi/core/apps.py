from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "madoguchi.core"
    label = "core"
    verbose_name = "共通"

    def ready(self) -> None:
        from madoguchi.core.db_roles import grant_after_migrate

        # once per `migrate` (sent for every app; this receiver only for this one, the tables of
        # every app exist by then): the application's role gets its rights (core/db_roles.py)
        post_migrate.connect(grant_after_migrate, sender=self, dispatch_uid="core.grant_app_role")
