from django.urls import path

from . import views, views_amendments

app_name = "screening"

urlpatterns = [
    path("participants/<int:pk>/evaluation-status/", views.evaluation_status, name="evaluation_status"),
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
