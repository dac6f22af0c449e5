from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("exports/", views.exports_page, name="exports"),
    path("screening-log/", views.screening_log_page, name="screening_log_page"),
    path("participants/<int:pk>/", views.participant_trail, name="participant"),
    path("participants/<int:pk>/trail.pdf", views.participant_trail_pdf, name="participant_pdf"),
    path("participants/find/", views.find_participant, name="find_participant"),
    path("exports/screening-log.<str:fmt>", views.screening_log_export, name="screening_log"),
    path("exports/audit-trail.<str:fmt>", views.audit_trail_export, name="audit_trail"),
    path("exports/files/<int:pk>/", views.export_job, name="export_job"),
    path("exports/files/<int:pk>/download", views.export_job_download, name="export_job_download"),
    path("exports/funnel.<str:fmt>", views.funnel_export, name="funnel"),
    path("security-events/", views.security_events, name="security_events"),
]
