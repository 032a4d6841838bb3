"""The municipality's signed report (download) and the roll-up (page, CSV, report upload)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.core import clock
from madoguchi.core.audit import Actor
from madoguchi.forecasts import report_keys, report_signing
from madoguchi.forecasts.models import TrustedReportKey
from madoguchi.forecasts.report import signed_document, to_csv, to_json
from madoguchi.forecasts.report_cache import kept_report
from madoguchi.forecasts.report_import import ReportRefused, import_report, too_large
from madoguchi.forecasts.rollup import (
    FIGURES_MAX_AGE,
    SOURCE_LABELS,
    Rollup,
    kept_rollup,
    kept_rollup_view,
    rollup_csv,
)
from madoguchi.offices.models import MunicipalityClass
from madoguchi.staff import access
from madoguchi.staff.access import Action, staff_view
from madoguchi.staff_console import charts
from madoguchi.staff_console.forecasts.forms import (
    ReportExportForm,
    ReportUploadForm,
    TrustedKeyForm,
)

COLORS = ("#0b5394", "#e69138")
MAX_REPORT_UPLOAD = 2_000_000


@staff_view(Action.SEE_PLANNING)
def municipality_report(request: HttpRequest) -> HttpResponse:
    """The page with the export form; submitted, the signed report as a file — the kept report
    (`report_cache`), built again only when its inputs changed since it was kept."""
    municipality = access.municipality(request.user, Action.SEE_PLANNING)
    form = ReportExportForm(request.GET or None)
    error = ""
    if form.is_bound and form.is_valid():
        try:
            document = signed_document(kept_report(municipality))
        except report_signing.KeyFileError as refused:
            error = str(refused)
        else:
            kind = form.cleaned_data["format"]
            content = to_csv(document) if kind == "csv" else to_json(document)
            response = HttpResponse(
                content,
                content_type="text/csv; charset=utf-8"
                if kind == "csv"
                else "application/json; charset=utf-8",
            )
            name = f"report-{municipality.code}-{clock.today():%Y%m%d}.{kind}"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    try:
        public_key = report_signing.own_public_key(municipality.code)
    except report_signing.KeyFileError as refused:
        public_key, error = "", error or str(refused)
    return render(
        request,
        "forecasts/report.html",
        {
            "municipality": municipality,
            "form": form,
            "public_key": public_key,
            "error": error,
        },
        status=500 if error else 200,
    )


def _rollup_context(rollup: Rollup) -> dict[str, Any]:
    names = [e.report.municipality.name for e in rollup.entries]
    classes = dict(MunicipalityClass.choices)
    return {
        "rollup": rollup,
        "classes": classes,
        "class_keys": [c.value for c in MunicipalityClass],
        "source_labels": SOURCE_LABELS,
        "rows": [
            {
                "entry": e,
                "class_label": classes.get(e.report.municipality.municipality_class, ""),
                "source": SOURCE_LABELS[e.source],
                "rate": e.holding_rate,
                "within_two": e.notices_within_two_weeks,
            }
            for e in rollup.entries
        ],
        "renewal_rows": [
            {"year": year, "cards": rollup.renewals[year][0], "certs": rollup.renewals[year][1]}
            for year in rollup.fiscal_years
        ],
        "holding_chart": charts.bar_chart(
            title="自治体別のカード保有率（％）",
            summary="各自治体の住民のうち、有効なカードを持つ人の割合（報告書の基準日の住民台帳）。",
            labels=names,
            series=[
                charts.Series(
                    "カード保有率",
                    [(e.holding_rate or 0.0) * 100 for e in rollup.entries],
                    COLORS[0],
                )
            ],
            unit="％",
        ),
        "renewal_chart": charts.bar_chart(
            title="年度別の更新の見込み（件）",
            summary="集計した自治体のカードと電子証明書の更新件数の見込みを年度ごとに合計したもの。",
            labels=[f"{year}年度" for year in rollup.fiscal_years],
            series=[
                charts.Series(
                    "カード更新", [rollup.renewals[y][0] for y in rollup.fiscal_years], COLORS[0]
                ),
                charts.Series(
                    "電子証明書の更新",
                    [rollup.renewals[y][1] for y in rollup.fiscal_years],
                    COLORS[1],
                ),
            ],
            unit="件",
        ),
    }


def _rollup_page(
    request: HttpRequest,
    form: ReportUploadForm,
    *,
    outcome: str = "",
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    view = kept_rollup_view()
    context = _rollup_context(view.rollup)
    context.update(
        {
            "form": form,
            "outcome": outcome,
            "refusal": refusal,
            "checked_at": view.checked_at,
            "max_age_minutes": int(FIGURES_MAX_AGE.total_seconds() // 60),
        }
    )
    return render(request, "forecasts/rollup.html", context, status=status)


@staff_view(Action.ROLLUP)
def rollup(request: HttpRequest) -> HttpResponse:
    return _rollup_page(request, ReportUploadForm())


@staff_view(Action.ROLLUP)
def rollup_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(rollup_csv(kept_rollup()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="rollup-{clock.today():%Y%m%d}.csv"'
    return response


@require_POST
@staff_view(Action.ROLLUP)
def rollup_import(request: HttpRequest) -> HttpResponse:
    """Upload one signed report; the page says what happened (refused: why, nothing stored)."""
    form = ReportUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _rollup_page(request, form, status=400)
    uploaded = form.cleaned_data["file"]
    if uploaded.size is not None and uploaded.size > MAX_REPORT_UPLOAD:
        return _rollup_page(
            request,
            form,
            refusal=too_large(),
            status=400,
        )
    try:
        result = import_report(
            uploaded.read(), file_name=uploaded.name or "", actor=Actor.staff(request.user)
        )
    except ReportRefused as refused:
        return _rollup_page(request, form, refusal=refused.message, status=400)
    stored = result.imported
    names = {
        "name": stored.municipality_name,
        "code": stored.municipality_code,
        "as_of": f"{stored.as_of:%Y-%m-%d}",
    }
    if result.created:
        outcome = _("%(name)s（%(code)s）の%(as_of)s時点の報告書を取り込みました。") % names
    else:
        outcome = (
            _("%(name)s（%(code)s）の%(as_of)s時点の報告書はすでに取り込まれています。") % names
        )
    return _rollup_page(request, ReportUploadForm(), outcome=outcome)


def _keys_page(
    request: HttpRequest, form: TrustedKeyForm, *, refusal: str = "", status: int = 200
) -> HttpResponse:
    file_keys, file_error = report_keys.file_keys()
    done = {
        "added": _("公開鍵を登録しました。この鍵で署名された報告書を取り込めます。"),
        "revoked": _("公開鍵を取り消しました。この鍵で署名された報告書はもう取り込めません。"),
    }.get(request.GET.get("done", ""), "")
    return render(
        request,
        "forecasts/report_keys.html",
        {
            "file_only": not report_keys.screen_manages_keys(),
            "file_only_reason": report_keys.file_only_reason(),
            "form": form,
            "done": done,
            "refusal": refusal,
            "keys": TrustedReportKey.objects.select_related("added_by", "revoked_by"),
            "file_keys": file_keys,
            "file_error": file_error,
            "trusted_file": settings.MADOGUCHI_REPORT_TRUSTED_KEYS,
        },
        status=status,
    )


def _refuse_when_file_only() -> None:
    """With `MADOGUCHI_REPORT_KEYS_FILE_ONLY` the screen changes nothing: 403 saying why (not
    audited: a refusal changes no state; decision 0030)."""
    if not report_keys.screen_manages_keys():
        raise access.AccessDenied(report_keys.file_only_reason())


@staff_view(Action.ROLLUP)
def rollup_keys(request: HttpRequest) -> HttpResponse:
    """The trusted report keys: listed, added (POST), each revocable (`rollup_key_revoke`)."""
    if request.method != "POST":
        return _keys_page(request, TrustedKeyForm())
    _refuse_when_file_only()
    form = TrustedKeyForm(request.POST)
    if not form.is_valid():
        return _keys_page(request, form, status=400)
    try:
        report_keys.trust_key(
            form.cleaned_data["municipality_code"],
            form.cleaned_data["public_key"],
            note=form.cleaned_data["note"],
            by=request.user,  # type: ignore[arg-type]
            actor=Actor.staff(request.user),
        )
    except report_keys.KeyRefused as refused:
        form.add_error(None, refused.message)
        return _keys_page(request, form, status=400)
    return redirect(f"{reverse('forecasts:rollup_keys')}?done=added")


@require_POST
@staff_view(Action.ROLLUP)
def rollup_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    _refuse_when_file_only()
    try:
        report_keys.revoke_key(
            key_id,
            by=request.user,  # type: ignore[arg-type]
            actor=Actor.staff(request.user),
        )
    except report_keys.KeyRefused as refused:
        return _keys_page(request, TrustedKeyForm(), refusal=refused.message, status=400)
    return redirect(f"{reverse('forecasts:rollup_keys')}?done=revoked")
