"""Staff sign-in pages (mounted under /staff/ in the staff zone)."""

from django.urls import path

from madoguchi.staff import login

app_name = "staff"

urlpatterns = [
    path("login/", login.StaffLoginView.as_view(), name="login"),
    path("logout/", login.StaffLogoutView.as_view(), name="logout"),
    path("otp/", login.otp_verify, name="otp"),
    path("otp/enrol/", login.otp_enrol, name="otp_enrol"),
    path("otp/backup-codes/", login.backup_codes, name="backup_codes"),
]
