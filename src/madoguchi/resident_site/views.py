from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from madoguchi.core import clock
from madoguchi.offices.selectors import site_hours

HOME_WEEKS = 2


def home(request: HttpRequest) -> HttpResponse:
    """The public home page: every site, what it offers, and its hours for the coming weeks."""
    sites = site_hours(clock.today(), HOME_WEEKS * 7)
    return render(request, "resident_site/home.html", {"sites": sites})
