"""Django admin: a site's approval of a protocol version is recorded through the activation service
(screening.amendments), which marks the site's participants for re-evaluation. An approval is never
changed or deleted: evaluations name the version they ran under."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.http import HttpRequest

from screening.amendments import activate_version, check_activation
from screening.models import SiteApproval


class SiteApprovalForm(ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SiteApproval
        fields = ("site", "protocol", "approved_on")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("site") and data.get("protocol") and data.get("approved_on"):
            try:
                check_activation(data["site"], data["protocol"], data["approved_on"])
            except ValidationError as exc:
                self.add_error(None, exc.messages)
        return data


@admin.register(SiteApproval)
class SiteApprovalAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = SiteApprovalForm
    list_display = ("site", "protocol", "approved_on", "recorded_by", "recorded_at", "applied_at")
    list_filter = ("protocol", "site")
    list_select_related = ("site", "protocol", "recorded_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: SiteApproval, form: Any, change: bool) -> None:
        saved = activate_version(
            request.user,  # type: ignore[arg-type]
            site=obj.site,
            version=obj.protocol.version,
            approved_on=obj.approved_on,
        )
        obj.pk = saved.pk
