"""The project's URLs plus stand-ins for the intake forms' URLs, to test the links to them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns
from participants import urls as participant_urls


def stand_in(request: HttpRequest, **kwargs: object) -> HttpResponse:
    return HttpResponse("form")


forms = [
    path("<int:pk>/add/<str:kind>/", stand_in, name="add_record"),
    path("<int:pk>/dates/", stand_in, name="edit_dates"),
    path("<int:pk>/records/<str:kind>/", stand_in, name="records"),
]

urlpatterns = [p for p in project_urlpatterns if getattr(p, "namespace", None) != "participants"] + [
    path("participants/", include((participant_urls.urlpatterns + forms, "participants"))),
]
