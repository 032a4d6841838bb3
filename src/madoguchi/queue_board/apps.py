from django.apps import AppConfig


class QueueBoardConfig(AppConfig):
    name = "madoguchi.queue_board"
    label = "queue_board"
    verbose_name = "呼出表示"
