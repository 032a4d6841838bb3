import os
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from madoguchi.core.links import follow_server_port

UNIX_SOCKET_PATH_MAX = 107
"""The longest path a Unix socket may have on Linux (`sun_path` is 108 bytes with its NUL)."""


def control_socket(data_dir: Path, host: str, port: int) -> Path | None:
    """Where this server's gunicorn control socket lives: in the data directory (owner-only),
    named for the address served, so two servers of one machine — the staff and the public
    deployment, a demo beside a server — each keep their own instead of both taking gunicorn's
    one default path in the home directory, where the later one replaces the earlier's and the
    first to stop removes it for both. None when the path would be too long for a socket."""
    path = data_dir / f"gunicorn-{host}-{port}.ctl"
    return path if len(os.fsencode(path)) <= UNIX_SOCKET_PATH_MAX else None


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
        socket = control_socket(settings.DATA_DIR, options["host"], options["port"])
        if socket is None:
            self.stdout.write(
                "データディレクトリのパスが長いため、gunicorn の制御ソケットは使いません。"
            )
            argv.append("--no-control-socket")
        else:
            argv += ["--control-socket", str(socket)]
        self.stdout.flush()
        os.execv(sys.executable, argv)  # noqa: S606 — replace this process with the server, fixed argv
