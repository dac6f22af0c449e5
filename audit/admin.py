"""Django admin: protocol versions are managed here; clinical records, evaluations and the history
are read-only (they change only through the application's services, and history never changes).
Sites, users and memberships are registered in participants/admin.py."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from participants.models import Assessment, ClinicalEvent, HistoryReview, LabResult, Therapy
from screening.models import CriterionResult, Evaluation, ProtocolVersion

from .models import EVENT_MODELS


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ClinicalRecordAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "participant", "state", "entered_by", "entered_at")
    list_filter = ("state",)
    list_select_related = ("participant", "entered_by")
    search_fields = ("participant__screening_number",)


class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ("participant", "sequence", "overall", "trigger", "protocol_version", "created_at")
    list_filter = ("overall", "trigger", "protocol_version")
    list_select_related = ("participant",)
    search_fields = ("participant__screening_number",)


class CriterionResultAdmin(ReadOnlyAdmin):
    list_display = ("evaluation", "criterion_id", "outcome", "review_by")
    list_filter = ("outcome", "review_by")
    list_select_related = ("evaluation__participant",)
    search_fields = ("criterion_id",)


class ProtocolVersionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("version", "title", "effective_from", "is_current")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # evaluations name the version they ran under


class EventAdmin(ReadOnlyAdmin):
    list_display = ("pgh_created_at", "pgh_label", "pgh_obj_id", "pgh_context")
    list_filter = ("pgh_label",)
    ordering = ("-pgh_id",)


REGISTRATIONS: list[tuple[type[models.Model], type[admin.ModelAdmin]]] = [  # type: ignore[type-arg]
    (ProtocolVersion, ProtocolVersionAdmin),
    *((m, ClinicalRecordAdmin) for m in (LabResult, Assessment, Therapy, ClinicalEvent, HistoryReview)),
    (Evaluation, EvaluationAdmin),
    (CriterionResult, CriterionResultAdmin),
    *((m, EventAdmin) for m in EVENT_MODELS.values()),
]

for model, model_admin in REGISTRATIONS:
    if not admin.site.is_registered(model):  # the owning app may register its own
        admin.site.register(model, model_admin)
