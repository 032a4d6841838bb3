from django.urls import path

from madoguchi.queue_board import views

app_name = "queue_board"

urlpatterns = [
    path("", views.index, name="index"),
    path("sites/<int:site_id>/", views.board, name="board"),
    path("sites/<int:site_id>/board.json", views.board_json, name="board_json"),
    path("sites/<int:site_id>/take/", views.take_ticket, name="take"),
    path("sites/<int:site_id>/kiosk/", views.kiosk, name="kiosk"),
    path("kiosk/tickets/<str:token>/", views.kiosk_ticket, name="kiosk_ticket"),
    path("kiosk/activate/<str:token>/", views.kiosk_activate, name="kiosk_activate"),
    path("tickets/<str:token>/", views.ticket, name="ticket"),
    path("tickets/<str:token>/cancel/", views.cancel, name="cancel"),
]
