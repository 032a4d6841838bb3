from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from madoguchi.offices.selectors import active_sites


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The staff start page: the sites this person may work at."""
    user = request.user
    sites = [s for s in active_sites() if user.can_work_at(s.pk)]  # type: ignore[union-attr]  # login_required guarantees a StaffUser
    return render(request, "counter_console/home.html", {"sites": sites})
