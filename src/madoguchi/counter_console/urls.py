from django.contrib.auth import views as auth_views
from django.urls import path

from madoguchi.counter_console import views

app_name = "counter_console"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="counter_console/login.html"),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="/staff/login/"), name="logout"),
]
