from django.urls import path

from . import views

app_name = "screening"

urlpatterns = [
    path("participants/<int:pk>/evaluation-status/", views.evaluation_status, name="evaluation_status"),
]
