"""The flush that ends a transactional test writes back the rows `post_migrate` made after an
earlier flush (tests/conftest.py `_flush_puts_back_content_types`): the database after it is the
one Django's own signal leaves — the same content types and permissions, every other table empty."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection

from tests.conftest import POST_MIGRATE_ROWS

pytestmark = pytest.mark.django_db(transaction=True)


def _after_flush() -> dict[str, Any]:
    """The content types and permissions by what they name, and each other table's row count."""
    return {
        "content types": sorted(ContentType.objects.values_list("app_label", "model")),
        "permissions": sorted(
            Permission.objects.values_list(
                "content_type__app_label", "content_type__model", "codename", "name"
            )
        ),
        "other rows": {
            model._meta.label: model._default_manager.count()
            for model in apps.get_models(include_auto_created=True)
            if model not in (ContentType, Permission) and model._meta.managed
        },
    }


def test_a_flush_leaves_the_rows_djangos_post_migrate_leaves() -> None:
    call_command("flush", verbosity=0, interactive=False)  # the first keeps the signal's rows
    before = POST_MIGRATE_ROWS.put_back
    call_command("flush", verbosity=0, interactive=False)
    # PostgreSQL sends the signal after every flush.
    written = 1 if connection.vendor == "sqlite" else 0
    assert POST_MIGRATE_ROWS.put_back == before + written, "the rows were written back"
    written_back = _after_flush()

    call_command("flush", verbosity=0, interactive=False, inhibit_post_migrate=True)
    assert not ContentType.objects.exists()
    emit_post_migrate_signal(0, False, connection.alias)  # Django's own receivers
    from_the_signal = _after_flush()

    assert written_back == from_the_signal
    assert len(written_back["content types"]) > 30 and len(written_back["permissions"]) > 100
    assert set(written_back["other rows"].values()) == {0}
