from django.urls import path

from madoguchi.staff_console.counter import handover, views

app_name = "counter_console"

urlpatterns = [
    path("", views.home, name="home"),
    path("sites/<int:site_id>/", views.site_day, name="site_day"),
    path("sites/<int:site_id>/phone-booking/", views.phone_booking, name="phone_booking"),
    path("reservations/<str:code>/check-in/", views.check_in, name="check_in"),
    path("reservations/<str:code>/served/", views.served, name="served"),
    path("reservations/<str:code>/no-show/", views.no_show, name="no_show"),
    path("reservations/<str:code>/hand-over/", handover.hand_over, name="hand_over"),
]
