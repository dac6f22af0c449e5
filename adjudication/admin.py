"""Read-only admin: escalations change only through the services, signatures never."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import Escalation, EscalationDecision, Review, Signature


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ("participant", "criterion_id", "review_by", "state", "round", "opened_at", "claimed_by")
    list_filter = ("state", "review_by", "criterion_id")
    list_select_related = ("participant", "claimed_by")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("escalation", "round", "reviewer", "action", "created_at")
    list_select_related = ("escalation__participant", "reviewer")


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("signer_name", "signed_at", "meaning", "evidence_digest")


@admin.register(EscalationDecision)
class EscalationDecisionAdmin(ReadOnlyAdmin):
    list_display = ("escalation", "round", "decision", "date", "evidence_digest")
    list_select_related = ("escalation__participant",)


# Signing devices are set up by their signer and reset through the audited reset page
# (participants/second_factor.py), never edited or deleted here.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
