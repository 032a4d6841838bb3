from django.urls import path

from madoguchi.staff_console.walkins import views

app_name = "walkins"

urlpatterns = [
    path("", views.sites, name="sites"),
    path("stats/", views.stats, name="stats"),
    path("stats.csv", views.stats_csv, name="stats_csv"),
    path("stats/sites/<int:site_id>/adopt/", views.adopt_service_times, name="adopt"),
    path("sites/<int:site_id>/", views.calling, name="calling"),
    path("sites/<int:site_id>/counters/<int:counter_id>/call/", views.call_next, name="call"),
    path("sites/<int:site_id>/issue/", views.issue, name="issue"),
    path("sites/<int:site_id>/kiosks/", views.kiosks, name="kiosks"),
    path("kiosks/<int:device_id>/revoke/", views.revoke_kiosk_view, name="kiosk_revoke"),
    path("tickets/<int:ticket_id>/slip/", views.slip, name="slip"),
    path("tickets/<int:ticket_id>/recall/", views.recall, name="recall"),
    path("tickets/<int:ticket_id>/transfer/", views.transfer, name="transfer"),
    path("tickets/<int:ticket_id>/<str:action>/", views.move_ticket, name="move"),
]
