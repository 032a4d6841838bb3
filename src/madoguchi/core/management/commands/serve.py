import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core.links import follow_server_port


class Command(BaseCommand):
    help = "本番用サーバー（gunicorn）で madoguchi を公開します。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--workers", type=int, default=settings.WORKERS)

    def handle(self, *args: Any, **options: Any) -> None:
        bind = f"{options['host']}:{options['port']}"
        base = follow_server_port(host=options["host"], port=options["port"])
        self.stdout.write(f"http://{bind}/ で公開します（停止は Ctrl+C）。")
        self.stdout.write(f"メール・SMS・通知書のリンク先: {base}/")
        self.stdout.flush()
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "madoguchi.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(options["workers"]),
            "--preload",  # load the app once, then fork: workers start warm (see wsgi.py)
            "--access-logfile",
            "-",
        ]
        os.execv(sys.executable, argv)  # noqa: S606 — replace this process with the server, fixed argv
