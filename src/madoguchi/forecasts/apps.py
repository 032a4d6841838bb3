from django.apps import AppConfig


class ForecastsConfig(AppConfig):
    name = "madoguchi.forecasts"
    label = "forecasts"
    verbose_name = "需要予測"

    def ready(self) -> None:
        from madoguchi.forecasts import rollup_inputs

        rollup_inputs.connect()
