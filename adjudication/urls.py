from django.urls import path

from . import views

app_name = "adjudication"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("sign-offs/", views.signoffs, name="signoffs"),
    path("escalations/<int:pk>/", views.review, name="review"),
    path("escalations/<int:pk>/claim/", views.claim, name="claim"),
    path("escalations/<int:pk>/release/", views.release, name="release"),
    path("escalations/<int:pk>/sign/", views.sign, name="sign"),
    path("escalations/<int:pk>/request-information/", views.request_information, name="request_information"),
    path("participants/<int:pk>/", views.participant_escalations, name="participant_escalations"),
    path("second-factor/", views.second_factor_setup, name="second_factor"),
    path("second-factor/reset/", views.second_factor_reset, name="second_factor_reset"),
    path("log.<str:fmt>", views.export_log, name="export_log"),
]
