"""The admin's per-language inputs for names and free texts residents read (sites, procedures,
municipalities, closures): one per language of settings.LANGUAGES but Japanese, saved into
`translations`, audited like every admin edit, and refused when they hold an Individual Number."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from madoguchi.core.individual_number import INDIVIDUAL_NUMBER_REFUSAL_TEXT
from madoguchi.core.models import AuditEvent
from madoguchi.offices.models import Procedure, Site
from madoguchi.staff.offices_admin import translation_field_name
from tests import personas as p
from tests.conftest import login_staff
from tests.offices import factories as offices

pytestmark = pytest.mark.django_db

OTHER_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def _admin(world: p.World, name: str = "superuser") -> Client:
    client = Client()
    login_staff(client, world.users[name])
    return client


def _site_data(site: Site, **inputs: str) -> dict[str, Any]:
    return {
        "municipality": site.municipality_id,
        "name": site.name,
        "kind": site.kind,
        "postal_code": site.postal_code,
        "address": site.address,
        "access_notes": site.access_notes,
        "open_from": "",
        "open_until": "",
        "is_active": "on",
        "counters-TOTAL_FORMS": "0",
        "counters-INITIAL_FORMS": "0",
        "terminals-TOTAL_FORMS": "0",
        "terminals-INITIAL_FORMS": "0",
        **inputs,
    }


def test_the_site_form_has_an_input_per_offered_language_and_field(personas: p.World) -> None:
    site = offices.site(personas.home, name="翻訳テスト庁舎", counters=0, terminals=0)
    page = _admin(personas).get(f"/admin/offices/site/{site.pk}/change/").content.decode()
    for language in OTHER_LANGUAGES:
        for field in Site.TRANSLATED_FIELDS:
            assert f'name="{translation_field_name(field, language)}"' in page
    assert 'name="name__ja"' not in page and 'name="translations"' not in page


def test_the_site_form_saves_per_language_values_and_audits_them(personas: p.World) -> None:
    site = offices.site(personas.home, name="翻訳テスト庁舎", counters=0, terminals=0)
    site.translations = {"vi": {"name": "Trụ sở chính"}}
    site.save()
    response = _admin(personas).post(
        f"/admin/offices/site/{site.pk}/change/",
        _site_data(
            site,
            name__en="Translation Test Office",
            access_notes__en="Two minutes from the station",
            name__ko="번역 테스트 청사",
            name__zh_hans="翻译测试厅舍",
            name__vi="",  # emptied: the Japanese name is shown again
        ),
    )
    assert response.status_code == 302, re.findall(
        r"errorlist[^<]*<li>([^<]*)", response.content.decode()
    )
    site.refresh_from_db()
    assert site.translations == {
        "en": {"name": "Translation Test Office", "access_notes": "Two minutes from the station"},
        "ko": {"name": "번역 테스트 청사"},
        "zh-hans": {"name": "翻译测试厅舍"},
    }
    assert site.localized("name", "vi") == "翻訳テスト庁舎"
    event = AuditEvent.objects.filter(action="admin.change", subject_id=str(site.pk)).latest("at")
    assert event.subject_type == "offices.Site"
    assert event.before["translations"] == {"vi": {"name": "Trụ sở chính"}}
    assert event.after["translations"] == site.translations


def test_a_procedure_name_and_documents_are_saved_per_language(personas: p.World) -> None:
    procedure = Procedure.objects.get(code="card_pickup")
    # procedures are shared by both municipalities here: the deployment's operator edits them
    response = _admin(personas, "superuser_nowhere").post(
        f"/admin/offices/procedure/{procedure.pk}/change/",
        {
            "code": procedure.code,
            "name": procedure.name,
            "duration_minutes": procedure.duration_minutes,
            "needs_terminal": "on",
            "needs_card_system": "on",
            "allowed_site_kinds": json.dumps(procedure.allowed_site_kinds),
            "documents": "交付通知書、本人確認書類",
            "proxy_documents": "",
            "sort_order": "0",
            "name__en": "Card pick-up",
            "documents__en": "The notice, photo ID",
            "name__pt_br": "Retirada do cartão",
        },
    )
    assert response.status_code == 302, re.findall(
        r"errorlist[^<]*<li>([^<]*)", response.content.decode()
    )
    procedure.refresh_from_db()
    assert procedure.translations == {
        "en": {"name": "Card pick-up", "documents": "The notice, photo ID"},
        "pt-br": {"name": "Retirada do cartão"},
    }
    assert AuditEvent.objects.filter(
        action="admin.change", subject_type="offices.Procedure", subject_id=str(procedure.pk)
    ).exists()


def test_an_individual_number_in_a_translation_is_refused_and_nothing_is_stored(
    personas: p.World,
) -> None:
    site = offices.site(personas.home, name="翻訳テスト庁舎", counters=0, terminals=0)
    client = _admin(personas)
    events = AuditEvent.objects.count()
    response = client.post(
        f"/admin/offices/site/{site.pk}/change/",
        _site_data(site, name__en="Office 1234 5678 9018", access_notes__ko="123456789018"),
        HTTP_ACCEPT_LANGUAGE="ja",
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count(INDIVIDUAL_NUMBER_REFUSAL_TEXT[:20]) == 2, page[:2000]
    site.refresh_from_db()
    assert site.translations == {}
    assert AuditEvent.objects.count() == events
