"""Every form a person can submit is submitted in a browser test — checked, not hoped.

The scan below finds each `<form>` in the project's templates and names it by its template and
its target (the URL name in `action`, with its literal arguments and hidden `step` value, or
`(self)` for a form posting to its own page). `SUBMITTED_BY` says which browser test submits it
and a piece of that test's code that does the submitting. The test fails when

- a template has a form that is not in `SUBMITTED_BY` (a new form needs its browser test),
- `SUBMITTED_BY` names a form that no longer exists (keep the registry true),
- the named test does not exist, is not a browser test against the live server, or does not
  contain the submitting code named for it.

Once 403 answered every POST of the queue pages in every browser while all their tests passed
(the browser test loaded the form but never submitted it; decision 0013).
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "madoguchi"

FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form>", re.S)
ACTION = re.compile(r"""action="\{%\s*url\s+'(?P<name>[^']+)'(?P<args>[^%]*)%\}""")
LITERAL_ARG = re.compile(r"'([^']*)'")
STEP = re.compile(r'name="step" value="(\w+)"')

FAMILY = "tests/browser/test_booking_without_traps.py::test_a_phone_books_without_traps"
FAMILY_SIZE = FAMILY
LOOKUP = (
    "tests/browser/test_resident_booking.py::"
    "test_a_resident_books_looks_up_reschedules_and_cancels_with_javascript_on_and_off"
)
QUEUE = (
    "tests/queue_board/test_browser.py::"
    "test_a_resident_takes_a_ticket_switches_language_and_cancels"
)
KIOSK = (
    "tests/queue_board/test_browser_kiosk_display.py::"
    "test_the_kiosk_issues_a_ticket_shows_it_and_returns_to_the_start"
)
KIOSK_REGISTRATION = (
    "tests/queue_board/test_browser_kiosk_display.py::"
    "test_a_manager_registers_the_entrance_tablet_and_revokes_it"
)
CALLING = (
    "tests/queue_board/test_browser_kiosk_display.py::"
    "test_staff_issue_call_recall_transfer_serve_finish_and_no_show"
)
STATS = (
    "tests/queue_board/test_browser_kiosk_display.py::"
    "test_a_manager_filters_the_statistics_and_adopts_the_observed_service_times"
)
COUNTER = "tests/browser/test_counter_day.py::test_a_counter_day_with_every_console_form"
PHONE_FAMILY = (
    "tests/browser/test_phone_family_booking.py::"
    "test_a_clerk_books_a_family_calling_together_in_one_go"
)
SIGN_IN = "tests/browser/test_staff_login.py::test_enrol_then_sign_in_with_a_backup_code"
STAFF = (
    "tests/browser/test_staff_forms.py::"
    "test_a_manager_submits_every_card_pipeline_and_planning_form"
)
REMIND = "tests/browser/test_reminders.py::test_an_official_sends_due_reminders_from_the_dashboard"
RENEW = "tests/browser/test_renew_page.py::test_a_resident_finds_when_to_renew"
REGISTER = (
    "tests/browser/test_planning_forms.py::test_a_manager_uploads_a_register_and_then_a_bad_one"
)
APPLY = "tests/browser/test_planning_forms.py::test_a_manager_applies_the_backlog_proposals"
REPORT = "tests/browser/test_report_forms.py::test_a_manager_saves_the_signed_report"
ROLLUP = (
    "tests/browser/test_report_forms.py::"
    "test_the_rollup_imports_a_report_and_refuses_a_tampered_one"
)
ROLLUP_KEYS = (
    "tests/browser/test_report_forms.py::"
    "test_the_rollup_role_trusts_a_key_on_the_screen_and_revokes_it"
)

