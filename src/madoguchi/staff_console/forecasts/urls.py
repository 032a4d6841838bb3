from django.urls import path

from madoguchi.staff_console.forecasts import report_views, staffing_views, views

app_name = "forecasts"

urlpatterns = [
    path("", views.planning, name="planning"),
    path("apply/", views.apply_proposals, name="apply"),
    path("register/", views.register_upload, name="register"),
    path("staffing/", staffing_views.staffing, name="staffing"),
    path("staffing/solve/", staffing_views.staffing_solve, name="staffing_solve"),
    path("staffing/claim.csv", staffing_views.staffing_claim, name="staffing_claim"),
    path("staffing/claim.xlsx", staffing_views.staffing_claim_xlsx, name="staffing_claim_xlsx"),
    path("report/", report_views.municipality_report, name="report"),
    path("rollup/", report_views.rollup, name="rollup"),
    path("rollup/rollup.csv", report_views.rollup_export, name="rollup_csv"),
    path("rollup/import/", report_views.rollup_import, name="rollup_import"),
    path("rollup/keys/", report_views.rollup_keys, name="rollup_keys"),
    path(
        "rollup/keys/<int:key_id>/revoke/",
        report_views.rollup_key_revoke,
        name="rollup_key_revoke",
    ),
]
