from django.urls import path

from . import views, views_consent, views_records

app_name = "participants"

urlpatterns = [
    path("", views.participant_list, name="list"),
    path("register/", views_records.register, name="register"),
    path("<int:pk>/dates/", views_records.edit_dates, name="edit_dates"),
    path("<int:pk>/visit/", views_records.visit, name="visit"),
    path("<int:pk>/records/<str:kind>/", views_records.records, name="records"),
    path("<int:pk>/records/<str:kind>/new/", views_records.add_record, name="add_record"),
    path(
        "<int:pk>/records/<str:kind>/<int:record_pk>/correct/",
        views_records.correct_record,
        name="correct_record",
    ),
    path("<int:pk>/records/<str:kind>/<int:record_pk>/void/", views_records.void_record, name="void_record"),
    path("<int:pk>/preview/<str:kind>/", views_records.preview, name="preview"),
    path("<int:pk>/consent/", views_consent.participant_consent, name="consent"),
    path("<int:pk>/consent/<int:signature_pk>/void/", views_consent.void_consent, name="void_consent"),
    path("consent-versions/", views_consent.consent_versions, name="consent_versions"),
]