SUBMITTED_BY: dict[str, tuple[str, str]] = {
    # residents (JavaScript on and off where the test is parametrised so)
    "templates/base.html::set_language": (QUEUE, 'name="Change").click()'),
    "queue_board/templates/queue_board/take.html::(self)": (QUEUE, '"整理券を受け取る").click()'),
    "queue_board/templates/queue_board/ticket.html::queue_board:cancel": (
        QUEUE,
        '"この整理券を取り消す").click()',
    ),
    "queue_board/templates/queue_board/kiosk.html::(self)": (KIOSK, '"カードの受け取り").click()'),
    "queue_board/templates/queue_board/kiosk_activate.html::(self)": (
        KIOSK,
        '"この端末を発行機にする").click()',
    ),
    "staff_console/templates/walkins/kiosks.html::(self)": (
        KIOSK_REGISTRATION,
        '"登録して登録用リンクを出す").click()',
    ),
    "staff_console/templates/walkins/kiosks.html::walkins:kiosk_revoke": (
        KIOSK_REGISTRATION,
        '"正面入口の登録を取り消す").click()',
    ),
    # how many come together (a GET form on the day's times), JS on and off
    "resident_site/templates/resident_site/day.html::(self) (get)": (
        FAMILY_SIZE,
        '"この人数で空きを表示する").click()',
    ),
    # who is coming (with the add-a-family-member button) and the confirmation, JS on and off
    "resident_site/templates/resident_site/identify.html::resident_site:identify step=add_member": (
        FAMILY,
        '"家族を追加する").click()',
    ),
    "resident_site/templates/resident_site/confirm.html::resident_site:identify step=confirm": (
        FAMILY,
        '"この内容で予約する").click()',
    ),
    "resident_site/templates/resident_site/reschedule_confirm.html::"
    "resident_site:reschedule_confirm": (LOOKUP, '"この日時に変更する").click()'),
    "resident_site/templates/resident_site/cancel.html::resident_site:cancel": (
        LOOKUP,
        '"予約を取り消す").click()',
    ),
    "resident_site/templates/resident_site/lookup.html::resident_site:lookup": (
        LOOKUP,
        '"予約を表示する").click()',
    ),
    "resident_site/templates/resident_site/renew.html::resident_site:renew (get)": (
        RENEW,
        '"更新できる日を調べる").click()',
    ),
    # the counter
    # staff sign-in (docs/staff-login.md)
    "staff/templates/staff/login.html::(self)": (SIGN_IN, '"ログイン").click()'),
    "staff/templates/staff/otp_enrol.html::(self)": (SIGN_IN, '"登録する").click()'),
    "staff/templates/staff/backup_codes.html::(self)": (
        SIGN_IN,
        '"新しい予備コードを作る").click()',
    ),
    "staff/templates/staff/otp_verify.html::(self)": (SIGN_IN, '"確認する").click()'),
    "staff_console/templates/counter_console/base.html::staff:logout": (
        SIGN_IN,
        '"ログアウト").click()',
    ),
    "staff_console/templates/counter_console/day.html::counter_console:site_day (get)": (
        COUNTER,
        '"探す").click()',
    ),
    "staff_console/templates/counter_console/day.html::counter_console:check_in": (
        COUNTER,
        'f"受付 {pickup.code}").click()',
    ),
    "staff_console/templates/counter_console/day.html::counter_console:served": (
        COUNTER,
        'f"完了 {renewal.code}").click()',
    ),
    "staff_console/templates/counter_console/day.html::counter_console:no_show": (
        COUNTER,
        'f"来庁なし {late.code}").click()',
    ),
    "staff_console/templates/counter_console/hand_over.html::counter_console:hand_over": (
        COUNTER,
        '"交付する").click()',
    ),
    "staff_console/templates/counter_console/phone_booking.html::"
    "counter_console:phone_booking (get)": (COUNTER, '"空き時間を表示").click()'),
    # the phone booking (with the add-a-family-member button): one person or a family
    "staff_console/templates/counter_console/phone_booking.html::"
    "counter_console:phone_booking step=add_member": (PHONE_FAMILY, '"家族を追加する").click()'),
    "staff_console/templates/walkins/calling.html::walkins:call": (
        CALLING,
        '次の方を呼ぶ").click()',
    ),
    "staff_console/templates/walkins/calling.html::walkins:issue": (
        "tests/browser/test_counter_ticket_language.py::"
        "test_a_ticket_issued_at_the_counter_in_vietnamese_prints_and_opens_in_vietnamese",
        '"発行して受付票を開く").click()',
    ),
    "staff_console/templates/walkins/calling.html::walkins:recall": (CALLING, '再呼出").click()'),
    "staff_console/templates/walkins/calling.html::walkins:move serve": (
        CALLING,
        '対応を開始").click()',
    ),
    "staff_console/templates/walkins/calling.html::walkins:move finish": (
        CALLING,
        '対応を終了").click()',
    ),
    "staff_console/templates/walkins/calling.html::walkins:move no-show": (
        CALLING,
        '不在").click()',
    ),
    "staff_console/templates/walkins/calling.html::walkins:move cancel": (
        COUNTER,
        'f"{walk_in.label}番を取り消す").click()',
    ),
    "staff_console/templates/walkins/transfer_form.html::walkins:transfer": (
        CALLING,
        '回付する").first.click()',
    ),
    "staff_console/templates/walkins/stats.html::(self) (get)": (STATS, '"表示").click()'),
    "staff_console/templates/walkins/stats.html::walkins:adopt": (
        STATS,
        '"実績の対応時間を所要時間として採用").click()',
    ),
    # the card pipeline and planning
    "staff_console/templates/issuance/upload.html::(self)": (STAFF, '"取り込む").click()'),
    "staff_console/templates/issuance/_card_search_form.html::issuance:card_search (get)": (
        STAFF,
        'page.locator("form[role=search] button[type=submit]").click()',
    ),
    "staff_console/templates/issuance/card.html::issuance:card_act": (
        STAFF,
        '"検品済みにする").click()',
    ),
    "staff_console/templates/issuance/dashboard.html::issuance:advance step=inspect": (
        STAFF,
        '"古い順に最大500枚を検品済みにする").click()',
    ),
    "staff_console/templates/issuance/dashboard.html::issuance:advance step=setup": (
        STAFF,
        '"古い順に最大500枚を交付前設定済みにする").click()',
    ),
    "staff_console/templates/issuance/dashboard.html::issuance:issue": (STAFF, "issue.click()"),
    "staff_console/templates/issuance/dashboard.html::issuance:remind": (
        REMIND,
        '"再通知 2通を発行する").click()',
    ),
    "staff_console/templates/issuance/dashboard.html::issuance:upload_applications": (
        STAFF,
        '"申請件数を登録する").click()',
    ),
    "staff_console/templates/forecasts/planning.html::forecasts:apply": (
        APPLY,
        'page.click("text=この案を適用する")',
    ),
    "staff_console/templates/forecasts/planning.html::(self) (get)": (STAFF, '"試算する").click()'),
    "staff_console/templates/forecasts/staffing.html::(self) (get)": (STAFF, '"計算する").click()'),
    "staff_console/templates/forecasts/staffing.html::forecasts:staffing_solve": (
        STAFF,
        '"再計算").click()',
    ),
    "staff_console/templates/forecasts/register_upload.html::(self)": (
        REGISTER,
        'page.click("main button[type=submit]")',
    ),
    "staff_console/templates/forecasts/report.html::(self) (get)": (
        REPORT,
        'get_by_role("button", name="報告書を保存する").click()',
    ),
    "staff_console/templates/forecasts/rollup.html::forecasts:rollup_import": (
        ROLLUP,
        'get_by_role("button", name="取り込む").click()',
    ),
    "staff_console/templates/forecasts/report_keys.html::forecasts:rollup_keys": (
        ROLLUP_KEYS,
        'get_by_role("button", name="登録する").click()',
    ),
    "staff_console/templates/forecasts/report_keys.html::forecasts:rollup_key_revoke": (
        ROLLUP_KEYS,
        'get_by_role("button", name="011002 の鍵を取り消す").click()',
    ),
}


