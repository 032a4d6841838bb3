from django.apps import AppConfig


class CounterConsoleConfig(AppConfig):
    name = "madoguchi.counter_console"
    label = "counter_console"
    verbose_name = "窓口端末"
