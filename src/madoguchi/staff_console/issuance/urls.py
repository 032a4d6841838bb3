from django.urls import path

from madoguchi.staff_console.issuance import card_views, views

app_name = "issuance"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("import/", views.upload, name="upload"),
    path("applications/", views.upload_applications, name="upload_applications"),
    path("cards/", card_views.card_search, name="card_search"),
    path("cards/<int:card_id>/", card_views.card_detail, name="card"),
    path("cards/<int:card_id>/act/", card_views.card_act, name="card_act"),
    path("advance/", views.advance, name="advance"),
    path("notices/", views.issue, name="issue"),
    path("reminders/", views.remind, name="remind"),
    path("destruction/", views.destruction, name="destruction"),
    path("notices/<int:batch_id>/notices.pdf", views.batch_pdf, name="batch_pdf"),
    path("notices/<int:batch_id>/mailing.csv", views.batch_csv, name="batch_csv"),
]
