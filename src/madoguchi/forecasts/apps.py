from django.apps import AppConfig


class ForecastsConfig(AppConfig):
    name = "madoguchi.forecasts"
    label = "forecasts"
    verbose_name = "需要予測"
