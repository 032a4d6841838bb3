from django.apps import AppConfig


class WalkinsConfig(AppConfig):
    name = "madoguchi.walkins"
    label = "walkins"
    verbose_name = "当日受付"
