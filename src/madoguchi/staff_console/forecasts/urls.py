from django.urls import path

from madoguchi.staff_console.forecasts import staffing_views, views

app_name = "forecasts"

urlpatterns = [
    path("", views.planning, name="planning"),
    path("apply/", views.apply_proposals, name="apply"),
    path("register/", views.register_upload, name="register"),
    path("staffing/", staffing_views.staffing, name="staffing"),
    path("staffing/solve/", staffing_views.staffing_solve, name="staffing_solve"),
    path("staffing/claim.csv", staffing_views.staffing_claim, name="staffing_claim"),
    path("staffing/claim.xlsx", staffing_views.staffing_claim_xlsx, name="staffing_claim_xlsx"),
]
