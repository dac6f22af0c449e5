from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("labs/", views.labs, name="labs"),
    path("fhir/", views.fhir, name="fhir"),
]
