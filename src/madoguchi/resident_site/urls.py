from django.urls import path

from madoguchi.resident_site import views

app_name = "resident_site"

urlpatterns = [
    path("", views.home, name="home"),
    path("renew/", views.renew, name="renew"),
    # Printed on the notice, one per language: the card pick-up booking in that language.
    path("lang/<str:code>/", views.in_language, name="in_language"),
    path("book/", views.procedures, name="procedures"),
    # The notice's QR code opens /book/<the card pick-up code>/?notice=XXX: procedure in the path.
    path("book/<slug:procedure>/", views.sites, name="sites"),
    path("book/<slug:procedure>/<int:site_id>/", views.month, name="month"),
    path("book/<slug:procedure>/<int:site_id>/<str:date>/", views.day, name="day"),
    path("book/<slug:procedure>/slot/<int:slot_id>/", views.identify, name="identify"),
    path("lookup/", views.lookup, name="lookup"),
    path("reservation/<str:code>/", views.reservation, name="reservation"),
    path("reservation/<str:code>/calendar.ics", views.reservation_ics, name="ics"),
    path("reservation/<str:code>/cancel/", views.cancel, name="cancel"),
    path("reservation/<str:code>/reschedule/", views.reschedule, name="reschedule"),
    path(
        "reservation/<str:code>/reschedule/<str:date>/",
        views.reschedule_day,
        name="reschedule_day",
    ),
    path(
        "reservation/<str:code>/reschedule/slot/<int:slot_id>/",
        views.reschedule_confirm,
        name="reschedule_confirm",
    ),
]
