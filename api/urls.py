from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("labs/", views.labs, name="labs"),
    path("labs/jobs/<int:pk>/", views.lab_job, name="lab_job"),
    path("fhir/", views.fhir, name="fhir"),
]
