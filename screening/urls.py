from django.urls import path

from audit import views as audit_views

from . import views

app_name = "screening"

urlpatterns = [
    path("exports/", audit_views.exports_page, name="exports"),
    path("participants/<int:pk>/evaluation-status/", views.evaluation_status, name="evaluation_status"),
]
