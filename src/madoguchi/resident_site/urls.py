from django.urls import path

from madoguchi.resident_site import views

app_name = "resident_site"

urlpatterns = [
    path("", views.home, name="home"),
]