def form_key(template: Path, attrs: str, body: str) -> str:
    """`template::target`: the URL name and literal arguments of the action, and the hidden
    `step` a shared action is told apart by; `(self)` without an action; `(get)` for a search
    or filter form (a page and its filter may share one URL)."""
    action = ACTION.search(attrs)
    if action is None:
        target = "(self)"
    else:
        literal = LITERAL_ARG.findall(action.group("args"))
        target = " ".join([action.group("name"), *literal])
    step = STEP.search(body)
    if step:
        target += f" step={step.group(1)}"
    if re.search(r'method="get"', attrs, re.IGNORECASE):
        target += " (get)"
    return f"{template.relative_to(SRC).as_posix()}::{target}"


def forms_in_templates() -> set[str]:
    found = set()
    for template in sorted(SRC.rglob("templates/**/*.html")):
        text = template.read_text(encoding="utf-8")
        for match in FORM.finditer(text):
            found.add(form_key(template, match.group("attrs"), match.group("body")))
    return found


def test_every_form_in_the_templates_is_submitted_by_a_browser_test() -> None:
    found = forms_in_templates()
    missing = sorted(found - SUBMITTED_BY.keys())
    assert missing == [], f"forms without a browser test that submits them: {missing}"


def test_the_registry_names_no_form_that_does_not_exist() -> None:
    stale = sorted(SUBMITTED_BY.keys() - forms_in_templates())
    assert stale == []


def browser_test_code(node: str) -> tuple[Any, list[str]]:
    """The module of the browser test `node` names and its code's lines (stripped; blank
    lines, comments and docstring openings left out), failing when the test does not exist,
    is not a browser test or has no live server — the registries' common check."""
    path, name = node.split("::")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    function = getattr(module, name, None)
    assert function is not None, f"{node} does not exist"
    marks = [m.name for m in getattr(module, "pytestmark", [])]
    marks += [m.name for m in getattr(function, "pytestmark", [])]
    assert "browser" in marks, f"{node} is not a browser test"
    assert "live_server" in inspect.signature(function).parameters, f"{node}: no live server"
    code = [
        line.strip()
        for line in inspect.getsource(function).splitlines()
        if line.strip() and not line.strip().startswith(("#", '"""'))
    ]
    return module, code


@pytest.mark.parametrize("key", sorted(SUBMITTED_BY))
def test_the_named_browser_test_submits_the_form(key: str) -> None:
    node, submits = SUBMITTED_BY[key]
    _module, code = browser_test_code(node)
    assert any(submits in line for line in code), f"{node} does not run {submits!r}"


def test_the_scan_tells_forms_apart_by_action_arguments_and_step() -> None:
    """The scan's own control: three forms of one template, told apart; a form without an
    action is the page's own."""
    template = SRC / "staff_console" / "templates" / "walkins" / "calling.html"
    serve = "<form method=\"post\" action=\"{% url 'walkins:move' row.ticket.pk 'serve' %}\">"
    advance = (
        '<form method="post" action="{% url \'issuance:advance\' %}">'
        '<input type="hidden" name="step" value="setup">'
    )
    assert form_key(template, serve[5:-1], "") == (
        "staff_console/templates/walkins/calling.html::walkins:move serve"
    )
    match = FORM.search(advance + "</form>")
    assert match is not None
    assert form_key(template, match.group("attrs"), match.group("body")).endswith(
        "issuance:advance step=setup"
    )
    assert form_key(template, ' method="post"', "").endswith("::(self)")
    assert form_key(template, ' method="get"', "").endswith("::(self) (get)")
