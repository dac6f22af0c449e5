from django.urls import path

from audit import views as audit_views

app_name = "screening"

urlpatterns = [
    path("exports/", audit_views.exports_page, name="exports"),
]
