from django.urls import path

from . import views, views_amendments, views_outcome

app_name = "screening"

urlpatterns = [
    path("participants/<int:pk>/evaluation-status/", views.evaluation_status, name="evaluation_status"),
    path("participants/<int:pk>/enroll/", views_outcome.enroll, name="enroll"),
    path("participants/<int:pk>/screen-failure/", views_outcome.screen_failure, name="screen_failure"),
    path("participants/<int:pk>/withdraw/", views_outcome.withdraw, name="withdraw"),
    path("participants/<int:pk>/rescreen/", views_outcome.rescreen, name="rescreen"),
    path("participants/<int:pk>/checklist/", views_outcome.checklist, name="checklist"),
    path("participants/<int:pk>/checklist.pdf", views_outcome.checklist_pdf, name="checklist_pdf"),
    path("amendments/", views_amendments.amendments, name="amendments"),
    path("amendments/release/", views_amendments.release, name="release"),
    path("amendments/activate/", views_amendments.activate, name="activate"),
    path("amendments/impact/", views_amendments.start_impact, name="start_impact"),
    path("amendments/impact/<str:report_id>/", views_amendments.impact, name="impact"),
    path(
        "amendments/impact/<str:report_id>/<str:part>.<str:fmt>",
        views_amendments.impact_download,
        name="impact_download",
    ),
]
