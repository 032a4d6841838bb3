"""The `madoguchi` console script: Django management commands with the project's names.

`madoguchi import-deliveries FILE` runs the management command `import_deliveries`; any other
Django command runs too (`madoguchi migrate`).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    args[0] = "madoguchi"

    from madoguchi.env import EnvError

    try:
        import django

        django.setup()
    except EnvError as error:
        print(f"設定エラー: {error}", file=sys.stderr)
        raise SystemExit(2) from None

    from django.core.management import execute_from_command_line

    execute_from_command_line(args)


if __name__ == "__main__":
    main()
